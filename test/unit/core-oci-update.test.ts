// The core's ociUpdate (assembly/plan/oci-update.ts): `husk-runc update`'s linux.resources
// as a control plan of CGROUP_SET writes in the container's own cgroup, for v1, v2 and
// hybrid hosts; and ociPlan's PRESERVE_FDS (create --preserve-fds). Pure: no kernel.
import { describe, expect, it } from 'vitest';
import type { PlanCgroup } from '../../ts/core/build-plan.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { ociPlan, ociUpdate } from '../../ts/core/oci-plan.js';
import { defaultSpec } from '../../ts/runc/spec.js';

const HYBRID: PlanCgroup['hierarchies'] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/pids', controllers: ['pids'] },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] },
];
const V2: PlanCgroup['hierarchies'] = [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }];
const HOST = { cpus: 2, mems: 1, flags: 0, cpusetCpus: '0-1', cpusetMems: '0' };
const cg = (hierarchies: PlanCgroup['hierarchies']): PlanCgroup => ({ parent: 'machine', name: 'box', hierarchies, limits: [], host: HOST });

const writes = (resources: unknown, hierarchies = HYBRID) => {
  const plan = ociUpdate(resources, cg(hierarchies));
  if (plan === undefined) return [];
  return describePlanBytes(plan).ops.map((o) => {
    expect(o.name).toBe('CGROUP_SET');
    return `${o.args.path}=${o.args.value}`;
  });
};

const refusal = (resources: unknown) => {
  try {
    ociUpdate(resources, cg(HYBRID));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('ociUpdate', () => {
  it('writes each limit into the container\'s own directory of the hierarchy that has its controller (hybrid)', () => {
    // Docker's rule, as at create: a memory limit without swap gets as much swap again.
    expect(writes({ memory: { limit: 64 << 20 }, pids: { limit: 70 }, cpu: { quota: 50000, period: 100000 } })).toEqual([
      '/sys/fs/cgroup/cpu,cpuacct/machine/box/cpu.cfs_period_us=100000',
      '/sys/fs/cgroup/cpu,cpuacct/machine/box/cpu.cfs_quota_us=50000',
      '/sys/fs/cgroup/memory/machine/box/memory.memsw.limit_in_bytes=-1',
      `/sys/fs/cgroup/memory/machine/box/memory.limit_in_bytes=${64 << 20}`,
      `/sys/fs/cgroup/memory/machine/box/memory.memsw.limit_in_bytes=${128 << 20}`,
      '/sys/fs/cgroup/pids/machine/box/pids.max=70',
    ]);
  });

  it('on cgroup v2 the same fields are v2 files of the one directory', () => {
    // fs2.Manager.Set's order; swap.max is memory+swap less memory.
    expect(writes({ memory: { limit: 64 << 20, swap: 96 << 20 }, pids: { limit: 70 } }, V2)).toEqual([
      '/sys/fs/cgroup/machine/box/pids.max=70',
      `/sys/fs/cgroup/machine/box/memory.swap.max=${32 << 20}`,
      `/sys/fs/cgroup/machine/box/memory.max=${64 << 20}`,
    ]);
  });

  it('a pids limit of -1 or 0 lifts the limit; nothing to change is no plan', () => {
    expect(writes({ pids: { limit: -1 } })).toEqual(['/sys/fs/cgroup/pids/machine/box/pids.max=max']);
    expect(writes({ pids: { limit: 0 } }, V2)).toEqual(['/sys/fs/cgroup/machine/box/pids.max=max']);
    expect(writes({})).toEqual([]);
  });

  it('refuses what update cannot change, naming the field', () => {
    expect(refusal({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] })).toBe('linux.resources.hugepageLimits: not supported by husk-runc');
    expect(refusal({ memory: { kernel: 1 } })).toBe('linux.resources.memory.kernel: not supported by husk-runc');
    expect(refusal({ devices: [{ allow: false, access: 'rwm' }] })).toMatch(/^linux\.resources\.devices: update cannot change/);
    expect(refusal({ memory: { limit: 'lots' } })).toMatch(/^linux\.resources: /);
    expect(refusal([])).toBe('linux.resources: not an object');
  });
});

describe('ociPlan --preserve-fds', () => {
  const config = () => {
    const c: any = defaultSpec(false);
    c.process.terminal = false;
    c.process.args = ['true'];
    return c;
  };
  it('PRESERVE_FDS follows CLOSE_FDS with the count, and only when asked', () => {
    const ops = describePlanBytes(ociPlan(config(), { bundle: '/b', preserveFds: 2 }).plan).ops;
    const at = ops.findIndex((o) => o.name === 'CLOSE_FDS');
    expect(ops[at + 1].name).toBe('PRESERVE_FDS');
    expect(Number(ops[at + 1].args.count)).toBe(2);
    expect(describePlanBytes(ociPlan(config(), { bundle: '/b' }).plan).ops.map((o) => o.name)).not.toContain('PRESERVE_FDS');
    expect(() => ociPlan(config(), { bundle: '/b', preserveFds: 1025 })).toThrow('--preserve-fds: 1025 is over 1024');
  });
});

describe('ociPlan linux.resources.memory fields docker has no flag for', () => {
  const config = (memory: unknown) => {
    const c: any = defaultSpec(false);
    c.process.terminal = false;
    c.process.args = ['true'];
    c.linux.resources.memory = memory;
    return c;
  };
  const refusal = (c: unknown, hierarchies = HYBRID) => {
    try {
      ociPlan(c, { bundle: '/b', cgroup: cg(hierarchies) });
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('not refused');
  };
  it('swappiness and disableOOMKiller are written to the v1 memory controller; kernel and kernelTCP ignored with a warning, as runc', () => {
    const answer = ociPlan(config({ limit: 67108864, kernel: 67108864, kernelTCP: 67108864, swappiness: 10, disableOOMKiller: true }), { bundle: '/b', cgroup: cg(HYBRID) });
    const written = describePlanBytes(answer.plan).ops.filter((o) => o.name === 'CGROUP_WRITE').map((o) => `${o.args.path}=${o.args.value}`);
    expect(written).toEqual(expect.arrayContaining([
      '/sys/fs/cgroup/memory/machine/box/memory.limit_in_bytes=67108864',
      '/sys/fs/cgroup/memory/machine/box/memory.swappiness=10',
      '/sys/fs/cgroup/memory/machine/box/memory.oom_control=1',
    ]));
    expect(answer.summary.warnings).toEqual([
      'linux.resources.memory.kernel: ignored, as runc ignores kernel memory limits',
      'linux.resources.memory.kernelTCP: ignored, as runc ignores kernel memory limits',
    ]);
    expect(describePlanBytes(ociPlan(config({ disableOOMKiller: false }), { bundle: '/b', cgroup: cg(HYBRID) }).plan).ops.some((o) => o.name === 'CGROUP_WRITE' && String(o.args.path).endsWith('oom_control'))).toBe(false);
  });
  it('refused by name on cgroup v2 (no such files) and out of range', () => {
    expect(refusal(config({ swappiness: 10 }), V2)).toBe('linux.resources.memory.swappiness: needs a cgroup v1 memory controller (cgroup v2 has no such setting)');
    expect(refusal(config({ disableOOMKiller: true }), V2)).toBe('linux.resources.memory.disableOOMKiller: needs a cgroup v1 memory controller (cgroup v2 has no such setting)');
    expect(refusal(config({ swappiness: 101 }))).toBe('linux.resources.memory.swappiness: "101" is not 0 to 100');
    // `update` does not take them (as before: refused by name).
    expect(() => writes({ memory: { swappiness: 10 } })).toThrow('linux.resources.memory.swappiness: not supported by husk-runc');
  });
});
