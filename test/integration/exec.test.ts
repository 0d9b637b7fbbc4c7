// husk exec: a process in a running container sees what the container sees (its pid, mount,
// uts, ipc, net, cgroup and user namespaces, its cgroups), runs as the container's user with
// its environment and working directory unless told otherwise, and its exit status is husk's.
import { readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { husk, huskAsync, huskBin, inspectContainer, removeAllContainers, sleep } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

function runDetached(args: string[]): string {
  const r = husk(root, ['run', '--network', 'none', '-d', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

function exec(args: string[], input?: string) {
  return husk(root, ['exec', ...args], { input });
}

const NS = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'];

describe('husk exec', () => {
  it('enters every namespace and the cgroups of the container, as the kernel names them', () => {
    runDetached(['--name', 'box', '--hostname', 'inside', '--memory', '64m', 'host', 'sleep', '60']);
    const pid = inspectContainer(root, 'box').State.Pid;
    const script = `for n in ${NS.join(' ')}; do readlink /proc/self/ns/$n; done; hostname; echo --; cat /proc/self/cgroup | sort; echo --; cat /proc/1/cgroup | sort; echo --; cat /proc/1/cmdline | tr '\\0' ' '`;
    const r = exec(['box', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const [nsPart, mine, init, cmdline] = r.stdout.split('--\n');
    const lines = nsPart.trim().split('\n');
    // The container's own namespaces, read from the host.
    expect(lines.slice(0, NS.length)).toEqual(NS.map((n) => readlinkSync(`/proc/${pid}/ns/${n}`)));
    expect(lines.slice(0, NS.length)).not.toEqual(NS.map((n) => readlinkSync(`/proc/self/ns/${n}`)));
    expect(lines[NS.length]).toBe('inside');
    // Same cgroups as the container's pid 1 (which the exec sees: same pid namespace).
    expect(mine).toBe(init);
    expect(cmdline.trim()).toBe('sleep 60');
  });

  it('takes the container user, environment and working directory, and the flags override them', () => {
    runDetached(['--name', 'box', '-u', '1000:1000', '-e', 'A=from-run', '-e', 'B=kept', '-w', '/tmp', 'host', 'sleep', '60']);
    const r = exec(['box', 'sh', '-c', 'echo "$(id -u):$(id -g) $A $B $(pwd) $HOME"']);
    expect(r.stdout, r.stderr).toBe('1000:1000 from-run kept /tmp /\n');
    const o = exec(['-u', '0', '-e', 'A=from-exec', '-w', '/etc', 'box', 'sh', '-c', 'echo "$(id -u) $A $B $(pwd) $HOME"']);
    expect(o.stdout, o.stderr).toBe('0 from-exec kept /etc /root\n');
  });

  it('gives docker capabilities and no_new_privs, all capabilities with --privileged', () => {
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    const caps = (args: string[]) => exec([...args, 'box', 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']).stdout;
    expect(caps([])).toBe('CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n');
    // Every capability husk itself may hold (its bounding set: root here lacks a few).
    const bounding = /CapBnd:\t(\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(caps(['--privileged'])).toBe(`CapEff:\t${bounding}\nNoNewPrivs:\t0\n`);
  });

  it('reports the exit status of the command: N, 128+S, 126 and 127', () => {
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    expect(exec(['box', 'sh', '-c', 'exit 7']).status).toBe(7);
    expect(exec(['box', 'sh', '-c', 'kill -9 $$']).status).toBe(137);
    const notFound = exec(['box', 'no-such-command']);
    expect(notFound.status).toBe(127);
    expect(notFound.stderr).toBe('husk: exec "no-such-command": executable file not found in $PATH\n');
    expect(exec(['box', '/etc/hostname']).status).toBe(126);
  });

  it('-t gives the command a terminal of the caller\'s size (under script(1)) and its exit status', () => {
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    const cmd = `stty rows 30 cols 100; ${process.execPath} -- ${huskBin} --root ${root} exec -t box sh -c 'test -t 0 && test -t 1 && echo tty; stty size; t=$(tty); echo \"$t\"; ls /dev/pts | grep -qx \"\${t#/dev/pts/}\" && echo listed; exit 3'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', input: '' });
    // Our pty (cooked: no -i) turns the container pty's \r\n into \r\r\n. The pty is one of the
    // container's own devpts (made inside, as run -t's): tty names it and /dev/pts lists it.
    expect(r.stdout).toMatch(/^tty\r+\n30 100\r+\n\/dev\/pts\/\d+\r+\nlisted\r+\n$/);
    expect(r.status).toBe(3);
    expect(exec(['-dt', 'box', 'true'])).toMatchObject({ status: 125, stderr: "husk: -t and -d cannot be combined\nA terminal needs someone at it: use -it, or -d without -t.\n" });
  });

  it('passes stdin with -i and gives /dev/null without it', () => {
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    expect(exec(['-i', 'box', 'cat'], 'typed\n').stdout).toBe('typed\n');
    expect(exec(['box', 'cat'], 'typed\n').stdout).toBe('');
  });

  it('runs in the background with -d and leaves the command running in the container', async () => {
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    const d = exec(['-d', 'box', 'sh', '-c', 'sleep 0.2; echo done > /tmp/mark; sleep 60']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toBe('');
    let seen = '';
    for (let i = 0; i < 50 && seen === ''; i++) {
      await sleep(50);
      seen = exec(['box', 'cat', '/tmp/mark']).stdout;
    }
    expect(seen).toBe('done\n');
    expect(exec(['box', 'sh', '-c', 'ps -o args | grep -c "^sleep 60"']).stdout.trim()).toBe('2');
  });

  it('enters the container user namespace first (--userns auto)', () => {
    runDetached(['--name', 'box', '--userns', 'auto', 'host', 'sleep', '60']);
    const pid = inspectContainer(root, 'box').State.Pid;
    const r = exec(['box', 'sh', '-c', 'readlink /proc/self/ns/user; id -u; touch /tmp/x && echo made']);
    expect(r.stdout, r.stderr).toBe(`${readlinkSync(`/proc/${pid}/ns/user`)}\n0\nmade\n`);
  });

  it('refuses an unknown, a paused and an exited container with one line and 125', async () => {
    const unknown = exec(['nope', 'true']);
    expect(unknown).toMatchObject({ status: 125, stderr: 'husk: no such container: nope\n' });
    runDetached(['--name', 'box', 'host', 'sleep', '60']);
    expect(husk(root, ['pause', 'box']).status).toBe(0);
    const paused = exec(['box', 'true']);
    expect(paused).toMatchObject({ status: 125, stderr: 'husk: container box is paused, unpause the container before exec\n' });
    expect(husk(root, ['unpause', 'box']).status).toBe(0);
    runDetached(['--name', 'gone', 'host', 'true']);
    for (let i = 0; i < 100 && inspectContainer(root, 'gone').State.Running; i++) await sleep(20);
    const exited = exec(['gone', 'true']);
    expect(exited).toMatchObject({ status: 125, stderr: 'husk: container gone is not running\n' });
    expect(exec(['box']).status).toBe(125);
  });

  it('enters a container that runs in the foreground of another husk (run without -d)', async () => {
    const fg = huskAsync(root, ['run', '--network', 'none', '--name', 'fg', '--hostname', 'fg-host', 'host', 'sh', '-c', 'trap "exit 7" TERM; echo up; while :; do sleep 0.1; done'], 'up');
    try {
      await fg.ready;
      const pid = inspectContainer(root, 'fg').State.Pid;
      const rows = husk(root, ['ps', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(rows.find((c) => c.Names === 'fg')?.State).toBe('running');
      const r = exec(['fg', 'sh', '-c', 'hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; exit 3']);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stdout).toBe(`fg-host\n${readlinkSync(`/proc/${pid}/ns/pid`)}\n${readlinkSync(`/proc/${pid}/ns/mnt`)}\n`);
    } finally {
      fg.child.kill('SIGTERM');
    }
    const done = await fg.done;
    expect(done.status).toBe(7); // SIGTERM to husk reached the container
    // Its record went with it.
    expect(exec(['fg', 'true'])).toMatchObject({ status: 125, stderr: 'husk: no such container: fg\n' });
  });
});
