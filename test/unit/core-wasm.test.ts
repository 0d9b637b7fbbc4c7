// The loader (ts/core/wasm.ts): memory stays bounded over many calls, a trap becomes an
// internal error and the next call gets a fresh instance.
import binaryen from 'binaryen';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, buildPlanRaw, encodeRequest } from '../../ts/core/build-plan.js';
import { CORE_INPUT_MAX, CoreTrapError, call, coreMemoryBytes, useCoreModuleForTests } from '../../ts/core/wasm.js';
import { DEFAULT_NS, NS, expectCoreBuilt, hostRequest, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const MAXIMUM_MEMORY = 2048 * 65536; // asconfig.json maximumMemory (pages)

describe('memory', () => {
  it('stays the same size over 10,000 calls of every kind once warm', () => {
    const requests = [
      encodeRequest(rootfsRequest()),
      encodeRequest(hostRequest({ env: ['A=1', 'B=2'], workdir: '/w', timeOffsets: { monotonic: 5 } })),
      encodeRequest(rootfsRequest({ newUserns: true, userns: { mode: 'auto' }, usedRanges: [{ start: 524288, size: 65536 }] })),
      encodeRequest(rootfsRequest({ hostname: 'bad_name' })), // status 2
      new Uint8Array([1, 2, 3]), // status 1
    ];
    const statuses = new Set<number>();
    const round = (n: number) => {
      for (let i = 0; i < n; i++) statuses.add(buildPlanRaw(requests[i % requests.length]).status);
    };
    round(1000);
    const warm = coreMemoryBytes();
    round(10_000);
    expect(coreMemoryBytes()).toBe(warm);
    expect([...statuses].sort()).toEqual([0, 1, 2]);
    // 32 pages: the core grows its memory in doubling steps, and its static data (error texts,
    // op tables) has grown with images and lifecycle past the 16 pages it once fit in.
    expect(warm).toBeLessThanOrEqual(32 * 65536);
  });

  it('stays bounded with the largest requests, call after call', () => {
    // ENV and ARGV frames near 1 MiB each: the plan's EXEC frame is refused (over 1 MiB).
    const big = (c: string) => Array.from({ length: 16 }, (_, i) => `${c}${i}=${'x'.repeat(65000)}`);
    const huge = encodeRequest(rootfsRequest({ env: big('E'), argv: ['sh', ...big('A')] }));
    // Just under the EXEC bound: planned.
    const large = encodeRequest(rootfsRequest({ env: big('E').slice(0, 15) }));
    const ranges = encodeRequest(rootfsRequest({
      newUserns: true,
      userns: { mode: 'auto', size: 1 },
      usedRanges: Array.from({ length: 65536 }, (_, i) => ({ start: 524288 + 2 * i, size: 1 })),
    }));
    expect(huge.length).toBeGreaterThan(2_000_000);
    expect(buildPlanRaw(huge).status).toBe(2);
    expect(buildPlanRaw(large).status).toBe(0);
    expect(buildPlanRaw(ranges).status).toBe(0);
    for (let i = 0; i < 20; i++) {
      buildPlanRaw(huge);
      buildPlanRaw(large);
      buildPlanRaw(ranges);
    }
    const warm = coreMemoryBytes();
    for (let i = 0; i < 100; i++) {
      buildPlanRaw(huge);
      buildPlanRaw(large);
      buildPlanRaw(ranges);
    }
    expect(coreMemoryBytes()).toBe(warm);
    expect(warm).toBeLessThan(MAXIMUM_MEMORY / 2);
  });

  it('refuses a request over 4 MiB without growing memory', () => {
    const before = coreMemoryBytes();
    expect(call('buildPlan', new Uint8Array(CORE_INPUT_MAX + 1)).status).toBe(1);
    expect(coreMemoryBytes()).toBe(before);
  });

  it('a used-range list that picks the range after 65536 holes', () => {
    const ranges = rootfsRequest({
      newUserns: true,
      userns: { mode: 'auto', size: 2 },
      usedRanges: Array.from({ length: 65536 }, (_, i) => ({ start: 524288 + 2 * i, size: 1 })),
    });
    const plan = buildPlan(ranges);
    expect(Buffer.from(plan).includes(Buffer.from(`0 ${524288 + 2 * 65536 - 1} 2\n`))).toBe(true);
  });
});

// A stand-in core: buildPlan answers its call count, aborts on the 2nd call; trapNow hits
// `unreachable`; badStatus returns 7.
const FAKE = `
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 12) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")
  (global $n (mut i32) (i32.const 0))
  (func (export "inputBuffer") (param i32) (result i32) (i32.const 1024))
  (func (export "outPtr") (result i32) (i32.const 512))
  (func (export "outLen") (result i32) (i32.const 1))
  (func (export "buildPlan") (param i32) (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (if (i32.eq (global.get $n) (i32.const 2))
      (then (call $abort (i32.const 16) (i32.const 0) (i32.const 7) (i32.const 3)) (unreachable)))
    (i32.store8 (i32.const 512) (global.get $n))
    (i32.const 0))
  (func (export "trapNow") (param i32) (result i32) (unreachable))
  (func (export "badStatus") (param i32) (result i32) (i32.const 7)))
`;

function fakeModule(): WebAssembly.Module {
  const m = binaryen.parseText(FAKE);
  const bytes = m.emitBinary();
  m.dispose();
  return new WebAssembly.Module(bytes);
}

describe('a trap', () => {
  afterEach(() => useCoreModuleForTests(undefined));

  it('is an internal error naming the entry and the abort message; the next call gets a new instance', () => {
    useCoreModuleForTests(fakeModule());
    expect([...call('buildPlan', new Uint8Array(1)).bytes]).toEqual([1]);
    let err: unknown;
    try {
      call('buildPlan', new Uint8Array(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoreTrapError);
    expect((err as CoreTrapError).message).toBe('internal error in the policy core (buildPlan): boom at :7:3');
    expect((err as CoreTrapError).code).toBe('internal');
    // A fresh instance: its count starts again at 1.
    expect([...call('buildPlan', new Uint8Array(1)).bytes]).toEqual([1]);
  });

  it('without abort (a Wasm trap) is reported too', () => {
    useCoreModuleForTests(fakeModule());
    expect(() => call('trapNow', new Uint8Array(0))).toThrow(/^internal error in the policy core \(trapNow\): unreachable/);
  });

  it('an unknown status is a core bug too', () => {
    useCoreModuleForTests(fakeModule());
    expect(() => call('badStatus', new Uint8Array(0))).toThrow('internal error in the policy core (badStatus): unknown status 7');
  });

  it('the real core works again afterwards', () => {
    useCoreModuleForTests(fakeModule());
    expect(() => call('trapNow', new Uint8Array(0))).toThrow(CoreTrapError);
    useCoreModuleForTests(undefined);
    expect(buildPlan(rootfsRequest()).length).toBeGreaterThan(0);
  });

  it('an unknown entry point is an internal error, not a trap', () => {
    expect(() => call('noSuchEntry', new Uint8Array(0))).toThrow('the policy core has no entry point noSuchEntry');
  });
});

describe('the module', () => {
  it('imports nothing but env.abort and exports the calling convention', async () => {
    const { readFileSync } = await import('node:fs');
    const { coreWasmPath } = await import('../../ts/core/wasm.js');
    const m = new WebAssembly.Module(readFileSync(coreWasmPath()));
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'abort', kind: 'function' }]);
    const exports = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const name of ['memory', 'inputBuffer', 'outPtr', 'outLen', 'buildPlan']) expect(exports).toContain(name);
  });
});
