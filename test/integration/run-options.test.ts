// docker's --ulimit, --sysctl, --oom-score-adj, --group-add and --tmpfs on real containers:
// each reaches the kernel inside, and a value docker refuses is one line, exit 125.
import { describe, expect, it } from 'vitest';
import { husk, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();

function inside(flags: string[], script: string): string[] {
  const r = husk(root, ['run', '--network', 'none', ...flags, 'host', 'sh', '-c', script]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n');
}

describe('docker run options', () => {
  it('--ulimit sets soft and hard limits (below the hard values root may not raise here)', () => {
    expect(inside(['--ulimit', 'nofile=100:200', '--ulimit', 'core=0'], 'ulimit -Sn; ulimit -Hn; ulimit -c')).toEqual(['100', '200', '0']);
  });

  it('--sysctl writes namespaced sysctls in the container only', () => {
    expect(inside(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=12345'], 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax')).toEqual(['1', '12345']);
  });

  it('--oom-score-adj raises the score', () => {
    expect(inside(['--oom-score-adj', '500'], 'cat /proc/self/oom_score_adj')).toEqual(['500']);
  });

  it('--group-add adds groups by number and by the image\'s group names', () => {
    const gid = inside([], 'getent group audio | cut -d: -f3')[0];
    expect(inside(['--group-add', '27', '--group-add', 'audio'], 'id -G')).toEqual([`0 27 ${gid}`]);
  });

  it('--tmpfs mounts a tmpfs, noexec,nosuid,nodev by default, with size and mode', () => {
    const [mount, mode] = inside(['--tmpfs', '/cache:size=1m,mode=0700'], 'grep " /cache " /proc/mounts; stat -c %a /cache');
    expect(mount).toMatch(/^tmpfs \/cache tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 /);
    expect(mode).toBe('700');
  });

  it('--read-only: the root and the host image\'s directories refuse writes; /tmp, /dev and --tmpfs do not', () => {
    const script = 'for p in /x /etc/x /usr/x /tmp/x /cache/x /dev/shm/x; do touch $p 2>/dev/null && echo "$p rw" || echo "$p ro"; done';
    expect(inside(['--read-only', '--tmpfs', '/cache'], script)).toEqual(['/x ro', '/etc/x ro', '/usr/x ro', '/tmp/x rw', '/cache/x rw', '/dev/shm/x rw']);
    const r = husk(root, ['run', '--network', 'none', '--read-only', '--rootfs', rootfs, 'sh', '-c', 'touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/x && echo tmp rw']);
    expect(r.stdout).toBe('ro\ntmp rw\n');
    expect(inside([], 'touch /x && echo rw')).toEqual(['rw']); // without it, the private layer takes writes
  });

  it('refuses a value docker refuses, in one line that names the flag', () => {
    const cases: [string[], string][] = [
      [['--sysctl', 'vm.swappiness=1'], 'husk: sysctl: "vm.swappiness" is not allowed in a container: it is not a namespaced sysctl\n'],
      [['--net', 'host', '--sysctl', 'net.ipv4.ip_forward=1'], 'husk: sysctl: "net.ipv4.ip_forward" is not allowed: the container shares that namespace with the host\n'],
      [['--ulimit', 'nofile=20:10'], 'husk: ulimit: "nofile=20:10": soft limit must be less than or equal to hard limit\n'],
      [['--ulimit', 'files=1'], 'husk: ulimit: "files=1": expected NAME=SOFT[:HARD] with NAME one of cpu, fsize, data, stack, core, rss, nproc, nofile, memlock, as, locks, sigpending, msgqueue, nice, rtprio, rttime\n'],
      [['--oom-score-adj', '1001'], 'husk: oom-score-adj: 1001 is not between -1000 and 1000\n'],
      [['--tmpfs', '/x/../etc'], 'husk: tmpfs: "/x/../etc": has a \'..\' component\n'],
      [['--group-add', 'nosuchgroup'], 'husk: unable to find group nosuchgroup: no matching entries in group file\n'],
    ];
    for (const [flags, line] of cases) {
      const r = husk(root, ['run', '--network', 'none', ...flags, 'host', 'true']);
      expect(r.stderr, flags.join(' ')).toBe(line);
      expect(r.status).toBe(125);
    }
  });
});
