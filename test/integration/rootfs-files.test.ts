// Files husk reads out of a rootfs (-u NAME's passwd and group) resolve inside it, are
// regular files and have a size limit: a rootfs cannot lend itself the host's users, nor hang
// husk with a FIFO.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { husk, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();

beforeAll(() => {
  chmodSync(rootfs, 0o755); // a non-root user inside must reach /bin
});
beforeEach(() => {
  rmSync(join(rootfs, 'etc'), { recursive: true, force: true });
  mkdirSync(join(rootfs, 'etc'));
});

/** husk run -u USER on the rootfs, printing the ids it ran with. */
function runAs(user: string) {
  return husk(root, ['run', '--network', 'none', '--rootfs', rootfs, '-u', user, '/bin/sh', '-c', 'echo "$(id -u):$(id -g)"']);
}

/** One line on stderr, nothing on stdout, husk's own status. */
function expectRefused(r: ReturnType<typeof husk>, message: RegExp) {
  expect(r.signal).toBeNull();
  expect(r.status).toBe(125);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^husk: [^\n]*\n$/);
  expect(r.stderr).toMatch(message);
}

describe("-u NAME reads the rootfs's passwd and group, never the host's", () => {
  it('the host has the name it asks for', () => {
    expect(execFileSync('getent', ['passwd', 'daemon'], { encoding: 'utf8' })).toMatch(/^daemon:x:1:1:/);
  });

  it('an absolute link to /etc/passwd is the rootfs\'s own file: a loop, not the host\'s', () => {
    symlinkSync('/etc/passwd', join(rootfs, 'etc/passwd'));
    expectRefused(runAs('daemon'), /^husk: cannot read \/etc\/passwd of the rootfs: too many levels of symbolic links$/m);
  });

  it('a relative link up and out to the host\'s passwd stops at the rootfs', () => {
    symlinkSync('../../../../../../../etc/passwd', join(rootfs, 'etc/passwd'));
    expectRefused(runAs('daemon'), /too many levels of symbolic links/);
    rmSync(join(rootfs, 'etc/passwd'));
    symlinkSync('../../../../../../../etc/group', join(rootfs, 'etc/passwd'));
    expectRefused(runAs('daemon'), /unable to find user daemon/);
  });

  it('a link that leads out on the host leads to the rootfs\'s own entry inside it', () => {
    // On the host, <rootfs>/../../etc/passwd (as many `..` as <rootfs> has components) is
    // /etc/passwd. Inside the rootfs, <rootfs> is a link one level deeper, to /x/y/..: the
    // same `..` end in x.
    const depth = rootfs.split('/').length - 1;
    const inside = join(rootfs, rootfs);
    const deep = `/x/${Array(depth).fill('y').join('/')}`;
    mkdirSync(dirname(inside), { recursive: true });
    mkdirSync(join(rootfs, deep), { recursive: true });
    mkdirSync(join(rootfs, 'x/etc'));
    writeFileSync(join(rootfs, 'x/etc/passwd'), 'daemon:x:4242:4343::/:/bin/sh\n');
    symlinkSync(deep, inside);
    symlinkSync(`${rootfs}/${'../'.repeat(depth)}etc/passwd`, join(rootfs, 'etc/passwd'));
    expect(execFileSync('cat', [join(rootfs, 'etc/passwd')], { encoding: 'utf8' })).toMatch(/^root:x:0:0:/); // the host's, as the host sees it
    try {
      const r = runAs('daemon');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('4242:4343\n');
      expect(r.status).toBe(0);
    } finally {
      rmSync(join(rootfs, rootfs.split('/')[1]), { recursive: true, force: true });
      rmSync(join(rootfs, 'x'), { recursive: true, force: true });
    }
  });

  it('a FIFO is refused at once with one clear line', () => {
    writeFileSync(join(rootfs, 'etc/passwd'), 'app:x:10:10::/:/bin/sh\n');
    execFileSync('mkfifo', [join(rootfs, 'etc/group')]);
    const t = Date.now();
    expectRefused(runAs('app:staff'), /^husk: cannot read \/etc\/group of the rootfs: it is a FIFO, not a regular file$/m);
    expect(Date.now() - t).toBeLessThan(20_000);
    // And through a symlink.
    rmSync(join(rootfs, 'etc/passwd'));
    symlinkSync('group', join(rootfs, 'etc/passwd'));
    expectRefused(runAs('app'), /^husk: cannot read \/etc\/passwd of the rootfs: it is a FIFO, not a regular file$/m);
  });

  it('a passwd file over 1 MiB is refused', () => {
    writeFileSync(join(rootfs, 'etc/passwd'), `${'#'.repeat(1 << 20)}\napp:x:10:10::/:/bin/sh\n`);
    expectRefused(runAs('app'), /^husk: cannot read \/etc\/passwd of the rootfs: larger than 1 MiB$/m);
  });

  it('a plain passwd file still works', () => {
    writeFileSync(join(rootfs, 'etc/passwd'), 'app:x:10:11::/:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'staff:x:50:\n');
    const r = runAs('app:staff');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('10:50\n');
  });
});
