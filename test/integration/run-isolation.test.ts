// husk run, as a person sees it: a real container on this machine, isolated for real.
import { existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { husk, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();

const NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'] as const;
const hostNs = (ns: string) => readlinkSync(`/proc/self/ns/${ns}`);

function nsInside(extra: string[] = []): Record<string, string> {
  const r = husk(root, ['run', '--network', 'none', ...extra, 'host', 'sh', '-c', `for n in ${NAMESPACES.join(' ')} user time; do echo "$n $(readlink /proc/self/ns/$n)"; done`]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

describe('husk run isolates', () => {
  it('runs the command as pid 1 and hides host processes', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'echo pid=$$; ls /proc | grep -c "^[0-9]"']);
    expect(r.status).toBe(0);
    const [pidLine, count] = r.stdout.trim().split('\n');
    expect(pidLine).toBe('pid=1');
    // sh, ls and grep at most: nothing of the host's hundreds of processes.
    expect(Number(count)).toBeLessThanOrEqual(3);
  });

  it('gives each namespace anew by default, and shares only the user and time ones', () => {
    const inside = nsInside();
    for (const ns of NAMESPACES) expect(inside[ns], ns).not.toBe(hostNs(ns));
    expect(inside.user).toBe(hostNs('user'));
    expect(inside.time).toBe(hostNs('time'));
  });

  it('shares exactly the namespaces asked for with --net/--pid/--ipc/--uts host', () => {
    const inside = nsInside(['--net', 'host', '--pid', 'host', '--ipc', 'host', '--uts', 'host']);
    for (const ns of ['net', 'pid', 'ipc', 'uts']) expect(inside[ns], ns).toBe(hostNs(ns));
    for (const ns of ['mnt', 'cgroup']) expect(inside[ns], ns).not.toBe(hostNs(ns));
  });

  it('sets the hostname inside and leaves the host one alone', () => {
    const r = husk(root, ['run', '--network', 'none', '--hostname', 'husk-box', 'host', 'hostname']);
    expect(r.stdout.trim()).toBe('husk-box');
    expect(hostname()).not.toBe('husk-box');
    const d = husk(root, ['run', '--network', 'none', 'host', 'hostname']);
    expect(d.stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
  });

  it('has only lo, and up, in the network namespace', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/flags']);
    expect(r.status).toBe(0);
    const [ifaces, flags] = r.stdout.trim().split('\n');
    expect(ifaces).toBe('lo');
    expect(Number(flags) & 1).toBe(1); // IFF_UP
  });

  it('keeps files written in / and /etc inside from reaching the host', () => {
    const name = `husk-probe-${process.pid}`;
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', `echo x > /${name} && echo y > /etc/${name} && echo z >> /etc/hostname && cat /${name} /etc/${name}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('x\ny\n');
    expect(existsSync(`/${name}`)).toBe(false);
    expect(existsSync(`/etc/${name}`)).toBe(false);
    expect(readFileSync('/etc/hostname', 'utf8')).not.toMatch(/z\n$/);
  });

  it('mounts a fresh /proc, a minimal /dev, a read-only /sys and a tmpfs /tmp', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'ls /dev | tr "\\n" " "; echo; touch /sys/x 2>&1; grep -E " /(tmp|proc|sys|dev) " /proc/self/mounts | cut -d" " -f2,3']);
    const [devs, sysErr, ...mounts] = r.stdout.trim().split('\n');
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'ptmx', 'fd']) expect(devs.split(' ')).toContain(d);
    expect(devs.split(' ')).not.toContain('sda');
    expect(sysErr).toMatch(/Read-only file system/);
    expect(mounts.sort()).toEqual(['/dev tmpfs', '/proc proc', '/sys sysfs', '/tmp tmpfs']);
  });

  it('pivots into the rootfs: the host root is not reachable', () => {
    const r = husk(root, ['run', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', 'cat /etc/motd; ls /home 2>&1; cat /proc/self/mountinfo | grep -c " / / "']);
    expect(r.stdout).toMatch(/^hello-from-rootfs\n/);
    expect(r.stdout).toMatch(/No such file or directory/);
  });

  it('keeps the --rootfs directory unchanged, unless --rootfs-rw', () => {
    const w = husk(root, ['run', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', 'echo changed > /etc/motd; echo new > /new-file; cat /etc/motd']);
    expect(w.stdout).toBe('changed\n');
    expect(readFileSync(`${rootfs}/etc/motd`, 'utf8')).toBe('hello-from-rootfs\n');
    expect(existsSync(`${rootfs}/new-file`)).toBe(false);
    const rw = husk(root, ['run', '--network', 'none', '--rootfs', rootfs, '--rootfs-rw', 'sh', '-c', 'echo rw > /rw-file']);
    expect(rw.status).toBe(0);
    expect(readFileSync(`${rootfs}/rw-file`, 'utf8')).toBe('rw\n');
    rmSync(`${rootfs}/rw-file`);
  });

  it('lets no fd beyond 0, 1 and 2 reach the container', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'ls /proc/$$/fd']);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['0', '1', '2']);
  });
});

describe('husk run passes settings in', () => {
  it('sets env (flags, env files, defaults), workdir and user', () => {
    const r = husk(root, ['run', '--network', 'none', '-e', 'A=1', '-e', 'B=two words', '-w', '/var/tmp/sub', '-u', '1234:5678', 'host', 'sh', '-c', 'echo "$A|$B|$PATH|$HOME"; pwd; id -u; id -g']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 4)).toEqual(['1|two words|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/', '/var/tmp/sub', '1234', '5678']);
  });

  it('runs as root with docker-like defaults when nothing is asked', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'id -u; echo $HOME; pwd']);
    expect(r.stdout).toBe('0\n/root\n/\n');
  });

  it('passes stdin through', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'tr a-z A-Z'], { input: 'shout\n' });
    expect(r.stdout).toBe('SHOUT\n');
  });

  it('shifts the clocks with --time-offset, and only inside', () => {
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = husk(root, ['run', '--network', 'none', '--time-offset', 'monotonic=86400,boottime=86400', 'host', 'cat', '/proc/uptime']);
    expect(r.stderr).toBe('');
    const inside = Number(r.stdout.split(' ')[0]);
    expect(inside).toBeGreaterThanOrEqual(hostUptime + 86400);
    expect(inside).toBeLessThan(hostUptime + 86400 + 60);
    expect(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])).toBeLessThan(hostUptime + 60);
  });

  it('maps root inside to an unused host range with --userns auto', () => {
    const r = husk(root, ['run', '--network', 'none', '--userns', 'auto', 'host', 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map']);
    expect(r.stderr).toBe('');
    const [uid, uidMap, gidMap] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    const [inside, outside, size] = uidMap.trim().split(/\s+/).map(Number);
    expect(inside).toBe(0);
    expect(outside).toBeGreaterThan(0);
    expect(size).toBeGreaterThanOrEqual(65536);
    expect(gidMap.trim().split(/\s+/).map(Number)).toEqual([0, outside, size]);
  });
});
