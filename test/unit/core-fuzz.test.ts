// The core never traps: whatever bytes reach buildPlan, the answer is a status 0, 1 or 2.
// And every request ts/ can express is either planned or refused as the user's value (2),
// never malformed (1).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, REQUEST, buildPlan, buildPlanRaw, encodeRequest } from '../../ts/core/build-plan.js';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { FrameWriter, concat } from '../../ts/protocol/frames.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { NS, expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const RUNS = Number(process.env.HUSK_FUZZ_RUNS ?? 3000);

const text = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom('', '/', '//', '.', '..', '/a:b,c\\d', 'PATH=', '=', 'A=1', 'PATH=/x::/y:', 'box', 'a-b.c', '-x', 'x'.repeat(64)),
);
/** Mostly a value the core takes, sometimes anything: so both paths are walked. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 });
const word = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const absPath = fc.array(fc.oneof(word, fc.constantFrom('a:b', 'c,d', 'e\\f', 'é')), { maxLength: 4 }).map((p) => `/${p.join('/')}`);
const path = mostly(absPath, fc.oneof(text, text.map((s) => `/${s}`)));
const envEntry = mostly(
  fc.tuple(fc.constantFrom('A', 'B', 'PATH', 'HOME', 'HOSTNAME', 'X_1'), fc.string({ maxLength: 12 })).map(([k, v]) => `${k}=${v}`),
  text,
);
const hostname = mostly(fc.array(word, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')), text);
const id = mostly(
  fc.integer({ min: 0, max: 70000 }),
  fc.oneof(fc.constantFrom(0xfffffffe, 0xffffffff, 2 ** 32, -1), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
);
const share = fc.record({ pid: fc.boolean(), net: fc.boolean(), ipc: fc.boolean(), uts: fc.boolean(), cgroup: fc.boolean() }, { requiredKeys: [] });
const offset = mostly(fc.integer({ min: -100000, max: 100000 }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));
const range = fc.record({ start: fc.integer({ min: 0, max: 2 ** 31 }), size: fc.integer({ min: 0, max: 2 ** 20 }) });

const requestArb: fc.Arbitrary<PlanRequest> = fc.record(
  {
    image: fc.oneof(
      fc.record({ kind: fc.constant('rootfs' as const), path, readwrite: fc.boolean() }),
      fc.record({
        kind: fc.constant('host' as const),
        hostDirs: fc.uniqueArray(
          fc.oneof(
            fc.record({ name: mostly(word, text), kind: fc.constant('dir' as const) }),
            fc.record({ name: mostly(word, text), kind: fc.constant('symlink' as const), target: mostly(absPath, text) }),
          ),
          { maxLength: 6, selector: (d) => d.name },
        ),
      }),
    ),
    stage: path,
    share,
    newUserns: fc.boolean(),
    id: mostly(word, text),
    hostname,
    env: fc.array(envEntry, { maxLength: 8 }),
    workdir: path,
    user: fc.record({ uid: id, gid: id }),
    argv: mostly(fc.array(mostly(word, text), { minLength: 1, maxLength: 4 }), fc.array(text, { maxLength: 2 })),
    userns: fc.record({ mode: fc.constant('auto' as const), size: mostly(fc.integer({ min: 0, max: 70000 }), id) }),
    usedRanges: fc.array(mostly(range, fc.record({ start: id, size: id })), { maxLength: 5 }),
    timens: fc.boolean(),
    timeOffsets: fc.record({ monotonic: offset, boottime: offset }, { requiredKeys: [] }),
    trace: fc.boolean(),
    dieWithParent: fc.boolean(),
  },
  { requiredKeys: ['image', 'stage', 'argv'] },
);

/** A request as the core sees it, or null when ts/ refuses it first (a CoreError 2). */
function encoded(req: PlanRequest): Uint8Array | null {
  try {
    return encodeRequest(req);
  } catch (err) {
    if (err instanceof CoreError && err.status === 2) return null;
    throw err;
  }
}

function expectAnswer(bytes: Uint8Array): 0 | 1 | 2 {
  const a = buildPlanRaw(bytes); // a trap throws CoreTrapError and fails the property
  expect([0, 1, 2]).toContain(a.status);
  if (a.status === 0) decodePlan(a.bytes);
  else expect(a.bytes.length).toBeGreaterThan(0);
  return a.status;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
);

function mutate(bytes: Uint8Array, m: fc.Arbitrary<unknown> extends never ? never : any): Uint8Array {
  if (bytes.length === 0) return bytes;
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'set': {
      const c = bytes.slice();
      c[at] = m.value;
      return c;
    }
    case 'flip': {
      const c = bytes.slice();
      c[at] ^= 1 << m.bit;
      return c;
    }
    case 'cut':
      return bytes.subarray(0, at);
    case 'insert':
      return concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return concat([bytes.subarray(0, at), bytes.subarray(at + m.n)]);
    default:
      return concat([bytes.subarray(0, at + m.n), bytes.subarray(at)]);
  }
}

const rawFrame = fc
  .record({
    type: fc.oneof(fc.integer({ min: REQUEST.IMAGE - 1, max: REQUEST.OPTIONS + 1 }), fc.integer({ min: 0, max: 0xffff })),
    fields: fc.array(
      fc.oneof(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => (w: FrameWriter) => w.u64(v)),
        fc.integer({ min: 0, max: 9 }).map((v) => (w: FrameWriter) => w.u64(v)),
        text.map((s) => (w: FrameWriter) => w.str(s)),
        fc.array(text, { maxLength: 4 }).map((l) => (w: FrameWriter) => w.strs(l)),
      ),
      { maxLength: 4 },
    ),
  })
  .map(({ type, fields }) => {
    const w = new FrameWriter();
    for (const f of fields) f(w);
    return w.frame(type);
  });

describe('buildPlan never traps', () => {
  it('random bytes get status 1 (or, by luck, 0 or 2)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void expectAnswer(bytes)), { numRuns: RUNS });
  });

  it('random sequences of well-framed request frames get a status', () => {
    fc.assert(fc.property(fc.array(rawFrame, { maxLength: 14 }), (frames) => void expectAnswer(concat(frames))), { numRuns: RUNS });
  });

  it('mutations of valid requests get a status', () => {
    const arb = fc.tuple(requestArb, fc.array(mutation, { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(arb, ([req, ms]) => {
        let bytes = encoded(req);
        if (bytes === null) return;
        for (const m of ms) bytes = mutate(bytes, m);
        expectAnswer(bytes);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('typed requests', () => {
  it('are planned (a plan the protocol decoder accepts) or refused with status 2, never malformed', () => {
    let planned = 0;
    fc.assert(
      fc.property(requestArb, (req) => {
        const bytes = encoded(req);
        if (bytes === null) return;
        const status = expectAnswer(bytes);
        expect(status).not.toBe(1);
        if (status === 0) planned++;
      }),
      { numRuns: RUNS },
    );
    // Both outcomes are walked, not only refusals.
    if (process.env.HUSK_FUZZ_VERBOSE) console.log(`planned ${planned} of ${RUNS}`);
    expect(planned).toBeGreaterThan(RUNS / 20);
  });

  it('plan deterministically: the same request gives the same bytes', () => {
    const simple = fc.record({
      hostname: fc.constantFrom('a', 'box', 'web-1.example'),
      env: fc.array(fc.constantFrom('A=1', 'B=2', 'A=3', 'PATH=/bin:/usr/bin', 'HOME=/h'), { maxLength: 6 }),
      workdir: fc.constantFrom('/', '/w', '/tmp/x'),
      argv: fc.array(fc.constantFrom('sh', '-c', 'true', ''), { minLength: 1, maxLength: 4 }).map((a) => ['sh', ...a]),
    });
    fc.assert(
      fc.property(simple, (over) => {
        const req: PlanRequest = { image: { kind: 'rootfs', path: '/r' }, stage: '/s', share: { pid: true, net: true, ipc: true, cgroup: true }, ...over };
        expect(Buffer.compare(buildPlan(req), buildPlan(req))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
