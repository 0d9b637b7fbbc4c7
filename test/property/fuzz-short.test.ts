// A short run of the policy core's fuzzer (npm run fuzz runs it for longer): every entry
// point answers 0/1/2 on any bytes, never traps or hangs, and agrees with the reference.
import { describe, expect, it } from 'vitest';
import { call } from '../../ts/core/wasm.js';
import { Rng, replay, run, targets } from './fuzz-harness.js';

describe('policy core fuzz (short run)', () => {
  it('every registered entry point survives 3 seconds of random and structured requests', () => {
    const seed = Number(process.env.FUZZ_SEED ?? '20241124') >>> 0;
    const result = run({ seed, ms: 3000 });
    const detail = result.failures.map((f) => `${f.target}: ${f.message} (replay: npm run fuzz -- --replay ${f.seed} --target ${f.target})`);
    expect(detail).toEqual([]);
    expect(result.executions).toBeGreaterThan(1000);
  });

  it('a failing case replays from its seed alone', () => {
    const t = targets[0];
    const again = replay(t.entry, 12345);
    expect(replay(t.entry, 12345).bytes).toEqual(again.bytes);
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
