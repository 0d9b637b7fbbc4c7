// Bundles that try to reach the host through the rootfs, as the OCI runtime's escape reports
// did (runc CVE-2019-19921 and friends): a rootfs whose /proc or /dev is a symlink to the
// host's is refused before anything is mounted there; a mount whose destination is a symlink
// out of the rootfs (absolute or climbing with ..) lands inside it, as the path resolves in
// the container's root. (A hook path that is not absolute: runc-hooks.test.ts.)
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle } = useRunc();

/** The host's mounts on /etc, /proc and /dev and below (others' work elsewhere is not ours). */
const hostMounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /^\/(etc|proc|dev)(\/|$)/.test(l.split(' ')[4] ?? ''))
    .join('\n');

describe('husk-runc and a rootfs that points at the host', () => {
  for (const dir of ['proc', 'dev']) {
    it(`a rootfs whose /${dir} is a symlink to the host's /${dir} is refused; nothing is mounted or left`, () => {
      const b = bundle(['true'], (c) => (c.root.readonly = false));
      rmSync(join(b, 'rootfs', dir), { recursive: true, force: true });
      symlinkSync(`/${dir}`, join(b, 'rootfs', dir));
      const before = hostMounts();
      const r = runc(['run', '--bundle', b, `esc-${dir}`]);
      expect(r.stderr).toBe(`husk-runc: cannot create the container: mkdir ${dir}: ELOOP (too many symbolic links encountered)\n`);
      expect(r.status).toBe(1);
      expect(hostMounts()).toBe(before);
      expect(readdirSync(root)).toEqual([]);
    });
  }

  for (const [name, target] of [['absolute', '/etc'], ['climbing', '../../../../../../../../etc']]) {
    it(`a mount destination that is a symlink out of the rootfs (${name}) lands inside it, never on the host's /etc`, () => {
      const b = bundle(['sh', '-c', 'grep " /etc " /proc/self/mountinfo | cut -d" " -f5,9; ls /etc | wc -l'], (c) => {
        c.root.readonly = false;
        c.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      });
      mkdirSync(join(b, 'rootfs/etc'), { recursive: true });
      writeFileSync(join(b, 'rootfs/etc/marker'), 'inside');
      symlinkSync(target, join(b, 'rootfs/mnt'));
      const hostEtc = readdirSync('/etc').length;
      const before = hostMounts();
      const r = runc(['run', '--bundle', b, `esc-${name}`]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Inside: the tmpfs is the container's own /etc (empty); its files are only hidden.
      expect(r.stdout).toBe('/etc tmpfs\n0\n');
      expect(readFileSync(join(b, 'rootfs/etc/marker'), 'utf8')).toBe('inside');
      expect(readdirSync('/etc').length).toBe(hostEtc);
      expect(hostMounts()).toBe(before);
    });
  }
});
