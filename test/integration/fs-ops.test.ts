// Fs plans on a real kernel (docs/protocol.md "Fs plans"): what unpacking an image needs and
// Node cannot do — overlay whiteouts (char devices 0/0), opaque markers, file capabilities —
// made by the launcher inside a layer directory, and never outside it, whatever symlinks the
// layer holds.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFsOps, makedev, readXattrs, S_IFBLK, S_IFCHR, S_IFIFO } from '../../ts/runtime/fs-ops.js';
import { HuskError } from '../../ts/errors.js';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

useLeakCheck();
const base = suiteDir('fs-ops');
let n = 0;

/** A fresh layer directory, and a directory beside it that stands for the host outside. */
function layer(): { root: string; outside: string } {
  const dir = join(base, String(n++));
  const root = join(dir, 'layer');
  const outside = join(dir, 'outside');
  mkdirSync(root, { recursive: true });
  mkdirSync(outside);
  return { root, outside };
}

/** getfattr's view (an independent reader): name → hex value, of `path` itself (-h). */
function getfattr(path: string): Record<string, string> {
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([^=#]+)=0x([0-9a-f]*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// security.capability v2 for cap_net_raw (bit 13) permitted+effective, as `setcap cap_net_raw+ep` writes it.
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');

describe('fs ops', () => {
  it('makes a whiteout (char device 0/0), a FIFO and a block device with exact modes', async () => {
    const { root } = layer();
    mkdirSync(join(root, 'etc'));
    await applyFsOps(root, [
      { op: 'mknod', path: 'etc/passwd', mode: S_IFCHR | 0, rdev: 0 },
      { op: 'mknod', path: '/fifo', mode: S_IFIFO | 0o640, rdev: 0 },
      { op: 'mknod', path: 'sda', mode: S_IFBLK | 0o660, rdev: makedev(8, 0) },
    ]);
    const wh = lstatSync(join(root, 'etc/passwd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(wh.mode & 0o7777).toBe(0); // umask did not touch it
    const fifo = lstatSync(join(root, 'fifo'));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o7777).toBe(0o640);
    const sda = lstatSync(join(root, 'sda'));
    expect(sda.isBlockDevice()).toBe(true);
    expect(sda.rdev).toBe(makedev(8, 0));
  });

  it('sets opaque markers in both namespaces and a file capability, which getfattr and readXattrs both see', async () => {
    const { root } = layer();
    mkdirSync(join(root, 'usr/share'), { recursive: true });
    mkdirSync(join(root, 'opt'));
    writeFileSync(join(root, 'ping'), '');
    await applyFsOps(root, [
      { op: 'setxattr', path: 'usr/share', name: 'trusted.overlay.opaque', value: Buffer.from('y') },
      { op: 'setxattr', path: 'opt', name: 'user.overlay.opaque', value: Buffer.from('y') },
      { op: 'setxattr', path: 'ping', name: 'security.capability', value: CAP_NET_RAW },
    ]);
    expect(getfattr(join(root, 'usr/share'))).toMatchObject({ 'trusted.overlay.opaque': '79' });
    expect(getfattr(join(root, 'opt'))).toMatchObject({ 'user.overlay.opaque': '79' });
    expect(getfattr(join(root, 'ping'))['security.capability']).toBe(CAP_NET_RAW.toString('hex'));
    const read = await readXattrs(root, ['usr/share', 'opt', 'ping', 'usr']);
    expect(read.get('usr/share')).toEqual([{ name: 'trusted.overlay.opaque', value: new Uint8Array([0x79]) }]);
    expect(read.get('opt')).toEqual([{ name: 'user.overlay.opaque', value: new Uint8Array([0x79]) }]);
    expect(Buffer.from(read.get('ping')!.find((x) => x.name === 'security.capability')!.value).equals(CAP_NET_RAW)).toBe(true);
    expect(read.get('usr')).toEqual([]);
  });

  it('resolves a path through a symlink that points out inside the layer: nothing outside is made or changed', async () => {
    const { root, outside } = layer();
    writeFileSync(join(outside, 'file'), 'host');
    symlinkSync(outside, join(root, 'out')); // absolute, to the "host"
    symlinkSync('../../outside', join(root, 'up')); // relative, climbing out
    symlinkSync(join(outside, 'file'), join(root, 'link-to-file'));
    for (const path of ['out/whiteout', 'up/whiteout']) {
      await expect(applyFsOps(root, [{ op: 'mknod', path, mode: S_IFCHR, rdev: 0 }])).rejects.toThrow(/ENOENT/);
    }
    // The last component is never followed: the xattr lands on the symlink itself (trusted.*
    // may be set on a symlink), the file it points at is untouched.
    await applyFsOps(root, [{ op: 'setxattr', path: 'link-to-file', name: 'trusted.overlay.opaque', value: Buffer.from('y') }]);
    expect(readdirSync(outside)).toEqual(['file']);
    expect(getfattr(join(outside, 'file'))).toEqual({});
    expect(getfattr(join(root, 'link-to-file'))).toMatchObject({ 'trusted.overlay.opaque': '79' });
    // A directory of the same name inside the layer is where such a path lands.
    mkdirSync(join(root, outside), { recursive: true });
    await applyFsOps(root, [{ op: 'mknod', path: 'out/whiteout', mode: S_IFCHR, rdev: 0 }]);
    expect(lstatSync(join(root, outside, 'whiteout')).isCharacterDevice()).toBe(true);
    expect(readdirSync(outside)).toEqual(['file']);
  });

  it('refuses a .. path before anything runs, and names the entry and the errno when the kernel says no', async () => {
    const { root, outside } = layer();
    const escape = applyFsOps(root, [
      { op: 'mknod', path: 'ok', mode: S_IFCHR, rdev: 0 },
      { op: 'mknod', path: '../outside/x', mode: S_IFCHR, rdev: 0 },
    ]);
    await expect(escape).rejects.toThrow("mknod ../outside/x: has a '..' component");
    expect(readdirSync(root)).toEqual([]); // the core refused the batch: not even `ok`
    expect(readdirSync(outside)).toEqual([]);
    await applyFsOps(root, [{ op: 'mknod', path: 'x', mode: S_IFCHR, rdev: 0 }]);
    const again = await applyFsOps(root, [{ op: 'mknod', path: 'x', mode: S_IFCHR, rdev: 0 }]).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(HuskError);
    expect((again as HuskError).message).toBe(`mknod ${root}/x: EEXIST (file already exists)`);
    expect((again as HuskError).exitStatus).toBe(125);
    await expect(readXattrs(root, ['missing'])).rejects.toThrow(`read xattrs of ${root}/missing: ENOENT`);
    rmSync(root, { recursive: true });
    await expect(applyFsOps(root, [{ op: 'mknod', path: 'x', mode: S_IFCHR, rdev: 0 }])).rejects.toThrow(`open layer directory ${root}: ENOENT`);
  });

  it('applies more entries than one plan holds, in batches', async () => {
    const { root } = layer();
    const ops = Array.from({ length: 2100 }, (_, i) => ({ op: 'mknod' as const, path: `w${i}`, mode: S_IFCHR, rdev: 0 }));
    await applyFsOps(root, ops);
    expect(readdirSync(root).length).toBe(2100);
    const read = await readXattrs(root, ops.map((o) => o.path));
    expect(read.size).toBe(2100);
  });
});
