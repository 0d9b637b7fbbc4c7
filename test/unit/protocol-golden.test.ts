// The golden plans (test/golden/): the oracle encodes each to its .bin byte for byte and
// decodes it back; the core reads the same bytes back to the same ops (so the two readers
// check each other), and the core's reading, in words, is the .txt.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describePlanBytes } from '../../ts/core/describe.js';
import { describePlan } from '../../ts/protocol/describe.js';
import { decodePlan, encodePlan } from '../oracle/plan-codec.js';
import { GOLDEN } from '../golden/plans.js';
import { expectCoreBuilt } from './core-helpers.js';
import { withoutRunners } from './describe-helpers.js';

const dir = new URL('../golden/', import.meta.url);

beforeAll(() => expectCoreBuilt());

describe('golden plans', () => {
  // The Zig tests check every .bin here too: the files and GOLDEN must be the same set, so a
  // missing or emptied directory, a lost file or a stale one fails here rather than passing
  // by checking nothing.
  it('test/golden holds a .bin and a .txt for each golden plan, and no other plan', () => {
    const names = Object.keys(GOLDEN).sort();
    expect(names.length, 'golden plans in test/golden/plans.ts').toBeGreaterThan(0);
    const files = readdirSync(dir).filter((f) => /\.(bin|txt)$/.test(f)).sort();
    expect(files).toEqual(names.flatMap((n) => [`${n}.bin`, `${n}.txt`]).sort());
  });

  for (const [name, plan] of Object.entries(GOLDEN)) {
    const bin = new URL(`${name}.bin`, dir);
    const txt = new URL(`${name}.txt`, dir);
    if (process.env.UPDATE_GOLDEN) {
      writeFileSync(bin, encodePlan(plan));
      writeFileSync(txt, describePlan(describePlanBytes(encodePlan(plan))));
    }

    it(`${name}: the encoder produces the golden bytes`, () => {
      expect(existsSync(bin)).toBe(true);
      expect(Buffer.from(encodePlan(plan)).equals(readFileSync(bin))).toBe(true);
    });

    it(`${name}: the golden bytes decode to the plan, the core reads them the same, and in words they are the golden text`, () => {
      const bytes = new Uint8Array(readFileSync(bin));
      expect(decodePlan(bytes)).toEqual(plan);
      const described = describePlanBytes(bytes);
      expect(withoutRunners(described)).toEqual(plan);
      expect(describePlan(described)).toBe(readFileSync(txt, 'utf8'));
    });

    it(`${name}: every truncation is rejected, by the oracle and by the core`, () => {
      const bytes = new Uint8Array(readFileSync(bin));
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodePlan(bytes.subarray(0, n)), `cut at ${n}`).toThrow();
        expect(() => describePlanBytes(bytes.subarray(0, n)), `core, cut at ${n}`).toThrow(/plan|request/);
      }
    });
  }
});
