// The real client: Debian's containerd 1.6, started by the suite (containerd-harness.ts), with
// `ctr run --runc-binary` naming husk-runc, so containerd's io.containerd.runc.v2 shim calls
// husk-runc create/start/exec/kill/delete as it calls runc, and is the subreaper that reaps
// each init. The image is built by the suite and imported; nothing goes to the network.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repo, sleep, suiteDir } from './helpers.js';
import { cgroupMounts } from './cgroup-setup.js';
import { useLeakCheck } from './leak-check.js';
import { hasContainerd, importImage, startContainerd, type Containerd } from './containerd-harness.js';

const dir = suiteDir('containerd');
const image = 'localhost/husk-ctr-test:1';
let cd: Containerd;
let count = 0;

useLeakCheck({
  // What a test left: its tasks killed and deleted, its containers removed, as a user would.
  cleanup: () => {
    if (!cd) return;
    for (const id of cd.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      cd.ctr(['task', 'kill', '-s', 'KILL', id]);
      cd.ctr(['task', 'delete', '--force', id]);
      cd.ctr(['container', 'rm', id]);
    }
  },
});

beforeAll(async () => {
  if (!hasContainerd) return;
  cd = await startContainerd(dir);
  importImage(cd, image);
});
afterAll(async () => {
  await cd?.stop();
});

/** A new container id, and the ctr flags that give it husk-runc and a cgroup under the suites' parent. */
function next(): { id: string; flags: string[] } {
  const id = `c${++count}`;
  return {
    id,
    flags: ['--runc-binary', cd.huskRunc, '--runc-root', cd.runcRoot, '--fifo-dir', join(dir, 'fifo'), '--cgroup', `/${process.env.HUSK_CGROUP_PARENT}/ctr-${id}`],
  };
}

/** husk-runc's own view of a container the shim made (its state under the shim's --root). */
function huskState(id: string): any {
  const r = spawnSync(process.execPath, ['--', join(repo, 'bin/husk-runc.js'), '--root', join(cd.runcRoot, cd.namespace), 'state', id], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function taskStatus(id: string): string {
  const line = cd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line ? line.trim().split(/\s+/)[2] : 'none';
}

describe.skipIf(!hasContainerd)('containerd 1.6: ctr run --runc-binary husk-runc', () => {
  it('runs a container to its exit status and removes it (--rm); the shim called husk-runc create, start and delete', () => {
    const { id, flags } = next();
    const r = cd.ctr(['run', '--rm', ...flags, image, id, 'sh', '-c', 'echo "hello from $(cat /proc/1/cmdline | tr "\\0" " ")"; grep pids /proc/self/cgroup; exit 3']);
    expect(r.stderr).toBe('');
    const [hello, cgroup, rest] = r.stdout.split('\n');
    expect(hello).toBe('hello from sh -c echo "hello from $(cat /proc/1/cmdline | tr "\\0" " ")"; grep pids /proc/self/cgroup; exit 3 ');
    expect(cgroup).toMatch(new RegExp(`^\\d+:pids:/${process.env.HUSK_CGROUP_PARENT}/ctr-${id}$`));
    expect(rest).toBe('');
    expect(r.status).toBe(3);
    const calls = cd.calls().filter((c) => c.at(-1) === id).map((c) => c[0]);
    expect(calls.slice(0, 2)).toEqual(['create', 'start']);
    expect(calls).toContain('delete');
    expect(cd.ctr(['container', 'ls', '-q']).stdout).toBe('');
    expect(readdirSync(join(cd.runcRoot, cd.namespace))).toEqual([]);
  });

  it('run -d, task exec into it, ps, metrics, kill and delete: each a husk-runc call', async () => {
    const { id, flags } = next();
    const started = cd.ctr(['run', '-d', ...flags, image, id, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    expect(started.status, started.stderr).toBe(0);
    expect(taskStatus(id)).toBe('RUNNING');
    const pid = Number(cd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${id} `))!.trim().split(/\s+/)[1]);
    // husk-runc made this container: its own state says so, with the pid containerd shows.
    const state = huskState(id);
    expect(state).toMatchObject({ id, status: 'running', pid });

    const exec = cd.ctr(['task', 'exec', '--fifo-dir', join(dir, 'fifo'), '--exec-id', 'e1', id, 'sh', '-c', 'echo "in $(cat /proc/1/cmdline | tr "\\0" " ") as $(id -u)"; exit 4']);
    expect(exec.stdout).toBe('in sh -c trap "exit 0" TERM; while :; do sleep 0.1; done  as 0\n');
    expect(exec.status).toBe(4);
    const ps = cd.ctr(['task', 'ps', id]);
    expect(ps.status, ps.stderr).toBe(0);
    expect(ps.stdout).toContain(String(pid));
    const metrics = cd.ctr(['task', 'metrics', id]);
    expect(metrics.status, metrics.stderr).toBe(0);
    expect(metrics.stdout).toMatch(/pids\.current\s+[1-9]/);

    const killed = cd.ctr(['task', 'kill', id]);
    expect(killed.status, killed.stderr).toBe(0);
    for (let i = 0; i < 100 && taskStatus(id) !== 'STOPPED'; i++) await sleep(100);
    expect(taskStatus(id)).toBe('STOPPED');
    const deleted = cd.ctr(['task', 'delete', id]);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(cd.ctr(['container', 'rm', id]).status).toBe(0);

    const calls = cd.calls().filter((c) => c.at(-1) === id || c.at(-2) === id);
    expect(calls.map((c) => c[0])).toEqual(expect.arrayContaining(['create', 'start', 'exec', 'kill', 'delete']));
    expect(calls.find((c) => c[0] === 'kill')).toEqual(['kill', id, '15']);
    expect(readdirSync(join(cd.runcRoot, cd.namespace))).toEqual([]);
    for (const m of cgroupMounts()) expect(existsSync(join(m, `${process.env.HUSK_CGROUP_PARENT}`, `ctr-${id}`))).toBe(false);
  });

  it('a command that does not exist: ctr run exits 127 with husk-runc\'s line, and nothing is left', () => {
    const { id, flags } = next();
    const r = cd.ctr(['run', '--rm', ...flags, image, id, '/no/such/command']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/\/no\/such\/command/);
    expect(cd.ctr(['container', 'ls', '-q']).stdout).toBe('');
    expect(readdirSync(join(cd.runcRoot, cd.namespace))).toEqual([]);
  });
});
