// Pinned namespaces that change what a process is, not only what it sees: a time namespace
// whose clock offsets were set before anything entered it (`ns create --time-offset`,
// `run --time ns:NAME`), and (below) a user namespace with its id maps.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, inspectContainer, removeAllContainers, sleep } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

function cleanup(root: string): void {
  removeAllContainers(root);
  const names = new Set(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).Name));
  if (names.size) husk(root, ['ns', 'rm', '-f', ...names]);
}

const { root } = useLeakCheck({ cleanup });

function ok(args: string[]) {
  const r = husk(root, args);
  expect(r.status, `husk ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const uptime = (text: string) => Number(text.trim().split(/\s+/)[0]);

describe('a pinned time namespace', () => {
  it('keeps the offsets it was made with; containers that join it see them; ns rm refuses while one is in it', () => {
    ok(['ns', 'create', 'clock', '--time-offset', 'boottime=86400,monotonic=3600']);
    const inode = statSync(join(root, 'ns', 'clock', 'time')).ino;
    const before = uptime(readFileSync('/proc/uptime', 'utf8'));
    const out = ok(['run', '--network', 'none', '--time', 'ns:clock', 'host', 'sh', '-c', 'readlink /proc/self/ns/time; cat /proc/uptime; cat /proc/self/timens_offsets']).trim().split('\n');
    const after = uptime(readFileSync('/proc/uptime', 'utf8'));
    expect(out[0]).toBe(`time:[${inode}]`);
    // boottime (what /proc/uptime counts) is a day ahead of the host's.
    expect(uptime(out[1])).toBeGreaterThanOrEqual(before + 86400);
    expect(uptime(out[1])).toBeLessThanOrEqual(after + 86400);
    expect(out.slice(2).map((l) => l.trim().split(/\s+/))).toEqual([['monotonic', '3600', '0'], ['boottime', '86400', '0']]);

    const id = ok(['run', '--network', 'none', '-d', '--time', 'ns:clock', 'host', 'sleep', '60']).trim();
    const ls = ok(['ns', 'ls', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l)).find((n) => n.Name === 'clock');
    expect(ls).toMatchObject({ Type: 'time', Inode: inode, Pinned: true, Processes: 1, Containers: [id.slice(0, 12)] });
    const busy = husk(root, ['ns', 'rm', 'clock']);
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/^husk: cannot remove namespace clock: it is in use by 1 process\(es\)/);
    ok(['rm', '-f', id]);
    ok(['ns', 'rm', 'clock']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });

  it('refuses what cannot be, in one line with 125, and leaves nothing', () => {
    const cases: [string[], RegExp][] = [
      [['run', '--network', 'none', '--time', 'container:x', 'host', 'true'], /^husk: invalid value "container:x" for --time: expected ns:NAME/],
      [['run', '--network', 'none', '--time', 'ns:nope', 'host', 'true'], /^husk: --time ns:nope: no such namespace: nope\n/],
      [['ns', 'create', 'bad', '--time-offset', 'boottime=x'], /^husk: invalid value "boottime=x" for --time-offset/],
      [['ns', 'create', 'far', '--time-offset', 'monotonic=4611686019'], /out of range/],
    ];
    for (const [args, line] of cases) {
      const r = husk(root, args);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(line);
    }
    ok(['ns', 'create', 'clock2', '--time']);
    for (const extra of [['--timens'], ['--userns', 'auto']]) {
      const r = husk(root, ['run', '--network', 'none', ...extra, '--time', 'ns:clock2', 'host', 'true']);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr.split('\n').length).toBe(2);
    }
    ok(['ns', 'rm', 'clock2']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });
});

/** Waits (bounded) until no process is left in NAME's namespaces: a killed one may still be exiting. */
async function emptied(name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rows = husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((n) => n.Name === name);
    if (rows.every((n) => n.Processes === 0)) return;
    await sleep(25);
  }
  throw new Error(`processes stayed in namespace ${name}`);
}

describe('a pinned user namespace', () => {
  it('keeps its maps; containers join it first and share it; exec and enter enter it first; ns rm refuses while in use', async () => {
    ok(['ns', 'create', 'people', '--user', '--net', '--uidmap', '0:3100000:65536']);
    const inode = statSync(join(root, 'ns', 'people', 'user')).ino;
    const netInode = statSync(join(root, 'ns', 'people', 'net')).ino;
    const out = ok(['run', '--userns', 'ns:people', '--net', 'ns:people', 'host', 'sh', '-c', 'readlink /proc/self/ns/user /proc/self/ns/net; cat /proc/self/uid_map /proc/self/gid_map; id -u; echo $$; touch /tmp/made && echo wrote']).trim().split('\n');
    expect(out[0]).toBe(`user:[${inode}]`);
    expect(out[1]).toBe(`net:[${netInode}]`);
    expect(out.slice(2, 4).map((l) => l.trim().split(/\s+/))).toEqual([['0', '3100000', '65536'], ['0', '3100000', '65536']]);
    // root of the namespace, pid 1 of a pid namespace it made once inside it, and it may write
    expect(out.slice(4)).toEqual(['0', '1', 'wrote']);

    const a = ok(['run', '--network', 'none', '-d', '--userns', 'ns:people', 'host', 'sleep', '60']).trim();
    const b = ok(['run', '--network', 'none', '-d', '--userns', 'ns:people', 'host', 'sleep', '60']).trim();
    const [pa, pb] = [a, b].map((id) => inspectContainer(root, id).State.Pid as number);
    for (const p of [pa, pb]) expect(readlinkSync(`/proc/${p}/ns/user`)).toBe(`user:[${inode}]`);
    // inspect names them as ls -l /proc/PID/ns does.
    expect(inspectContainer(root, a).Husk.Namespaces).toMatchObject({ user: `user:[${inode}]`, pid: readlinkSync(`/proc/${pa}/ns/pid`), mnt: readlinkSync(`/proc/${pa}/ns/mnt`) });
    expect(readlinkSync(`/proc/${pa}/ns/pid`)).not.toBe(readlinkSync(`/proc/${pb}/ns/pid`));
    // The recorded pid is the container's pid 1 (PID_FORK's child), not husk's init above it.
    expect(readFileSync(`/proc/${pa}/cmdline`, 'utf8')).toBe('sleep\u000060\u0000');
    const e = ok(['exec', a, 'sh', '-c', 'readlink /proc/self/ns/user /proc/self/ns/pid; id -u; cat /proc/1/cmdline']).split('\n');
    expect(e.slice(0, 3)).toEqual([`user:[${inode}]`, readlinkSync(`/proc/${pa}/ns/pid`), '0']);
    expect(e[3]).toBe('sleep\u000060\u0000');
    expect(ok(['enter', 'ns:people', 'readlink', '/proc/self/ns/user', '/proc/self/ns/net']).trim().split('\n')).toEqual([`user:[${inode}]`, `net:[${netInode}]`]);

    const ls = ok(['ns', 'ls', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l)).find((n) => n.Name === 'people' && n.Type === 'user');
    expect(ls).toMatchObject({ Inode: inode, Pinned: true });
    expect([...ls.Containers].sort()).toEqual([a.slice(0, 12), b.slice(0, 12)].sort());
    const busy = husk(root, ['ns', 'rm', 'people']);
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/^husk: cannot remove namespace people: it is in use by \d+ process\(es\)/);
    ok(['rm', '-f', a, b]);
    await emptied('people');
    ok(['ns', 'rm', 'people']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });

  it('a default map is a free range no container or other pinned namespace holds; what cannot be is refused in one line', () => {
    ok(['ns', 'create', 'u1', '--user']);
    ok(['ns', 'create', 'u2', '--user']);
    const map = (n: string) => JSON.parse(readFileSync(join(root, 'ns', n, 'idmap.json'), 'utf8')).uid[0];
    const [m1, m2] = [map('u1'), map('u2')];
    expect(m1).toMatchObject({ inside: 0, count: 65536 });
    expect(m1.outside + m1.count <= m2.outside || m2.outside + m2.count <= m1.outside).toBe(true);
    ok(['ns', 'create', 'plain', '--net']);
    const cases: [string[], RegExp][] = [
      [['run', '--network', 'none', '--userns', 'ns:nope', 'host', 'true'], /^husk: --userns ns:nope: no such namespace: nope\n/],
      [['run', '--network', 'none', '--userns', 'ns:plain', 'host', 'true'], /^husk: --userns ns:plain: namespace plain has no user namespace\n/],
      [['run', '--network', 'none', '--userns', 'ns:u1', '--uidmap', '0:1:1', 'host', 'true'], /^husk: --userns ns:u1: --uidmap and --gidmap cannot be given/],
      [['run', '--userns', 'ns:u1', '--network', 'bridge', 'host', 'true'], /^husk: --network: a container in a joined user namespace/],
      [['ns', 'create', 'bad', '--uidmap', '0:1:0'], /size must be at least 1/],
    ];
    for (const [args, line] of cases) {
      const r = husk(root, args);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(line);
    }
    ok(['ns', 'rm', 'u1', 'u2', 'plain']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });
});
