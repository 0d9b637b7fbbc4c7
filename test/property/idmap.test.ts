// Properties of uid/gid maps (fast-check), on the Wasm core, and against the TypeScript
// reference (test/reference/idmap.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { computeIdmap, translateIds } from '../../ts/core/idmap.js';
import type { IdLine, IdmapAnswer, IdmapSpec } from '../../ts/core/idmap.js';
import { computeIdmap as refCompute } from '../reference/idmap.js';
import { Rng, genIdmapSpec, mapProblem } from './fuzz-harness.js';

const UNMAPPED = 4294967295;

/** Disjoint lines (both sides), built from gaps and a shuffle of host slots. */
const disjointLines = fc
  .array(fc.record({ count: fc.integer({ min: 1, max: 50 }), gap: fc.integer({ min: 0, max: 3 }), hostGap: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 12 })
  .chain((parts) => fc.tuple(fc.constant(parts), fc.shuffledSubarray(parts.map((_, i) => i), { minLength: parts.length, maxLength: parts.length }), fc.integer({ min: 0, max: 4294967294 - 5000 }), fc.integer({ min: 0, max: 4294967294 - 5000 })))
  .map(([parts, order, insideBase, hostBase]) => {
    const lines: IdLine[] = [];
    let inside = insideBase;
    for (const p of parts) {
      inside += p.gap;
      lines.push({ inside, outside: 0, count: p.count });
      inside += p.count;
    }
    let outside = hostBase;
    for (const i of order) {
      outside += parts[i].hostGap;
      lines[i].outside = outside;
      outside += parts[i].count;
    }
    return lines;
  });

const text = (lines: readonly IdLine[]) => lines.map((l) => `${l.inside}:${l.outside}:${l.count}`);

function pairs(lines: readonly IdLine[]): string[] {
  const out: string[] = [];
  for (const l of lines) for (let i = 0; i < l.count; i++) out.push(`${l.inside + i}>${l.outside + i}`);
  return out.sort();
}

function answer(spec: IdmapSpec): IdmapAnswer | string {
  try {
    return computeIdmap(spec);
  } catch (err) {
    if (err instanceof CoreError) return err.reason;
    throw err;
  }
}

describe('maps', () => {
  it('merged maps cover exactly the requested ids (as pairs container → host), and never overlap', () => {
    fc.assert(fc.property(disjointLines, (lines) => {
      const a = answer({ mode: 'maps', uidmap: text(lines) });
      if (typeof a === 'string') return; // only possible: 340 lines (the generator stays below)
      expect(pairs(a.uid)).toEqual(pairs(lines));
      expect(mapProblem(a.uid)).toBeNull();
      expect(a.uid.length).toBeLessThanOrEqual(lines.length);
      // Merged means no two output lines are adjacent on both sides.
      for (let i = 1; i < a.uid.length; i++) {
        const p = a.uid[i - 1];
        const l = a.uid[i];
        expect(p.inside + p.count === l.inside && p.outside + p.count === l.outside).toBe(false);
      }
    }), { numRuns: 300 });
  });

  it('translating an id in and back out is the identity (both directions, every mapped id sampled)', () => {
    fc.assert(fc.property(disjointLines, fc.array(fc.nat(), { maxLength: 40 }), (lines, picks) => {
      const inside = picks.map((p) => {
        const l = lines[p % lines.length];
        return l.inside + (p % l.count);
      });
      const maps = { uid: lines, gid: [] };
      const [hosts] = translateIds(maps, [{ kind: 'uid', direction: 'to-host', ids: inside }]);
      expect(hosts.every((h) => h !== UNMAPPED)).toBe(true);
      const [back] = translateIds(maps, [{ kind: 'uid', direction: 'to-container', ids: hosts }]);
      expect(back).toEqual(inside);
    }), { numRuns: 300 });
  });

  it('an id no line covers is unmapped both ways', () => {
    fc.assert(fc.property(disjointLines, fc.integer({ min: 0, max: 4294967295 }), (lines, id) => {
      const inMap = lines.some((l) => id >= l.inside && id < l.inside + l.count);
      const outMap = lines.some((l) => id >= l.outside && id < l.outside + l.count);
      const [[h], [c]] = translateIds({ uid: lines, gid: [] }, [
        { kind: 'uid', direction: 'to-host', ids: [id] },
        { kind: 'uid', direction: 'to-container', ids: [id] },
      ]);
      expect(h === UNMAPPED).toBe(!inMap);
      expect(c === UNMAPPED).toBe(!outMap);
    }), { numRuns: 300 });
  });

  it('any two lines that share an id on either side are refused as an overlap', () => {
    fc.assert(fc.property(disjointLines, fc.nat(), fc.boolean(), (lines, pick, hostSide) => {
      const l = lines[pick % lines.length];
      const extra = hostSide ? `${4294967294 - 1}:${l.outside + (pick % l.count)}:1` : `${l.inside + (pick % l.count)}:0:1`;
      const a = answer({ mode: 'maps', uidmap: [...text(lines), extra] });
      expect(String(a)).toMatch(/overlap in the (host|container) ids/);
    }), { numRuns: 200 });
  });
});

describe('modes', () => {
  it('every map produced (auto, keep-id, maps, rootful or rootless) is valid for the kernel', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const { spec, used } = genIdmapSpec(new Rng(seed));
      try {
        const a = computeIdmap(spec, used);
        expect(mapProblem(a.uid)).toBeNull();
        expect(mapProblem(a.gid)).toBeNull();
        if (spec.mode === 'keep-id') {
          const c = spec.caller ?? { uid: 0, gid: 0 };
          const [[u]] = translateIds(a, [{ kind: 'uid', direction: 'to-host', ids: [c.uid] }]);
          expect(u).toBe(c.uid);
        }
        if (spec.mode === 'auto' && !spec.caller?.rootless) {
          const [start, size] = [a.uid[0].outside, a.uid[0].count];
          for (const r of used) expect(r.size === 0 || start + size <= r.start || r.start + r.size <= start).toBe(true);
        }
      } catch (err) {
        if (!(err instanceof CoreError)) throw err;
        expect(err.status).toBe(2);
      }
    }), { numRuns: 1000 });
  });

  it('differential: the Wasm core and the TypeScript reference give the same answer or the same reason', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const { spec, used } = genIdmapSpec(new Rng(seed));
      const ref = refCompute(spec, used);
      let got: unknown;
      try {
        got = computeIdmap(spec, used);
      } catch (err) {
        if (!(err instanceof CoreError)) throw err;
        got = err.reason;
      }
      expect(got).toEqual(ref.status === 0 ? ref.value : ref.reason);
    }), { numRuns: 2000 });
  });
});
