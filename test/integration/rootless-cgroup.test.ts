// A user's containers in a real delegated cgroup2 subtree: on this hybrid host's cgroup2 mount
// (/sys/fs/cgroup/unified) the test makes a directory and hands it to the throwaway user as
// systemd's Delegate=yes does (the directory and its cgroup.procs, cgroup.subtree_control and
// cgroup.threads chowned), and the user's husk starts in a leaf below it. The container lands
// in <delegated>/husk/<id>, `rm -f` kills all of it through cgroup.kill (a process moved into
// the container's cgroup from outside its pid namespace dies too) and removes the directory;
// limits on v1 controllers stay refused with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { useTestUser } from './rootless-user.js';

useLeakCheck();
const user = useTestUser();
const rootfs = suiteRootfs();
const UNIFIED = '/sys/fs/cgroup/unified';
const delegated = join(UNIFIED, `husk-test-rl-${process.pid}`);
/** Where the user's commands start: a leaf of the delegated subtree (as a login's scope). */
const session = join(delegated, 'session');
const DELEGATED_FILES = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'];

function delegate(dir: string): void {
  mkdirSync(dir);
  chownSync(dir, user.uid, user.gid);
  for (const f of DELEGATED_FILES) chownSync(join(dir, f), user.uid, user.gid);
}

beforeAll(() => {
  user.setRanges(undefined);
  delegate(delegated);
  delegate(session);
});

afterAll(() => {
  // What husk left (its shared parent `husk`, empty), then the test's own directories.
  for (const dir of [join(delegated, 'husk'), session, delegated]) {
    if (existsSync(dir)) rmdirSync(dir);
  }
});

const procsOf = (dir: string) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a user with a delegated cgroup2 subtree', () => {
  it('the container lands in <delegated>/husk/<id>; rm -f kills all of it through cgroup.kill and removes the directory', async () => {
    const run = user.husk(['run', '-d', '--rootfs', rootfs, 'sleep', '60'], { cgroup: session });
    expect(run.status, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const dir = join(delegated, 'husk', id);
    let stray: number | undefined;
    try {
      expect(existsSync(dir)).toBe(true);
      const pids = procsOf(dir);
      expect(pids.length).toBeGreaterThan(0);
      // The container's sleep, seen from the host: its cgroup is the container's.
      expect(readFileSync(`/proc/${pids[0]}/cgroup`, 'utf8')).toContain(`0::/${delegated.slice(UNIFIED.length + 1)}/husk/${id}\n`);
      // A process of the user's outside the container's pid namespace, moved into its cgroup:
      // only cgroup.kill reaches it.
      const child = spawn('setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--', 'sleep', '60'], { stdio: 'ignore', detached: true });
      child.unref();
      stray = child.pid!;
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(dir, 'cgroup.procs'), `${stray}\n`);
      expect(procsOf(dir)).toContain(stray);
    } finally {
      const rm = user.husk(['rm', '-f', id], { cgroup: session });
      expect(rm.status, rm.stderr).toBe(0);
    }
    expect(existsSync(dir)).toBe(false);
    for (let i = 0; i < 50 && alive(stray!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(stray!)).toBe(false);
    expect(readdirSync(join(delegated, 'husk')).filter((n) => !n.startsWith('cgroup.') && existsSync(join(delegated, 'husk', n, 'cgroup.procs')))).toEqual([]);
  });

  it('a foreground run lands there too and its directory goes with it', () => {
    const r = user.husk(['run', '--rootfs', rootfs, 'sh', '-c', 'cat /proc/self/cgroup'], { cgroup: session });
    expect(r.status, r.stderr).toBe(0);
    // Inside its own cgroup namespace the container's cgroup is its root.
    expect(r.stdout).toContain('0::/\n');
    expect(readdirSync(join(delegated, 'husk')).filter((n) => existsSync(join(delegated, 'husk', n, 'cgroup.procs')))).toEqual([]);
  });

  it('--memory and --pids-limit are still refused with the reason: their controllers are cgroup v1 here', () => {
    for (const flag of [['--memory', '64m'], ['--pids-limit', '10']]) {
      const r = user.husk(['run', ...flag, '--rootfs', rootfs, 'true'], { cgroup: session });
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(new RegExp(`^husk: [\\w-]+: the \\w+ controller is a cgroup v1 controller here, and cgroup v1 cannot be delegated to an unprivileged user, so husk cannot enforce ${flag[0]} without root`));
      expect(r.stderr.split('\n').length).toBe(2);
    }
  });

  it('without the delegation (the user\'s husk started in a cgroup of root\'s) a run takes no cgroup at all', () => {
    const before = readdirSync(UNIFIED);
    const r = user.husk(['run', '--rootfs', rootfs, 'true']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(UNIFIED)).toEqual(before);
  });
});
