// husk-runc's commands for a container that runs, as engines use them: pause and resume
// (state says paused; the processes stop), ps (the container's pids), update (new limits in
// the container's own cgroup files, v1 or v2), events --stats (runc's JSON line), and
// create and exec --preserve-fds (the engine's extra fds reach the process, nothing else does),
// exec --additional-gids and process.user.additionalGids.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { runc, bundle, stateOf, cgroupDirsOf, bundles } = useRunc();

function threadStates(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8').match(/^State:\s+(\S)/m)![1];
}

describe('husk-runc on a running container', () => {
  it('pause freezes every process (state: paused), resume thaws them; ps lists their pids', async () => {
    const dir = bundle(['sh', '-c', 'sleep 60 & exec sleep 61']);
    expect(runc(['run', '-d', '--bundle', dir, 'p1']).status).toBe(0);
    const pid = stateOf('p1').pid;
    const ps = runc(['ps', '--format', 'json', 'p1']);
    expect(ps.status, ps.stderr).toBe(0);
    const pids: number[] = JSON.parse(ps.stdout);
    expect(pids).toContain(pid);
    expect(pids.length).toBe(2);
    const table = runc(['ps', 'p1']);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/PID/);
    expect(table.stdout).toMatch(/sleep 61/);
    expect(table.stdout).not.toMatch(/husk-runc/);

    const paused = runc(['pause', 'p1']);
    expect(paused.status, paused.stderr).toBe(0);
    expect(stateOf('p1').status).toBe('paused');
    // A frozen task sleeps in the freezer: uninterruptible (D) on v1, S on v2, never R.
    expect(['D', 'S']).toContain(threadStates(pid));
    expect(runc(['pause', 'p1']).stderr).toBe('husk-runc: container already paused\n');
    expect(runc(['exec', 'p1', 'true']).stderr).toMatch(/paused container/);
    expect(runc(['delete', 'p1']).stderr).toMatch(/not stopped: paused/);
    const resumed = runc(['resume', 'p1']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(stateOf('p1').status).toBe('running');
    expect(runc(['resume', 'p1']).stderr).toBe('husk-runc: container not paused\n');
    expect(runc(['delete', '--force', 'p1']).status).toBe(0);
  });

  it('update writes new memory, cpu and pids limits into the container\'s cgroup; events --stats reads them', () => {
    const dir = bundle(['sleep', '60'], (c) => (c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 50 } }));
    expect(runc(['run', '-d', '--bundle', dir, 'u1']).status).toBe(0);
    const dirs = cgroupDirsOf('u1');
    const file = (v1: string, v2: string) => {
      for (const d of dirs) for (const f of [v1, v2]) if (existsSync(join(d, f))) return readFileSync(join(d, f), 'utf8').trim();
      throw new Error(`no ${v1} or ${v2} in ${dirs.join(', ')}`);
    };
    expect(file('memory.limit_in_bytes', 'memory.max')).toBe(String(64 << 20));
    expect(file('pids.max', 'pids.max')).toBe('50');

    const flags = runc(['update', '--memory', '256m', '--pids-limit', '70', '--cpu-quota', '50000', '--cpu-period', '100000', 'u1']);
    expect(flags.status, flags.stderr).toBe(0);
    expect(file('memory.limit_in_bytes', 'memory.max')).toBe(String(256 << 20)); // over the old memory+swap limit
    expect(file('pids.max', 'pids.max')).toBe('70');
    expect(file('cpu.cfs_quota_us', 'cpu.max')).toMatch(/^50000( 100000)?$/);

    const fromStdin = runc(['update', '--resources', '-', 'u1'], { input: JSON.stringify({ pids: { limit: -1 }, memory: { limit: 128 << 20 } }) });
    expect(fromStdin.status, fromStdin.stderr).toBe(0);
    expect(file('pids.max', 'pids.max')).toBe('max');
    expect(file('memory.limit_in_bytes', 'memory.max')).toBe(String(128 << 20));

    const bad = runc(['update', '--resources', '-', 'u1'], { input: JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }) });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('husk-runc: linux.resources.hugepageLimits: not supported by husk-runc\n');

    const events = runc(['events', '--stats', 'u1']);
    expect(events.status, events.stderr).toBe(0);
    const line = JSON.parse(events.stdout);
    expect(line).toMatchObject({ type: 'stats', id: 'u1', data: { memory: { usage: { limit: 128 << 20 } }, pids: { current: 1 } } });
    expect(line.data.cpu.usage.total).toBeGreaterThan(0);
    expect(runc(['delete', '--force', 'u1']).status).toBe(0);
    expect(runc(['update', '--memory', '1g', 'u1']).stderr).toBe('husk-runc: container does not exist: u1\n');
  });

  it('create --preserve-fds N: the engine\'s fds 3 to 3+N-1 reach the process, no other fd does', () => {
    const dir = bundle(['sh', '-c', 'echo kept >&3; ls /proc/self/fd | sort -n | tr "\\n" " "']);
    const path = join(bundles, 'preserved');
    const fd = openSync(path, 'w');
    try {
      const r = runc(['run', '--preserve-fds', '1', '--bundle', dir, 'fds'], { fds: [fd] });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // 0-2, the kept fd 3, and the fd ls itself opened to read /proc/self/fd.
      expect(r.stdout).toBe('0 1 2 3 4 ');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('kept\n');
    expect(runc(['run', '--preserve-fds', 'x', '--bundle', dir, 'fds2']).stderr).toBe('husk-runc: run: --preserve-fds: not a number: x\n');
  });

  it('exec --preserve-fds N and --additional-gids: the fd and the groups reach the exec\'d process', () => {
    const dir = bundle(['sleep', '60'], (c) => (c.process.user.additionalGids = [4]));
    expect(runc(['run', '-d', '--bundle', dir, 'xf']).status).toBe(0);
    const path = join(bundles, 'exec-preserved');
    const fd = openSync(path, 'w');
    try {
      const r = runc(['exec', '--preserve-fds', '1', '--user', '1000:1000', '--additional-gids', '5', '-g', '7,9', 'xf', 'sh', '-c', 'echo kept >&3; id -G; ls /proc/self/fd | sort -n | tr "\\n" " "'], { fds: [fd] });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // The config's additionalGids stay; exec's come after them (runc's order).
      expect(r.stdout).toBe('1000 4 5 7 9\n0 1 2 3 4 ');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('kept\n');
    // Without the flag, fd 3 does not reach it.
    const nul = openSync('/dev/null', 'r');
    try {
      const plain = runc(['exec', 'xf', 'sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; id -G'], { fds: [nul] });
      expect(plain.stdout).toBe('0 1 2 3 0 4\n');
    } finally {
      closeSync(nul);
    }
    expect(runc(['exec', '-g', 'x', 'xf', 'true']).stderr).toBe('husk-runc: exec: --additional-gids: not a number: x\n');
    expect(runc(['exec', '--preserve-fds', '1025', 'xf', 'true']).stderr).toBe('husk-runc: --preserve-fds: 1025 is over 1024\n');
    expect(runc(['delete', '--force', 'xf']).status).toBe(0);
  });

  it('process.ioPriority: the process runs in that I/O class and level (seen from the host); an unknown class is refused by name', () => {
    const dir = bundle(['sleep', '60'], (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 5 }));
    expect(runc(['run', '-d', '--bundle', dir, 'io']).status).toBe(0);
    const pid = stateOf('io').pid;
    const seen = spawnSync('ionice', ['-p', String(pid)], { encoding: 'utf8' });
    expect(seen.stdout).toBe('best-effort: prio 5\n');
    expect(runc(['delete', '--force', 'io']).status).toBe(0);
    const bad = bundle(['true'], (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_FAST', priority: 1 }));
    expect(runc(['run', '--bundle', bad, 'io2']).stderr).toBe('husk-runc: process.ioPriority.class: "IOPRIO_CLASS_FAST" is not IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE\n');
    const high = bundle(['true'], (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }));
    expect(runc(['run', '--bundle', high, 'io3']).stderr).toBe('husk-runc: process.ioPriority.priority: 8 is not 0 to 7\n');
  });

  it('process.scheduler and linux.personality: the process runs with that policy and nice, and uname says i686 under LINUX32', () => {
    const dir = bundle(['sleep', '60'], (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 3 }));
    expect(runc(['run', '-d', '--bundle', dir, 'sched']).status).toBe(0);
    const pid = stateOf('sched').pid;
    expect(spawnSync('chrt', ['-p', String(pid)], { encoding: 'utf8' }).stdout).toMatch(/current scheduling policy: SCHED_BATCH\n/);
    // /proc/PID/stat's 19th field is the nice value (after the command, which has no spaces here).
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[18]).toBe('3');
    expect(runc(['delete', '--force', 'sched']).status).toBe(0);
    const p32 = bundle(['uname', '-m'], (c) => (c.linux.personality = { domain: 'LINUX32' }));
    const r = runc(['run', '--bundle', p32, 'p32']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('i686\n');
  });
});
