// Resource limits on this machine's real cgroups (hybrid: v1 controllers, cgroup2 at
// /sys/fs/cgroup/unified): the limits hold, the kernel enforces them, the container sees its
// own cgroups read-only, and nothing is left. Containers' cgroups live under
// husk-test-<pid> (cgroup-setup.ts), never under the host's `husk`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { husk, inspectContainer, removeAllContainers, sleep } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { V2Cgroups } from '../../ts/cgroup/host.js';
import { hostCgroupFacts } from '../../ts/cgroup/detect.js';

const PARENT = process.env.HUSK_CGROUP_PARENT ?? '';
const V1 = '/sys/fs/cgroup';

// A failed test must not leave its -d containers running.
const { root } = useLeakCheck({ cleanup: removeAllContainers });

const inspect = (ref: string) => inspectContainer(root, ref);

function runDetached(args: string[]): { id: string; pid: number } {
  const r = husk(root, ['run', '--network', 'none', '-d', ...args]);
  expect(r.status, r.stderr).toBe(0);
  const id = r.stdout.trim();
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  return { id, pid: inspect(id).State.Pid };
}

function cgroupOf(pid: number, hierarchy: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1] === hierarchy);
  return line!.split(':').slice(2).join(':');
}

beforeAll(() => {
  expect(PARENT).toMatch(/^husk-test-\d+$/);
});

describe('limits', () => {
  it('writes the requested values to the limit files, which the container sees as its own', () => {
    const files = [
      'memory/memory.limit_in_bytes',
      'memory/memory.soft_limit_in_bytes',
      'memory/memory.memsw.limit_in_bytes',
      'cpu/cpu.cfs_quota_us',
      'cpu/cpu.cfs_period_us',
      'cpu/cpu.shares',
      'cpuset/cpuset.cpus',
      'pids/pids.max',
      'blkio/blkio.throttle.read_bps_device',
      'blkio/blkio.throttle.write_iops_device',
    ];
    const r = husk(root, [
      'run', '--network', 'none', '--memory', '64m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512',
      '--cpuset-cpus', '1', '--pids-limit', '50', '--device-read-bps', '/dev/vda:1mb', '--device-write-iops', '/dev/vda:100',
      'host', 'sh', '-c', files.map((f) => `cat /sys/fs/cgroup/${f}`).join('; '),
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      String(64 << 20), String(32 << 20), String(128 << 20), '50000', '100000', '512', '1', '50', '254:0 1048576', '254:0 100',
    ]);
  });

  it('gives every container its own cgroup, limits or not', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'cat', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('max');
  });

  it('refuses a bad value with the flag named, before anything is made', () => {
    const r = husk(root, ['run', '--network', 'none', '--memory', '1m', 'host', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: memory: Minimum memory limit allowed is 6MB/);
    const c = husk(root, ['run', '--network', 'none', '--cpuset-cpus', '7', 'host', 'true']);
    expect(c.status).toBe(125);
    expect(c.stderr).toMatch(/cpuset-cpus: Requested CPUs are not available - requested 7, available: 0-1/);
    const d = husk(root, ['run', '--network', 'none', '--device-read-bps', '/dev/nope:1mb', 'host', 'true']);
    expect(d.status).toBe(125);
    expect(d.stderr).toMatch(/device-read-bps: \/dev\/nope: no such device/);
  });

  it('OOM-kills a memory hog, exits 137 and says so', () => {
    const r = husk(root, ['run', '--network', 'none', '--memory', '32m', 'host', 'sh', '-c', 'x=$(head -c 200m /dev/zero | tr "\\0" x); echo survived']);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(137);
    expect(r.stderr).toBe('husk: container was OOM-killed (memory limit 32MiB)\n');
  });

  it('contains a fork bomb at the pids limit while the host keeps working, and removes it all', async () => {
    const { id } = runDetached(['--pids-limit', '20', 'host', 'sh', '-c', 'b() { b | b & }; b; sleep 100']);
    const pidsDir = join(V1, 'pids', PARENT, id);
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8')));
      // The host still forks.
      expect(spawnSync('true').status).toBe(0);
      await sleep(100);
    }
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(20);
    expect(Number(/max (\d+)/.exec(readFileSync(join(pidsDir, 'pids.events'), 'utf8'))![1])).toBeGreaterThan(0);
    const rm = husk(root, ['rm', '-f', id]);
    expect(rm.status, rm.stderr).toBe(0);
    expect(existsSync(pidsDir)).toBe(false);
  });

  // The quota is a ceiling: the loop may get less when the host is busy (other suites, CI
  // neighbours), so the floor asserted is only that the kernel throttled it, not a share.
  it('holds a busy loop under --cpus 0.5 to at most about half a CPU (cpuacct.usage over 3 s, throttled)', async () => {
    const { id } = runDetached(['--cpus', '0.5', 'host', 'sh', '-c', 'while :; do :; done']);
    const usage = () => Number(readFileSync(join(V1, 'cpuacct', PARENT, id, 'cpuacct.usage'), 'utf8'));
    const throttled = () => Number(/nr_throttled (\d+)/.exec(readFileSync(join(V1, 'cpu', PARENT, id, 'cpu.stat'), 'utf8'))?.[1]);
    await sleep(300);
    const u0 = usage();
    const n0 = throttled();
    const t0 = process.hrtime.bigint();
    await sleep(3000);
    const share = (usage() - u0) / Number(process.hrtime.bigint() - t0);
    expect(share).toBeGreaterThan(0.02);
    expect(share).toBeLessThan(0.65);
    expect(throttled()).toBeGreaterThan(n0);
    const stats = husk(root, ['stats', '--no-stream', '--format', 'json', id]);
    const cpu = JSON.parse(stats.stdout.trim()).Raw.cpuPercent;
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeLessThan(75);
    expect(husk(root, ['rm', '-f', id]).status).toBe(0);
  });

  it('pins the process to --cpuset-cpus', () => {
    const r = husk(root, ['run', '--network', 'none', '--cpuset-cpus', '1', 'host', 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    expect(r.stdout).toMatch(/^Cpus_allowed_list:\s+1$/m);
  });
});

describe('the cgroup namespace and hierarchies', () => {
  it('joins every hierarchy, v1 and the cgroup2 one, under the parent (hybrid, as runc)', () => {
    const { id, pid } = runDetached(['host', 'sleep', '60']);
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    const want = `/${PARENT}/${id}`;
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd', '']) {
      expect(cgroupOf(pid, h), h || 'cgroup2').toBe(want);
    }
    expect(lines.length).toBe(10);
    expect(readFileSync(join(V1, 'unified', PARENT, id, 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
    expect(husk(root, ['rm', '-f', id]).status).toBe(0);
  });

  it('shows the container its own cgroups as the root, read-only', () => {
    const r = husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'cat /proc/self/cgroup; echo 5 > /sys/fs/cgroup/pids/pids.max && echo wrote; mkdir /sys/fs/cgroup/memory/x && echo made; ls /sys/fs/cgroup']);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 10).every((l) => l.endsWith(':/'))).toBe(true);
    expect(r.stdout).not.toMatch(/wrote|made/);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(lines.slice(10)).toEqual(['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd', 'unified']);
  });
});

describe('pause, top and threads', () => {
  it('pause stops progress and unpause resumes it', async () => {
    const { id, pid } = runDetached(['--name', `counter-${process.pid}`, 'host', 'sh', '-c', ': > /tmp/n; while :; do printf x >> /tmp/n; done']);
    // One byte a round (a frozen shell may be between two appends, never inside a number).
    const counter = () => statSync(`/proc/${pid}/root/tmp/n`).size;
    await sleep(200);
    expect(husk(root, ['pause', `counter-${process.pid}`]).status).toBe(0);
    expect(inspect(id).State).toMatchObject({ Status: 'paused', Paused: true, Running: true });
    expect(husk(root, ['ps']).stdout).toMatch(/\(Paused\)/);
    const a = counter();
    await sleep(300);
    expect(counter()).toBe(a);
    expect(husk(root, ['unpause', id]).status).toBe(0);
    await sleep(300);
    expect(counter()).toBeGreaterThan(a);
    expect(inspect(id).State.Paused).toBe(false);
    expect(husk(root, ['rm', '-f', id]).status).toBe(0);
  });

  it('lists a multi-threaded process once under top and each thread under top -L', async () => {
    const py = 'import threading,time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\ntime.sleep(60)';
    const { id, pid } = runDetached(['host', '/usr/bin/python3', '-c', py]);
    let threads: string[] = [];
    for (let i = 0; i < 50 && threads.length < 5; i++) {
      threads = husk(root, ['top', '-L', id]).stdout.trim().split('\n');
      await sleep(50);
    }
    expect(threads[0].split(/\s+/)).toEqual(['UID', 'PID', 'PPID', 'LWP', 'C', 'NLWP', 'STIME', 'TTY', 'TIME', 'CMD']);
    const rows = threads.slice(1).map((l) => l.split(/\s+/));
    expect(rows.length).toBe(4);
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set([String(pid)]));
    expect(new Set(rows.map((r) => r[3])).size).toBe(4);
    expect(rows.every((r) => r[5] === '4')).toBe(true);
    const procs = husk(root, ['top', id]).stdout.trim().split('\n');
    expect(procs.length).toBe(2);
    expect(procs[1]).toMatch(/python3 -c/);
    expect(husk(root, ['rm', '-f', id]).status).toBe(0);
  });
});

describe('cgroup v2 (the cgroup2 mount here: no controllers, the core files work)', () => {
  const unified = join(V1, 'unified');
  const host = new V2Cgroups(hostCgroupFacts());
  const made: string[] = [];
  const mk = (name: string): string => {
    const dir = join(unified, PARENT, name);
    mkdirSync(dir, { recursive: true });
    made.push(dir);
    return dir;
  };
  afterEach(async () => {
    await host.remove(made.splice(0).reverse().map((path) => ({ version: 2 as const, controllers: [], path })));
  });

  it('cgroup.procs, cgroup.freeze with cgroup.events, and cgroup.kill', async () => {
    const dir = mk(`v2-${process.pid}`);
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', (_c, sig) => r(sig)));
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    const dirs = [{ version: 2 as const, controllers: [], path: dir }];
    expect(host.processes(dirs)).toEqual([child.pid]);
    await host.freeze(dirs);
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    expect(host.isFrozen(dirs)).toBe(true);
    await host.thaw(dirs);
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 0$/m);
    await host.kill(dirs);
    expect(await exited).toBe('SIGKILL');
    expect(host.processes(dirs)).toEqual([]);
  });

  it('a threaded subtree: threads are listed by cgroup.threads, not cgroup.procs', async () => {
    const dir = mk(`v2-threads-${process.pid}`);
    const py = 'import threading,time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint("up", flush=True)\ntime.sleep(60)';
    const child = spawn('/usr/bin/python3', ['-c', py], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => child.stdout!.once('data', r));
    const exited = new Promise((r) => child.once('exit', r));
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    const threaded = mk(`v2-threads-${process.pid}/t`);
    writeFileSync(join(threaded, 'cgroup.type'), 'threaded');
    expect(readFileSync(join(dir, 'cgroup.type'), 'utf8').trim()).toBe('domain threaded');
    const tids = readdirSync(`/proc/${child.pid}/task`).map(Number).sort((a, b) => a - b);
    expect(tids).toHaveLength(4);
    const moved = tids.find((t) => t !== child.pid)!;
    writeFileSync(join(threaded, 'cgroup.threads'), String(moved));
    expect(readFileSync(join(threaded, 'cgroup.threads'), 'utf8').trim()).toBe(String(moved));
    // A threaded cgroup has threads, not processes: its cgroup.procs cannot even be read.
    expect(() => readFileSync(join(threaded, 'cgroup.procs'), 'utf8')).toThrow(/ENOTSUP|EOPNOTSUPP/);
    const dirs = [{ version: 2 as const, controllers: [], path: dir }];
    expect(host.threads(dirs)).toEqual(tids);
    expect(host.processes(dirs)).toEqual([child.pid]);
    await host.kill(dirs);
    await exited;
  });
});
