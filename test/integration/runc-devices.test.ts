// config.json's linux.devices under husk-runc: the host's node of each entry is bound into the
// rootfs and allowed by the device cgroup after linux.resources.devices (runc's order), so a
// container that denies every device can open exactly those; an entry husk-runc cannot honour
// (no such node on this host, another mode than the host's, a FIFO) is refused by name.
import { readdirSync } from 'node:fs';
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

  it('an entry husk-runc cannot honour is refused by name, leaving nothing', () => {
    const refused = (device: object) => {
      const r = runc(['create', '--bundle', bundle(['true'], (c) => (c.linux.devices = [device])), 'no']);
      expect(r.status).toBe(1);
      return r.stderr;
    };
    expect(refused({ ...fuse, major: 10, minor: 999, path: '/dev/nothere' })).toBe('husk-runc: linux.devices[0]: this host has no c 10:999 device to bind (husk-runc binds the host\'s device nodes)\n');
    expect(refused({ ...fuse, fileMode: 0o666 })).toBe('husk-runc: linux.devices[0].fileMode: 0666 differs from the host\'s /dev/fuse (0600), whose node husk-runc binds\n');
    expect(refused({ path: '/dev/pipe', type: 'p' })).toMatch(/^husk-runc: linux\.devices\[0\]\.type: "p" is not supported by husk-runc/);
    expect(refused({ ...fuse, path: '/dev/../../fuse' })).toMatch(/^husk-runc: linux\.devices\[0\]\.path: /);
    expect(refused({ ...fuse, major: undefined })).toMatch(/^husk-runc: linux\.devices\[0\]: major and minor are needed/);
    expect(readdirSync(root)).toEqual([]);
  });
});
