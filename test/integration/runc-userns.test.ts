// User and time namespaces from a bundle: linux.uidMappings/gidMappings written as the maps of
// a new user namespace (the process is its root; host root's files show as nobody when root
// is mapped elsewhere), `husk-runc spec --rootless` output running as root too, a time
// namespace with linux.timeOffsets; and what husk-runc cannot do, refused by name.
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { waitFor } from './runc-harness.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle, stateOf } = useRunc();

/** A bundle whose process is root of a user namespace mapping 0-65535 to 100000 (and `more`). */
function usernsBundle(args: string[], more: (c: any) => void = () => undefined): string {
  const dir = bundle(args, (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    more(c);
  });
  for (const d of ['proc', 'sys', 'dev']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
  return dir;
}

describe('husk-runc user and time namespaces', () => {
  it('uidMappings/gidMappings: the process is root of a new user namespace mapped as asked', () => {
    const dir = bundle(['sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox; readlink /proc/self/ns/user'], (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    // The mount points exist already: the namespace's root cannot make them in host root's rootfs.
    for (const d of ['proc', 'sys', 'dev']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
    const r = runc(['run', '--bundle', dir, 'u1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(lines.slice(0, 4)).toEqual(['0', '0 100000 65536', '0 100000 65536', '65534:65534']);
    expect(lines[4]).not.toBe(readlinkSync('/proc/self/ns/user'));
  });

  it('`spec --rootless` output runs as root: the caller mapped to root inside', () => {
    const dir = bundle(['sh', '-c', 'id -u; cat /proc/self/uid_map'], () => undefined);
    mkdirSync(join(dir, 'rootless'));
    const made = runc(['spec', '--rootless', '--bundle', join(dir, 'rootless')]);
    expect(made.status, made.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'rootless/config.json'), 'utf8'));
    const own = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    cfg.process = { ...cfg.process, terminal: false, args: own.process.args };
    cfg.root.path = join(dir, 'rootfs');
    cfg.linux.cgroupsPath = own.linux.cgroupsPath; // under the suite's parent, not husk-runc/ on the host
    writeFileSync(join(dir, 'rootless/config.json'), JSON.stringify(cfg));
    const r = runc(['run', '--bundle', join(dir, 'rootless'), 'u2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/[ \t]+/g, ' ')).toBe('0\n 0 0 1\n');
  });

  it('a time namespace with linux.timeOffsets: the container\'s boot time is a day earlier', () => {
    const dir = bundle(['cat', '/proc/uptime'], (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400, nanosecs: 0 } };
    });
    const r = runc(['run', '--bundle', dir, 't1']);
    expect(r.stderr).toBe('');
    const inside = Number(r.stdout.split(' ')[0]);
    const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(inside - host).toBeGreaterThan(86400 - 60);
    expect(inside - host).toBeLessThan(86400 + 60);
  });

  it('maps without a user namespace, a namespace without maps, an unmapped root, a joined user namespace: refused by name', () => {
    const refused = (change: (c: any) => void) => {
      const r = runc(['create', '--bundle', bundle(['true'], change), 'no']);
      expect(r.status).toBe(1);
      return r.stderr;
    };
    const map = [{ containerID: 0, hostID: 100000, size: 10 }];
    expect(refused((c) => (c.linux.uidMappings = map))).toBe('husk-runc: linux.uidMappings: needs a new user namespace (linux.namespaces)\n');
    expect(refused((c) => c.linux.namespaces.push({ type: 'user' }))).toBe('husk-runc: linux.uidMappings: a user namespace needs its mappings\n');
    expect(refused((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 1, hostID: 100000, size: 10 }];
      c.linux.gidMappings = map;
    })).toBe('husk-runc: linux.uidMappings: the container\'s id 0 is not mapped (husk-runc sets the container up as its root)\n');
    expect(refused((c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
      c.linux.uidMappings = map;
    })).toBe('husk-runc: linux.uidMappings: not with a joined user namespace (linux.namespaces user path /proc/1/ns/user), which has its mappings\n');
    expect(refused((c) => {
      c.linux.namespaces.push({ type: 'user' }, { type: 'time', path: '/proc/1/ns/time' });
      c.linux.uidMappings = map;
      c.linux.gidMappings = map;
    })).toMatch(/^husk-runc: linux\.namespaces: a time namespace joined by path \(\/proc\/1\/ns\/time\) with a new user namespace/);
    expect(refused((c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }))).toBe('husk-runc: linux.timeOffsets: needs a new time namespace (linux.namespaces)\n');
    expect(readdirSync(root)).toEqual([]);
  });

  it('user and time namespaces joined by path: the process is in the other container\'s, root there, its new namespaces its own', async () => {
    const first = usernsBundle(['sleep', '60'], (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400, nanosecs: 0 } };
    });
    expect(runc(['run', '-d', '--bundle', first, 'j1']).status).toBe(0);
    const owner = stateOf('j1').pid;
    const dir = bundle(['sh', '-c', '(id -u; cat /proc/self/uid_map; cut -d" " -f1 /proc/uptime; echo $$) > /tmp/seen; exec sleep 60'], (c) => {
      c.linux.namespaces.push({ type: 'user', path: `/proc/${owner}/ns/user` }, { type: 'time', path: `/proc/${owner}/ns/time` });
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
    });
    for (const d of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
    const r = runc(['run', '-d', '--bundle', dir, 'j2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = stateOf('j2').pid;
    const seen = `/proc/${pid}/root/tmp/seen`;
    await waitFor('what the second container saw', () => existsSync(seen) && readFileSync(seen, 'utf8').split('\n').length >= 5);
    const lines = readFileSync(seen, 'utf8').trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    // Root of the joined namespace, with its maps; its clocks; pid 1 of a pid namespace of its own.
    expect(lines.slice(0, 2)).toEqual(['0', '0 100000 65536']);
    expect(Number(lines[2]) - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])).toBeGreaterThan(86400 - 60);
    expect(lines[3]).toBe('1');
    // Seen from the host: the same user and time namespaces, its own pid, mount and net ones.
    const ns = (p: number, t: string) => readlinkSync(`/proc/${p}/ns/${t}`);
    expect(ns(pid, 'user')).toBe(ns(owner, 'user'));
    expect(ns(pid, 'time')).toBe(ns(owner, 'time'));
    for (const t of ['pid', 'mnt', 'net']) expect(ns(pid, t)).not.toBe(ns(owner, t));
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+100000\s/m);
    // As runc leaves it: the engine's subreaper's (here whoever reaps orphans), not a husk init
    // that made its pid namespace and stayed as its parent.
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    const parentMadeIt = ppid !== 1 && readlinkSync(`/proc/${ppid}/ns/pid_for_children`) === ns(pid, 'pid');
    expect(parentMadeIt).toBe(false);
    expect(runc(['kill', 'j2', 'KILL']).status).toBe(0);
    await waitFor('j2 to stop', () => stateOf('j2').status === 'stopped');
    expect(runc(['delete', 'j2']).status).toBe(0);
    expect(runc(['delete', '--force', 'j1']).status).toBe(0);
  });
});
