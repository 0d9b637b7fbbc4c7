// Paths as byte ranges (pointer + length) instead of strings: the whiteout and pathsafe entry
// points read their paths where the request holds them, clean them into an arena, compare and
// hash bytes, and write answers straight into the output frames. A batch of 60k entries then
// allocates a few buffers, not a few strings per entry (docs/policy-core.md "Speed").

import { Failure, malformed } from "../abi";
import { HEADER_SIZE, PAYLOAD_MAX, STRS_MAX } from "../codec";
import { FIELDS_CONTEXT } from "./frame";

const SLASH: u8 = 47;
const DOT: u8 = 46;

// ---- bytes --------------------------------------------------------------------------------

export const FNV_OFFSET: u64 = 0xcbf29ce484222325;
export const FNV_PRIME: u64 = 0x100000001b3;

@inline export function hashByte(h: u64, c: u8): u64 {
  return (h ^ <u64>c) * FNV_PRIME;
}

/** FNV-1a over `n` bytes at `p`, from `h`. */
export function hashBytes(h: u64, p: usize, n: i32): u64 {
  const end = p + <usize>n;
  while (p < end) {
    h = (h ^ <u64>load<u8>(p)) * FNV_PRIME;
    p++;
  }
  return h;
}

@inline export function sameBytes(a: usize, an: i32, b: usize, bn: i32): bool {
  return an == bn && (a == b || memory.compare(a, b, <usize>an) == 0);
}

/** Byte order (as strings of char codes 0–255 compare): negative, 0 or positive. */
export function compareBytes(a: usize, an: i32, b: usize, bn: i32): i32 {
  const n = an < bn ? an : bn;
  const c = memory.compare(a, b, <usize>n);
  if (c != 0) return c;
  return an - bn;
}

/** True when the `n` bytes at `p` start with the ASCII literal `prefix`. */
@inline export function startsWith(p: usize, n: i32, prefix: string): bool {
  const k = prefix.length;
  if (n < k) return false;
  const chars = changetype<usize>(prefix);
  for (let i = 0; i < k; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>load<u16>(chars + (<usize>i << 1))) return false;
  }
  return true;
}

export function equalsLiteral(p: usize, n: i32, literal: string): bool {
  return n == literal.length && startsWith(p, n, literal);
}

const LOW7: u64 = 0x7f7f7f7f7f7f7f7f;
const SLASHES: u64 = 0x2f2f2f2f2f2f2f2f;

/** 0x80 in each byte of `x` that is 0, 0 in the others (exact: no carry crosses bytes). */
@inline function zeroBytes(x: u64): u64 {
  return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/** True when one of the `n` bytes at `p` is 0 (eight at a time). */
export function hasNul(p: usize, n: i32): bool {
  let i = 0;
  for (; i + 8 <= n; i += 8) if (zeroBytes(load<u64>(p + <usize>i)) != 0) return true;
  for (; i < n; i++) if (load<u8>(p + <usize>i) == 0) return true;
  return false;
}

/** The index of the first `/` at or after `from` in the `n` bytes at `p`, or `n`. */
export function nextSlash(p: usize, n: i32, from: i32): i32 {
  let i = from;
  for (; i + 8 <= n; i += 8) {
    const z = zeroBytes(load<u64>(p + <usize>i) ^ SLASHES);
    if (z != 0) return i + <i32>(ctz(z) >> 3);
  }
  while (i < n && load<u8>(p + <usize>i) != SLASH) i++;
  return i;
}

/** The index of the last `/` in the `n` bytes at `p`, or -1. */
export function lastSlash(p: usize, n: i32): i32 {
  let i = n;
  for (; i >= 8; i -= 8) {
    const z = zeroBytes(load<u64>(p + <usize>(i - 8)) ^ SLASHES);
    if (z != 0) return i - 8 + 7 - <i32>(clz(z) >> 3);
  }
  i--;
  while (i >= 0 && load<u8>(p + <usize>i) != SLASH) i--;
  return i;
}

/** The `n` bytes at `p` as a byte string (for reasons, which are rare). */
export function spanString(p: usize, n: i32): string {
  if (n == 0) return "";
  const s = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const base = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u16>(base + (<usize>i << 1), <u16>load<u8>(p + <usize>i));
  return s;
}

/** A trivial component: "" or ".". */
@inline export function isTrivial(p: usize, n: i32): bool {
  return n == 0 || (n == 1 && load<u8>(p) == DOT);
}

@inline export function isDotDot(p: usize, n: i32): bool {
  return n == 2 && load<u16>(p) == 0x2e2e;
}

/**
 * Cleans the `n` bytes of `src` lexically into `dst` (room for `n` bytes): components joined
 * by `/`, "" and "." dropped, ".." removing the one before it. Returns the clean length (0 for
 * the root), or -1 when a ".." would leave the root.
 */
export function cleanInto(src: usize, n: i32, dst: usize): i32 {
  let len = 0;
  let start = 0;
  while (start <= n) {
    const end = nextSlash(src, n, start);
    const c = src + <usize>start;
    const k = end - start;
    if (isTrivial(c, k)) {
      // skip
    } else if (isDotDot(c, k)) {
      if (len == 0) return -1;
      const slash = lastSlash(dst, len);
      len = slash < 0 ? 0 : slash;
    } else {
      if (len > 0) store<u8>(dst + <usize>(len++), SLASH);
      memory.copy(dst + <usize>len, c, <usize>k);
      len += k;
    }
    start = end + 1;
  }
  return len;
}

/**
 * Scratch memory over this size is dropped at the end of a call, so that big requests to one
 * entry point do not leave buffers behind that add up with another's (the maximum is 128 MiB).
 */
export const KEEP_MAX: i32 = 1 << 20;

// ---- arena --------------------------------------------------------------------------------

/**
 * Bytes that live until the next call: handed out from chunks that never move, so a pointer
 * into the arena stays valid for the whole call. The first chunk is kept for the next call.
 */
export class Arena {
  chunk: ArrayBuffer = new ArrayBuffer(1 << 16);
  extra: ArrayBuffer[] = [];
  at: usize = 0;
  end: usize = 0;

  constructor() {
    this.reset(0);
  }

  /** Starts over; the first chunk has room for `hint` bytes (kept when it has). */
  reset(hint: i32): void {
    if (this.chunk.byteLength < hint) this.chunk = new ArrayBuffer(hint);
    this.extra = [];
    this.at = changetype<usize>(this.chunk);
    this.end = this.at + <usize>this.chunk.byteLength;
  }

  alloc(n: i32): usize {
    if (this.at + <usize>n > this.end) {
      const size = n > (1 << 16) ? n : 1 << 16;
      const more = new ArrayBuffer(size);
      this.extra.push(more);
      this.at = changetype<usize>(more);
      this.end = this.at + <usize>size;
    }
    const p = this.at;
    this.at += <usize>n;
    return p;
  }

  /** After a call: a big first chunk is not kept (the next __collect frees it). */
  trim(): void {
    if (this.chunk.byteLength > KEEP_MAX) this.chunk = new ArrayBuffer(1 << 16);
    this.reset(0);
  }

  /** Gives back the end of the last `alloc` (it used only `used` of its `n` bytes). */
  shrink(p: usize, used: i32): void {
    this.at = p + <usize>used;
  }
}

// ---- growable arrays of numbers ---------------------------------------------------------

/** A growable array of u64 in one buffer, reused from call to call (`length = 0`). */
export class U64List {
  data: StaticArray<u64> = new StaticArray<u64>(1024);
  length: i32 = 0;

  @inline push(v: u64): void {
    if (this.length == this.data.length) this.grow();
    unchecked((this.data[this.length++] = v));
  }

  private grow(): void {
    const grown = new StaticArray<u64>(this.data.length << 1);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.data), <usize>this.length << 3);
    this.data = grown;
  }

  @inline get(i: i32): u64 {
    return unchecked(this.data[i]);
  }

  /** Room for `n` values without growing (growing leaves garbage until the next call). */
  reserve(n: i32): void {
    if (n <= this.data.length) return;
    const grown = new StaticArray<u64>(n);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.data), <usize>this.length << 3);
    this.data = grown;
  }

  /** After a call: a big buffer is not kept. */
  trim(): void {
    this.length = 0;
    if (this.data.length > (KEEP_MAX >> 3)) this.data = new StaticArray<u64>(1024);
  }

  @inline set(i: i32, v: u64): void {
    unchecked((this.data[i] = v));
  }
}

@inline export function pack(p: usize, n: i32): u64 {
  return (<u64>n << 32) | <u64>(<u32>p);
}

@inline export function spanPtr(s: u64): usize {
  return <usize>(<u32>s);
}

@inline export function spanLen(s: u64): i32 {
  return <i32>(s >>> 32);
}

// ---- a hash table over byte ranges -----------------------------------------------------

/**
 * Open addressing over (hash, span) keys with an i64 value each. Lookups compare the bytes on
 * a hash hit, so two paths never share an entry. Sized for `expected` keys; grows at 1/2 full.
 */
export class SpanTable {
  hashes: StaticArray<u64> = new StaticArray<u64>(16);
  spans: StaticArray<u64> = new StaticArray<u64>(16);
  values: StaticArray<i64> = new StaticArray<i64>(16);
  used: StaticArray<u8> = new StaticArray<u8>(16);
  size: i32 = 0;

  reset(expected: i32): void {
    let capacity = 16;
    while (capacity < expected * 2) capacity <<= 1;
    if (this.used.length == capacity && this.size == 0) return;
    this.hashes = new StaticArray<u64>(capacity);
    this.spans = new StaticArray<u64>(capacity);
    this.values = new StaticArray<i64>(capacity);
    this.used = new StaticArray<u8>(capacity);
    this.size = 0;
  }

  /** After a call: big arrays are not kept. */
  trim(): void {
    if (this.used.length > (KEEP_MAX >> 3)) {
      this.size = 1; // makes reset allocate
      this.reset(0);
    }
  }

  /** The slot of the key, or of the empty slot where it would go. */
  private slot(h: u64, p: usize, n: i32): i32 {
    const mask = this.used.length - 1;
    let i = <i32>(h ^ (h >>> 32)) & mask;
    while (true) {
      if (unchecked(this.used[i]) == 0) return i;
      if (unchecked(this.hashes[i]) == h) {
        const s = unchecked(this.spans[i]);
        if (sameBytes(spanPtr(s), spanLen(s), p, n)) return i;
      }
      i = (i + 1) & mask;
    }
  }

  has(h: u64, p: usize, n: i32): bool {
    return unchecked(this.used[this.slot(h, p, n)]) != 0;
  }

  /** The value of the key, or `otherwise`. */
  get(h: u64, p: usize, n: i32, otherwise: i64): i64 {
    const i = this.slot(h, p, n);
    return unchecked(this.used[i]) != 0 ? unchecked(this.values[i]) : otherwise;
  }

  /** Sets the key's value; the key's bytes must stay where they are for the call. */
  set(h: u64, p: usize, n: i32, v: i64): void {
    let i = this.slot(h, p, n);
    if (unchecked(this.used[i]) == 0) {
      if ((this.size + 1) * 2 > this.used.length) {
        this.grow();
        i = this.slot(h, p, n);
      }
      unchecked((this.used[i] = 1));
      unchecked((this.hashes[i] = h));
      unchecked((this.spans[i] = pack(p, n)));
      this.size++;
    }
    unchecked((this.values[i] = v));
  }

  /** Adds the key when it is new; true when it was. */
  add(h: u64, p: usize, n: i32): bool {
    if (this.has(h, p, n)) return false;
    this.set(h, p, n, 0);
    return true;
  }

  private grow(): void {
    const hashes = this.hashes;
    const spans = this.spans;
    const values = this.values;
    const used = this.used;
    const capacity = used.length << 1;
    this.hashes = new StaticArray<u64>(capacity);
    this.spans = new StaticArray<u64>(capacity);
    this.values = new StaticArray<i64>(capacity);
    this.used = new StaticArray<u8>(capacity);
    const mask = capacity - 1;
    for (let k = 0; k < used.length; k++) {
      if (unchecked(used[k]) == 0) continue;
      const h = unchecked(hashes[k]);
      let i = <i32>(h ^ (h >>> 32)) & mask;
      while (unchecked(this.used[i]) != 0) i = (i + 1) & mask;
      unchecked((this.used[i] = 1));
      unchecked((this.hashes[i] = h));
      unchecked((this.spans[i] = unchecked(spans[k])));
      unchecked((this.values[i] = unchecked(values[k])));
    }
  }
}

// ---- reading fields as byte ranges --------------------------------------------------------

/**
 * Reads the fields of one payload like codec.ts `Fields` (the same checks and reasons), but a
 * `str` is a byte range of the request (`spanPtr`, `spanLength`) instead of a string. Reused
 * frame after frame (`reset`). After the first failure every read returns a default.
 */
export class SpanFields {
  pos: usize = 0;
  end: usize = 0;
  failure: Failure | null = null;
  spanPtr: usize = 0;
  spanLength: i32 = 0;

  reset(ptr: usize, len: i32): void {
    this.pos = ptr;
    this.end = ptr + <usize>len;
    this.failure = null;
  }

  get ok(): bool {
    return this.failure === null;
  }

  private fail(field: string, what: string): void {
    if (this.failure === null) this.failure = malformed(FIELDS_CONTEXT + ": " + field + ": " + what);
  }

  private has(field: string, n: usize): bool {
    if (this.failure !== null) return false;
    if (this.end - this.pos < n) {
      this.fail(field, "runs past the payload");
      return false;
    }
    return true;
  }

  u64(field: string): u64 {
    if (!this.has(field, 8)) return 0;
    const v = load<u64>(this.pos);
    this.pos += 8;
    return v;
  }

  /** A `str` of at most `max` bytes: its bytes are at `spanPtr`, `spanLength` of them. */
  str(field: string, max: i32): bool {
    this.spanPtr = this.pos;
    this.spanLength = 0;
    if (!this.has(field, 4)) return false;
    const n = load<u32>(this.pos);
    if (n > <u32>max) {
      this.fail(field, "string of " + n.toString() + " bytes (at most " + max.toString() + ")");
      return false;
    }
    if (this.end - this.pos - 4 < <usize>n) {
      this.fail(field, "string runs past the payload");
      return false;
    }
    const start = this.pos + 4;
    if (hasNul(start, <i32>n)) {
      this.fail(field, "string contains a NUL byte");
      return false;
    }
    this.pos = start + <usize>n;
    this.spanPtr = start;
    this.spanLength = <i32>n;
    return true;
  }

  /** The count of a `strs` list (its strings follow: read them with `str`), or -1. */
  strsCount(field: string): i32 {
    if (!this.has(field, 4)) return -1;
    const count = load<u32>(this.pos);
    if (count > <u32>STRS_MAX) {
      this.fail(field, "list of " + count.toString() + " strings (at most 4096)");
      return -1;
    }
    this.pos += 4;
    return <i32>count;
  }

  finish(): bool {
    if (this.failure !== null) return false;
    if (this.pos != this.end) {
      this.failure = malformed(FIELDS_CONTEXT + ": " + (this.end - this.pos).toString() + " bytes left over after the last field");
      return false;
    }
    return true;
  }
}

// ---- writing frames -------------------------------------------------------------------------

/**
 * Appends answer frames to one growing buffer, kept from call to call. Fields are byte ranges
 * or ASCII literals; every frame an entry point writes is far under the bounds of a frame
 * (asserted), so nothing here fails on a user's value.
 */
const OUT_KEEP_MAX: i32 = 4 << 20;

export class Out {
  buf: ArrayBuffer = new ArrayBuffer(1 << 16);
  len: i32 = 0;
  frameStart: i32 = 0;

  reset(): void {
    // A huge answer's buffer is not kept for the calls after it.
    if (this.buf.byteLength > OUT_KEEP_MAX) this.buf = new ArrayBuffer(1 << 16);
    this.len = 0;
  }

  /** Makes room for `n` more bytes (once per call with an estimate: growing leaves garbage). */
  room(n: i32): void {
    const need = this.len + n;
    if (need <= this.buf.byteLength) return;
    let capacity = this.buf.byteLength;
    while (capacity < need) capacity <<= 1;
    const grown = new ArrayBuffer(capacity);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.len);
    this.buf = grown;
  }

  @inline private at(): usize {
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  /** Opens a frame with room for `n` payload bytes (more may be asked with `room`). */
  begin(type: u16, n: i32): void {
    this.room(HEADER_SIZE + n);
    this.frameStart = this.len;
    const p = this.at();
    store<u32>(p, 0);
    store<u16>(p + 4, type);
    store<u16>(p + 6, 0);
    this.len += HEADER_SIZE;
  }

  /** Needs room: `begin` or `room`. */
  @inline u64(v: u64): void {
    store<u64>(this.at(), v);
    this.len += 8;
  }

  /** A `str` field of the `n` bytes at `p` (needs room for 4 + n). */
  @inline bytes(p: usize, n: i32): void {
    const at = this.at();
    store<u32>(at, <u32>n);
    memory.copy(at + 4, p, <usize>n);
    this.len += 4 + n;
  }

  /** A `str` field of the path at `p` ("." for the root, n = 0); room for 5 + n. */
  path(p: usize, n: i32): void {
    if (n == 0) {
      const at = this.at();
      store<u32>(at, 1);
      store<u8>(at + 4, DOT);
      this.len += 5;
    } else {
      this.bytes(p, n);
    }
  }

  /** A `str` field of a byte string (a literal or a reason); makes its own room. */
  text(s: string): void {
    const n = s.length;
    this.room(4 + n);
    const at = this.at();
    store<u32>(at, <u32>n);
    const chars = changetype<usize>(s);
    for (let i = 0; i < n; i++) {
      const c = load<u16>(chars + (<usize>i << 1));
      assert(c < 256 && c != 0, "Out.text: not a byte string");
      store<u8>(at + 4 + <usize>i, <u8>c);
    }
    this.len += 4 + n;
  }

  /**
   * A whole frame {index u64, kind u64, path str, detail str} in one go: the path is the `n`
   * bytes at `p` ("." when `n` is 0 and `dot`), the detail a byte string.
   */
  record(type: u16, index: u64, kind: u64, p: usize, n: i32, dot: bool, detail: string): void {
    const pathLen = n == 0 && dot ? 1 : n;
    const detailLen = detail.length;
    const payload = 16 + 4 + pathLen + 4 + detailLen;
    this.room(HEADER_SIZE + payload);
    const at = changetype<usize>(this.buf) + <usize>this.len;
    store<u32>(at, <u32>payload);
    store<u32>(at, <u32>type, 4); // type, then flags 0
    store<u64>(at, index, 8);
    store<u64>(at, kind, 16);
    store<u32>(at, <u32>pathLen, 24);
    if (pathLen != n) store<u8>(at, DOT, 28);
    else memory.copy(at + 28, p, <usize>n);
    const d = at + 28 + <usize>pathLen;
    store<u32>(d, <u32>detailLen);
    const chars = changetype<usize>(detail);
    for (let i = 0; i < detailLen; i++) {
      const c = load<u16>(chars + (<usize>i << 1));
      assert(c < 256 && c != 0, "Out.record: not a byte string");
      store<u8>(d + 4 + <usize>i, <u8>c);
    }
    this.len += HEADER_SIZE + payload;
  }

  end(): void {
    const payload = this.len - this.frameStart - HEADER_SIZE;
    assert(payload <= PAYLOAD_MAX, "Out.end: frame over 1 MiB");
    store<u32>(changetype<usize>(this.buf) + <usize>this.frameStart, <u32>payload);
  }
}
