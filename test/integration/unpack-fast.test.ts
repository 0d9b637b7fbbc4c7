// The fast path of an unpack (ts/image/fast-unpack.ts, assembly/tar/unpack.ts): a common
// layer goes through the core into the launcher's records with no JavaScript per entry and
// must come out exactly as the full path writes it; a layer the core does not take (a
// replacement, a whiteout, a device) is started over on the full path, with the same result.
import { createHash } from 'node:crypto';
import { lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { T_CHAR, T_DIR, T_HARDLINK, T_SYMLINK } from '../../ts/image/tar-header.js';
import { tarOf } from '../../ts/image/tar-writer.js';
import { useLeakCheck } from './leak-check.js';
import { listing, useUnpackArea, type Entry } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();
const saved = { fast: process.env.HUSK_UNPACK_FAST, stream: process.env.HUSK_UNPACK_STREAM };
afterEach(() => {
  for (const [key, value] of [['HUSK_UNPACK_FAST', saved.fast], ['HUSK_UNPACK_STREAM', saved.stream]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const t = 1_650_000_000;

/** A base layer as images have them: directories, files, links, owners, set-id bits, long names. */
function commonLayer(): Entry[] {
  const e: Entry[] = [{ name: './', type: T_DIR, mode: 0o755, mtime: t }];
  for (let d = 0; d < 22; d++) {
    e.push({ name: `./usr/d${d}/`, type: T_DIR, mode: d % 2 ? 0o755 : 0o750, uid: d % 3, mtime: t + d });
    for (let f = 0; f < 50; f++) e.push({ name: `./usr/d${d}/f${f}`, data: `file ${d}/${f}\n`.repeat(f * 7), mode: f % 3 ? 0o644 : 0o755, mtime: t + f });
  }
  e.push(
    { name: 'deep/er/still/file', data: 'deep', mtime: t },
    { name: '/abs/name', data: 'an absolute name lands in the layer' },
    { name: 'dir//with/./dots/', type: T_DIR, mode: 0o700 },
    { name: 'dir/again/', type: T_DIR, mode: 0o711 },
    { name: 'dir/again/', type: T_DIR, mode: 0o701, mtime: t },
    { name: 's', type: T_SYMLINK, linkname: '/etc/passwd' },
    { name: 'rel', type: T_SYMLINK, linkname: '../../..', uid: 7, gid: 8, mtime: t },
    { name: 'h', type: T_HARDLINK, linkname: 'usr/d3/f7' },
    { name: 'h2', type: T_HARDLINK, linkname: '/h' },
    { name: 'suid', data: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 1000, mtime: t },
    { name: 'sgid', data: 'g', mode: 0o2711, gid: 42 },
    { name: 'tmp/', type: T_DIR, mode: 0o1777 },
    { name: 'big', data: Buffer.alloc(5 << 20, 'zq'), mtime: t },
    { name: `${'l'.repeat(120)}/${'n'.repeat(150)}`, data: 'long' },
    // A UTF-8 name, as tar names are bytes (binary strings here).
    { name: Buffer.from('caf\u00e9/\u00fcber', 'utf8').toString('latin1'), data: 'not ASCII' },
  );
  return e;
}

/** listing() plus mtimes (a directory's only when the tar set it: a made parent's is now) and link counts. */
function full(dir: string): string[] {
  return listing(dir).map((line) => {
    const rel = line.split(' ')[0];
    const st = lstatSync(rel === '.' ? dir : join(dir, rel));
    const mtime = Math.floor(st.mtimeMs / 1000);
    // A long line (the big file's contents) as its hash: a failure stays readable.
    if (line.length > 300) line = `${line.slice(0, 100)}… sha256 ${createHash('sha256').update(line).digest('hex')}`;
    return `${line} ${st.isDirectory() && mtime > t + 1e6 ? 'now' : mtime} ${st.isDirectory() ? '' : st.nlink}`;
  });
}

describe('the fast path', () => {
  it('writes a common layer exactly as the full path does, with no entry handed back', async () => {
    const blob = gzipSync(tarOf(commonLayer()));
    process.env.HUSK_UNPACK_FAST = 'never';
    const slow = await u.unpack(blob);
    process.env.HUSK_UNPACK_FAST = 'always';
    const fast = await u.unpack(blob);
    expect(slow.result.fast).toBeUndefined();
    expect(fast.result.fast).toBe(true);
    expect(full(fast.dir)).toEqual(full(slow.dir));
    expect({ ...fast.result, fast: undefined }).toEqual(slow.result);
    expect(statSync(join(fast.dir, 'suid')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(fast.dir, 'dir/again')).mode & 0o7777).toBe(0o701);
    expect(lstatSync(join(fast.dir, 'h2')).ino).toBe(lstatSync(join(fast.dir, 'usr/d3/f7')).ino);
    expect(statSync(join(fast.dir, 'big')).size).toBe(5 << 20);
  });

  it('the same layer plain and split at every kind of boundary comes out the same', async () => {
    const tar = tarOf(commonLayer());
    process.env.HUSK_UNPACK_FAST = 'always';
    const gz = await u.unpack(gzipSync(tar));
    const plain = await u.unpack(tar);
    expect(plain.result.fast).toBe(true);
    expect(full(plain.dir)).toEqual(full(gz.dir));
  });

  for (const [what, extra] of [
    ['a file replaced by a directory', [{ name: 'f', data: 'x' }, { name: 'f/', type: T_DIR }, { name: 'f/y', data: 'y' }]],
    ['a whiteout', [{ name: 'usr/.wh.d3', data: '' }]],
    ['a device node', [{ name: 'null', type: T_CHAR, devmajor: 1, devminor: 3 }]],
    ['an entry under a symlink', [{ name: 'to', type: T_SYMLINK, linkname: 'usr' }, { name: 'to/through', data: 'via the link' }]],
    ['an xattr', [{ name: 'cap', data: 'x', xattrs: { 'user.note': 'yes' } }]],
  ] as [string, Entry[]][]) {
    it(`hands a layer with ${what} back to the full path, which writes what it writes alone`, async () => {
      const blob = gzipSync(tarOf([...commonLayer(), ...extra]));
      process.env.HUSK_UNPACK_FAST = 'never';
      const slow = await u.unpack(blob);
      process.env.HUSK_UNPACK_FAST = 'always';
      const fast = await u.unpack(blob);
      expect(fast.result.fast).toBeUndefined();
      expect(full(fast.dir)).toEqual(full(slow.dir));
    });
  }

  it('a hostile entry after the fast path wrote thousands is refused as the full path words it, and nothing is left', async () => {
    process.env.HUSK_UNPACK_FAST = 'always';
    const entries = commonLayer();
    entries.push({ name: 'esc/../../../etc/evil', data: 'no' });
    await u.expectRefused(entries, /entry "esc\/\.\.\/\.\.\/\.\.\/etc\/evil": its name climbs out of the layer/);
    entries.pop();
    entries.push({ name: 'hl', type: T_HARDLINK, linkname: '../../etc/passwd' });
    await u.expectRefused(entries, /hardlink to outside the layer/);
    // Truncated inside a file's data: the fast path saw no end, the full path says where.
    const tar = tarOf(commonLayer());
    await u.expectRefused(gzipSync(tar.subarray(0, tar.length - 1024 - 700)), /truncated archive/);
  });
});
