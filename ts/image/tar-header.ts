// One tar header block (512 bytes) and PAX records, parsed from Buffers without copying.
// Names are kept as "binary" strings (latin1: one char per byte), so a name that is not UTF-8
// survives unchanged from the archive to the disk; tar-fs.ts turns them back into bytes.
// Formats: POSIX ustar (its prefix field), GNU (its long-name 'L'/'K' entries and base-256
// numbers), PAX ('x' records; 'g' global records are read and ignored, as docker does).

export const BLOCK = 512;

/** Entry types as the tar header's typeflag byte. */
export const T_FILE = 0x30; // '0' (and NUL, '7' contiguous)
export const T_HARDLINK = 0x31;
export const T_SYMLINK = 0x32;
export const T_CHAR = 0x33;
export const T_BLOCK = 0x34;
export const T_DIR = 0x35;
export const T_FIFO = 0x36;
export const T_CONTIGUOUS = 0x37;
export const T_PAX = 0x78; // 'x'
export const T_PAX_GLOBAL = 0x67; // 'g'
export const T_GNU_LONGNAME = 0x4c; // 'L'
export const T_GNU_LONGLINK = 0x4b; // 'K'

export interface Header {
  /** The name as stored (binary string), before PAX and GNU long names are applied. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (PAX may add a fraction). */
  mtime: number;
  type: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** A header block that is not one: the reason, for the caller to put in its message. */
export class BadHeader extends Error {}

/** True when every byte of the block is zero (the end-of-archive marker). */
export function isZeroBlock(b: Buffer, at: number): boolean {
  // A header's name (or its checksum) is never all zero: most blocks stop at the first byte.
  for (let i = at; i < at + BLOCK; i++) {
    if (b[i] !== 0) return false;
  }
  return true;
}

function cstring(b: Buffer, at: number, len: number): string {
  if (b[at] === 0) return ''; // most link names: no string made
  let end = at;
  const stop = at + len;
  while (end < stop && b[end] !== 0) end++;
  return b.toString('latin1', at, end);
}

/**
 * A numeric field: octal ASCII (leading spaces, trailing NUL or space), or GNU base-256 when
 * the first byte has its top bit set. Values past 2^53 are refused (no file is that big).
 */
export function readNumber(b: Buffer, at: number, len: number, field: string): number {
  if (b[at] & 0x80) {
    if (b[at] === 0xff) throw new BadHeader(`negative ${field}`);
    let v = b[at] & 0x7f;
    for (let i = at + 1; i < at + len; i++) {
      v = v * 256 + b[i];
      if (v > Number.MAX_SAFE_INTEGER) throw new BadHeader(`${field} too large`);
    }
    return v;
  }
  let i = at;
  const stop = at + len;
  while (i < stop && b[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < stop; i++) {
    const c = b[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new BadHeader(`${field} is not an octal number`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  if (v > Number.MAX_SAFE_INTEGER) throw new BadHeader(`${field} too large`);
  for (; i < stop; i++) {
    if (b[i] !== 0 && b[i] !== 0x20) throw new BadHeader(`${field} is not an octal number`);
  }
  return digits === 0 ? 0 : v;
}

/** A 32-bit view of the memory of the last header summed: the headers of a chunk share it. */
let viewOf: ArrayBufferLike | null = null;
let view: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * The sum of the header's bytes, its checksum field counted as eight spaces. Four bytes at a
 * time where the header is 4-byte aligned in memory (nearly always: tar blocks are 512 bytes
 * and read buffers start aligned): each 32-bit word adds its bytes as two 16-bit lanes
 * (`x & 0x00ff00ff` and `(x >>> 8) & 0x00ff00ff`), at most 45 words per run so that a lane
 * (45 × 510) cannot carry into the other and the sum stays a 32-bit integer.
 */
function unsignedSum(b: Buffer, at: number): number {
  const abs = b.byteOffset + at;
  let total = 8 * 0x20;
  if ((abs & 3) !== 0) {
    for (let i = at; i < at + 148; i++) total += b[i];
    for (let i = at + 156; i < at + BLOCK; i++) total += b[i];
    return total;
  }
  if (viewOf !== b.buffer) {
    viewOf = b.buffer;
    view = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
  }
  const w = abs >>> 2;
  // Words 0–36 (bytes 0–147), then 39–127 (bytes 156–511) in two runs; 37–38 are the checksum.
  total += lanes(w, w + 37) + lanes(w + 39, w + 84) + lanes(w + 84, w + 128);
  return total;
}

function lanes(from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const x = view[i];
    sum += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
  }
  return (sum & 0xffff) + (sum >>> 16);
}

/** The header checksum matches (unsigned, or the signed sum some old tars wrote). */
function checksumOk(b: Buffer, at: number): boolean {
  const want = readNumber(b, at + 148, 8, 'checksum');
  if (want === unsignedSum(b, at)) return true;
  // The signed sum only if needed.
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const c = b[at + i];
    signed += c > 127 ? c - 256 : c;
  }
  return want === signed;
}

/** Parses the header block at `at`. Throws BadHeader when it is not a tar header. */
export function parseHeader(b: Buffer, at: number): Header {
  if (!checksumOk(b, at)) throw new BadHeader('header checksum does not match');
  let type = b[at + 156];
  if (type === 0 || type === T_CONTIGUOUS) type = T_FILE;
  let name = cstring(b, at, 100);
  // POSIX ustar ("ustar\0") has a prefix field; GNU ("ustar  \0") keeps times there instead.
  const magic = b[at + 257] === 0x75 && b[at + 258] === 0x73 && b[at + 259] === 0x74 && b[at + 260] === 0x61 && b[at + 261] === 0x72;
  const posix = magic && b[at + 262] === 0;
  if (posix && b[at + 345] !== 0) name = cstring(b, at + 345, 155) + '/' + name;
  const ustar = posix || (magic && b[at + 262] === 0x20 && b[at + 263] === 0x20 && b[at + 264] === 0);
  return {
    name,
    mode: readNumber(b, at + 100, 8, 'mode'),
    uid: readNumber(b, at + 108, 8, 'uid'),
    gid: readNumber(b, at + 116, 8, 'gid'),
    size: readNumber(b, at + 124, 12, 'size'),
    mtime: readNumber(b, at + 136, 12, 'mtime'),
    type,
    linkname: cstring(b, at + 157, 100),
    devmajor: ustar ? readNumber(b, at + 329, 8, 'devmajor') : 0,
    devminor: ustar ? readNumber(b, at + 337, 8, 'devminor') : 0,
  };
}

/** The PAX records of an extended header: key → value (binary strings). */
export function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // padding some writers leave
    let len = 0;
    let j = i;
    while (j < data.length && data[j] >= 0x30 && data[j] <= 0x39 && j - i < 10) len = len * 10 + data[j++] - 0x30;
    if (j === i || data[j] !== 0x20 || len <= j - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw new BadHeader(`malformed PAX record at byte ${i}`);
    }
    const record = data.toString('latin1', j + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new BadHeader(`malformed PAX record at byte ${i}`);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/** A PAX decimal (integer, or seconds with a fraction for times). */
export function paxNumber(value: string, key: string, fraction = false): number {
  const ok = fraction ? /^-?\d{1,16}(\.\d{0,9})?$/ : /^\d{1,16}$/;
  if (!ok.test(value)) throw new BadHeader(`PAX ${key} is not a number`);
  const v = Number(value);
  if (!Number.isSafeInteger(Math.trunc(v))) throw new BadHeader(`PAX ${key} too large`);
  return v;
}
