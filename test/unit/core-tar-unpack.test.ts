// The core's tarUnpack (assembly/tar/unpack.ts) on its own: a tar cut into chunks anywhere
// (inside a header, a PAX record, a file's data) gives the same write stream records as the
// whole tar at once; anything the fast path does not take answers BAIL with its reason, and
// never a record for the entry that bailed.
import { describe, expect, it } from 'vitest';
import { pathVerdicts } from '../../ts/core/pathsafe.js';
import { ITEM_NAME } from '../../ts/core/types.js';
import { inPlace } from '../../ts/core/wasm.js';
import { T_CHAR, T_DIR, T_HARDLINK, T_SYMLINK } from '../../ts/image/tar-header.js';
import { tarOf, type WriteEntry } from '../../ts/image/tar-writer.js';

type Entry = WriteEntry & { data?: Buffer | string };

function call(op: number, id: number, a: number, b: number, body: Uint8Array = new Uint8Array(0)): { kind: number; used: number; rest: Buffer } {
  const c = inPlace(16 + body.length)!;
  const v = new DataView(c.request.buffer, c.request.byteOffset, 16);
  v.setUint32(0, op, true);
  v.setUint32(4, id, true);
  v.setUint32(8, a, true);
  v.setUint32(12, b, true);
  c.request.set(body, 16);
  const { status, answer } = c.run('tarUnpack', 16 + body.length);
  expect(status).toBe(0);
  const out = Buffer.from(answer);
  return { kind: out.readUInt32LE(0), used: out.readUInt32LE(4), rest: out.subarray(8) };
}

/** The records for `tar` fed in pieces of `step` bytes (the untaken end carried over), and how it ended. */
function run(tar: Buffer, step: number): { records: Buffer; kind: number; bail: string } {
  const id = call(1, 0, 1, 1000).used;
  const parts: Buffer[] = [];
  let carry = Buffer.alloc(0);
  for (let at = 0; at < tar.length; at += step) {
    const body = Buffer.concat([carry, tar.subarray(at, at + step)]);
    const r = call(2, id, 0, 0, body);
    if (r.kind === 2) return { records: Buffer.concat(parts), kind: 2, bail: r.rest.toString('latin1') };
    parts.push(r.rest);
    if (r.kind === 1) break;
    carry = body.subarray(r.used);
    expect(carry.length).toBeLessThan(512);
  }
  const f = call(3, id, 0, 0);
  return { records: Buffer.concat(parts), kind: f.kind, bail: f.kind === 2 ? f.rest.toString('latin1') : '' };
}

/** The records as [kind, path, size] (a file's data skipped). */
function records(b: Buffer): [number, string, number][] {
  const out: [number, string, number][] = [];
  let at = 0;
  while (at < b.length) {
    const kind = b[at];
    const len = b.readUInt16LE(at + 2);
    const size = Number(b.readBigUInt64LE(at + 24));
    out.push([kind, b.toString('latin1', at + 32, at + 32 + len), size]);
    at += 32 + len + size;
  }
  return out;
}

const layer: Entry[] = [
  { name: './', type: T_DIR },
  { name: 'a/b/c', data: 'x'.repeat(1500) },
  { name: `${'p'.repeat(130)}/q`, data: 'long, by PAX' },
  { name: 'a/s', type: T_SYMLINK, linkname: '/etc' },
  { name: '/a/h', type: T_HARDLINK, linkname: 'a/b/c' },
  { name: 'a/', type: T_DIR, mode: 0o700 },
  { name: 'e', data: '' },
];

describe('tarUnpack', () => {
  it('gives the same records whatever the chunks, parents first, and nothing for the root entry', () => {
    const tar = tarOf(layer);
    const whole = run(tar, tar.length);
    expect(whole.kind).toBe(3);
    expect(records(whole.records)).toEqual([
      [1, 'a', 0], [1, 'a/b', 0], [2, 'a/b/c', 1500], [1, 'p'.repeat(130), 0], [2, `${'p'.repeat(130)}/q`, 12],
      [3, 'a/s', 4], [4, 'a/h', 5], [2, 'e', 0],
    ]);
    for (const step of [1, 7, 511, 512, 513, 1000, 4096]) expect(run(tar, step).records).toEqual(whole.records);
  });

  for (const [what, extra, reason] of [
    ['a replaced entry', [{ name: 'e', data: 'again' }], /replaces/],
    ['a whiteout', [{ name: 'a/.wh.b' }], /whiteout/],
    ['a `..`', [{ name: 'a/../z', data: '' }], /\.\./],
    ['a device', [{ name: 'null', type: T_CHAR, devmajor: 1, devminor: 3 }], /entry type/],
    ['an entry under a symlink', [{ name: 'a/s/x', data: '' }], /parent/],
    ['an xattr', [{ name: 'x', data: '', xattrs: { 'user.a': 'b' } }], /xattr/],
    ['a hardlink to a symlink', [{ name: 'h2', type: T_HARDLINK, linkname: 'a/s' }], /hardlink/],
    ['a name 200 directories deep', [{ name: `${'d/'.repeat(200)}f`, data: '' }], /deeper than 128/],
  ] as [string, Entry[], RegExp][]) {
    it(`bails on ${what}`, () => {
      const r = run(tarOf([...layer, ...extra]), 700);
      expect(r.kind).toBe(2);
      expect(r.bail).toMatch(reason);
    });
  }

  it('bails on names over 4095 bytes (PAX and GNU long names) and the core goes on unharmed', () => {
    for (const name of ['n'.repeat(5000), `${'d/'.repeat(2100)}f`, 'm'.repeat(60_000)]) {
      const r = run(tarOf([...layer, { name, data: 'x' }]), 4096);
      expect(r.kind).toBe(2);
    }
    // Another entry point after them: its memory is whole (a name copied past its buffer would not be).
    const again = run(tarOf(layer), 100_000);
    expect(again.kind).toBe(3);
    expect(pathVerdicts([{ kind: ITEM_NAME, name: 'a/../b', target: '' }])[0].path).toBe('b');
  });

  it('bails on a tar that ends inside an entry, and on a session that is not the current one', () => {
    const tar = tarOf(layer);
    expect(run(tar.subarray(0, 1024 + 700), 4096).kind).toBe(2);
    const id = call(1, 0, 1, 1000).used;
    call(1, 0, 1, 1000); // another session begins: the first is gone
    expect(call(2, id, 0, 0, tar.subarray(0, 512)).kind).toBe(2);
  });
});
