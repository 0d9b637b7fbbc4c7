// packLayer: a directory → a deterministic layer tar that GNU tar reads and unpackLayer gives
// back unchanged; an overlay upper (made by a real overlay mount) → `.wh.` entries, so the
// packed layer stacked on its lower shows what the container saw.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, createWriteStream, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { packLayer } from '../../ts/image/pack.js';
import { T_CHAR, T_DIR, T_FIFO } from '../../ts/image/tar-header.js';
import { unpackLayer } from '../../ts/image/unpack.js';
import { useLeakCheck } from './leak-check.js';
import { listing, useUnpackArea } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('latin1');

async function packToBuffer(dir: string, opts = {}): Promise<{ bytes: Buffer; diffId: string; size: number }> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const r = await packLayer(dir, out, opts);
  out.end();
  return { bytes: Buffer.concat(parts), ...r };
}

function mount(lower: string, upper: string, work: string, merged: string): void {
  const r = spawnSync('mount', ['-t', 'overlay', 'husk-test-overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
}

describe('packLayer', () => {
  it('packs the same tree to the same bytes, GNU tar reads it, and unpacking gives the tree back', async () => {
    const { dir: src } = await u.unpack([
      { name: 'etc', type: T_DIR, mode: 0o755, mtime: 1_600_000_000 },
      { name: 'etc/passwd', data: 'root:x:0:0\n', mtime: 1_600_000_001 },
      { name: 'bin/su', data: 'su', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'bin/twin', type: 0x31, linkname: 'bin/su' },
      { name: 'bin/ping', data: 'ping', xattrs: { 'security.capability': CAP } },
      { name: 'lib', type: 0x32, linkname: '/usr/lib' },
      { name: 'home/u/f', data: 'mine', uid: 1000, gid: 1000, mode: 0o600 },
      { name: 'dev/null', type: T_CHAR, devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'run/p', type: T_FIFO },
      { name: 'x'.repeat(150), data: 'long' },
    ]);
    const a = await packToBuffer(src);
    const b = await packToBuffer(src);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.diffId).toBe(`sha256:${createHash('sha256').update(a.bytes).digest('hex')}`);
    expect(a.size).toBe(a.bytes.length);
    const tarFile = u.blob(a.bytes);
    const names = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(names).toContain('bin/twin');
    expect(names).toContain('x'.repeat(150));
    const back = u.dest();
    const r = await unpackLayer(tarFile, back);
    expect(r.diffId).toBe(a.diffId);
    expect(listing(back)).toEqual(listing(src));
    expect(spawnSync('getcap', [join(back, 'bin/ping')], { encoding: 'utf8' }).stdout).toMatch(/cap_net_raw[=+]ep/);
  });

  it('an overlay upper becomes a layer with .wh. entries that, stacked on its lower, shows what the container saw', async () => {
    const base = join(u.area, 'ovl');
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(base, d));
    for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
    mkdirSync(join(lower, 'etc'));
    writeFileSync(join(lower, 'etc/keep'), 'kept');
    writeFileSync(join(lower, 'etc/gone'), 'old');
    mkdirSync(join(lower, 'var/cache'), { recursive: true });
    writeFileSync(join(lower, 'var/cache/old'), 'old');
    mount(lower, upper, work, merged);
    try {
      rmSync(join(merged, 'etc/gone'));
      rmSync(join(merged, 'var/cache'), { recursive: true });
      mkdirSync(join(merged, 'var/cache'));
      writeFileSync(join(merged, 'var/cache/new'), 'new');
      writeFileSync(join(merged, 'etc/added'), 'added');
    } finally {
      spawnSync('umount', [merged]);
    }
    const layer = await packToBuffer(upper, { fromOverlayUpper: true });
    const tarFile = u.blob(layer.bytes);
    const names = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(names).toEqual(['etc/', 'etc/.wh.gone', 'etc/added', 'var/', 'var/cache/', 'var/cache/.wh..wh..opq', 'var/cache/new']);
    expect(layer.bytes.includes('trusted.overlay')).toBe(false);
    const unpacked = u.dest();
    await unpackLayer(tarFile, unpacked);
    const view = join(base, 'view');
    mkdirSync(view);
    const m = spawnSync('mount', ['-t', 'overlay', 'husk-test-overlay', '-o', `lowerdir=${unpacked}:${lower}`, view], { encoding: 'utf8' });
    expect(m.stderr).toBe('');
    try {
      expect(readdirSync(join(view, 'etc')).sort()).toEqual(['added', 'keep']);
      expect(readdirSync(join(view, 'var/cache'))).toEqual(['new']);
      expect(readFileSync(join(view, 'etc/added'), 'utf8')).toBe('added');
    } finally {
      spawnSync('umount', [view]);
    }
  });

  it('writes to a file stream and waits for it to drain', async () => {
    const src = join(u.area, 'bigsrc');
    mkdirSync(src);
    writeFileSync(join(src, 'big'), Buffer.alloc(5 << 20, 'z'));
    linkSync(join(src, 'big'), join(src, 'big2'));
    symlinkSync('big', join(src, 'link'));
    chownSync(join(src, 'link'), 0, 0);
    const file = join(u.area, 'packed.tar');
    const out = createWriteStream(file);
    const r = await packLayer(src, out);
    await new Promise<void>((resolve) => out.end(resolve));
    expect(readFileSync(file).length).toBe(r.size);
    expect(spawnSync('tar', ['-tvf', file], { encoding: 'utf8' }).stdout).toMatch(/big2 link to big/);
  });
});
