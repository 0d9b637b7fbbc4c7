// docker's --device on `husk run`: the host's node appears at the path asked for in the
// container's /dev and can be opened; what cannot be honoured (not a device, permissions other
// than rwm, which need a device cgroup, a path out of the container) is one line, exit 125.
import { describe, expect, it } from 'vitest';
import { husk } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

describe('husk run --device', () => {
  it('the host node is there, at its path or the one asked for, and opens', () => {
    const r = husk(root, ['run', '--device', '/dev/fuse', '--device', '/dev/loop-control:/dev/lc:rwm', 'host', 'sh', '-c',
      'ls -ln /dev/fuse /dev/lc | cut -c1-10; (exec 3<>/dev/fuse) && echo fuse-rw; (exec 3<>/dev/lc) && echo lc-rw; test -e /dev/loop-control || echo only-at-lc']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('crw-------\ncrw-------\nfuse-rw\nlc-rw\nonly-at-lc\n');
  });

  it('not a device, write without read, a path out of the container: one line, exit 125', () => {
    const refused = (flag: string) => {
      const r = husk(root, ['run', '--device', flag, 'host', 'true']);
      expect(r.status).toBe(125);
      return r.stderr;
    };
    expect(refused('/etc/passwd')).toMatch(/--device \/etc\/passwd: \/etc\/passwd is not a device\n$/);
    expect(refused('/dev/nothere')).toMatch(/--device \/dev\/nothere: \/dev\/nothere: no such device\n$/);
    expect(refused('/dev/fuse:/dev/fuse:r')).toMatch(/device \/dev\/fuse: permissions "r" cannot be enforced: husk run sets up no device cgroup/);
    expect(refused('/dev/fuse:/../../x')).toMatch(/device \/dev\/fuse: "\/\.\.\/\.\.\/x" is not an absolute path inside the container/);
  });
});
