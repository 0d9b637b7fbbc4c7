// Frame codec shared by the plan, the events and the core's requests (docs/protocol.md).
// One writer and one reader; every bound of the protocol is checked on read.
import { HuskError } from '../errors.js';

export const HEADER_BYTES = 8;
export const FRAME_PAYLOAD_MAX = 1 << 20;
export const STR_MAX = 65536;
export const PATH_MAX = 4095;
export const STRS_MAX = 4096;
export const U64S_MAX = 1024;

export type FieldKind = 'u64' | 'str' | 'strs' | 'u64s';
export type FieldValue = bigint | string | string[] | bigint[];

export interface Frame {
  type: number;
  payload: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Bytes that break the protocol: from the launcher (code 'protocol': another version, or a
 * corrupt events or status file), or a FrameWriter used wrongly ('internal': a bug in husk).
 */
export class FrameError extends HuskError {
  constructor(message: string, code: 'protocol' | 'internal' = 'protocol') {
    super(code, message);
    this.name = 'FrameError';
  }
}

/**
 * Builds frames field by field in one growable buffer (no allocation per field). `frame(type)`
 * closes the fields written so far into one frame and returns a copy of it; `begin(type)` …
 * `end()` leaves the frame in the buffer instead, and `take()` returns all of them as one
 * request (what the core's wrappers send).
 */
export class FrameWriter {
  private buf = new Uint8Array(256);
  private data = new DataView(this.buf.buffer);
  /** `buf` as a Buffer, for its UTF-8 writer. */
  private text = nodeBuffer(this.buf.buffer);
  private pos = 0;
  /** Where the open frame's header is, or -1 (the next field opens one). */
  private open = -1;
  private openType = 0;

  /** Bytes written so far (closed frames and the open one). */
  get length(): number {
    return this.pos;
  }

  u64(value: bigint | number): this {
    this.field(8);
    const at = this.pos;
    if (typeof value === 'bigint') {
      this.data.setBigUint64(at, value, true); // modulo 2^64, as BigInt.asUintN(64, value)
    } else if (value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
      this.data.setUint32(at, value % 4294967296, true);
      this.data.setUint32(at + 4, Math.floor(value / 4294967296), true);
    } else {
      this.data.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
    }
    this.pos = at + 8;
    return this;
  }

  str(value: string): this {
    const n = value.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; Buffer#write encodes as TextEncoder does
    // (a lone surrogate becomes U+FFFD) without a subarray per call.
    this.field(4 + n * 3);
    const at = this.pos + 4;
    const written = n === 0 ? 0 : this.text.utf8Write(value, at, this.buf.length - at);
    this.data.setUint32(this.pos, written, true);
    this.pos = at + written;
    return this;
  }

  strs(values: readonly string[]): this {
    this.u32(values.length);
    for (const v of values) this.str(v);
    return this;
  }

  u64s(values: readonly (bigint | number)[]): this {
    this.u32(values.length);
    for (const v of values) this.u64(v);
    return this;
  }

  /** Closes the fields written since the last frame into a frame of `type`; returns a copy. */
  frame(type: number): Uint8Array {
    this.ensureOpen();
    const start = this.open;
    this.close(type);
    const out = this.buf.slice(start, this.pos);
    this.pos = start;
    return out;
  }

  /** Starts a frame of `type` that stays in the buffer (see `end` and `take`). */
  begin(type: number): this {
    if (this.open >= 0) throw new FrameError('FrameWriter.begin: a frame is already open', 'internal');
    this.ensureOpen();
    this.openType = type;
    return this;
  }

  /** Closes the frame `begin` opened. */
  end(): this {
    if (this.open < 0) throw new FrameError('FrameWriter.end: no frame is open', 'internal');
    this.close(this.openType);
    return this;
  }

  /** Appends bytes already framed (e.g. from `frame`). */
  raw(bytes: Uint8Array): this {
    if (this.open >= 0) throw new FrameError('FrameWriter.raw: a frame is open', 'internal');
    this.grow(this.pos + bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /**
   * The closed frames before byte `at` (a frame boundary) as one buffer (a copy); the bytes
   * from `at` on stay, as the start of the next buffer.
   */
  split(at: number): Uint8Array {
    if (this.open >= 0) throw new FrameError('FrameWriter.split: a frame is open', 'internal');
    if (at < 0 || at > this.pos) throw new FrameError(`FrameWriter.split: ${at} outside 0..${this.pos}`, 'internal');
    const out = this.buf.slice(0, at);
    this.buf.copyWithin(0, at, this.pos);
    this.pos -= at;
    return out;
  }

  /** The closed frames before byte `end` as a view of the writer's buffer: valid until the next write. */
  view(end = this.pos): Uint8Array {
    if (this.open >= 0 && end > this.open) throw new FrameError('FrameWriter.view: a frame is open', 'internal');
    return this.buf.subarray(0, end);
  }

  /** Discards everything written (an open frame too). */
  reset(): this {
    this.pos = 0;
    this.open = -1;
    return this;
  }

  /** Drops the first `n` bytes (a frame boundary); the rest moves to the start. */
  drop(n: number): this {
    if (this.open >= 0) throw new FrameError('FrameWriter.drop: a frame is open', 'internal');
    if (n < 0 || n > this.pos) throw new FrameError(`FrameWriter.drop: ${n} outside 0..${this.pos}`, 'internal');
    this.buf.copyWithin(0, n, this.pos);
    this.pos -= n;
    return this;
  }

  /** Every closed frame as one buffer (a copy); the writer starts over. */
  take(): Uint8Array {
    if (this.open >= 0) throw new FrameError('FrameWriter.take: a frame is open', 'internal');
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  private ensureOpen(): void {
    if (this.open >= 0) return;
    this.grow(this.pos + HEADER_BYTES);
    this.open = this.pos;
    this.openType = 0;
    this.pos += HEADER_BYTES;
  }

  private close(type: number): void {
    const start = this.open;
    this.data.setUint32(start, this.pos - start - HEADER_BYTES, true);
    this.data.setUint16(start + 4, type, true);
    this.data.setUint16(start + 6, 0, true);
    this.open = -1;
  }

  private u32(value: number): this {
    this.field(4);
    this.data.setUint32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  /** Opens a frame if none is, and makes room for a field of `n` bytes. */
  private field(n: number): void {
    if (this.open < 0) this.ensureOpen();
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private grow(need: number): void {
    if (need <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < need) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.data = new DataView(grown.buffer);
    this.text = nodeBuffer(grown.buffer);
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a byte stream into frames; throws FrameError on a bad header or a short frame. */
export function splitFrames(bytes: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const frame = readFrameAt(bytes, at);
    if (frame === null) throw new FrameError(`truncated frame at byte ${at}`);
    frames.push(frame.frame);
    at = frame.next;
  }
  return frames;
}

/** Reads the frame starting at `at`, or null when the bytes end before it does. */
export function readFrameAt(bytes: Uint8Array, at: number): { frame: Frame; next: number } | null {
  if (bytes.length - at < HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES);
  const length = view.getUint32(0, true);
  const type = view.getUint16(4, true);
  const flags = view.getUint16(6, true);
  if (length > FRAME_PAYLOAD_MAX) throw new FrameError(`frame at byte ${at}: length ${length} over ${FRAME_PAYLOAD_MAX}`);
  if (flags !== 0) throw new FrameError(`frame at byte ${at}: flags ${flags} are not 0`);
  const end = at + HEADER_BYTES + length;
  if (end > bytes.length) return null;
  return { frame: { type, payload: bytes.subarray(at + HEADER_BYTES, end) }, next: end };
}

/** Reads the fields of one payload in order; throws FrameError when it breaks a bound. */
export class FieldReader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly payload: Uint8Array) {
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }

  str(max = STR_MAX): string {
    const n = this.u32();
    if (n > max) throw new FrameError(`string of ${n} bytes over ${max}`);
    this.need(n);
    const start = this.at;
    this.at += n;
    return byteString(this.payload, start, n);
  }

  strs(): string[] {
    const c = this.u32();
    if (c > STRS_MAX) throw new FrameError(`list of ${c} strings over ${STRS_MAX}`);
    const out: string[] = [];
    for (let i = 0; i < c; i++) out.push(this.str());
    return out;
  }

  u64s(): bigint[] {
    const c = this.u32();
    if (c > U64S_MAX) throw new FrameError(`list of ${c} numbers over ${U64S_MAX}`);
    const out: bigint[] = [];
    for (let i = 0; i < c; i++) out.push(this.u64());
    return out;
  }

  end(): void {
    if (this.at !== this.payload.length) throw new FrameError(`${this.payload.length - this.at} bytes left over`);
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  private need(n: number): void {
    if (this.payload.length - this.at < n) throw new FrameError('field runs past the end of the frame');
  }
}

/**
 * The string of `n` bytes at `start`: short ASCII is built directly, anything else goes through
 * TextDecoder. Throws on a NUL byte.
 */
function byteString(bytes: Uint8Array, start: number, n: number): string {
  const end = start + n;
  let ascii = true;
  for (let k = start; k < end; k++) {
    const b = bytes[k];
    if (b === 0) throw new FrameError('string contains a NUL byte');
    if (b >= 0x80) ascii = false;
  }
  if (ascii && n <= 16) {
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(bytes[k]);
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * Reads a whole buffer of frames in one pass, field by field (the core's answers): the same
 * checks as splitFrames + FieldReader, without an object per frame. A string that is ASCII (checked
 * four bytes at a time) is read as latin1, without TextDecoder.
 */
export class FrameCursor {
  /** The current frame's type, after `next()` returned true. */
  type = 0;
  private at = 0;
  private frameEnd = 0;
  private readonly view: DataView;
  /** The bytes as a Buffer, for its latin1 reader (a string of their own per field). */
  private text: Latin1Buffer | undefined;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Moves to the next frame (the last one's fields must all have been read); false at the end. */
  next(): boolean {
    const bytes = this.bytes;
    const at = this.frameEnd;
    if (at >= bytes.length) return false;
    if (bytes.length - at < HEADER_BYTES) throw new FrameError(`truncated frame at byte ${at}`);
    const length = this.view.getUint32(at, true);
    const flags = this.view.getUint16(at + 6, true);
    if (length > FRAME_PAYLOAD_MAX) throw new FrameError(`frame at byte ${at}: length ${length} over ${FRAME_PAYLOAD_MAX}`);
    if (flags !== 0) throw new FrameError(`frame at byte ${at}: flags ${flags} are not 0`);
    const end = at + HEADER_BYTES + length;
    if (end > bytes.length) throw new FrameError(`truncated frame at byte ${at}`);
    this.type = this.view.getUint16(at + 4, true);
    this.at = at + HEADER_BYTES;
    this.frameEnd = end;
    return true;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }

  /** A u64 as a number (as `Number(u64())`: exact below 2^53). */
  u64n(): number {
    this.need(8);
    const lo = this.view.getUint32(this.at, true);
    const hi = this.view.getUint32(this.at + 4, true);
    this.at += 8;
    return hi * 4294967296 + lo;
  }

  str(max = STR_MAX): string {
    this.need(4);
    const n = this.view.getUint32(this.at, true);
    this.at += 4;
    if (n > max) throw new FrameError(`string of ${n} bytes over ${max}`);
    this.need(n);
    const start = this.at;
    this.at += n;
    if (n === 0) return '';
    // Four bytes at a time: all below 0x80 and none 0 → cut from the latin1 copy.
    const view = this.view;
    const end = start + n;
    let k = start;
    let plain = true;
    for (; k + 4 <= end; k += 4) {
      const v = view.getUint32(k, true) | 0;
      if ((v & 0x80808080) !== 0 || ((v - 0x01010101) & ~v & 0x80808080) !== 0) {
        plain = false;
        break;
      }
    }
    if (plain) {
      for (; k < end; k++) {
        const b = this.bytes[k];
        if (b === 0 || b >= 0x80) {
          plain = false;
          break;
        }
      }
    }
    if (!plain) return byteString(this.bytes, start, n);
    this.text ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength) as Latin1Buffer;
    return this.text.latin1Slice(start, end);
  }

  /** Checks that every field of the current frame was read. */
  end(): void {
    if (this.at !== this.frameEnd) throw new FrameError(`${this.frameEnd - this.at} bytes left over`);
  }

  private need(n: number): void {
    if (this.frameEnd - this.at < n) throw new FrameError('field runs past the end of the frame');
  }
}

/**
 * Node's Buffer has a latin1 reader and a UTF-8 writer without toString's and write's
 * argument handling (the same natives they call; a measurable part of a small field's cost).
 */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
type Utf8Buffer = Buffer & { utf8Write(value: string, offset: number, length: number): number };

function nodeBuffer(buffer: ArrayBuffer): Utf8Buffer {
  return Buffer.from(buffer, 0, buffer.byteLength) as Utf8Buffer;
}
