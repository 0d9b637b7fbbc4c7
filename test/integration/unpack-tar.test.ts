// Layers made by GNU tar unpack to exactly what GNU tar itself extracts: contents, modes
// (set-id bits too), owners, mtimes, symlinks as stored, hardlinks as one inode, long and
// non-UTF-8 names; gzip, zstd (the zstd program and the in-process decoder) and plain; the
// digest and diffId are the sha256 of the blob and of the tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, createReadStream, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync, chmodSync, lutimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpackLayer } from '../../ts/image/unpack.js';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { useUnpackArea } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();

/** A tree with what layers hold. */
function fill(src: string): void {
  const t = 1_600_000_000;
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(src, 'etc/shadow'), 'root:*:1::::::\n', { mode: 0o640 });
  chownSync(join(src, 'etc/shadow'), 0, 42);
  mkdirSync(join(src, 'bin'));
  writeFileSync(join(src, 'bin/su'), '#!/bin/sh\n', { mode: 0o755 });
  chmodSync(join(src, 'bin/su'), 0o4755);
  writeFileSync(join(src, 'bin/sgid'), 'x');
  chmodSync(join(src, 'bin/sgid'), 0o2711);
  linkSync(join(src, 'bin/su'), join(src, 'bin/su-twin'));
  symlinkSync('/etc/passwd', join(src, 'bin/abs-link'));
  symlinkSync('../etc', join(src, 'bin/rel-link'));
  symlinkSync('nowhere/at/all', join(src, 'bin/dangling'));
  mkdirSync(join(src, 'home/user/private'), { recursive: true });
  writeFileSync(join(src, 'home/user/notes'), 'mine', { mode: 0o600 });
  chownSync(join(src, 'home/user/notes'), 1000, 1000);
  chownSync(join(src, 'home/user'), 1000, 1000);
  chmodSync(join(src, 'home/user/private'), 0o700);
  mkdirSync(join(src, 'ro'), { mode: 0o555 });
  chmodSync(join(src, 'ro'), 0o555);
  mkdirSync(join(src, 'tmp'));
  chmodSync(join(src, 'tmp'), 0o1777);
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'big'), Buffer.alloc(6 << 20, 'ab')); // written as it streams
  const long = 'l'.repeat(120) + '/' + 'n'.repeat(150);
  mkdirSync(join(src, 'l'.repeat(120)));
  writeFileSync(join(src, long), 'long name');
  symlinkSync('t'.repeat(200), join(src, 'long-target'));
  writeFileSync(join(src, 'café ☕'), 'utf-8 name');
  writeFileSync(Buffer.from(join(src, 'latin1-\xe9'), 'latin1'), 'not utf-8');
  for (const p of ['etc/passwd', 'etc/shadow', 'bin/su', 'home/user/notes', 'empty', 'big', long]) utimesSync(join(src, p), t, t + 0.5);
  lutimesSync(join(src, 'bin/abs-link'), t, t);
  for (const d of ['etc', 'bin', 'home/user/private', 'ro', 'tmp']) utimesSync(join(src, d), t, t);
}

const src = suiteDir('src', { fill });

/** Type, mode, owner, mtime, size, link count and contents' hash of each file (names as bytes in hex where not ASCII). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: Buffer) => {
    const full = Buffer.concat([Buffer.from(dir), rel.length ? Buffer.from('/') : Buffer.alloc(0), rel]);
    const st = lstatSync(full);
    let what = `${/^[\x20-\x7e]*$/.test(rel.toString('latin1')) ? rel.toString('latin1') || '.' : rel.toString('hex')} ${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    if (!st.isDirectory() && rel.length) what += ` ${Math.floor(st.mtimeMs / 1000)} ${st.nlink}`;
    if (st.isSymbolicLink()) what += ` -> ${execFileSync('readlink', [full.toString('latin1')], { encoding: 'latin1' }).trim()}`;
    else if (st.isFile()) what += ` ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 12)}`;
    out.push(what);
    if (st.isDirectory()) {
      if (rel.length) out.push(`${rel.toString('latin1')} mtime ${Math.floor(st.mtimeMs / 1000)}`);
      const names = readdirSync(full, { encoding: 'buffer' }).sort(Buffer.compare);
      for (const n of names) walk(rel.length ? Buffer.concat([rel, Buffer.from('/'), n]) : n);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

/** What GNU tar itself extracts from `blob`. */
function gnuExtract(blob: string, flags: string[]): string {
  const out = join(u.area, `gnu-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  execFileSync('tar', ['-x', ...flags, '-p', '--numeric-owner', '-f', blob, '-C', out]);
  return out;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('a layer made by GNU tar', () => {
  for (const format of ['gnu', 'posix'] as const) {
    it(`unpacks as GNU tar extracts it (${format} format, gzip)`, async () => {
      const tarFile = join(u.area, `layer-${format}.tar`);
      execFileSync('tar', ['-c', `--format=${format}`, '--numeric-owner', '-f', tarFile, '-C', src, '.']);
      execFileSync('gzip', ['-kf', tarFile]);
      const dest = u.dest();
      const r = await unpackLayer(`${tarFile}.gz`, dest, { label: 'gnu' });
      expect(tree(dest)).toEqual(tree(gnuExtract(`${tarFile}.gz`, ['-z'])));
      expect(r.digest).toBe(sha256(readFileSync(`${tarFile}.gz`)));
      expect(r.diffId).toBe(sha256(readFileSync(tarFile)));
      expect(r.size).toBe(readFileSync(tarFile).length);
      expect(lstatSync(join(dest, 'bin/su')).ino).toBe(lstatSync(join(dest, 'bin/su-twin')).ino);
    });
  }

  it('unpacks from zstd with the zstd program and with the in-process decoder, and plain, alike', async () => {
    const tarFile = join(u.area, 'layer-z.tar');
    execFileSync('tar', ['-c', '--format=posix', '--numeric-owner', '-f', tarFile, '-C', src, '.']);
    execFileSync('zstd', ['-qf', tarFile, '-o', `${tarFile}.zst`]);
    const want = tree(gnuExtract(tarFile, []));
    const a = u.dest();
    const b = u.dest();
    const c = u.dest();
    const d = u.dest();
    const ra = await unpackLayer(`${tarFile}.zst`, a);
    const rb = await unpackLayer(`${tarFile}.zst`, b, { zstdProgram: null });
    const rc = await unpackLayer(createReadStream(tarFile), c);
    const rd = await unpackLayer(tarFile, d); // a plain file: one read buffer, reused
    expect(tree(a)).toEqual(want);
    expect(tree(b)).toEqual(want);
    expect(tree(c)).toEqual(want);
    expect(tree(d)).toEqual(want);
    expect(rd).toEqual(rc);
    expect(ra.diffId).toBe(sha256(readFileSync(tarFile)));
    expect(rb).toEqual(ra);
    expect(rc.digest).toBe(ra.diffId); // a plain tar's digest is its diffId
  });

  it('a truncated or corrupt zstd layer is refused with zstd\'s reason, and its process is gone', async () => {
    const tarFile = join(u.area, 'layer-bad.tar');
    execFileSync('tar', ['-c', '-f', tarFile, '-C', src, 'etc']);
    const z = execFileSync('zstd', ['-qc', tarFile]);
    const cut = z.subarray(0, z.length - 8);
    const bad = Buffer.from(z);
    bad[5] ^= 0xff; // the frame header
    await u.expectRefused(cut, /^layer test: not valid zstd: .*(premature|truncated|end)/i);
    await u.expectRefused(cut, /^layer test: not valid zstd: /, { zstdProgram: null });
    await u.expectRefused(bad, /^layer test: not valid zstd: /);
  });
});
