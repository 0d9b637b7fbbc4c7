// Tar headers as POSIX ustar, with a PAX record ('x') for what ustar cannot hold (long names
// and link targets, big sizes and ids, sub-second times, xattrs). Deterministic: the same
// entry always gives the same bytes (no user or group names, no atime/ctime).
import { BLOCK, T_CHAR, T_FILE, T_PAX } from './tar-header.js';

export interface WriteEntry {
  /** Binary strings (one char per byte). */
  name: string;
  type?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** SCHILY.xattr.NAME → value (binary strings). */
  xattrs?: ReadonlyMap<string, string> | Record<string, string>;
}

const OCTAL_MAX = { 8: 0o7777777, 12: 0o77777777777 } as const;

function putString(b: Buffer, at: number, len: number, s: string): void {
  b.write(s, at, Math.min(len, Buffer.byteLength(s, 'latin1')), 'latin1');
}

function putOctal(b: Buffer, at: number, len: 8 | 12, v: number): void {
  b.write(v.toString(8).padStart(len - 1, '0') + '\0', at, len, 'latin1');
}

/** A PAX record: "<len> key=value\n", where len counts itself. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body, 'latin1');
  let digits = 1;
  while (String(n + digits).length !== digits) digits++;
  return `${n + digits}${body}`;
}

function block(name: string, type: number, size: number, fields: { mode: number; uid: number; gid: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  putString(b, 0, 100, name);
  putOctal(b, 100, 8, fields.mode);
  putOctal(b, 108, 8, fields.uid);
  putOctal(b, 116, 8, fields.gid);
  putOctal(b, 124, 12, size);
  putOctal(b, 136, 12, fields.mtime);
  b[156] = type;
  putString(b, 157, 100, fields.linkname);
  b.write('ustar\x0000', 257, 8, 'latin1');
  putOctal(b, 329, 8, fields.devmajor);
  putOctal(b, 337, 8, fields.devminor);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** The header blocks of `e` (a PAX header first when needed). */
export function headerOf(e: WriteEntry): Buffer {
  const type = e.type ?? T_FILE;
  const size = e.size ?? 0;
  const mtime = e.mtime ?? 0;
  const linkname = e.linkname ?? '';
  const pax: string[] = [];
  if (e.name.length > 100) pax.push(record('path', e.name));
  if (linkname.length > 100) pax.push(record('linkpath', linkname));
  if (size > OCTAL_MAX[12]) pax.push(record('size', String(size)));
  if ((e.uid ?? 0) > OCTAL_MAX[8]) pax.push(record('uid', String(e.uid)));
  if ((e.gid ?? 0) > OCTAL_MAX[8]) pax.push(record('gid', String(e.gid)));
  if (!Number.isInteger(mtime) || mtime > OCTAL_MAX[12] || mtime < 0) pax.push(record('mtime', mtime.toFixed(9).replace(/\.?0+$/, '')));
  const xattrs = e.xattrs instanceof Map ? [...e.xattrs] : Object.entries(e.xattrs ?? {});
  for (const [k, v] of xattrs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push(record(`SCHILY.xattr.${k}`, v));
  const fields = {
    mode: (e.mode ?? (type === 0x35 ? 0o755 : 0o644)) & 0o7777,
    uid: Math.min(e.uid ?? 0, OCTAL_MAX[8]),
    gid: Math.min(e.gid ?? 0, OCTAL_MAX[8]),
    mtime: Math.max(0, Math.min(Math.floor(mtime), OCTAL_MAX[12])),
    linkname: linkname.slice(0, 100),
    devmajor: type === T_CHAR || type === 0x34 ? e.devmajor ?? 0 : 0,
    devminor: type === T_CHAR || type === 0x34 ? e.devminor ?? 0 : 0,
  };
  const header = block(e.name.slice(0, 100), type, Math.min(size, OCTAL_MAX[12]), fields);
  if (pax.length === 0) return header;
  const data = Buffer.from(pax.join(''), 'latin1');
  const paxHeader = block(`PaxHeaders/${e.name.slice(-80)}`.slice(0, 100), T_PAX, data.length, { ...fields, mode: 0o644, linkname: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([paxHeader, data, padding(data.length), header]);
}

/** Zeros that fill `size` bytes of data to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks: the end of the archive. */
export const END = Buffer.alloc(2 * BLOCK);

/** A whole tar in memory (tests, small layers). */
export function tarOf(entries: readonly (WriteEntry & { data?: Buffer | string })[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : e.data;
    parts.push(headerOf({ ...e, size: e.size ?? data?.length ?? 0 }));
    if (data) parts.push(data, padding(data.length));
  }
  parts.push(END);
  return Buffer.concat(parts);
}
