// IPv6 addresses and subnets as the core reads and writes them (a dual-stack network:
// docs/networks.md "IPv6"): the 128 bits as two u64 halves, parsed strictly from the text
// forms RFC 4291 allows (eight groups, one `::`, no zone, no embedded IPv4) and written in
// RFC 5952's canonical form (lowercase, no leading zeros, the longest run of two or more
// zero groups as `::`), so the launcher, husk-dns and `ip -6 addr` all see one spelling.

export class Ip6 {
  constructor(public hi: u64, public lo: u64) {}

  equals(other: Ip6): bool {
    return this.hi == other.hi && this.lo == other.lo;
  }

  toString(): string {
    return formatIp6(this);
  }
}

/** The mask of the high half and of the low half for a prefix of `prefix` bits. */
function maskHi(prefix: i32): u64 {
  if (prefix <= 0) return 0;
  if (prefix >= 64) return 0xffffffffffffffff;
  return <u64>0xffffffffffffffff << <u64>(64 - prefix);
}

function maskLo(prefix: i32): u64 {
  if (prefix <= 64) return 0;
  if (prefix >= 128) return 0xffffffffffffffff;
  return <u64>0xffffffffffffffff << <u64>(128 - prefix);
}

export class Cidr6 {
  constructor(public address: Ip6, public prefix: i32) {}

  get network(): Ip6 {
    return new Ip6(this.address.hi & maskHi(this.prefix), this.address.lo & maskLo(this.prefix));
  }

  /** The subnet itself, `fd…::/N`. */
  subnetText(): string {
    return formatIp6(this.network) + "/" + this.prefix.toString();
  }

  contains(ip: Ip6): bool {
    const n = this.network;
    return (ip.hi & maskHi(this.prefix)) == n.hi && (ip.lo & maskLo(this.prefix)) == n.lo;
  }

  overlaps(other: Cidr6): bool {
    const p = this.prefix < other.prefix ? this.prefix : other.prefix;
    return (this.address.hi & maskHi(p)) == (other.address.hi & maskHi(p)) && (this.address.lo & maskLo(p)) == (other.address.lo & maskLo(p));
  }

  /** Within fc00::/7, the unique local addresses (RFC 4193). */
  isUniqueLocal(): bool {
    return this.prefix >= 7 && (this.address.hi >> 57) == (0xfc >> 1);
  }
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Groups of `text` (between colons, no `::`), appended to `out`; false when one is not 1–4 hex digits. */
function parseGroups(text: string, out: u32[]): bool {
  if (text.length == 0) return true;
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.length == 0 || part.length > 4) return false;
    let value: u32 = 0;
    for (let j = 0; j < part.length; j++) {
      const v = hexValue(part.charCodeAt(j));
      if (v < 0) return false;
      value = (value << 4) | <u32>v;
    }
    out.push(value);
  }
  return true;
}

/** An IPv6 address in text, or null. */
export function parseIp6(text: string): Ip6 | null {
  if (text.length < 2 || text.length > 39) return null;
  const gap = text.indexOf("::");
  const head: u32[] = [];
  const tail: u32[] = [];
  if (gap < 0) {
    if (!parseGroups(text, head) || head.length != 8) return null;
  } else {
    if (text.indexOf("::", gap + 1) >= 0) return null;
    if (!parseGroups(text.slice(0, gap), head) || !parseGroups(text.slice(gap + 2), tail)) return null;
    // `::` stands for at least one zero group.
    if (head.length + tail.length > 7) return null;
  }
  const groups: u32[] = [];
  for (let i = 0; i < head.length; i++) groups.push(head[i]);
  while (groups.length + tail.length < 8) groups.push(0);
  for (let i = 0; i < tail.length; i++) groups.push(tail[i]);
  let hi: u64 = 0;
  let lo: u64 = 0;
  for (let i = 0; i < 4; i++) hi = (hi << 16) | <u64>groups[i];
  for (let i = 4; i < 8; i++) lo = (lo << 16) | <u64>groups[i];
  return new Ip6(hi, lo);
}

/** `ADDR/N` (N 0–128), or null. */
export function parseCidr6(text: string): Cidr6 | null {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp6(text.slice(0, slash));
  if (ip === null) return null;
  const digits = text.slice(slash + 1);
  if (digits.length == 0 || digits.length > 3 || (digits.length > 1 && digits.charCodeAt(0) == 0x30)) return null;
  let prefix = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    prefix = prefix * 10 + (c - 0x30);
  }
  if (prefix > 128) return null;
  return new Cidr6(ip, prefix);
}

function group(ip: Ip6, i: i32): u32 {
  const half = i < 4 ? ip.hi : ip.lo;
  return <u32>((half >> <u64>((3 - (i & 3)) * 16)) & 0xffff);
}

/** RFC 5952: lowercase, no leading zeros, the first longest run (2+) of zero groups as `::`. */
export function formatIp6(ip: Ip6): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (group(ip, i) != 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group(ip, j) == 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i == bestAt) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(":")) out += ":";
    out += group(ip, i).toString(16);
  }
  return out;
}

/** The address `n` above `base` (n < 2^64, within the low half: a /64 or longer has its host part there). */
export function addLow(base: Ip6, n: u64): Ip6 {
  const lo = base.lo + n;
  return new Ip6(lo < base.lo ? base.hi + 1 : base.hi, lo);
}
