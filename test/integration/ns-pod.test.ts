// Namespaces as objects: `husk ns` pins new namespaces under <root>/ns/NAME with no process
// left in them; `run --net ns:NAME` and `--net container:OTHER` join instead of making;
// pods (pinned namespaces plus a cgroup parent, no pause process) let their containers talk
// over 127.0.0.1; `husk enter` is nsenter for all of these.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, inspectContainer, removeAllContainers, sleep } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

function cleanup(root: string): void {
  removeAllContainers(root);
  for (const line of husk(root, ['pod', 'ls', '--format', 'json']).stdout.trim().split('\n').filter(Boolean)) husk(root, ['pod', 'rm', '-f', JSON.parse(line).Name]);
  const names = new Set(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).Name));
  if (names.size) husk(root, ['ns', 'rm', '-f', ...names]);
}

const { root } = useLeakCheck({ cleanup });

const LISTEN = `import socket,time
s=socket.socket(); s.bind(("127.0.0.1", 8080)); s.listen()
c,_=s.accept(); c.sendall(b"hello over lo\\n"); time.sleep(60)`;
const CONNECT = 'import socket; print(socket.create_connection(("127.0.0.1", 8080)).recv(100).decode().strip())';

function ok(args: string[]) {
  const r = husk(root, args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Every process's namespace links, and the mount table's nsfs roots: where a namespace is still held. */
function heldAnywhere(link: string): boolean {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${link} `);
  const used = readdirSync('/proc').some((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      return readlinkSync(`/proc/${p}/ns/${link.split(':')[0]}`) === link;
    } catch {
      return false;
    }
  });
  return mounted || used;
}

async function connectUntilServed(args: string[]): Promise<string> {
  let r = husk(root, args);
  for (let i = 0; i < 50 && r.status !== 0; i++) {
    await sleep(100);
    r = husk(root, args);
  }
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('husk ns', () => {
  it('a pinned net namespace outlives its processes, is shared by the containers that join it, and ns rm frees it', async () => {
    expect(ok(['ns', 'create', 'web', '--net', '--uts'])).toBe('web\n');
    const pin = join(root, 'ns', 'web', 'net');
    const link = `net:[${statSync(pin).ino}]`;
    const ls = JSON.parse(ok(['ns', 'ls', '--format', 'json']).trim().split('\n').find((l) => l.includes('"net"'))!);
    expect(ls).toMatchObject({ Name: 'web', Type: 'net', Inode: statSync(pin).ino, Pinned: true, Processes: 0, Containers: [] });

    ok(['run', '-d', '--name', 'srv', '--net', 'ns:web', 'host', 'python3', '-c', LISTEN]);
    expect(await connectUntilServed(['run', '--net', 'ns:web', 'host', 'python3', '-c', CONNECT])).toBe('hello over lo\n');
    expect(ok(['run', '--net', 'ns:web', 'host', 'readlink', '/proc/self/ns/net'])).toBe(`${link}\n`);
    expect(ok(['run', '--net', 'container:srv', 'host', 'readlink', '/proc/self/ns/net'])).toBe(`${link}\n`);
    // srv's process and its monitor (the launcher entered the namespace before CLONE).
    expect(ok(['ns', 'ls'])).toMatch(/^web\s+net\s+\d+\s+2\s+yes\s+srv$/m);

    const busy = husk(root, ['ns', 'rm', 'web']);
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/^husk: cannot remove namespace web: it is in use by 2 process\(es\) \(containers: srv\)\n/);
    expect(existsSync(pin)).toBe(true);

    ok(['rm', '-f', 'srv']);
    expect(heldAnywhere(link)).toBe(true); // the pin alone keeps it
    expect(ok(['ns', 'rm', 'web'])).toBe('web\n');
    expect(heldAnywhere(link)).toBe(false);
    expect(existsSync(join(root, 'ns', 'web'))).toBe(false);
  });

  it('refuses a taken name, a type it cannot pin, an unknown or stale namespace, with one line and 125', () => {
    ok(['ns', 'create', 'a', '--net']);
    expect(husk(root, ['ns', 'create', 'a', '--ipc'])).toMatchObject({ status: 125, stderr: 'husk: namespace name "a" is already in use\nRemove it first (husk ns rm), or choose another name.\n' });
    expect(husk(root, ['ns', 'create', 'b', '--uidmap', '0:1:0'])).toMatchObject({ status: 125, stderr: 'husk: uidmap: "0:1:0": size must be at least 1\n' });
    expect(existsSync(join(root, 'ns', 'b'))).toBe(false);
    expect(husk(root, ['run', '--net', 'ns:nope', 'host', 'true'])).toMatchObject({ status: 125, stderr: 'husk: --net ns:nope: no such namespace: nope\nSee husk ns ls.\n' });
    expect(husk(root, ['run', '--network', 'none', '--ipc', 'ns:a', 'host', 'true'])).toMatchObject({ status: 125, stderr: 'husk: --ipc ns:a: namespace a has no ipc namespace\nSee husk ns ls.\n' });
    expect(husk(root, ['run', '--net', 'container:nope', 'host', 'true'])).toMatchObject({ status: 125, stderr: 'husk: --net container:nope: no such container: nope\n' });
    // A pin whose bind mount is gone (unmounted behind husk's back) is named stale and removable.
    const umount = spawnSync('umount', [join(root, 'ns', 'a', 'net')], { encoding: 'utf8' });
    expect(umount.status, umount.stderr).toBe(0);
    expect(ok(['ns', 'ls'])).toMatch(/^a\s+net\s+-\s+0\s+stale/m);
    expect(husk(root, ['run', '--net', 'ns:a', 'host', 'true']).stderr).toBe('husk: --net ns:a: the pinned net namespace is gone (a stale pin)\nRemove it with husk ns rm a.\n');
    expect(ok(['ns', 'rm', 'a'])).toBe('a\n');
  });
});

describe('husk ns create --pid', () => {
  it('keeps husk\'s tiny init as pid 1 of a pinned pid namespace, which containers join, and ns rm ends it', async () => {
    const created = husk(root, ['ns', 'create', 'pp', '--pid', '--mnt']);
    expect(created.status, created.stderr).toBe(0);
    const init = JSON.parse(ok(['ns', 'ls', '--format', 'json']).trim().split('\n').find((l) => l.includes('"pid"'))!).Init;
    expect(created.stderr).toBe(`husk: namespace pp: its pid namespace is held by husk's init, pid ${init} (until husk ns rm pp)\n`);
    expect(readFileSync(`/proc/${init}/cmdline`, 'utf8')).toBe('husk-launcher\0--hold\0');
    const pidLink = `pid:[${statSync(join(root, 'ns', 'pp', 'pid')).ino}]`;
    expect(readlinkSync(`/proc/${init}/ns/pid`)).toBe(pidLink);
    // A container joined to it sees husk's init as its pid 1.
    expect(ok(['run', '--network', 'none', '--pid', 'ns:pp', 'host', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/self/ns/pid'])).toBe(`husk-launcher --hold \n${pidLink}\n`);
    expect(ok(['enter', 'ns:pp', 'readlink', '/proc/self/ns/mnt'])).toBe(`mnt:[${statSync(join(root, 'ns', 'pp', 'mnt')).ino}]\n`);
    expect(ok(['ns', 'rm', 'pp'])).toBe('pp\n');
    expect(existsSync(`/proc/${init}`)).toBe(false);
    expect(heldAnywhere(pidLink)).toBe(false);
  });
});

describe('husk pod', () => {
  it('joins its containers in one net, ipc and uts namespace and one cgroup parent; they talk over 127.0.0.1', async () => {
    expect(ok(['pod', 'create', 'p1'])).toBe('p1\n');
    ok(['run', '-d', '--name', 'srv', '--pod', 'p1', 'host', 'python3', '-c', LISTEN]);
    expect(await connectUntilServed(['run', '--pod', 'p1', 'host', 'python3', '-c', CONNECT])).toBe('hello over lo\n');
    const pid = inspectContainer(root, 'srv').State.Pid;
    const same = ok(['run', '--pod', 'p1', 'host', 'sh', '-c', 'readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/pid']).trim().split('\n');
    expect(same.slice(0, 3)).toEqual(['net', 'ipc', 'uts'].map((t) => readlinkSync(`/proc/${pid}/ns/${t}`)));
    expect(same[3]).not.toBe(readlinkSync(`/proc/${pid}/ns/pid`)); // not shared: its own
    const cgroups: string[] = inspectContainer(root, 'srv').Husk.Cgroups;
    expect(cgroups.every((d) => d.includes(`/pod-p1/`))).toBe(true);
    expect(JSON.parse(ok(['pod', 'ls', '--format', 'json']))).toMatchObject({ Name: 'p1', Share: ['net', 'ipc', 'uts'], Containers: ['srv'] });

    expect(husk(root, ['pod', 'rm', 'p1'])).toMatchObject({ status: 1, stderr: 'husk: cannot remove pod p1: it has containers (srv)\nRemove them first, or use husk pod rm -f.\n' });
    expect(ok(['pod', 'rm', '-f', 'p1'])).toContain('p1\n');
    expect(ok(['pod', 'ls'])).toBe('NAME   SHARED   CGROUP PARENT   CONTAINERS\n');
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
    for (const d of cgroups) expect(existsSync(join(d, '..')), d).toBe(false);
  });
});

describe('husk enter', () => {
  it('enters every namespace of a container, a pinned set, or a pid, and only those picked', () => {
    ok(['run', '--network', 'none', '-d', '--name', 'box', '--hostname', 'inside', 'host', 'sleep', '60']);
    const pid = inspectContainer(root, 'box').State.Pid;
    expect(ok(['enter', 'box', 'hostname'])).toBe('inside\n');
    expect(ok(['enter', 'box', 'sh', '-c', 'readlink /proc/self/ns/mnt /proc/self/ns/pid'])).toBe(`${readlinkSync(`/proc/${pid}/ns/mnt`)}\n${readlinkSync(`/proc/${pid}/ns/pid`)}\n`);
    expect(ok(['enter', '--uts', String(pid), 'sh', '-c', 'hostname; readlink /proc/self/ns/mnt'])).toBe(`inside\n${readlinkSync('/proc/self/ns/mnt')}\n`);
    ok(['ns', 'create', 'n', '--net']);
    expect(ok(['enter', 'ns:n', 'readlink', '/proc/self/ns/net'])).toBe(`net:[${statSync(join(root, 'ns', 'n', 'net')).ino}]\n`);
    expect(husk(root, ['enter', 'box', 'exit-7-please'])).toMatchObject({ status: 127 });
    expect(husk(root, ['enter', 'box', 'sh', '-c', 'exit 7']).status).toBe(7);
    expect(husk(root, ['enter', 'nope', 'true'])).toMatchObject({ status: 125, stderr: 'husk: no such container: nope\n' });
  });
});
