// Big layers are written by the launcher from a stream of records (docs/protocol.md "The
// write stream") while husk reads on: the result must be exactly what this process writes
// itself, for every kind of entry and every replacement a tar can ask for; and records
// that are malformed or hostile stop the launcher with one line, writing nothing outside.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fsPlan } from '../../ts/core/fs.js';
import { T_DIR, T_HARDLINK, T_SYMLINK } from '../../ts/image/tar-header.js';
import { tarOf } from '../../ts/image/tar-writer.js';
import { launch } from '../../ts/runtime/launcher.js';
import { useLeakCheck } from './leak-check.js';
import { listing, useUnpackArea, type Entry } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();
const saved = process.env.HUSK_UNPACK_STREAM;
afterEach(() => {
  if (saved === undefined) delete process.env.HUSK_UNPACK_STREAM;
  else process.env.HUSK_UNPACK_STREAM = saved;
});

const t = 1_650_000_000;

/** 1100 plain files first (past the 1024 entries at which the launcher takes over), then every tricky case. */
function bigLayer(): Entry[] {
  const e: Entry[] = [];
  for (let d = 0; d < 22; d++) {
    e.push({ name: `d${d}/`, type: T_DIR, mtime: t });
    for (let f = 0; f < 50; f++) e.push({ name: `d${d}/f${f}`, data: `file ${d}/${f}\n`, mode: f % 3 ? 0o644 : 0o755, mtime: t + f });
  }
  e.push(
    // A directory with contents, replaced by a file.
    { name: 'a/', type: T_DIR, mtime: t },
    { name: 'a/x', data: 'x' },
    { name: 'a/sub/', type: T_DIR },
    { name: 'a/sub/y', data: 'y' },
    { name: 'a/link', type: T_SYMLINK, linkname: 'sub' },
    { name: 'a', data: 'now a file', mtime: t },
    // A file replaced by a directory, with a file in it.
    { name: 'f', data: 'a file first' },
    { name: 'f/', type: T_DIR, mode: 0o750, mtime: t },
    { name: 'f/y', data: 'in the new dir' },
    // Hard links to files the launcher wrote (and to one in an earlier batch).
    { name: 'h', type: T_HARDLINK, linkname: 'a' },
    { name: 'h0', type: T_HARDLINK, linkname: 'd3/f7' },
    // The same file twice: the later one wins.
    { name: 'dup', data: 'first' },
    { name: 'dup', data: 'second', mode: 0o600 },
    // Parents that no entry names.
    { name: 'deep/er/still/file', data: 'deep', mtime: t },
    // A symlink replaced by a file, and a symlink kept.
    { name: 's', type: T_SYMLINK, linkname: '/etc/passwd' },
    { name: 's', data: 'not a link' },
    { name: 'abs', type: T_SYMLINK, linkname: '/etc/shadow', uid: 7, gid: 8, mtime: t },
    // Owners, set-id bits, sticky directories.
    { name: 'suid', data: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 1000, mtime: t },
    { name: 'sgid', data: 'g', mode: 0o2711, gid: 42 },
    { name: 'tmp/', type: T_DIR, mode: 0o1777 },
    // A file bigger than a batch holds: written as it streams.
    { name: 'big', data: Buffer.alloc(5 << 20, 'zq'), mtime: t },
    // A symlink's hardlink twin, then an entry under it: lands where the link points, inside.
    { name: 'target/', type: T_DIR },
    { name: 'sl', type: T_SYMLINK, linkname: 'target' },
    { name: 'twin', type: T_HARDLINK, linkname: 'sl' },
    { name: 'twin/through', data: 'via the twin' },
    // Long names (Latin-1 ones: unpack-stream-suites.test.ts runs the GNU tar suite this way).
    { name: `${'l'.repeat(120)}/${'n'.repeat(150)}`, data: 'long' },
  );
  return e;
}

/** listing() plus mtimes and link counts: what the two ways must agree on. */
function full(dir: string): string[] {
  return listing(dir).map((line) => {
    const rel = line.split(' ')[0];
    const st = lstatSync(rel === '.' ? dir : join(dir, rel));
    return `${line} ${st.isDirectory() ? '' : Math.floor(st.mtimeMs / 1000)} ${st.isDirectory() ? '' : st.nlink}`;
  });
}

describe('a big layer written by the launcher', () => {
  it('is exactly what this process writes itself (replacements, links, owners, big files, odd names)', async () => {
    const blob = gzipSync(tarOf(bigLayer()));
    process.env.HUSK_UNPACK_STREAM = 'never';
    const direct = await u.unpack(blob);
    delete process.env.HUSK_UNPACK_STREAM; // the default: the launcher from entry 1024 on
    const streamed = await u.unpack(blob);
    process.env.HUSK_UNPACK_STREAM = 'always';
    const whole = await u.unpack(blob);
    const want = full(direct.dir);
    expect(full(streamed.dir)).toEqual(want);
    expect(full(whole.dir)).toEqual(want);
    expect(streamed.result).toEqual(direct.result);
    // Spot checks that the model decided as tar does.
    for (const dir of [direct.dir, streamed.dir]) {
      expect(lstatSync(join(dir, 'a')).isFile()).toBe(true);
      expect(lstatSync(join(dir, 'h')).ino).toBe(lstatSync(join(dir, 'a')).ino);
      expect(lstatSync(join(dir, 'h0')).ino).toBe(lstatSync(join(dir, 'd3/f7')).ino);
      expect(statSync(join(dir, 'suid')).mode & 0o7777).toBe(0o4755);
      expect(statSync(join(dir, 'suid')).uid).toBe(1000);
      expect(lstatSync(join(dir, 'abs')).uid).toBe(7);
      expect(existsSync(join(dir, 'target/through'))).toBe(true);
      expect(statSync(join(dir, 'big')).size).toBe(5 << 20);
    }
  });

  it('a hostile entry after the launcher took over is refused as before, and nothing is left', async () => {
    const entries = bigLayer().slice(0, 1100);
    entries.push({ name: 'x', type: T_SYMLINK, linkname: '/' }, { name: 'esc/../../../etc/evil', data: 'no' });
    await u.expectRefused(entries, /entry "esc\/\.\.\/\.\.\/\.\.\/etc\/evil": its name climbs out of the layer/);
    entries.pop();
    entries.push({ name: 'f0', data: 'file' }, { name: 'f0/under', data: 'no' });
    await u.expectRefused(entries, /entry "f0\/under": a parent of it is not a directory in this layer/);
    entries.pop();
    entries.push({ name: 'hl', type: T_HARDLINK, linkname: 'missing' });
    await u.expectRefused(entries, /entry "hl": a hardlink to "missing", which is not in this layer before it/);
  });

  it('a tar that ends inside a streamed file stops the launcher and leaves no directory', async () => {
    const tar = tarOf(bigLayer());
    await u.expectRefused(gzipSync(tar.subarray(0, tar.length - (3 << 20))), /^layer test: .*(ends|truncated|short)/i);
  });
});

describe('a big blob file', () => {
  it('has the same digests for a big plain, gzip and zstd blob (zstd read through its own pipe); a wrong or broken one is refused', async () => {
    const entries = bigLayer();
    entries.push({ name: 'noise', data: randomBytes(9 << 20) }); // several read buffers, compressed too
    const tar = tarOf(entries);
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    for (const blob of [tar, gzipSync(tar), execFileSync('zstd', ['-qc'], { input: tar, maxBuffer: 64 << 20 })]) {
      expect(blob.length).toBeGreaterThanOrEqual(8 << 20);
      const { dir, result } = await u.unpack(blob);
      expect(result).toMatchObject({ digest: sha(blob), diffId: sha(tar), size: tar.length, compressedSize: blob.length });
      expect(statSync(join(dir, 'noise')).size).toBe(9 << 20);
      const wrong = `sha256:${'0'.repeat(64)}`;
      await u.expectRefused(blob, /digest mismatch: expected sha256:0{64}, the blob is sha256:/, { expectDigest: wrong });
    }
    // Broken after the launcher took over: nothing stays open (the leak check counts fds).
    await u.expectRefused(tar.subarray(0, tar.length - (1 << 20)), /^layer test: .*(ends|truncated)/i);
    // zstd's output cut short: zstd's own reason, and its child and pipe are gone.
    const zst = execFileSync('zstd', ['-qc'], { input: tar, maxBuffer: 64 << 20 });
    await u.expectRefused(zst.subarray(0, zst.length - (1 << 20)), /^layer test: not valid zstd: /);
  });
});

/** Runs the launcher on an fs plan for `root` with WRITE_STREAM, then `records` as they are. */
async function rawStream(root: string, records: Buffer) {
  const plan = fsPlan(root, [{ op: 'write-stream' }]);
  let pipe: Writable | undefined;
  const outcome = launch(plan, { stdio: 'ignore', takePlanPipe: (p) => (pipe = p) });
  pipe!.on('error', () => undefined);
  pipe!.end(Buffer.concat([Buffer.from(plan), records]));
  return outcome;
}

/** One record as docs/protocol.md "The write stream" lays it out. */
function rec(kind: number, path: string, extra = '', o: { flags?: number; mode?: number; size?: number } = {}): Buffer {
  const h = Buffer.alloc(32);
  h[0] = kind;
  h[1] = o.flags ?? 0;
  h.writeUInt16LE(Buffer.byteLength(path, 'latin1'), 2);
  h.writeUInt32LE(o.mode ?? 0o644, 4);
  h.writeBigUInt64LE(BigInt(o.size ?? Buffer.byteLength(extra, 'latin1')), 24);
  return Buffer.concat([h, Buffer.from(path, 'latin1'), Buffer.from(extra, 'latin1')]);
}
const END = Buffer.alloc(32);

describe('the write stream, spoken to the launcher directly', () => {
  const root = () => {
    const r = join(u.area, `raw-${Math.random().toString(36).slice(2)}`);
    mkdirSync(r);
    // A symlink to the host's stand-in: every path through it stays inside the root.
    symlinkSync(u.sentinel, join(r, 'out'));
    return r;
  };

  it('writes what the records say, inside the root even through an absolute symlink', async () => {
    const r = root();
    mkdirSync(join(r, u.sentinel.slice(1)), { recursive: true }); // where "out" leads, inside
    const o = await rawStream(r, Buffer.concat([rec(1, 'd', '', { mode: 0o700 }), rec(2, 'd/f', 'hello'), rec(2, 'out/keep2', 'inside'), END]));
    expect(o.exit).toEqual({ how: 'exited', value: 0 });
    expect(readdirSync(join(r, u.sentinel.slice(1)))).toEqual(['keep2']);
    expect(statSync(join(r, 'd')).mode & 0o777).toBe(0o700);
    expect(readdirSync(u.sentinel)).toEqual(['keep']);
  });

  for (const [what, bytes, message] of [
    ['a path with ..', Buffer.concat([rec(2, '../escape', 'x'), END]), /path: not a clean relative path/],
    ['an absolute path', Buffer.concat([rec(1, '/abs'), END]), /path: not a clean relative path/],
    ['a NUL in a name', Buffer.concat([rec(1, 'a\0b'), END]), /a NUL byte in a name/],
    ['an unknown kind', Buffer.concat([rec(9, 'a'), END]), /unknown kind/],
    ['unknown flags', Buffer.concat([rec(1, 'a', '', { flags: 0x80 }), END]), /unknown flags/],
    ['a stream that stops before END', rec(1, 'a'), /ends before END/],
    ['a file whose data is cut short', rec(2, 'a', 'abc', { size: 100 }), /ends inside a file's data/],
    ['a hard link out of the root', Buffer.concat([rec(4, 'l', '../../etc/passwd'), END]), /target: not a clean relative path/],
    ['a file over an existing entry', Buffer.concat([rec(2, 'out', 'x'), END]), /file out: create/],
  ] as const) {
    it(`stops at ${what}: one error, exit 125, nothing outside`, async () => {
      const r = root();
      const o = await rawStream(r, bytes);
      expect(o.exit).toEqual({ how: 'failed', value: 125 });
      expect(o.error?.message).toMatch(message);
      expect(readdirSync(u.sentinel)).toEqual(['keep']);
      expect(existsSync(join(u.area, 'escape'))).toBe(false);
    });
  }
});
