// The summary ahead of the plan in buildPlan's answer (docs/core-abi.md "The summary"): what
// ts/ keeps about a container comes from it, and it says what the plan does.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlanAnswer } from '../../ts/core/build-plan.js';
import type { PlanCgroup } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { DEFAULT_NS, NS, expectCoreBuilt, find, hostRequest, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const HYBRID: PlanCgroup['hierarchies'] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/pids', controllers: ['pids'] },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', controllers: [] },
];
const cg = (over: Partial<PlanCgroup> = {}): PlanCgroup => ({
  parent: 'a/b',
  name: 'c0ffee',
  hierarchies: HYBRID,
  limits: [{ name: 'memory', value: '64m' }],
  host: { cpus: 2, mems: 1, flags: 0, cpusetCpus: '', cpusetMems: '' },
  ...over,
});

describe('the summary', () => {
  it('lists exactly the owned CGROUP_MKDIRs of the plan, in plan order', () => {
    const { plan, summary } = buildPlanAnswer(hostRequest({ cgroup: cg() }));
    const owned = find(decodePlan(plan).ops, 'CGROUP_MKDIR').filter((o) => o.args.flags === 0n).map((o) => o.args.path);
    expect(summary.cgroupDirs).toEqual(['/sys/fs/cgroup/memory/a/b/c0ffee', '/sys/fs/cgroup/pids/a/b/c0ffee', '/sys/fs/cgroup/unified/a/b/c0ffee']);
    expect(summary.cgroupDirs).toEqual(owned);
  });

  it('rootless: only the v2 directory is the container\'s', () => {
    const { summary } = buildPlanAnswer(hostRequest({ cgroup: cg({ rootless: true, limits: [] }) }));
    expect(summary.cgroupDirs).toEqual(['/sys/fs/cgroup/unified/a/b/c0ffee']);
  });

  it('no cgroup, no user namespace: nothing to keep', () => {
    const { summary } = buildPlanAnswer(rootfsRequest());
    expect(summary).toEqual({ newNamespaces: DEFAULT_NS, userns: false, hostname: 'abc123def456', cgroupDirs: [], hostRanges: [] });
  });

  it('says which namespaces are new (time too) and which host name is set', () => {
    const shared = buildPlanAnswer(rootfsRequest({ share: { net: true, ipc: true, uts: true, cgroup: true }, hostname: undefined, timeOffsets: { monotonic: 5 } })).summary;
    expect(shared.newNamespaces).toBe(NS.NEWNS | NS.NEWPID | NS.NEWTIME);
    expect(shared.hostname).toBeUndefined();
    const clone = find(decodePlan(buildPlanAnswer(rootfsRequest({ share: { net: true, ipc: true, uts: true, cgroup: true }, hostname: undefined })).plan).ops, 'CLONE')[0];
    expect(clone.args.flags).toBe(NS.NEWNS | NS.NEWPID);
  });

  it('--userns auto: the range picked, and every host range the maps take', () => {
    const { plan, summary } = buildPlanAnswer(rootfsRequest({ userns: { mode: 'auto', size: 1000 }, usedRanges: [{ start: 524288, size: 100 }] }));
    expect(summary.usernsRange).toEqual({ start: 524388, size: 1000 });
    expect(summary.hostRanges).toEqual([{ start: 524388, size: 1000 }]);
    expect(summary.newNamespaces & NS.NEWUSER).toBe(NS.NEWUSER);
    expect(find(decodePlan(plan).ops, 'UID_MAP')[0].args.text).toBe('0 524388 1000\n');
  });

  it('root\'s keep-id: 0 kept, the others from a free range; uid and gid ranges once each', () => {
    const { summary } = buildPlanAnswer(rootfsRequest({ userns: { mode: 'keep-id' } }));
    expect(summary.usernsRange).toEqual({ start: 0, size: 1 });
    expect(summary.hostRanges).toEqual([{ start: 0, size: 1 }, { start: 524288, size: 65536 }]);
  });
});
