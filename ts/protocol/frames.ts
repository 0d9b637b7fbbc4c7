// Frame codec shared by the plan, the events and the core's requests (docs/protocol.md).
// One writer and one reader; every bound of the protocol is checked on read.

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

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Builds one frame's payload field by field, then closes it with the header. */
export class FrameWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  u64(value: bigint | number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    return this.push(b);
  }

  str(value: string): this {
    const bytes = encoder.encode(value);
    return this.u32(bytes.length).push(bytes);
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

  frame(type: number): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.length, true);
    view.setUint16(4, type, true);
    view.setUint16(6, 0, true);
    let at = HEADER_BYTES;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [];
    this.length = 0;
    return out;
  }

  private u32(value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    return this.push(b);
  }

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
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
    const bytes = this.payload.subarray(this.at, this.at + n);
    if (bytes.includes(0)) throw new FrameError('string contains a NUL byte');
    this.at += n;
    return decoder.decode(bytes);
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
