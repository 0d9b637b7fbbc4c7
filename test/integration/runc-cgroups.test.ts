// husk-runc's cgroup placement: with no linux.cgroupsPath the container goes under the
// default parent husk-runc/, which delete removes again once it is empty (by the fast front
// and by Node, which a poststop hook sends delete to); a cgroupsPath of one component puts
// it right under each hierarchy's root, as runc does.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { huskRunc, useRunc } from './runc-harness.js';

const { root, bundles, runc, bundle, cgroupDirsOf } = useRunc();

/** husk-runc --root ROOT ARGS, not waited for in turn: its status and stderr. stderr goes to a
 *  file (a created container keeps the stdio it was given: a pipe would stay open). */
let asyncCalls = 0;
function runcAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const errPath = join(bundles, `async-stderr-${asyncCalls++}`);
  const fd = openSync(errPath, 'w');
  return new Promise((resolve) => {
    const child = spawn(huskRunc, ['--root', root, ...args], { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    child.on('exit', (status) => resolve({ status, stderr: readFileSync(errPath, 'utf8') }));
  });
}

/** Every hierarchy's root: /sys/fs/cgroup itself (v2) and the directories in it (v1, unified). */
function hierarchyRoots(): string[] {
  const top = '/sys/fs/cgroup';
  const subs = readdirSync(top, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(top, e.name));
  return [top, ...subs].filter((d) => existsSync(join(d, 'cgroup.procs')));
}

const defaultParents = () => hierarchyRoots().map((r) => join(r, 'husk-runc')).filter((d) => existsSync(d));

describe('husk-runc cgroups', () => {
  for (const via of ['the fast front', 'Node (a poststop hook)']) {
    it(`with no cgroupsPath, delete by ${via} leaves no husk-runc/ behind`, (ctx) => {
      if (defaultParents().length > 0) ctx.skip(); // someone else's containers are there
      const dir = bundle(['true'], (cfg) => {
        delete cfg.linux.cgroupsPath;
        if (via !== 'the fast front') cfg.hooks = { poststop: [{ path: '/bin/true' }] };
      });
      const id = via === 'the fast front' ? 'd1' : 'd2';
      const made = runc(['create', '--bundle', dir, id]);
      expect(made.status, made.stderr).toBe(0);
      const dirs = cgroupDirsOf(id);
      expect(dirs.length).toBeGreaterThan(0);
      for (const d of dirs) expect(d).toMatch(new RegExp(`/husk-runc/${id}$`));
      expect(defaultParents().length).toBeGreaterThan(0);
      const gone = runc(['delete', id]);
      expect(gone.status, gone.stderr).toBe(0);
      for (const d of dirs) expect(existsSync(d)).toBe(false);
      expect(defaultParents()).toEqual([]);
    });
  }

  it('8 creates and deletes at once with no cgroupsPath, 3 rounds each: every one succeeds, no husk-runc/ left', async (ctx) => {
    if (defaultParents().length > 0) ctx.skip();
    const dirs = Array.from({ length: 8 }, () => bundle(['true'], (cfg) => delete cfg.linux.cgroupsPath));
    const failures: string[] = [];
    await Promise.all(dirs.map(async (dir, i) => {
      for (let round = 0; round < 3; round++) {
        const id = `r${i}-${round}`;
        const made = await runcAsync(['create', '--bundle', dir, id]);
        if (made.status !== 0) failures.push(`create ${id}: ${made.stderr}`);
        const gone = await runcAsync(['delete', '--force', id]);
        if (gone.status !== 0 && made.status === 0) failures.push(`delete ${id}: ${gone.stderr}`);
      }
    }));
    expect(failures).toEqual([]);
    expect(defaultParents()).toEqual([]);
  });

  it('delete keeps husk-runc/ while another container is in it', (ctx) => {
    if (defaultParents().length > 0) ctx.skip();
    const [a, b] = ['k1', 'k2'].map(() => bundle(['true'], (cfg) => delete cfg.linux.cgroupsPath));
    expect(runc(['create', '--bundle', a, 'k1']).status).toBe(0);
    expect(runc(['create', '--bundle', b, 'k2']).status).toBe(0);
    const d1 = runc(['delete', 'k1']);
    expect(d1.status, d1.stderr).toBe(0);
    expect(defaultParents().length).toBeGreaterThan(0);
    const d2 = runc(['delete', 'k2']);
    expect(d2.status, d2.stderr).toBe(0);
    expect(defaultParents()).toEqual([]);
  });

  it('a one-component cgroupsPath (/name) is the cgroup right under each hierarchy root, removed on delete', () => {
    const name = `husk-test-runc-tools-${process.pid}`;
    const dir = bundle(['sleep', '30'], (cfg) => (cfg.linux.cgroupsPath = `/${name}`));
    const made = runc(['create', '--bundle', dir, 'o1']);
    expect(made.status, made.stderr).toBe(0);
    const dirs = cgroupDirsOf('o1');
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(hierarchyRoots().map((r) => join(r, name))).toContain(d);
    const pid = JSON.parse(runc(['state', 'o1']).stdout).pid;
    expect(readFileSync(join(dirs[0], 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
    const gone = runc(['delete', '--force', 'o1']);
    expect(gone.status, gone.stderr).toBe(0);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
  });

  it('memory.swappiness and disableOOMKiller are written to the v1 memory cgroup; kernel and kernelTCP ignored with a warning, as runc', (ctx) => {
    const dir = bundle(['true'], (cfg) => (cfg.linux.resources = { ...cfg.linux.resources, memory: { limit: 67108864, kernel: 67108864, kernelTCP: 67108864, swappiness: 10, disableOOMKiller: true } }));
    const made = runc(['create', '--bundle', dir, 'm1']);
    if (made.stderr.includes('needs a cgroup v1 memory controller')) ctx.skip(); // a pure v2 host
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toBe('husk-runc: warning: linux.resources.memory.kernel: ignored, as runc ignores kernel memory limits\n' +
      'husk-runc: warning: linux.resources.memory.kernelTCP: ignored, as runc ignores kernel memory limits\n');
    const memory = cgroupDirsOf('m1').find((d) => existsSync(join(d, 'memory.swappiness')))!;
    expect(readFileSync(join(memory, 'memory.swappiness'), 'utf8')).toBe('10\n');
    expect(readFileSync(join(memory, 'memory.oom_control'), 'utf8')).toMatch(/^oom_kill_disable 1$/m);
    expect(runc(['delete', '--force', 'm1']).status).toBe(0);
  });

  it('a cgroupsPath that escapes or names nothing is still refused by name', () => {
    for (const path of ['/..', '/../x', '/a/../b', '/']) {
      const dir = bundle(['true'], (cfg) => (cfg.linux.cgroupsPath = path));
      const r = runc(['create', '--bundle', dir, 'e1']);
      expect(r.status, path).not.toBe(0);
      expect(r.stderr, path).toMatch(/cgroup/);
    }
  });
});
