// The core's cgroup part of the plan (assembly/plan/cgroup.ts): which directories in which
// hierarchy, the limit writes routed to the hierarchy that has each controller, how the
// container gets in before its first instruction (v1 hierarchies: JOIN, the process's first
// ops, then UNSHARE; the v2 one, hybrid or pure: INTO),
// the reports kept for OOM evidence, its read-only view of /sys/fs/cgroup, and the refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlanRaw, encodeRequest, CoreError } from '../../ts/core/build-plan.js';
import type { PlanCgroup, PlanRequest } from '../../ts/core/build-plan.js';
import { FrameWriter, concat } from '../../ts/protocol/frames.js';
import type { Op } from '../oracle/plan-codec.js';
import { DEFAULT_NS, NS, expectCoreBuilt, find, hostRequest, opsOf, planOf } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const ID = 'c0ffee';
const HYBRID: PlanCgroup['hierarchies'] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/cpu', controllers: ['cpu'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/cpuacct', controllers: ['cpuacct'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/cpuset', controllers: ['cpuset'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/pids', controllers: ['pids'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/systemd', controllers: ['name=systemd'] },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] },
];
const V2: PlanCgroup['hierarchies'] = [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }];
const HOST = { cpus: 2, mems: 1, flags: 0, cpusetCpus: '0-1', cpusetMems: '0' };

function cg(over: Partial<PlanCgroup> = {}): PlanCgroup {
  return { parent: 'husk', name: ID, hierarchies: HYBRID, limits: [], host: HOST, ...over };
}

const paths = (ops: Op[], name: string) => find(ops, name).map((o) => String(o.args.path));
const writes = (ops: Op[]) => find(ops, 'CGROUP_WRITE').map((o) => `${o.args.path}=${o.args.value}`);

function refusal(req: PlanRequest): string {
  const a = buildPlanRaw(encodeRequest(req));
  expect(a.status).toBe(2);
  return new TextDecoder().decode(a.bytes);
}

describe('hybrid and v1: INTO the v2 hierarchy, JOIN every v1 one, then a cgroup namespace of its own', () => {
  const ops = opsOf(hostRequest({ cgroup: cg({ limits: [{ name: 'memory', value: '32m' }, { name: 'pids-limit', value: '20' }] }) }));
  const clone = ops.findIndex((o) => o.name === 'CLONE');

  it('makes the shared parent and the container its own directory in every hierarchy, before CLONE', () => {
    const mk = find(ops, 'CGROUP_MKDIR').map((o) => `${o.args.path} ${o.args.flags}`);
    expect(mk).toContain('/sys/fs/cgroup/memory/husk 1');
    expect(mk).toContain(`/sys/fs/cgroup/memory/husk/${ID} 0`);
    expect(mk).toContain(`/sys/fs/cgroup/unified/husk/${ID} 0`);
    expect(mk).toContain(`/sys/fs/cgroup/systemd/husk/${ID} 0`);
    expect(mk).toHaveLength(HYBRID.length * 2);
    expect(ops.findIndex((o) => o.name.startsWith('CGROUP_') && o.name !== 'CGROUP_JOIN' && ops.indexOf(o) > clone)).toBe(-1);
  });

  it('writes each limit to the hierarchy of its controller, and a new cpuset its cpus and mems', () => {
    expect(writes(ops)).toEqual([
      '/sys/fs/cgroup/cpuset/husk/cpuset.cpus=0-1',
      '/sys/fs/cgroup/cpuset/husk/cpuset.mems=0',
      `/sys/fs/cgroup/cpuset/husk/${ID}/cpuset.cpus=0-1`,
      `/sys/fs/cgroup/cpuset/husk/${ID}/cpuset.mems=0`,
      `/sys/fs/cgroup/memory/husk/${ID}/memory.limit_in_bytes=33554432`,
      `/sys/fs/cgroup/memory/husk/${ID}/memory.memsw.limit_in_bytes=67108864`,
      `/sys/fs/cgroup/pids/husk/${ID}/pids.max=20`,
    ]);
  });

  it('reports the OOM evidence files at the end', () => {
    expect(paths(ops, 'CGROUP_REPORT')).toEqual([
      `/sys/fs/cgroup/memory/husk/${ID}/memory.oom_control`,
      `/sys/fs/cgroup/memory/husk/${ID}/memory.failcnt`,
      `/sys/fs/cgroup/memory/husk/${ID}/memory.max_usage_in_bytes`,
      `/sys/fs/cgroup/memory/husk/${ID}/memory.limit_in_bytes`,
      `/sys/fs/cgroup/pids/husk/${ID}/pids.events`,
    ]);
  });

  it('is created in its v2 cgroup (INTO), joins each v1 one itself first, then unshares the cgroup namespace', () => {
    expect((ops[clone].args.flags as bigint) & NS.NEWCGROUP).toBe(0n);
    expect(ops[clone - 1]).toMatchObject({ name: 'CGROUP_INTO', args: { path: `/sys/fs/cgroup/unified/husk/${ID}` } });
    const v1 = HYBRID.filter((h) => h.version === 1);
    const joins = ops.slice(clone + 1, clone + 1 + v1.length);
    expect(joins.map((o) => o.name)).toEqual(v1.map(() => 'CGROUP_JOIN'));
    expect(joins.map((o) => o.args.path)).toEqual(v1.map((h) => `${h.mountpoint}/husk/${ID}/tasks`));
    expect(ops[clone + 1 + v1.length]).toMatchObject({ name: 'UNSHARE', args: { flags: NS.NEWCGROUP } });
    expect(find(ops, 'CGROUP_ENTER')).toEqual([]);
    expect(find(ops, 'CGROUP_JOIN')).toHaveLength(v1.length);
  });

  it('pure v1: JOIN every hierarchy, no INTO', () => {
    const v1 = HYBRID.filter((h) => h.version === 1);
    const pure = opsOf(hostRequest({ cgroup: cg({ hierarchies: v1 }) }));
    const at = pure.findIndex((o) => o.name === 'CLONE');
    expect((pure[at].args.flags as bigint) & NS.NEWCGROUP).toBe(0n);
    expect(find(pure, 'CGROUP_INTO')).toEqual([]);
    expect(pure.slice(at + 1, at + 1 + v1.length).map((o) => `${o.name} ${o.args.path}`)).toEqual(v1.map((h) => `CGROUP_JOIN ${h.mountpoint}/husk/${ID}/tasks`));
    expect(pure[at + 1 + v1.length]).toMatchObject({ name: 'UNSHARE', args: { flags: NS.NEWCGROUP } });
  });

  it('in a user namespace: the joins right after the parent ops, before USER (still host root for the tasks files)', () => {
    const u = opsOf(hostRequest({ newUserns: true, userns: { mode: 'auto', size: 65536 }, cgroup: cg() }));
    const names = u.map((o) => o.name);
    const firstJoin = names.indexOf('CGROUP_JOIN');
    const v1 = HYBRID.filter((h) => h.version === 1).length;
    expect(names.slice(names.indexOf('CLONE') + 1, firstJoin).every((n) => ['UID_MAP', 'GID_MAP', 'SETGROUPS', 'IDMAP_TREE'].includes(n))).toBe(true);
    expect(names.slice(firstJoin, firstJoin + v1 + 2)).toEqual([...Array(v1).fill('CGROUP_JOIN'), 'UNSHARE', 'USER']);
    expect(u[firstJoin + v1 + 1].args).toMatchObject({ uid: 0n, gid: 0n });
  });

  it('mounts its own cgroups read-only at sys/fs/cgroup after /sys', () => {
    const at = ops.findIndex((o) => o.name === 'MOUNT' && o.args.target === 'sys/fs/cgroup');
    expect(at).toBeGreaterThan(ops.findIndex((o) => o.name === 'MOUNT' && o.args.fstype === 'sysfs'));
    expect(ops[at].args).toMatchObject({ fstype: 'tmpfs' });
    const mounts = find(ops, 'MOUNT').filter((o) => String(o.args.target).startsWith('sys/fs/cgroup/'));
    expect(mounts.map((o) => `${o.args.target} ${o.args.fstype} ${o.args.data} ro=${(o.args.flags as bigint) & 1n}`)).toEqual([
      'sys/fs/cgroup/cpu cgroup cpu ro=1',
      'sys/fs/cgroup/cpuacct cgroup cpuacct ro=1',
      'sys/fs/cgroup/cpuset cgroup cpuset ro=1',
      'sys/fs/cgroup/memory cgroup memory ro=1',
      'sys/fs/cgroup/pids cgroup pids ro=1',
      'sys/fs/cgroup/systemd cgroup none,name=systemd ro=1',
      'sys/fs/cgroup/unified cgroup2  ro=1',
    ]);
    expect(find(ops, 'READONLY').map((o) => o.args.path)).toContain('sys/fs/cgroup');
  });

  it('links each controller of a co-mounted hierarchy to it', () => {
    const co = opsOf(hostRequest({ cgroup: cg({ hierarchies: [{ version: 1, mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] }] }) }));
    expect(find(co, 'SYMLINK').filter((o) => String(o.args.linkpath).startsWith('sys/fs/cgroup')).map((o) => `${o.args.linkpath}->${o.args.target}`)).toEqual([
      'sys/fs/cgroup/cpu->cpu,cpuacct',
      'sys/fs/cgroup/cpuacct->cpu,cpuacct',
    ]);
  });

  it('without a cgroup namespace, the container keeps the host view (no mounts of its own)', () => {
    const noNs = opsOf(hostRequest({ share: { cgroup: true }, cgroup: cg() }));
    expect(find(noNs, 'UNSHARE')).toEqual([]);
    expect(find(noNs, 'MOUNT').filter((o) => String(o.args.target).startsWith('sys/fs/cgroup'))).toEqual([]);
    expect(find(noNs, 'CGROUP_JOIN')).toHaveLength(HYBRID.length - 1);
    expect(find(noNs, 'CGROUP_INTO')).toHaveLength(1);
  });
});

describe('pure v2: CLONE_INTO_CGROUP', () => {
  const limits = [
    { name: 'memory', value: '32m' },
    { name: 'cpus', value: '0.5' },
    { name: 'pids-limit', value: '20' },
  ];
  const ops = opsOf(hostRequest({ cgroup: cg({ hierarchies: V2, limits, parent: 'a/b' }) }));

  it('enables the controllers it needs from the root down, then writes the v2 files', () => {
    expect(writes(ops)).toEqual([
      '/sys/fs/cgroup/cgroup.subtree_control=+pids +memory +cpu',
      '/sys/fs/cgroup/a/cgroup.subtree_control=+pids +memory +cpu',
      '/sys/fs/cgroup/a/b/cgroup.subtree_control=+pids +memory +cpu',
      `/sys/fs/cgroup/a/b/${ID}/pids.max=20`,
      `/sys/fs/cgroup/a/b/${ID}/memory.swap.max=33554432`,
      `/sys/fs/cgroup/a/b/${ID}/memory.max=33554432`,
      `/sys/fs/cgroup/a/b/${ID}/cpu.max=50000 100000`,
    ]);
    expect(paths(ops, 'CGROUP_REPORT')).toEqual(['memory.events', 'memory.peak', 'memory.max', 'pids.events'].map((f) => `/sys/fs/cgroup/a/b/${ID}/${f}`));
  });

  it('creates the container process in its cgroup (INTO), CLONE_NEWCGROUP in CLONE, no ENTER, no UNSHARE', () => {
    const clone = ops.findIndex((o) => o.name === 'CLONE');
    expect(ops[clone - 1]).toMatchObject({ name: 'CGROUP_INTO', args: { path: `/sys/fs/cgroup/a/b/${ID}` } });
    expect((ops[clone].args.flags as bigint) & NS.NEWCGROUP).toBe(NS.NEWCGROUP);
    expect(find(ops, 'CGROUP_ENTER')).toEqual([]);
    expect(find(ops, 'UNSHARE')).toEqual([]);
  });

  it('mounts cgroup2 read-only on sys/fs/cgroup', () => {
    const m = find(ops, 'MOUNT').filter((o) => o.args.target === 'sys/fs/cgroup');
    expect(m).toHaveLength(1);
    expect(m[0].args.fstype).toBe('cgroup2');
    expect((m[0].args.flags as bigint) & 1n).toBe(1n);
  });

  it('rootless with a delegated subtree: enables controllers only from the delegated cgroup down', () => {
    const d = opsOf(hostRequest({ cgroup: cg({ hierarchies: V2, limits: [{ name: 'pids-limit', value: '5' }], rootless: true, delegate: 'user.slice/u.service', parent: 'user.slice/u.service/husk' }) }));
    expect(writes(d)).toEqual([
      '/sys/fs/cgroup/user.slice/u.service/cgroup.subtree_control=+pids',
      '/sys/fs/cgroup/user.slice/u.service/husk/cgroup.subtree_control=+pids',
      `/sys/fs/cgroup/user.slice/u.service/husk/${ID}/pids.max=5`,
    ]);
  });
});

describe('the status file', () => {
  it('is the first op when asked for, cgroups or not', () => {
    const plan = planOf(hostRequest({ statusFile: '/run/husk/containers/x/status' }));
    expect(plan.ops[0]).toMatchObject({ name: 'STATUS_FILE', args: { path: '/run/husk/containers/x/status' } });
    const withCg = opsOf(hostRequest({ statusFile: '/s/status', cgroup: cg() }));
    expect(withCg[0].name).toBe('STATUS_FILE');
  });
});

describe('refusals (status 2, the flag named first)', () => {
  it('a v1 limit for a rootless user, naming why', () => {
    const hybridRootless = cg({ rootless: true, limits: [{ name: 'memory', value: '64m' }] });
    expect(refusal(hostRequest({ cgroup: hybridRootless }))).toMatch(/^memory: the memory controller is a cgroup v1 controller here, and cgroup v1 cannot be delegated/);
  });

  it('a rootless user gets no v1 directories at all, only the v2 one', () => {
    const ops = opsOf(hostRequest({ cgroup: cg({ rootless: true }) }));
    expect(paths(ops, 'CGROUP_MKDIR')).toEqual(['/sys/fs/cgroup/unified/husk', `/sys/fs/cgroup/unified/husk/${ID}`]);
  });

  it('a limit whose controller the host lacks', () => {
    expect(refusal(hostRequest({ cgroup: cg({ hierarchies: [HYBRID[0]], limits: [{ name: 'pids-limit', value: '5' }] }) }))).toMatch(/^pids-limit: this host has no pids controller/);
  });

  it('bad values, as cgroupWrites refuses them', () => {
    expect(refusal(hostRequest({ cgroup: cg({ limits: [{ name: 'memory', value: '1m' }] }) }))).toBe('memory: Minimum memory limit allowed is 6MB');
    expect(refusal(hostRequest({ cgroup: cg({ limits: [{ name: 'cpuset-cpus', value: '5' }] }) }))).toMatch(/^cpuset-cpus: Requested CPUs are not available/);
  });

  it('a parent that is not a clean relative path, a bad name, too many directories', () => {
    expect(refusal(hostRequest({ cgroup: cg({ parent: 'a/../b' }) }))).toMatch(/^cgroup-parent: "a\/..\/b": has a '..' component/);
    expect(refusal(hostRequest({ cgroup: cg({ name: 'x/y' }) }))).toMatch(/^cgroup-name:/);
    expect(refusal(hostRequest({ cgroup: cg({ parent: 'a/b/c/d' }) }))).toMatch(/^cgroup-parent: .* needs 35 cgroup directories/);
  });
});

describe('malformed requests (status 1)', () => {
  const frame = (type: number, build: (w: FrameWriter) => FrameWriter) => build(new FrameWriter()).frame(type);

  it('a CGROUP_LIMIT without CGROUP, a repeated CGROUP, an unknown type in the range', () => {
    const base = encodeRequest(hostRequest());
    const limit = frame(0x0122, (w) => w.str('memory').str('64m'));
    expect(buildPlanRaw(concat([base, limit])).status).toBe(1);
    const withCg = encodeRequest(hostRequest({ cgroup: cg() }));
    const again = frame(0x0120, (w) => w.str('husk').str('x').u64(0n).str(''));
    expect(buildPlanRaw(concat([withCg, again])).status).toBe(1);
    expect(buildPlanRaw(concat([base, frame(0x012f, (w) => w)])).status).toBe(1);
  });

  it('a hierarchy mountpoint that is not absolute and clean; unknown CGROUP flag bits', () => {
    const base = encodeRequest(hostRequest({ cgroup: cg() }));
    const bad = frame(0x0121, (w) => w.u64(1n).str('sys/fs/cgroup/x').strs(['x']));
    expect(buildPlanRaw(concat([base, bad])).status).toBe(1);
    expect(() => encodeRequest(hostRequest({ cgroup: cg({ name: 'a\0b' }) }))).toThrow(CoreError);
  });
});

describe('an empty parent (husk-runc: linux.cgroupsPath of one component)', () => {
  it('puts the container right under each hierarchy root, no parent directory made', () => {
    const ops = opsOf(hostRequest({ cgroup: cg({ parent: '', limits: [{ name: 'pids-limit', value: '20' }] }) }));
    const mk = find(ops, 'CGROUP_MKDIR').map((o) => `${o.args.path} ${o.args.flags}`);
    expect(mk).toHaveLength(HYBRID.length);
    expect(mk).toContain(`/sys/fs/cgroup/memory/${ID} 0`);
    expect(mk).toContain(`/sys/fs/cgroup/unified/${ID} 0`);
    expect(writes(ops)).toContain(`/sys/fs/cgroup/pids/${ID}/pids.max=20`);
    expect(find(ops, 'CGROUP_INTO').map((o) => String(o.args.path))).toEqual([`/sys/fs/cgroup/unified/${ID}`]);
  });

  it('still refuses escapes and empty components in a parent that is not empty', () => {
    for (const parent of ['..', 'a/../b', '/a', 'a//b', './a']) expect(refusal(hostRequest({ cgroup: cg({ parent }) }))).toMatch(/^cgroup-parent: /);
  });
});
