// What Node cannot make, made while unpacking: device nodes, FIFOs, xattrs (file capabilities
// too) as the tar's PAX records say, and OCI whiteouts as overlayfs's own (char 0/0, opaque
// xattr). Two unpacked layers stacked by a real overlay mount show the merged view the image
// spec defines.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { T_BLOCK, T_CHAR, T_DIR, T_FIFO } from '../../ts/image/tar-header.js';
import { useLeakCheck } from './leak-check.js';
import { useUnpackArea } from './unpack-fixture.js';

useLeakCheck();
const u = useUnpackArea();

function getfattr(path: string): Record<string, string> {
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([^=#]+)=0x([0-9a-f]*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// security.capability v2, cap_net_raw permitted + effective (as `setcap cap_net_raw+ep` writes).
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('latin1');
const dir = (name: string) => ({ name, type: T_DIR, mode: 0o755 });
const major = (rdev: number) => (rdev >> 8) & 0xfff;
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);

describe('devices, FIFOs and xattrs', () => {
  it('device nodes and FIFOs get their type, numbers, mode, owner and time', async () => {
    const { dir: d } = await u.unpack([
      dir('dev'),
      { name: 'dev/null', type: T_CHAR, devmajor: 1, devminor: 3, mode: 0o666, mtime: 1_500_000_000 },
      { name: 'dev/loop300', type: T_BLOCK, devmajor: 7, devminor: 300, mode: 0o660, gid: 6 },
      { name: 'run/fifo', type: T_FIFO, mode: 0o620, uid: 1000, gid: 5 },
    ]);
    const n = lstatSync(join(d, 'dev/null'));
    expect([n.isCharacterDevice(), major(n.rdev), minor(n.rdev), n.mode & 0o7777, n.mtimeMs / 1000]).toEqual([true, 1, 3, 0o666, 1_500_000_000]);
    const b = lstatSync(join(d, 'dev/loop300'));
    expect([b.isBlockDevice(), major(b.rdev), minor(b.rdev), b.mode & 0o7777, b.gid]).toEqual([true, 7, 300, 0o660, 6]);
    const f = lstatSync(join(d, 'run/fifo'));
    expect([f.isFIFO(), f.mode & 0o7777, f.uid, f.gid]).toEqual([true, 0o620, 1000, 5]);
  });

  it('PAX xattrs are set, file capabilities too, after the owner (which would clear them)', async () => {
    const { dir: d } = await u.unpack([
      { name: 'ping', data: 'elf', mode: 0o755, uid: 0, gid: 0, xattrs: { 'security.capability': CAP_NET_RAW, 'user.note': 'hello' } },
      { name: 'owned', data: 'x', uid: 1000, gid: 1000, xattrs: { 'security.capability': CAP_NET_RAW } },
      { name: 'adir', type: T_DIR, xattrs: { 'user.dir': 'yes' } },
    ]);
    expect(getfattr(join(d, 'ping'))).toEqual({ 'security.capability': hex(CAP_NET_RAW), 'user.note': hex('hello') });
    expect(getfattr(join(d, 'owned'))['security.capability']).toBe(hex(CAP_NET_RAW));
    expect(spawnSync('getcap', [join(d, 'ping')], { encoding: 'utf8' }).stdout).toMatch(/cap_net_raw[=+]ep/);
    expect(getfattr(join(d, 'adir'))).toEqual({ 'user.dir': hex('yes') });
  });
});

describe('whiteouts', () => {
  it('.wh.NAME becomes a char device 0/0 and .wh..wh..opq an opaque directory', async () => {
    const { dir: d } = await u.unpack([
      dir('etc'),
      { name: 'etc/.wh.gone', data: '' },
      dir('var'),
      { name: 'var/.wh..wh..opq', data: '' },
      { name: 'var/new', data: 'new' },
      { name: 'deep/er/.wh.x', data: '' },
    ]);
    const w = lstatSync(join(d, 'etc/gone'));
    expect([w.isCharacterDevice(), w.rdev]).toEqual([true, 0]);
    expect(existsSync(join(d, 'etc/.wh.gone'))).toBe(false);
    // Root's layers serve runs with and without a user namespace: both markers.
    expect(getfattr(join(d, 'var'))).toEqual({ 'trusted.overlay.opaque': hex('y'), 'user.overlay.opaque': hex('y') });
    expect(readdirSync(join(d, 'var'))).toEqual(['new']);
    expect(lstatSync(join(d, 'deep/er/x')).isCharacterDevice()).toBe(true);
  });

  it('with userxattr the opaque marker is user.overlay.opaque', async () => {
    const { dir: d } = await u.unpack([dir('var'), { name: 'var/.wh..wh..opq', data: '' }], { userxattr: true });
    expect(getfattr(join(d, 'var'))).toEqual({ 'user.overlay.opaque': hex('y') });
  });

  it('a whiteout of a directory the layer makes again makes that directory opaque', async () => {
    const { dir: d } = await u.unpack([{ name: '.wh.opt', data: '' }, dir('opt'), { name: 'opt/x', data: 'x' }]);
    expect(lstatSync(join(d, 'opt')).isDirectory()).toBe(true);
    expect(getfattr(join(d, 'opt'))).toEqual({ 'trusted.overlay.opaque': hex('y'), 'user.overlay.opaque': hex('y') });
  });

  it('a whiteout with data is refused', async () => {
    await u.expectRefused([{ name: '.wh.x', data: 'not empty' }], /entry "\.wh\.x": /);
  });

  it('a plain char device 0/0 is refused: overlayfs would read it as a whiteout', async () => {
    await u.expectRefused([{ name: 'fake', type: T_CHAR, devmajor: 0, devminor: 0 }], /entry "fake": /);
  });

  it('two layers stacked by overlayfs show the merged view: deleted files gone, opaque directories alone', async () => {
    const { dir: lower } = await u.unpack([
      dir('etc'), { name: 'etc/keep', data: 'kept' }, { name: 'etc/gone', data: 'old' },
      dir('var'), { name: 'var/old', data: 'old' }, dir('opt'), { name: 'opt/old', data: 'old' },
    ]);
    const { dir: upper } = await u.unpack([
      dir('etc'), { name: 'etc/.wh.gone', data: '' },
      dir('var'), { name: 'var/.wh..wh..opq', data: '' }, { name: 'var/new', data: 'new' },
      { name: '.wh.opt', data: '' }, dir('opt'), { name: 'opt/fresh', data: 'fresh' },
    ]);
    const merged = join(u.area, 'merged');
    mkdirSync(merged);
    const m = spawnSync('mount', ['-t', 'overlay', 'husk-test-overlay', '-o', `lowerdir=${upper}:${lower}`, merged], { encoding: 'utf8' });
    expect(m.stderr).toBe('');
    try {
      expect(readdirSync(join(merged, 'etc'))).toEqual(['keep']);
      expect(readdirSync(join(merged, 'var'))).toEqual(['new']);
      expect(readdirSync(join(merged, 'opt'))).toEqual(['fresh']);
      expect(readFileSync(join(merged, 'etc/keep'), 'utf8')).toBe('kept');
    } finally {
      spawnSync('umount', [merged]);
    }
  });
});
