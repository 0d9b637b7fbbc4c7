// Layouts this machine does not have, on fake cgroupfs trees in temp dirs: a pure v2 host
// (the plan's writes applied as the launcher would, by a fake kernel that only makes a
// controller's files where the parent enabled it), and the CgroupHost implementations
// reading usage, processes, threads and freezer state from v1 and v2 files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanCgroup } from '../../ts/core/build-plan.js';
import type { CgroupFacts } from '../../ts/cgroup/detect.js';
import { HybridCgroups, V1Cgroups, V2Cgroups, cgroupHostFor } from '../../ts/cgroup/host.js';
import { expectCoreBuilt, hostRequest, opsOf } from './core-helpers.js';
import { controlPlan } from '../../ts/core/control.js';
import type { ControlRequest } from '../../ts/core/control.js';
import { decodePlan } from '../oracle/plan-codec.js';

/** The ops of the control plan the core makes for `req`. */
function controlOps(req: ControlRequest) {
  const plan = controlPlan(req);
  return plan === undefined ? [] : decodePlan(plan).ops;
}

let tmp: string;
beforeAll(() => {
  expectCoreBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'husk-cgtree-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The files a v2 cgroup has for each controller (a subset of the kernel's). */
const V2_FILES: Record<string, string[]> = {
  cpu: ['cpu.max', 'cpu.weight'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  io: ['io.max', 'io.weight'],
  memory: ['memory.max', 'memory.low', 'memory.swap.max', 'memory.events', 'memory.peak'],
  pids: ['pids.max', 'pids.events'],
};

/** A fake cgroup2 kernel over a directory: mkdir, writes, and the subtree_control rule. */
class FakeV2 {
  constructor(readonly root: string, controllers: string[]) {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'cgroup.controllers'), controllers.join(' '));
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
    writeFileSync(join(root, 'cgroup.procs'), '');
  }

  private real(path: string): string {
    expect(path.startsWith('/sys/fs/cgroup')).toBe(true);
    return join(this.root, path.slice('/sys/fs/cgroup'.length));
  }

  mkdir(path: string, shared: boolean): void {
    const dir = this.real(path);
    if (existsSync(dir)) {
      if (!shared) throw new Error(`EEXIST ${path}`);
      return;
    }
    const parent = dirname(dir);
    if (!existsSync(join(parent, 'cgroup.controllers'))) throw new Error(`ENOENT ${path}`);
    mkdirSync(dir);
    const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean);
    writeFileSync(join(dir, 'cgroup.controllers'), enabled.join(' '));
    for (const f of ['cgroup.subtree_control', 'cgroup.procs', 'cgroup.freeze', 'cgroup.kill', 'cgroup.threads']) writeFileSync(join(dir, f), '');
    for (const c of enabled) for (const f of V2_FILES[c] ?? []) writeFileSync(join(dir, f), '');
  }

  write(path: string, value: string): void {
    const file = this.real(path);
    if (!existsSync(file)) throw new Error(`ENOENT ${path} (the controller is not enabled there)`);
    if (file.endsWith('cgroup.subtree_control')) {
      const have = readFileSync(join(dirname(file), 'cgroup.controllers'), 'utf8').split(/\s+/);
      const now = new Set(readFileSync(file, 'utf8').split(/\s+/).filter(Boolean));
      for (const item of value.split(/\s+/)) {
        const c = item.slice(1);
        if (!have.includes(c)) throw new Error(`ENOENT: ${c} not in ${path}'s parent`);
        if (item[0] === '+') now.add(c);
        else now.delete(c);
      }
      writeFileSync(file, [...now].join(' '));
      return;
    }
    if (file.endsWith('io.max')) {
      writeFileSync(file, readFileSync(file, 'utf8') + value + '\n');
      return;
    }
    writeFileSync(file, value);
  }

  read(path: string): string {
    return readFileSync(this.real(path), 'utf8');
  }
}

describe('a pure v2 host (fake tree): the plan writes every controller file it needs, in order', () => {
  const cg: PlanCgroup = {
    parent: 'husk',
    name: 'abc',
    hierarchies: [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }],
    limits: [
      { name: 'memory', value: '64m' },
      { name: 'memory-swap', value: '96m' },
      { name: 'memory-reservation', value: '32m' },
      { name: 'cpus', value: '1.5' },
      { name: 'cpu-shares', value: '1024' },
      { name: 'cpuset-cpus', value: '0-1' },
      { name: 'pids-limit', value: '100' },
      { name: 'blkio-weight', value: '500' },
      { name: 'device-read-bps', value: '8:0:1mb' },
      { name: 'device-write-iops', value: '8:0:50' },
    ],
    host: { cpus: 4, mems: 1, flags: 0, cpusetCpus: '', cpusetMems: '' },
  };

  it('succeeds on a kernel that only makes controller files where the parent enabled them', () => {
    const fake = new FakeV2(join(tmp, 'v2'), ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb']);
    const ops = opsOf(hostRequest({ cgroup: cg }));
    for (const op of ops) {
      if (op.name === 'CGROUP_MKDIR') fake.mkdir(String(op.args.path), ((op.args.flags as bigint) & 1n) === 1n);
      else if (op.name === 'CGROUP_WRITE') fake.write(String(op.args.path), String(op.args.value));
    }
    const c = (f: string) => fake.read(`/sys/fs/cgroup/husk/abc/${f}`);
    expect(fake.read('/sys/fs/cgroup/cgroup.subtree_control')).toBe('pids memory io cpu cpuset');
    expect(c('cgroup.controllers')).toBe('pids memory io cpu cpuset');
    expect(c('memory.max')).toBe(String(64 << 20));
    expect(c('memory.swap.max')).toBe(String(32 << 20));
    expect(c('memory.low')).toBe(String(32 << 20));
    expect(c('cpu.max')).toBe('150000 100000');
    expect(c('cpu.weight')).toBe('100');
    expect(c('cpuset.cpus')).toBe('0-1');
    expect(c('pids.max')).toBe('100');
    expect(c('io.weight')).toBe(String(1 + Math.floor(((500 - 10) * 9999) / 990)));
    expect(c('io.max')).toBe('8:0 rbps=1048576 wiops=50\n');
    // hugetlb was not needed, so not enabled.
    expect(fake.read('/sys/fs/cgroup/husk/cgroup.subtree_control')).not.toMatch(/hugetlb/);
  });
});

function facts(layout: CgroupFacts['layout'], hierarchies: CgroupFacts['hierarchies']): CgroupFacts {
  const controllers: CgroupFacts['controllers'] = {};
  for (const h of hierarchies) for (const c of h.controllers) if (!c.startsWith('name=')) controllers[c] = { version: h.version, mountpoint: h.mountpoint };
  return { layout, hierarchies, controllers, unified: hierarchies.find((h) => h.version === 2) };
}

function files(dir: string, content: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(content)) writeFileSync(join(dir, name), text);
}

describe('CgroupHost on a fake v2 tree', () => {
  it('reads usage, processes (sub-cgroups too), threads and the freezer', async () => {
    const mount = join(tmp, 'v2host');
    const dir = join(mount, 'husk', 'c1');
    files(dir, {
      'cgroup.procs': '10\n11\n',
      'cgroup.threads': '10\n11\n12\n',
      'cgroup.freeze': '0\n',
      'cgroup.events': 'populated 1\nfrozen 1\n',
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\n',
      'memory.current': '10485760\n',
      'memory.stat': 'anon 1\ninactive_file 1048576\n',
      'memory.max': '33554432\n',
      'pids.current': '3\n',
      'pids.max': 'max\n',
      'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n',
    });
    files(join(dir, 'sub'), { 'cgroup.procs': '13\n', 'cgroup.threads': '13\n' });
    const host = cgroupHostFor(facts('v2', [{ version: 2, mountpoint: mount, root: '/', controllers: ['memory', 'pids', 'cpu', 'io'] }]));
    expect(host).toBeInstanceOf(V2Cgroups);
    const dirs = host.dirsOf([dir]);
    expect(dirs).toEqual([{ version: 2, controllers: ['memory', 'pids', 'cpu', 'io'], path: dir }]);
    expect(host.processes(dirs)).toEqual([10, 11, 13]);
    expect(host.threads(dirs)).toEqual([10, 11, 12, 13]);
    expect(host.stats(dirs)).toEqual({
      cpuNs: 1_500_000,
      memory: { usage: 10485760 - 1048576, limit: 33554432, limited: true },
      pids: { current: 3, limit: undefined },
      blkio: { read: 101, write: 202 },
    });
    expect(host.isFrozen(dirs)).toBe(false);
    // Freezing is a control plan: the core names cgroup.freeze's directory, and the launcher,
    // which checks every path where it uses it, refuses a directory that is no cgroup.
    expect(controlOps({ action: 'freeze', hierarchies: host.hierarchies, dirs: [dir] })).toEqual([{ name: 'CGROUP_FREEZE', args: { path: dir, frozen: 1n } }]);
    await expect(host.freeze(dirs)).rejects.toThrow(/freeze cgroup .*: EXDEV/);
    expect(readFileSync(join(dir, 'cgroup.freeze'), 'utf8')).toBe('0\n');
    writeFileSync(join(dir, 'cgroup.freeze'), '1'); // as the kernel has it once frozen
    expect(host.isFrozen(dirs)).toBe(true);
  });
});

describe('CgroupHost on a fake v1 and hybrid tree', () => {
  const base = () => join(tmp, 'v1host');
  const hierarchies = (): CgroupFacts['hierarchies'] => [
    { version: 1, mountpoint: join(base(), 'cpuacct'), root: '/', controllers: ['cpuacct'] },
    { version: 1, mountpoint: join(base(), 'memory'), root: '/', controllers: ['memory'] },
    { version: 1, mountpoint: join(base(), 'pids'), root: '/', controllers: ['pids'] },
    { version: 1, mountpoint: join(base(), 'freezer'), root: '/', controllers: ['freezer'] },
    { version: 1, mountpoint: join(base(), 'blkio'), root: '/', controllers: ['blkio'] },
    { version: 2, mountpoint: join(base(), 'unified'), root: '/', controllers: [] },
  ];

  it('reads cpuacct, memory (unlimited: the host total), pids, blkio; freezes with freezer.state', async () => {
    const c = (h: string) => join(base(), h, 'husk', 'c1');
    files(c('cpuacct'), { 'cpuacct.usage': '2000000\n', 'cgroup.procs': '5\n', tasks: '5\n' });
    files(c('memory'), { 'memory.usage_in_bytes': '4096000\n', 'memory.stat': 'cache 0\ntotal_inactive_file 96000\n', 'memory.limit_in_bytes': '9223372036854771712\n', 'cgroup.procs': '5\n', tasks: '5\n' });
    files(c('pids'), { 'pids.current': '2\n', 'pids.max': '20\n', 'cgroup.procs': '5\n7\n', tasks: '5\n6\n7\n' });
    files(c('freezer'), { 'freezer.state': 'THAWED\n', 'cgroup.procs': '5\n', tasks: '5\n' });
    files(c('blkio'), { 'blkio.throttle.io_service_bytes': '8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n', 'cgroup.procs': '5\n' });
    files(c('unified'), { 'cgroup.procs': '5\n7\n', 'cgroup.freeze': '0\n' });
    const host = cgroupHostFor(facts('hybrid', hierarchies()));
    expect(host).toBeInstanceOf(HybridCgroups);
    const dirs = host.dirsOf(['cpuacct', 'memory', 'pids', 'freezer', 'blkio', 'unified'].map(c));
    expect(dirs.map((d) => d.version)).toEqual([1, 1, 1, 1, 1, 2]);
    const s = host.stats(dirs);
    expect(s.cpuNs).toBe(2_000_000);
    expect(s.memory).toMatchObject({ usage: 4000000, limited: false });
    expect(s.pids).toEqual({ current: 2, limit: 20 });
    expect(s.blkio).toEqual({ read: 10, write: 20 });
    // processes and threads: the pids hierarchy first (v1: cgroup.procs and tasks)
    expect(host.processes(dirs)).toEqual([5, 7]);
    expect(host.threads(dirs)).toEqual([5, 6, 7]);
    // Hybrid freezes with the v1 freezer (as runc does), not the v2 directory; the launcher
    // refuses the fake tree, so its state is set by hand to read it back.
    const paths = dirs.map((d) => d.path);
    expect(controlOps({ action: 'freeze', hierarchies: host.hierarchies, dirs: paths })).toEqual([{ name: 'CGROUP_FREEZE', args: { path: c('freezer'), frozen: 1n } }]);
    expect(controlOps({ action: 'thaw', hierarchies: host.hierarchies, dirs: paths })).toEqual([{ name: 'CGROUP_FREEZE', args: { path: c('freezer'), frozen: 0n } }]);
    await expect(host.freeze(dirs)).rejects.toThrow(/EXDEV/);
    writeFileSync(join(c('freezer'), 'freezer.state'), 'FROZEN');
    expect(host.isFrozen(dirs)).toBe(true);
    writeFileSync(join(c('freezer'), 'freezer.state'), 'THAWED');
    expect(host.isFrozen(dirs)).toBe(false);
    expect(cgroupHostFor(facts('v1', hierarchies().slice(0, 5)))).toBeInstanceOf(V1Cgroups);
  });
});
