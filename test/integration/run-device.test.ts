// docker's --device on `husk run`: the host's node appears at the path asked for in the
// container's /dev and can be opened; what cannot be honoured (not a device, permissions other
// than rwm, a path out of the container) is one line, exit 125. And docker's device cgroup:
// a container keeps CAP_MKNOD, so without it root inside could make the host's disk node
// and open it.
import { describe, expect, it } from 'vitest';
import { husk } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

describe('husk run --device', () => {
  it('the host node is there, at its path or the one asked for, and opens', () => {
    const r = husk(root, ['run', '--network', 'none', '--device', '/dev/fuse', '--device', '/dev/loop-control:/dev/lc:rwm', 'host', 'sh', '-c',
      'ls -ln /dev/fuse /dev/lc | cut -c1-10; (exec 3<>/dev/fuse) && echo fuse-rw; (exec 3<>/dev/lc) && echo lc-rw; test -e /dev/loop-control || echo only-at-lc']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('crw-------\ncrw-------\nfuse-rw\nlc-rw\nonly-at-lc\n');
  });

  it('not a device, write without read, a path out of the container: one line, exit 125', () => {
    const refused = (flag: string) => {
      const r = husk(root, ['run', '--network', 'none', '--device', flag, 'host', 'true']);
      expect(r.status).toBe(125);
      return r.stderr;
    };
    expect(refused('/etc/passwd')).toMatch(/--device \/etc\/passwd: \/etc\/passwd is not a device\n$/);
    expect(refused('/dev/nothere')).toMatch(/--device \/dev\/nothere: \/dev\/nothere: no such device\n$/);
    expect(refused('/dev/fuse:/dev/fuse:r')).toMatch(/device \/dev\/fuse: permissions "r" cannot be enforced on every host/);
    expect(refused('/dev/fuse:/../../x')).toMatch(/device \/dev\/fuse: "\/\.\.\/\.\.\/x" is not an absolute path inside the container/);
  });

  // /dev/fuse (10:229) opens for its owner and CAP_MKNOD makes it anywhere: a node made in
  // the container's /dev (a tmpfs without nodev, as docker's) is what the device cgroup stops.
  const makeAndOpen = 'mknod /dev/made c 10 229 && echo made; (exec 3<>/dev/made) && echo opened';

  it('a default container may make any device node but open only the default ones (device cgroup, as docker)', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', `${makeAndOpen}; (exec 3<>/dev/null) && echo null-ok; cat /sys/fs/cgroup/devices/devices.list`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^made\nnull-ok\n/);
    expect(r.stderr).toMatch(/\/dev\/made: Operation not permitted/);
    expect(r.stdout).toContain('c 136:* rwm');
    expect(r.stdout).not.toContain('a *:* rwm');
  });

  it('--device adds its node to the device cgroup; --privileged has none', () => {
    const withDevice = husk(root, ['run', '--network', 'none', '--device', '/dev/fuse:/dev/f2', 'host', 'sh', '-c', makeAndOpen]);
    expect(withDevice.stderr).toBe('');
    expect(withDevice.stdout).toBe('made\nopened\n');
    const privileged = husk(root, ['run', '--network', 'none', '--privileged', 'host', 'sh', '-c', makeAndOpen]);
    expect(privileged.stderr).toBe('');
    expect(privileged.stdout).toBe('made\nopened\n');
  });
});
