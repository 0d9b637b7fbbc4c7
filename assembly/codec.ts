// Frames (docs/protocol.md "Framing"): an 8-byte header {length u32, type u16, flags u16} and
// a payload of typed fields. The reader checks every bound before it loads a byte; the writer
// checks every bound before it stores one, and reports an oversized value as a failure (a
// value the user gave can be too big) instead of trapping.

import { Failure, malformed } from "./abi";

export const HEADER_SIZE: i32 = 8;
export const PAYLOAD_MAX: i32 = 1 << 20;
export const STR_MAX: i32 = 65536;
/** Fields named path, target, source, linkpath, newroot. */
export const PATH_MAX: i32 = 4095;
export const STRS_MAX: i32 = 4096;
export const U64S_MAX: i32 = 1024;

/** A string of `n` bytes at `ptr`, one char code per byte (see abi.ts). */
export function bytesToString(ptr: usize, n: i32): string {
  assert(n >= 0, "bytesToString: negative length");
  if (n == 0) return "";
  const s = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const base = changetype<usize>(s);
  for (let i = 0; i < n; i++) {
    store<u16>(base + (<usize>i << 1), <u16>load<u8>(ptr + <usize>i));
  }
  return s;
}

/** Walks the frames of a buffer: `next()` is true while a whole frame header is read. */
export class FrameReader {
  pos: usize;
  end: usize;
  /** Index of the current frame, from 0. */
  index: i32 = -1;
  type: u32 = 0;
  payload: usize = 0;
  payloadLength: i32 = 0;
  failure: Failure | null = null;

  constructor(ptr: usize, len: i32) {
    this.pos = ptr;
    this.end = ptr + <usize>len;
  }

  /** `request: frame N`, the start of a reason about the current frame. */
  where(): string {
    return "request: frame " + this.index.toString();
  }

  next(): bool {
    if (this.failure !== null) return false;
    if (this.pos == this.end) return false;
    this.index++;
    const left = this.end - this.pos;
    if (left < <usize>HEADER_SIZE) {
      this.failure = malformed(this.where() + ": header cut short (" + left.toString() + " bytes)");
      return false;
    }
    const length = load<u32>(this.pos);
    const type = <u32>load<u16>(this.pos + 4);
    const flags = load<u16>(this.pos + 6);
    if (flags != 0) {
      this.failure = malformed(this.where() + ": flags " + flags.toString() + " (must be 0)");
      return false;
    }
    if (length > <u32>PAYLOAD_MAX) {
      this.failure = malformed(this.where() + ": payload of " + length.toString() + " bytes (at most 1048576)");
      return false;
    }
    if (<usize>length > left - <usize>HEADER_SIZE) {
      this.failure = malformed(this.where() + ": payload runs past the end of the request");
      return false;
    }
    this.type = type;
    this.payload = this.pos + <usize>HEADER_SIZE;
    this.payloadLength = <i32>length;
    this.pos = this.payload + <usize>length;
    return true;
  }
}

/** Reads the fields of one payload. After the first failure every read returns a default. */
export class Fields {
  pos: usize;
  end: usize;
  prefix: string;
  index: i32 = -1;
  name: string = "";
  failure: Failure | null = null;

  /** `context` starts every failure reason, e.g. `request: frame 2 (ENV)`. */
  constructor(ptr: usize, len: i32, context: string) {
    this.pos = ptr;
    this.end = ptr + <usize>len;
    this.prefix = context;
  }

  /** The payload of frame `index`, called `name` (e.g. ENV): the context is made only on failure. */
  static ofFrame(ptr: usize, len: i32, index: i32, name: string): Fields {
    const f = new Fields(ptr, len, "");
    f.index = index;
    f.name = name;
    return f;
  }

  get context(): string {
    if (this.index < 0) return this.prefix;
    return "request: frame " + this.index.toString() + " (" + this.name + ")";
  }

  get ok(): bool {
    return this.failure === null;
  }

  private fail(field: string, what: string): void {
    if (this.failure === null) this.failure = malformed(this.context + ": " + field + ": " + what);
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

  /** A `str` of at most `max` bytes (STR_MAX, or PATH_MAX for path-named fields). */
  str(field: string, max: i32): string {
    if (!this.has(field, 4)) return "";
    const n = load<u32>(this.pos);
    if (n > <u32>max) {
      this.fail(field, "string of " + n.toString() + " bytes (at most " + max.toString() + ")");
      return "";
    }
    if (this.end - this.pos - 4 < <usize>n) {
      this.fail(field, "string runs past the payload");
      return "";
    }
    const start = this.pos + 4;
    for (let i: usize = 0; i < <usize>n; i++) {
      if (load<u8>(start + i) == 0) {
        this.fail(field, "string contains a NUL byte");
        return "";
      }
    }
    this.pos = start + <usize>n;
    return bytesToString(start, <i32>n);
  }

  strs(field: string, maxEach: i32): string[] {
    const out = new Array<string>();
    if (!this.has(field, 4)) return out;
    const count = load<u32>(this.pos);
    if (count > <u32>STRS_MAX) {
      this.fail(field, "list of " + count.toString() + " strings (at most 4096)");
      return out;
    }
    this.pos += 4;
    for (let i: u32 = 0; i < count; i++) {
      const s = this.str(field, maxEach);
      if (this.failure !== null) return out;
      out.push(s);
    }
    return out;
  }

  u64s(field: string): u64[] {
    const out = new Array<u64>();
    if (!this.has(field, 4)) return out;
    const count = load<u32>(this.pos);
    if (count > <u32>U64S_MAX) {
      this.fail(field, "list of " + count.toString() + " numbers (at most 1024)");
      return out;
    }
    this.pos += 4;
    if (!this.has(field, <usize>count << 3)) return out;
    for (let i: u32 = 0; i < count; i++) {
      out.push(load<u64>(this.pos));
      this.pos += 8;
    }
    return out;
  }

  /** True when every field was read and no byte is left over. */
  finish(): bool {
    if (this.failure !== null) return false;
    if (this.pos != this.end) {
      this.failure = malformed(this.context + ": " + (this.end - this.pos).toString() + " bytes left over after the last field");
      return false;
    }
    return true;
  }
}

/**
 * Appends frames to a growing buffer. A value over its bound makes the writer fail (the
 * first reason is kept, later writes are ignored); `limit` bounds the whole output.
 */
export class Writer {
  buf: ArrayBuffer;
  len: i32 = 0;
  limit: i32;
  frameStart: i32 = -1;
  frameName: string = "";
  failure: string | null = null;
  /** Same as `failure !== null`, cheaper to test on every write. */
  failed: bool = false;

  constructor(limit: i32) {
    this.limit = limit;
    this.buf = new ArrayBuffer(4096);
  }

  get ok(): bool {
    return !this.failed;
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failure = reason;
    this.failed = true;
  }

  private room(n: i32): bool {
    if (this.failed) return false;
    if (n > this.limit - this.len) {
      this.fail("plan: larger than " + this.limit.toString() + " bytes");
      return false;
    }
    const need = this.len + n;
    if (need > this.buf.byteLength) {
      let capacity = this.buf.byteLength;
      while (capacity < need) capacity <<= 1;
      const grown = new ArrayBuffer(capacity);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.len);
      this.buf = grown;
    }
    return true;
  }

  private at(): usize {
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  begin(type: u16, name: string): void {
    assert(this.frameStart < 0, "Writer.begin: frame already open");
    this.frameName = name;
    if (!this.room(HEADER_SIZE)) return;
    this.frameStart = this.len;
    store<u32>(this.at(), 0);
    store<u16>(this.at() + 4, type);
    store<u16>(this.at() + 6, 0);
    this.len += HEADER_SIZE;
  }

  u64(v: u64): void {
    if (!this.room(8)) return;
    store<u64>(this.at(), v);
    this.len += 8;
  }

  /** `field` names the value in a failure: `exec: argv: string of ... bytes`. */
  str(field: string, s: string, max: i32): void {
    const n = s.length;
    if (n > max) {
      this.fail(this.frameName + ": " + field + ": " + n.toString() + " bytes (at most " + max.toString() + ")");
      return;
    }
    if (!this.room(4 + n)) return;
    store<u32>(this.at(), <u32>n);
    const base = this.at() + 4;
    const chars = changetype<usize>(s);
    for (let i = 0; i < n; i++) {
      const c = load<u16>(chars + (<usize>i << 1)); // i < s.length
      assert(c < 256, "Writer.str: not a byte string");
      if (c == 0) {
        this.fail(this.frameName + ": " + field + ": contains a NUL byte");
        return;
      }
      store<u8>(base + <usize>i, <u8>c);
    }
    this.len += 4 + n;
  }

  strs(field: string, list: string[], maxEach: i32): void {
    if (list.length > STRS_MAX) {
      this.fail(this.frameName + ": " + field + ": " + list.length.toString() + " strings (at most 4096)");
      return;
    }
    if (!this.room(4)) return;
    store<u32>(this.at(), <u32>list.length);
    this.len += 4;
    for (let i = 0; i < list.length; i++) this.str(field, list[i], maxEach);
  }

  u64s(field: string, list: u64[]): void {
    if (list.length > U64S_MAX) {
      this.fail(this.frameName + ": " + field + ": " + list.length.toString() + " numbers (at most 1024)");
      return;
    }
    if (!this.room(4 + (list.length << 3))) return;
    store<u32>(this.at(), <u32>list.length);
    this.len += 4;
    for (let i = 0; i < list.length; i++) {
      store<u64>(this.at(), list[i]);
      this.len += 8;
    }
  }

  end(): void {
    const start = this.frameStart;
    this.frameStart = -1;
    if (this.failed || start < 0) return;
    const payload = this.len - start - HEADER_SIZE;
    if (payload > PAYLOAD_MAX) {
      this.fail(this.frameName + ": frame of " + payload.toString() + " bytes (at most 1048576)");
      return;
    }
    store<u32>(changetype<usize>(this.buf) + <usize>start, <u32>payload);
  }
}
