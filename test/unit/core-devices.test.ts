// Device rules on cgroup v2 (assembly/cgroup/devices.ts): the core compiles v1's device rules
// to a BPF_PROG_TYPE_CGROUP_DEVICE program. Each program is run here by an eBPF interpreter
// (test/oracle/ebpf-interpreter.ts) and must give, for every access, the answer the v1 kernel
// gives for the same rules (test/reference/devices.ts). Then where the program goes in plans:
// buildPlan (docker's rules) and ociPlan (linux.resources.devices) on a pure-v2 tree, not on
// v1 or hybrid (the devices controller there), not rootless, not --privileged.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDevices, type DeviceRuleSpec } from '../../ts/core/devices.js';
import type { PlanCgroup } from '../../ts/core/build-plan.js';
import { ociPlan } from '../../ts/core/oci-plan.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { defaultSpec } from '../../ts/runc/spec.js';
import { runDeviceProgram } from '../oracle/ebpf-interpreter.js';
import { referenceAllows, type RefRule } from '../reference/devices.js';
import { expectCoreBuilt, find, hostRequest, opsOf } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const BLOCK = 1;
const CHAR = 2;
const M = 1;
const R = 2;
const W = 4;

/** docker's device rules for a container (`husk run`), as v1 lines would say them. */
const DOCKER: DeviceRuleSpec[] = [
  { allow: false, type: 'a', access: 'rwm' },
  ...['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm'].map(line),
];

function line(text: string): DeviceRuleSpec {
  const [type, numbers, access] = text.split(' ');
  const [major, minor] = numbers.split(':');
  return { allow: true, type, access, major: major === '*' ? undefined : Number(major), minor: minor === '*' ? undefined : Number(minor) };
}

const allows = (program: Uint8Array, type: number, major: number, minor: number, access: number) => {
  const r0 = runDeviceProgram(program, { type, major, minor, access });
  expect(r0 === 0n || r0 === 1n).toBe(true);
  return r0 === 1n;
};

describe('the program for docker\'s rules', () => {
  const program = compileDevices(DOCKER);

  it('lets any node be made, but opens only the default devices', () => {
    expect(allows(program, CHAR, 10, 229, M)).toBe(true);
    expect(allows(program, CHAR, 10, 229, R)).toBe(false);
    expect(allows(program, CHAR, 10, 229, R | W)).toBe(false);
    expect(allows(program, BLOCK, 254, 0, M)).toBe(true);
    expect(allows(program, BLOCK, 254, 0, R)).toBe(false);
    expect(allows(program, CHAR, 1, 3, R | W)).toBe(true);
    expect(allows(program, CHAR, 136, 7, R | W)).toBe(true);
    expect(allows(program, CHAR, 137, 7, R)).toBe(false);
    expect(allows(program, BLOCK, 1, 3, R)).toBe(false);
  });

  it('is 6 + a few instructions per rule, and allows all again with a later "a" rule', () => {
    expect(program.length / 8).toBeLessThan(80);
    expect(compileDevices([...DOCKER, { allow: true, type: 'a', access: '' }])).toEqual(new Uint8Array());
    expect(compileDevices([])).toEqual(new Uint8Array());
  });

  it('numbers of 2^31 and more compare as the kernel\'s u32s', () => {
    const p = compileDevices([{ allow: false, type: 'a', access: 'rwm' }, { allow: true, type: 'c', major: 0x80000001, minor: 0xfffffffe, access: 'rw' }]);
    expect(allows(p, CHAR, 0x80000001, 0xfffffffe, R | W)).toBe(true);
    expect(allows(p, CHAR, 1, 0xfffffffe, R)).toBe(false);
    expect(allows(p, CHAR, 0x80000001, 0xfffffffe, M)).toBe(false);
  });
});

describe('refusals, each naming the rule', () => {
  const refused = (rules: DeviceRuleSpec[]) => {
    try {
      compileDevices(rules);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('not refused');
  };
  it('a bad type, bad access, a number out of range, too many exceptions', () => {
    expect(refused([{ allow: true, type: 'p', access: 'r' }])).toBe('devices[0]: type is not a, b or c');
    expect(refused([{ allow: true, type: 'c', access: 'rx' }])).toBe('devices[0]: access is not a set of r, w, m');
    expect(refused([{ allow: true, type: 'c', major: 2 ** 32, access: 'r' }])).toBe('devices[0]: major or minor out of range');
    const many = Array.from({ length: 200 }, (_, i) => ({ allow: true, type: 'c', major: 1, minor: i, access: 'r' }));
    expect(refused([{ allow: false, type: 'a', access: '' }, ...many])).toBe(`devices: 200 device exceptions need ${6 + 200 * 6 + 2} BPF instructions (at most 1024)`);
  });
});

// ---- the property: the program and the v1 kernel agree ------------------------------------

const NUMBERS = [0, 1, 3, 5, 229, 0x7fffffff, 0x80000000, 0xfffffffe];
const number = fc.oneof(fc.constantFrom(...NUMBERS), fc.integer({ min: 0, max: 8 }));
const ruleArb = fc.record({
  allow: fc.boolean(),
  type: fc.constantFrom('a', 'b', 'c', 'c', 'b'),
  major: fc.option(number, { nil: undefined }),
  minor: fc.option(number, { nil: undefined }),
  access: fc.subarray(['r', 'w', 'm'], { minLength: 1 }).map((a) => a.join('')),
});
const requestArb = fc.record({
  type: fc.constantFrom(BLOCK, CHAR),
  major: number,
  minor: number,
  access: fc.integer({ min: 1, max: 7 }),
});

function reference(rules: DeviceRuleSpec[]): RefRule[] {
  return rules.map((r) => ({ allow: r.allow, type: r.type, major: r.major === undefined ? -1 : Number(r.major), minor: r.minor === undefined ? -1 : Number(r.minor), access: r.access }));
}

describe('property: for random rules and accesses, the BPF program answers as the v1 kernel would', () => {
  it('random rule lists (with and without a leading deny-all)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(ruleArb, { maxLength: 14 }), fc.array(requestArb, { minLength: 1, maxLength: 24 }), (denyFirst, rest, requests) => {
        const rules: DeviceRuleSpec[] = denyFirst ? [{ allow: false, type: 'a', access: 'rwm' }, ...rest] : rest;
        const program = compileDevices(rules);
        for (const q of requests) {
          const want = referenceAllows(reference(rules), q);
          const got = program.length === 0 ? true : runDeviceProgram(program, q) === 1n;
          if (got !== want) return false;
        }
        return true;
      }),
      { numRuns: 400 },
    );
  });

  it('the accesses the rules name themselves', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 7 }), (rules, access) => {
        const program = compileDevices(rules);
        for (const r of rules) {
          for (const type of [BLOCK, CHAR]) {
            const q = { type, major: r.major === undefined ? 7 : Number(r.major), minor: r.minor === undefined ? 7 : Number(r.minor), access };
            const got = program.length === 0 ? true : runDeviceProgram(program, q) === 1n;
            if (got !== referenceAllows(reference(rules), q)) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

// ---- where the program goes in a plan ------------------------------------------------------

const V2: PlanCgroup['hierarchies'] = [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }];
const HYBRID: PlanCgroup['hierarchies'] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/devices', controllers: ['devices'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', controllers: [] },
];
const HOST = { cpus: 2, mems: 1, flags: 0, cpusetCpus: '0-1', cpusetMems: '0' };
const cg = (hierarchies: PlanCgroup['hierarchies'], over: Partial<PlanCgroup> = {}): PlanCgroup => ({ parent: 'husk', name: 'c0ffee', hierarchies, limits: [], host: HOST, ...over });
const programOf = (op: { args: Record<string, unknown> }) => {
  const words = op.args.program as bigint[];
  const out = new Uint8Array(words.length * 8);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  return out;
};

describe('buildPlan (husk run) on a pure cgroup v2 host', () => {
  it('attaches docker\'s rules to the container\'s directory after it is made and before CLONE', () => {
    const ops = opsOf(hostRequest({ cgroup: cg(V2) }));
    const devices = find(ops, 'CGROUP_DEVICES');
    expect(devices).toHaveLength(1);
    expect(devices[0].args.path).toBe('/sys/fs/cgroup/husk/c0ffee');
    expect(programOf(devices[0])).toEqual(compileDevices(DOCKER));
    const names = ops.map((o) => o.name);
    const at = names.indexOf('CGROUP_DEVICES');
    expect(ops.findIndex((o) => o.name === 'CGROUP_MKDIR' && o.args.path === '/sys/fs/cgroup/husk/c0ffee')).toBeLessThan(at);
    expect(at).toBeLessThan(names.indexOf('CLONE'));
  });

  it('--device adds its node; --privileged and rootless containers get no program', () => {
    const fuse = { host: '/dev/fuse', container: '/dev/fuse', perms: 'rwm', kind: 'c' as const, major: 10, minor: 229 };
    const withDevice = programOf(find(opsOf(hostRequest({ cgroup: cg(V2), devices: [fuse] })), 'CGROUP_DEVICES')[0]);
    expect(allows(withDevice, CHAR, 10, 229, R | W)).toBe(true);
    expect(allows(withDevice, CHAR, 10, 228, R)).toBe(false);
    const privileged = opsOf(hostRequest({ cgroup: cg(V2), capabilities: { privileged: true, bounding: (1n << 41n) - 1n, add: [], drop: [] } }));
    expect(find(privileged, 'CGROUP_DEVICES')).toHaveLength(0);
    const rootless = opsOf(hostRequest({ cgroup: cg(V2, { rootless: true, delegate: 'user', parent: 'user/husk' }) }));
    expect(find(rootless, 'CGROUP_DEVICES')).toHaveLength(0);
  });

  it('hybrid: the v1 devices controller gets the rules, no program', () => {
    const ops = opsOf(hostRequest({ cgroup: cg(HYBRID) }));
    expect(find(ops, 'CGROUP_DEVICES')).toHaveLength(0);
    expect(find(ops, 'CGROUP_WRITE').map((o) => `${o.args.path}=${o.args.value}`)).toContain('/sys/fs/cgroup/devices/husk/c0ffee/devices.deny=a');
  });
});

describe('ociPlan (husk-runc) on a pure cgroup v2 host', () => {
  const config = (resources?: object, devices?: object[]) => {
    const c: any = defaultSpec(false);
    c.process.terminal = false;
    c.process.args = ['true'];
    c.linux.resources = resources ?? {}; // spec's default has a deny-all rule
    if (devices) c.linux.devices = devices;
    return c;
  };
  const planOps = (c: any, hierarchies = V2) => describePlanBytes(ociPlan(c, { bundle: '/b', cgroup: cg(hierarchies), hostDevices: [{ path: '/dev/fuse', mode: 0o20600, uid: 0, gid: 0 }] }).plan).ops;

  it('linux.resources.devices, then linux.devices, then runc\'s defaults, as one program', () => {
    const ops = planOps(config({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, access: 'r' }] }, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]));
    const devices = find(ops, 'CGROUP_DEVICES');
    expect(devices).toHaveLength(1);
    const p = programOf(devices[0]);
    expect(allows(p, CHAR, 10, 229, R | W)).toBe(true);
    expect(allows(p, BLOCK, 7, 3, R)).toBe(true);
    expect(allows(p, BLOCK, 7, 3, W)).toBe(false);
    expect(allows(p, CHAR, 1, 3, R | W)).toBe(true);
    expect(allows(p, CHAR, 10, 228, R)).toBe(false);
  });

  it('no rules, or rules that deny nothing: no program; a bad rule is refused by name', () => {
    expect(find(planOps(config()), 'CGROUP_DEVICES')).toHaveLength(0);
    expect(find(planOps(config({ devices: [{ allow: true, access: 'rwm' }] })), 'CGROUP_DEVICES')).toHaveLength(0);
    expect(() => planOps(config({ devices: [{ allow: false, type: 'x', access: 'rwm' }] }))).toThrow(/^linux\.resources\.devices\[0\]: not a device rule/);
  });

  it('hybrid keeps the v1 writes', () => {
    const ops = planOps(config({ devices: [{ allow: false, access: 'rwm' }] }), HYBRID);
    expect(find(ops, 'CGROUP_DEVICES')).toHaveLength(0);
    expect(find(ops, 'CGROUP_WRITE').map((o) => String(o.args.value))).toContain('a *:* rwm');
  });
});
