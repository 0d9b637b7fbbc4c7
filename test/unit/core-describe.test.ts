// describePlan (assembly/plan/describe.ts): the core reads a plan back for `husk plan`,
// describe() and `--trace`. Checked against the independent oracle (test/oracle/plan-codec.ts)
// on plans the core built and on damaged ones: both accept the same bytes and read them the
// same, and anything else is a typed error (CoreError, status 1), never a trap.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANSWER, decodeDescription, describePlanBytes } from '../../ts/core/describe.js';
import { CoreError, buildPlan } from '../../ts/core/build-plan.js';
import type { PlanCgroup, PlanRequest } from '../../ts/core/build-plan.js';
import { call } from '../../ts/core/wasm.js';
import { FrameWriter, concat } from '../../ts/protocol/frames.js';
import { describePlan, planJson } from '../../ts/protocol/describe.js';
import { decodePlan, encodePlan } from '../oracle/plan-codec.js';
import { DEFAULT_NS, NS, expectCoreBuilt, hostRequest, rootfsRequest } from './core-helpers.js';
import { runnersOf, withoutRunners } from './describe-helpers.js';

beforeAll(() => expectCoreBuilt());

const HYBRID: PlanCgroup['hierarchies'] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/cpu', controllers: ['cpu'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 1, mountpoint: '/sys/fs/cgroup/pids', controllers: ['pids'] },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] },
];
const V2: PlanCgroup['hierarchies'] = [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: ['cpu', 'memory', 'pids'] }];
const HOST = { cpus: 2, mems: 1, flags: 0, cpusetCpus: '0-1', cpusetMems: '0' };
const limits = [{ name: 'memory', value: '64m' }, { name: 'pids-limit', value: '20' }, { name: 'cpus', value: '0.5' }];

const BUILT: Record<string, PlanRequest> = {
  rootfs: rootfsRequest(),
  host: hostRequest(),
  'userns auto': hostRequest({ namespaces: DEFAULT_NS | NS.NEWUSER, userns: { mode: 'auto' } }),
  'hybrid cgroups': hostRequest({ cgroup: { parent: 'husk', name: 'c0ffee', hierarchies: HYBRID, limits, host: HOST } }),
  'v2 cgroups, status file': rootfsRequest({ cgroup: { parent: 'a/b', name: 'c0ffee', hierarchies: V2, limits, host: HOST }, statusFile: '/run/husk/c0ffee/status' }),
  'time namespace': hostRequest({ timeOffsets: { monotonic: 10, boottime: -5 } }),
  'user, workdir, env, wait, trace': rootfsRequest({ user: { uid: 1000, gid: 1000 }, workdir: '/tmp', env: ['A=b', 'PATH=/bin'], waitStart: true, trace: true, dieWithParent: true }),
  'init, wait': rootfsRequest({ init: true, waitStart: true }),
  'bytes that are not UTF-8': rootfsRequest({ argv: ['sh', '-c', 'echo \u00e9 "\u00ff"', '\ud800'], hostname: 'box' }),
};

describe('the core reads back the plans it built, as the oracle does', () => {
  for (const [name, req] of Object.entries(BUILT)) {
    it(name, () => {
      const bytes = buildPlan(req);
      const oracle = decodePlan(bytes);
      const described = describePlanBytes(bytes);
      expect(withoutRunners(described)).toEqual(oracle);
      expect(described.ops.map((o) => o.runner)).toEqual(runnersOf(oracle));
      // The words come from the description alone; the JSON is byte for byte what
      // `husk plan --format json` printed when ts/ decoded the plan itself.
      expect(describePlan(described).split('\n')).toHaveLength(oracle.ops.length + 2);
      const before = JSON.stringify(oracle, (_k, v) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2) + '\n';
      expect(planJson(described)).toBe(before);
    });
  }

  it('a field order and number as JSON shows them: u64 over 2^53 as a string', () => {
    const plan = { version: 1n, flags: 1n, ops: [
      { name: 'CLONE', args: { flags: 0x20000n } },
      { name: 'CAPS', args: { bounding: (1n << 63n) + 1n, effective: 5n, permitted: 0n, inheritable: 2n ** 53n } },
      { name: 'EXEC', args: { path: 'sh', argv: ['sh'], env: [], search: ['/bin'], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ] };
    const json = JSON.parse(planJson(describePlanBytes(encodePlan(plan))));
    expect(json.flags).toBe(1);
    expect(json.ops[1]).toEqual({ name: 'CAPS', args: { bounding: '9223372036854775809', effective: 5, permitted: 0, inheritable: '9007199254740992' } });
    expect(Object.keys(json.ops[1].args)).toEqual(['bounding', 'effective', 'permitted', 'inheritable']);
  });
});

describe('damaged plans: the core and the oracle agree, and the core answers with a typed error', () => {
  const seeds = Object.values(BUILT).map((req) => buildPlan(req));

  function agree(bytes: Uint8Array): void {
    let oracle: ReturnType<typeof decodePlan> | undefined;
    try {
      oracle = decodePlan(bytes);
    } catch {
      oracle = undefined;
    }
    const answer = call('describePlan', bytes); // a trap throws CoreTrapError and fails
    if (oracle === undefined) {
      expect(answer.status, 'the oracle refused these bytes').toBe(1);
      expect(new TextDecoder().decode(answer.bytes)).toMatch(/^(plan|request): /);
    } else {
      expect(answer.status, 'the oracle accepted these bytes').toBe(0);
      expect(withoutRunners(decodeDescription(answer.bytes))).toEqual(oracle);
    }
  }

  it('single-byte changes, cuts, insertions and repeats', () => {
    const damage = fc.record({
      seed: fc.nat(seeds.length - 1),
      at: fc.nat(),
      kind: fc.constantFrom('set', 'cut', 'insert', 'repeat'),
      value: fc.integer({ min: 0, max: 255 }),
      n: fc.integer({ min: 1, max: 64 }),
    });
    fc.assert(
      fc.property(damage, ({ seed, at, kind, value, n }) => {
        const plan = seeds[seed];
        const i = at % plan.length;
        let bytes: Uint8Array;
        if (kind === 'set') {
          bytes = plan.slice();
          bytes[i] = value;
        } else if (kind === 'cut') bytes = plan.subarray(0, i);
        else if (kind === 'insert') bytes = concat([plan.subarray(0, i), new Uint8Array(n).fill(value), plan.subarray(i)]);
        else bytes = concat([plan.subarray(0, i + n), plan.subarray(i)]);
        agree(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('ops moved or repeated (frames whole, order rules broken)', () => {
    const frames = (bytes: Uint8Array): Uint8Array[] => {
      const out: Uint8Array[] = [];
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let at = 0; at < bytes.length; ) {
        const end = at + 8 + view.getUint32(at, true);
        out.push(bytes.subarray(at, end));
        at = end;
      }
      return out;
    };
    const shuffle = fc.record({ seed: fc.nat(seeds.length - 1), from: fc.nat(), to: fc.nat(), copy: fc.boolean() });
    fc.assert(
      fc.property(shuffle, ({ seed, from, to, copy }) => {
        const list = frames(seeds[seed]);
        const f = list[from % list.length];
        if (!copy) list.splice(from % list.length, 1);
        list.splice(to % (list.length + 1), 0, f);
        agree(concat(list));
      }),
      { numRuns: 2000 },
    );
  });

  it('a refusal is a CoreError of status 1 naming the op and the field', () => {
    const plan = { version: 1n, flags: 0n, ops: [
      { name: 'CLONE', args: { flags: 0x20000n } },
      { name: 'MKDIR', args: { path: 'x'.repeat(4096), mode: 0o755n } },
      { name: 'EXEC', args: { path: 'sh', argv: ['sh'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
    ] };
    let err: unknown;
    try {
      describePlanBytes(encodePlan(plan));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).status).toBe(1);
    expect((err as CoreError).reason).toBe('plan: op 1 (MKDIR): path: string of 4096 bytes (at most 4095)');
    expect(() => describePlanBytes(new Uint8Array())).toThrow(/plan: does not start with HELLO/);
    expect(() => describePlanBytes(encodePlan({ ...plan, ops: [plan.ops[0], plan.ops[2]], flags: 8n }))).toThrow(/plan: HELLO: unknown flags 8/);
    expect(() => describePlanBytes(encodePlan({ ...plan, ops: [plan.ops[2], plan.ops[0]] }))).toThrow(/EXEC is not the last op/);
    const unknown = new FrameWriter().frame(0x005c);
    const good = encodePlan({ ...plan, ops: [plan.ops[0], plan.ops[2]] });
    expect(() => describePlanBytes(concat([good.subarray(0, 48), unknown, good.subarray(48)]))).toThrow(/plan: op 1: unknown type 0x5c/);
    expect(() => describePlanBytes(good.subarray(0, 50))).toThrow(/^internal error: malformed request to the policy core: plan: frame 2: header cut short/);
  });

  it('the answer starts with PLAN and has one OP per op', () => {
    const answer = call('describePlan', buildPlan(rootfsRequest()));
    expect(answer.status).toBe(0);
    expect(new DataView(answer.bytes.buffer, answer.bytes.byteOffset).getUint16(4, true)).toBe(ANSWER.PLAN);
    expect(() => decodeDescription(answer.bytes.subarray(0, answer.bytes.length - 4))).toThrow();
  });
});
