// A short run of the policy core's fuzzer (npm run fuzz runs it for longer): every entry
// point answers 0/1/2 on any bytes, never traps or hangs, and agrees with the reference.
import { describe, expect, it } from 'vitest';
import { call } from '../../ts/core/wasm.js';
import { Rng, replay, run, stable, targets } from './fuzz-harness.js';

describe('policy core fuzz (short run)', () => {
  it('every registered entry point survives 3 seconds of random and structured requests', () => {
    const seed = Number(process.env.FUZZ_SEED ?? '20241124') >>> 0;
    const result = run({ seed, ms: 3000 });
    const detail = result.failures.map((f) => `${f.target}: ${f.message} (replay: npm run fuzz -- --replay ${f.seed} --target ${f.target})`);
    expect(detail).toEqual([]);
    expect(result.executions).toBeGreaterThan(1000);
  });

  it('a failing case replays from its seed alone', () => {
    // Targets broken on purpose: every ok answer breaks an "invariant" whose message carries
    // the answer, so the first run fails, and what it recorded (the case seed, bytes and
    // message) is what a replay from that seed alone must give again.
    const broken = targets.map((t) => ({ ...t, check: (value: unknown) => `broken on purpose: ${stable(value).slice(0, 200)}` }));
    const first = run({ seed: 20241124, ms: 10_000, maxCases: 200, among: broken, stopAtFirst: false });
    expect(first.failures.length).toBeGreaterThan(1);
    for (const f of first.failures.slice(0, 20)) {
      const again = replay(f.target, f.seed, broken);
      expect(again.message, `${f.target} seed ${f.seed}`).toBe(f.message);
      expect(again.bytes, `${f.target} seed ${f.seed}`).toEqual(f.bytes);
    }
    // The comparison tells cases apart: a neighbouring seed is another case.
    const [f] = first.failures;
    expect(replay(f.target, f.seed + 1, broken).bytes).not.toEqual(f.bytes);
  });

  it('requests of edge lengths (0, 1, 2, 1024, 262144 bytes; zeros, ones and noise) get a status, not a trap', () => {
    const rng = new Rng(7);
    for (const t of targets) {
      for (const len of [0, 1, 2, 8, 1024, 262144]) {
        for (const fill of ['zero', 'ff', 'noise'] as const) {
          const bytes = new Uint8Array(len);
          for (let i = 0; i < len; i++) bytes[i] = fill === 'zero' ? 0 : fill === 'ff' ? 0xff : rng.int(256);
          const answer = call(t.entry, bytes);
          expect([0, 1, 2]).toContain(answer.status);
        }
      }
    }
  });
});
