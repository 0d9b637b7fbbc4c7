// `husk run --privileged` as docker's: the host's device nodes in the container's /dev (same
// type, numbers and mode; no console, the container's own devpts), /sys and /proc writable
// and unmasked. (Every capability, no seccomp filter: seccomp.test.ts; no device cgroup:
// run-device.test.ts.)
import { lstatSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { husk } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

/** `type major:minor mode` as `stat` prints them (hex numbers, octal mode). */
const STAT = "stat -c '%n %F %t:%T %a'";

/** The host's own top-level block devices and /dev/loop-control, as the same stat would print them. */
function hostNodes(): { names: string[]; lines: string[] } {
  const names = ['loop-control', ...readdirSync('/dev').filter((n) => lstatSync(`/dev/${n}`).isBlockDevice()).slice(0, 3)];
  const lines = names.map((n) => {
    const st = lstatSync(`/dev/${n}`);
    const major = ((st.rdev >>> 8) & 0xfff).toString(16);
    const minor = ((st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00)).toString(16);
    return `/dev/${n} ${st.isBlockDevice() ? 'block special file' : 'character special file'} ${major}:${minor} ${(st.mode & 0o7777).toString(8)}`;
  });
  return { names, lines };
}

describe('husk run --privileged', () => {
  it('the host\'s device nodes are in /dev with their type, numbers and mode; no host console', () => {
    const { names, lines } = hostNodes();
    expect(names.length).toBeGreaterThan(1); // the VM has a disk
    const r = husk(root, ['run', '--network', 'none', '--privileged', 'host', 'sh', '-c',
      `${STAT} ${names.map((n) => `/dev/${n}`).join(' ')}; test -e /dev/console || echo no-console; grep -c ' /dev/pts .* - devpts ' /proc/self/mountinfo; ls /dev/pts`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The container's own devpts: only its ptmx, none of the host's ptys.
    expect(r.stdout).toBe(`${lines.join('\n')}\nno-console\n1\nptmx\n`);
  });

  it('without it the host nodes are absent', () => {
    const { names } = hostNodes();
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', names.map((n) => `test -e /dev/${n} && echo has-${n}`).join('; ') + '; echo done']);
    expect(r.stdout).toBe('done\n');
  });

  it('/sys and /proc are read-write and nothing is masked or read-only under them', () => {
    // mountinfo: the mount point (field 5) and its per-mount options (field 6).
    const mounts = "awk '$5 ~ /^\\/(sys|proc)(\\/|$)/ && $5 !~ /^\\/sys\\/fs\\/cgroup/ {print $5, substr($6, 1, 2)}' /proc/self/mountinfo";
    const privileged = husk(root, ['run', '--network', 'none', '--privileged', 'host', 'sh', '-c', mounts]);
    expect(privileged.stderr).toBe('');
    expect(privileged.stdout).toBe('/proc rw\n/sys rw\n');
    // The check can fail: a default container has /sys read-only and /proc partly masked.
    const plain = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', mounts]);
    expect(plain.stdout).toContain('/sys ro\n');
    expect(plain.stdout).toContain('/proc/sys ro\n');
  });
});
