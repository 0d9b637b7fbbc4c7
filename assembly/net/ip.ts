// IPv4 addresses and subnets as the core reads and writes them: `A.B.C.D` and `A.B.C.D/N`,
// held as u32 in host order. Parsing is strict (no leading zeros, each part 0–255), so a
// value the launcher's own parser refuses never reaches a plan.

export class Cidr {
  constructor(public address: u32, public prefix: i32) {}

  get mask(): u32 {
    return this.prefix == 0 ? 0 : <u32>(0xffffffff << (32 - this.prefix));
  }

  get network(): u32 {
    return this.address & this.mask;
  }

  get broadcast(): u32 {
    return this.network | ~this.mask;
  }

  /** The subnet itself, `A.B.C.0/N`. */
  subnetText(): string {
    return formatIp(this.network) + "/" + this.prefix.toString();
  }

  contains(ip: u32): bool {
    return (ip & this.mask) == this.network;
  }

  overlaps(other: Cidr): bool {
    const m = this.prefix < other.prefix ? this.mask : other.mask;
    return (this.network & m) == (other.network & m);
  }
}

/** `A.B.C.D`, or -1 (as i64) when it is not one. */
export function parseIp(text: string): i64 {
  let value: u32 = 0;
  let parts = 0;
  let digits = 0;
  let part: u32 = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      if (digits == 0 || parts == 4) return -1;
      value = (value << 8) | part;
      parts++;
      digits = 0;
      part = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return -1;
    if (digits > 0 && part == 0) return -1; // a leading zero
    part = part * 10 + <u32>(c - 0x30);
    digits++;
    if (part > 255) return -1;
  }
  return parts == 4 ? <i64>value : -1;
}

/** `A.B.C.D/N` (N 0–32), or null. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp(text.slice(0, slash));
  if (ip < 0) return null;
  const digits = text.slice(slash + 1);
  if (digits.length == 0 || digits.length > 2 || (digits.length == 2 && digits.charCodeAt(0) == 0x30)) return null;
  let prefix = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    prefix = prefix * 10 + (c - 0x30);
  }
  if (prefix > 32) return null;
  return new Cidr(<u32>ip, prefix);
}

export function formatIp(ip: u32): string {
  return (ip >>> 24).toString() + "." + ((ip >>> 16) & 255).toString() + "." + ((ip >>> 8) & 255).toString() + "." + (ip & 255).toString();
}

function hex2(b: u32): string {
  const digits = "0123456789abcdef";
  return digits.charAt(<i32>(b >>> 4)) + digits.charAt(<i32>(b & 15));
}

/** docker's MAC for an address: 02:42 then the address's four bytes (locally administered). */
export function macOf(ip: u32): string {
  return "02:42:" + hex2(ip >>> 24) + ":" + hex2((ip >>> 16) & 255) + ":" + hex2((ip >>> 8) & 255) + ":" + hex2(ip & 255);
}
