// controlPlan (docs/core-abi.md "controlPlan"): which control ops act on which of a
// container's cgroup directories, and which requests are refused — a directory outside the
// host's cgroup mounts above all.
import { beforeAll, describe, expect, it } from 'vitest';
import { controlPlan, encodeControlRequest, freezerFile } from '../../ts/core/control.js';
import type { ControlHierarchy, ControlRequest } from '../../ts/core/control.js';
import { CoreError } from '../../ts/core/build-plan.js';
import { call } from '../../ts/core/wasm.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const V1 = '/sys/fs/cgroup';
const hybrid: ControlHierarchy[] = [
  { version: 1, mountpoint: `${V1}/memory`, controllers: ['memory'] },
  { version: 1, mountpoint: `${V1}/freezer`, controllers: ['freezer'] },
  { version: 1, mountpoint: `${V1}/pids`, controllers: ['pids'] },
  { version: 2, mountpoint: `${V1}/unified`, controllers: [] },
];
const v2: ControlHierarchy[] = [{ version: 2, mountpoint: V1, controllers: ['memory', 'pids'] }];
const dirsOf = (hs: ControlHierarchy[]) => hs.map((h) => `${h.mountpoint}/husk/c1`);

function ops(req: ControlRequest) {
  const plan = controlPlan(req);
  if (plan === undefined) return undefined;
  const decoded = decodePlan(plan);
  expect(decoded.flags).toBe(0n);
  return decoded.ops.map((o) => [o.name, ...Object.values(o.args)]);
}

function refusal(req: ControlRequest): CoreError {
  try {
    controlPlan(req);
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('the core made a plan');
}

describe('controlPlan: the decisions', () => {
  it('freeze and thaw: the v1 freezer directory on hybrid, the v2 one on v2', () => {
    expect(ops({ action: 'freeze', hierarchies: hybrid, dirs: dirsOf(hybrid) })).toEqual([['CGROUP_FREEZE', `${V1}/freezer/husk/c1`, 1n]]);
    expect(ops({ action: 'thaw', hierarchies: hybrid, dirs: dirsOf(hybrid) })).toEqual([['CGROUP_FREEZE', `${V1}/freezer/husk/c1`, 0n]]);
    expect(ops({ action: 'freeze', hierarchies: v2, dirs: dirsOf(v2) })).toEqual([['CGROUP_FREEZE', `${V1}/husk/c1`, 1n]]);
    // No directory at all: nothing is frozen, nothing to do.
    expect(ops({ action: 'thaw', hierarchies: hybrid, dirs: [] })).toBeUndefined();
  });

  it('kill: thaw the v1 freezer, then cgroup.kill on the v2 directory; pure v1: the freezer one', () => {
    expect(ops({ action: 'kill', hierarchies: hybrid, dirs: dirsOf(hybrid) })).toEqual([
      ['CGROUP_FREEZE', `${V1}/freezer/husk/c1`, 0n],
      ['CGROUP_KILL', `${V1}/unified/husk/c1`],
    ]);
    const v1 = hybrid.slice(0, 3);
    expect(ops({ action: 'kill', hierarchies: v1, dirs: dirsOf(v1) })).toEqual([
      ['CGROUP_FREEZE', `${V1}/freezer/husk/c1`, 0n],
      ['CGROUP_KILL', `${V1}/freezer/husk/c1`],
    ]);
    expect(ops({ action: 'kill', hierarchies: v2, dirs: dirsOf(v2) })).toEqual([['CGROUP_KILL', `${V1}/husk/c1`]]);
  });

  it('kill without cgroups: the process, by pid and start time; with neither: nothing', () => {
    expect(ops({ action: 'kill', hierarchies: hybrid, dirs: [], process: { pid: 4242, startTime: '123456' } })).toEqual([['SIGNAL_PROCESS', 4242n, 123456n, 9n]]);
    expect(ops({ action: 'kill', hierarchies: hybrid, dirs: [] })).toBeUndefined();
  });

  it('remove: every directory, the freezer one first, then v2, then the rest in record order', () => {
    expect(ops({ action: 'remove', hierarchies: hybrid, dirs: dirsOf(hybrid) })).toEqual([
      ['CGROUP_REMOVE', `${V1}/freezer/husk/c1`],
      ['CGROUP_REMOVE', `${V1}/unified/husk/c1`],
      ['CGROUP_REMOVE', `${V1}/memory/husk/c1`],
      ['CGROUP_REMOVE', `${V1}/pids/husk/c1`],
    ]);
  });

  it('signal: SIGNAL_PROCESS with the start time', () => {
    expect(ops({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 77, startTime: 9n }, signal: 15 })).toEqual([['SIGNAL_PROCESS', 77n, 9n, 15n]]);
  });
});

describe('controlPlan: where a container\'s frozen state is read (freezer-file)', () => {
  it('the directory freeze acts on: v1 freezer.state on hybrid, v2 cgroup.freeze on v2', () => {
    expect(freezerFile(hybrid, dirsOf(hybrid))).toEqual({ path: `${V1}/freezer/husk/c1/freezer.state`, frozen: ['FROZEN', 'FREEZING'] });
    // The freezer hierarchy listed after the v2 one: still the v1 freezer (runc's choice).
    expect(freezerFile([...hybrid].reverse(), dirsOf(hybrid).reverse())).toEqual({ path: `${V1}/freezer/husk/c1/freezer.state`, frozen: ['FROZEN', 'FREEZING'] });
    expect(freezerFile(v2, dirsOf(v2))).toEqual({ path: `${V1}/husk/c1/cgroup.freeze`, frozen: ['1'] });
    // Hybrid without a v1 freezer directory: the v2 one.
    const noFreezer = [hybrid[0], hybrid[3]];
    expect(freezerFile(noFreezer, dirsOf(noFreezer))).toEqual({ path: `${V1}/unified/husk/c1/cgroup.freeze`, frozen: ['1'] });
  });

  it('nothing that can be frozen: undefined; a directory outside the mounts: refused', () => {
    expect(freezerFile(hybrid, [])).toBeUndefined();
    const memoryOnly = [hybrid[0]];
    expect(freezerFile(memoryOnly, dirsOf(memoryOnly))).toBeUndefined();
    expect(() => freezerFile(v2, ['/etc/husk'])).toThrow(/^cgroup \/etc\/husk: not below a cgroup mount of this host$/);
  });
});

describe('controlPlan: refusals', () => {
  it('a directory outside the cgroup mounts is refused, naming it', () => {
    for (const dir of ['/etc/husk', '/sys/fs/cgroupx/husk/c1', `${V1}/memory`]) {
      const err = refusal({ action: 'remove', hierarchies: hybrid, dirs: [...dirsOf(hybrid), dir] });
      expect(err.status).toBe(2);
      expect(err.message).toBe(`cgroup ${dir}: not below a cgroup mount of this host`);
    }
    for (const dir of ['/', `${V1}/memory/husk/../../../etc`, `${V1}/memory/husk/`, 'sys/fs/cgroup/memory/husk', `${V1}/memory//husk`]) {
      expect(refusal({ action: 'kill', hierarchies: hybrid, dirs: [dir] }).message).toBe(`cgroup ${dir}: not an absolute, clean path`);
    }
    // With no hierarchy at all, no directory is below one.
    expect(refusal({ action: 'freeze', hierarchies: [], dirs: [`${V1}/freezer/husk/c1`] }).status).toBe(2);
  });

  it('a process without a start time, a pid or a signal out of range', () => {
    expect(refusal({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 77, startTime: '' }, signal: 9 }).message).toMatch(/^pid 77: no start time/);
    expect(refusal({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 0, startTime: '1' }, signal: 9 }).message).toBe('pid 0: out of range');
    expect(refusal({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 1, startTime: '1' }, signal: 0 }).message).toBe('signal 0: not 1 to 64');
    expect(refusal({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 1, startTime: '1' }, signal: 65 }).message).toBe('signal 65: not 1 to 64');
  });

  it('freeze without a freezer directory', () => {
    const memory = hybrid.slice(0, 1);
    expect(refusal({ action: 'freeze', hierarchies: memory, dirs: dirsOf(memory) }).message).toMatch(/no freezer/);
  });

  it('a malformed request is status 1', () => {
    const one = encodeControlRequest({ action: 'kill', hierarchies: [], dirs: [] });
    const two = new Uint8Array([...one, ...one]);
    const answer = call('controlPlan', two);
    expect(answer.status).toBe(1);
    expect(new TextDecoder().decode(answer.bytes)).toBe('request: 2 CONTROL frames (exactly 1)');
    expect(call('controlPlan', new Uint8Array()).status).toBe(1);
  });
});
