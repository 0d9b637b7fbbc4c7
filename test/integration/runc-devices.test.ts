// config.json's linux.devices under husk-runc, as runc makes them: without a user namespace each
// entry is made by mknod in the rootfs with its mode and owner, in one the host's node is bound
// in; either way allowed by the device cgroup after linux.resources.devices (runc's order), so a
// container that denies every device can open exactly those; an entry husk-runc cannot honour
// (in a user namespace: no such node on this host) is refused by name.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle } = useRunc();
const fuse = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 };

describe('husk-runc linux.devices', () => {
  it('a listed device is in the rootfs and may be opened; an unlisted one bound in (not among runc\'s default devices) is denied by the device cgroup', () => {
    const dir = bundle(['sh', '-c', 'ls -ln /dev/fuse; (exec 3<>/dev/fuse) && echo fuse-opened; (exec 3<>/dev/loop-control) 2>&1 || echo loop-refused'], (c) => {
      c.linux.devices = [fuse];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
      c.mounts.push({ destination: '/dev/loop-control', type: 'bind', source: '/dev/loop-control', options: ['bind'] });
    });
    const r = runc(['run', '--bundle', dir, 'dev']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^crw------- +1 0 +0 +10, +229 .*\/dev\/fuse$/m);
    expect(r.stdout).toMatch(/^fuse-opened$/m);
    expect(r.stdout).toMatch(/Operation not permitted/);
    expect(r.stdout).toMatch(/^loop-refused$/m);
  });

  it('an entry the host has no node for is made by mknod with its mode and owner, as runc makes it; a FIFO too', () => {
    const dir = bundle(['sh', '-c', 'ls -ln /dev/nothere /dev/blk /dev/pipe'], (c) => {
      c.linux.devices = [
        { path: '/dev/nothere', type: 'c', major: 10, minor: 999, fileMode: 0o640, uid: 1, gid: 2 },
        { path: '/dev/blk', type: 'b', major: 8, minor: 300 },
        { path: '/dev/pipe', type: 'p', fileMode: 0o600 },
      ];
    });
    const r = runc(['run', '--bundle', dir, 'made']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^crw-r----- +1 1 +2 +10, +999 .*\/dev\/nothere$/m);
    expect(r.stdout).toMatch(/^brw-rw-rw- +1 0 +0 +8, +300 .*\/dev\/blk$/m);
    expect(r.stdout).toMatch(/^prw------- +1 0 +0 +0 .*\/dev\/pipe$/m);
  });

  it('an entry husk-runc cannot honour is refused by name, leaving nothing', () => {
    const refused = (device: object, userns = false) => {
      const dir = bundle(['true'], (c) => {
        c.linux.devices = [device];
        if (!userns) return;
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      });
      for (const d of ['proc', 'sys', 'dev']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
      const r = runc(['create', '--bundle', dir, 'no']);
      expect(r.status).toBe(1);
      return r.stderr;
    };
    // In a user namespace mknod of a device is not allowed: the host's node is bound, as runc binds it.
    expect(refused({ ...fuse, major: 10, minor: 999, path: '/dev/nothere' }, true)).toBe('husk-runc: linux.devices[0]: this host has no c 10:999 device to bind (in a user namespace husk-runc binds the host\'s device nodes, as runc does)\n');
    expect(refused({ ...fuse, fileMode: 0o666 }, true)).toBe('husk-runc: linux.devices[0].fileMode: 0666 differs from the host\'s /dev/fuse (0600), whose node husk-runc binds in a user namespace\n');
    expect(refused({ path: '/dev/sock', type: 's' })).toBe('husk-runc: linux.devices[0].type: "s" is not a device type (c, u, b or p)\n');
    expect(refused({ ...fuse, path: '/dev/../../fuse' })).toMatch(/^husk-runc: linux\.devices\[0\]\.path: /);
    expect(refused({ ...fuse, major: undefined })).toMatch(/^husk-runc: linux\.devices\[0\]: major and minor are needed/);
    expect(readdirSync(root)).toEqual([]);
  });
});
