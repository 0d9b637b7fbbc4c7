// Properties of the policy core's decisions (fast-check), checked on the Wasm core and,
// where it says so, against the TypeScript reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cgroupWrites } from '../../ts/core/cgroup.js';
import { pathVerdicts } from '../../ts/core/pathsafe.js';
import { layerToOverlay, overlayToLayer } from '../../ts/core/whiteout.js';
import * as refCg from '../reference/cgroup.js';
import * as refPs from '../reference/pathsafe.js';
import * as refWo from '../reference/whiteout.js';
import type { LayerEntry, UpperEntry } from '../reference/whiteout.js';
import { isCleanRelative } from './fuzz-harness.js';

const v2 = { layout: 2, cpus: 4n, mems: 1n, flags: 0n };

function v2Value(flag: string, value: string, file: string): bigint {
  const w = cgroupWrites(v2, [{ name: flag, value }]).find((x) => x.file === file);
  return BigInt(w!.value.split(' ')[0]);
}

describe('cgroup conversions are monotonic and in range', () => {
  it('cpu-shares → cpu.weight: 2..262144 onto 1..10000, never decreasing (every value checked)', () => {
    let last = 0n;
    let broken = '';
    for (let shares = 2n; shares <= 262144n; shares++) {
      const w = refCg.cpuSharesToWeight(shares);
      if (!(w >= last && w >= 1n && w <= 10000n) && broken === '') broken = `${shares} → ${w} after ${last}`;
      last = w;
    }
    expect(broken).toBe('');
    fc.assert(fc.property(fc.integer({ min: 2, max: 262144 }), (s) => {
      expect(v2Value('cpu-shares', String(s), 'cpu.weight')).toBe(refCg.cpuSharesToWeight(BigInt(s)));
    }), { numRuns: 300 });
  });
  it('blkio-weight → io.weight: 10..1000 onto 1..10000, strictly increasing', () => {
    let last = 0n;
    for (let w = 10; w <= 1000; w++) {
      const io = v2Value('blkio-weight', String(w), 'io.weight');
      expect(io > last && io <= 10000n).toBe(true);
      last = io;
    }
  });
  it('--cpus → cpu.max quota grows with cpus and stays within host cpus × period', () => {
    fc.assert(fc.property(fc.integer({ min: 10, max: 4000 }), fc.integer({ min: 10, max: 4000 }), (a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const text = (n: number) => (n / 1000).toFixed(3);
      const qa = v2Value('cpus', text(lo), 'cpu.max');
      const qb = v2Value('cpus', text(hi), 'cpu.max');
      expect(qa <= qb && qb <= 4n * 100000n && qa >= 1000n).toBe(true);
    }), { numRuns: 200 });
  });
  it('memory → v2 swap.max is never negative and memory.max equals the size', () => {
    fc.assert(fc.property(fc.integer({ min: 6, max: 1 << 20 }), fc.integer({ min: 0, max: 1 << 20 }), (mib, extra) => {
      const flags = [{ name: 'memory', value: `${mib}m` }, { name: 'memory-swap', value: `${mib + extra}m` }];
      const writes = cgroupWrites(v2, flags);
      expect(writes).toEqual([
        { controller: 'memory', file: 'memory.swap.max', value: String(BigInt(extra) << 20n) },
        { controller: 'memory', file: 'memory.max', value: String(BigInt(mib) << 20n) },
      ]);
    }), { numRuns: 200 });
  });
  it('differential: any flag list gives the same answer in Wasm and in the reference', () => {
    const flagArb = fc.record({
      name: fc.constantFrom(...refCg.FLAG_NAMES),
      value: fc.oneof(fc.stringMatching(/^[0-9]{1,12}(\.[0-9]{0,3})?( ?[kmgKMG][iI]?[bB]?)?$/), fc.constantFrom('-1', '0', '0-1', '8:0:1m', '8:0:10', '1,3', '')),
    });
    fc.assert(fc.property(fc.constantFrom(1, 2), fc.array(flagArb, { maxLength: 6 }), (layout, flags) => {
      const host = { layout, cpus: 4n, mems: 2n, flags: 0n };
      const want = refCg.cgroupWrites(host, flags);
      let got: unknown;
      try {
        got = { status: 0, value: cgroupWrites(host, flags) };
      } catch (err) {
        const e = err as { status: 1 | 2; reason: string };
        got = e.status === 1 ? { status: 1 } : { status: 2, reason: e.reason };
      }
      expect(got).toEqual(want.status === 1 ? { status: 1 } : want);
    }), { numRuns: 500 });
  });
});

// A valid, canonical layer: every parent directory present, no two entries for one path,
// whiteouts only of names no entry of the layer uses.
const nameArb = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const layerArb = fc.array(fc.tuple(fc.array(nameArb, { minLength: 1, maxLength: 3 }), fc.constantFrom('file', 'dir', 'whiteout', 'opaque', 'symlink')), { maxLength: 14 })
  .map((specs) => {
    const kinds = new Map<string, string>();
    for (const [parts, kind] of specs) {
      const path = parts.join('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (kinds.get(dir) !== undefined && kinds.get(dir) !== 'dir') return null;
        kinds.set(dir, 'dir');
      }
      if (kinds.has(path)) continue;
      kinds.set(path, kind === 'opaque' ? 'dir' : kind);
      if (kind === 'opaque') kinds.set(`${path}/.wh..wh..opq`, 'opaque');
    }
    const entries: LayerEntry[] = [];
    for (const [path, kind] of kinds) {
      if (kind === 'whiteout') {
        const parts = path.split('/');
        entries.push({ path: [...parts.slice(0, -1), `.wh.${parts.at(-1)}`].join('/'), type: 1, size: 0n, rdev: 0n });
      } else if (kind === 'opaque') entries.push({ path, type: 1, size: 0n, rdev: 0n });
      else entries.push({ path, type: kind === 'dir' ? 2 : kind === 'symlink' ? 3 : 1, size: 0n, rdev: 0n });
    }
    return entries;
  })
  .filter((x): x is LayerEntry[] => x !== null);

function upperFrom(layer: LayerEntry[], actions: { index: number; kind: number; path: string }[], xattr: string): UpperEntry[] {
  const upper = new Map<string, UpperEntry>();
  for (const a of actions) {
    if (a.kind === refWo.ACTION_EXTRACT) upper.set(a.path, { path: a.path, type: layer[a.index].type, rdev: 1n, xattrs: [] });
    else if (a.kind === refWo.ACTION_MKNOD) upper.set(a.path, { path: a.path, type: refWo.TYPE_CHAR, rdev: 0n, xattrs: [] });
    else if (a.kind === refWo.ACTION_SET_XATTR) upper.get(a.path)!.xattrs.push(`${xattr}=y`);
  }
  return [...upper.values()];
}

describe('whiteouts', () => {
  it('OCI → overlay → OCI gives the same set of entries (trusted and user xattrs)', () => {
    fc.assert(fc.property(layerArb, fc.boolean(), (layer, userxattr) => {
      const actions = layerToOverlay(layer, userxattr);
      const back = overlayToLayer(upperFrom(layer, actions, userxattr ? 'user.overlay.opaque' : 'trusted.overlay.opaque'), userxattr);
      expect(new Set(back.map((e) => e.path))).toEqual(new Set(layer.map((e) => e.path)));
    }), { numRuns: 300 });
  });
  it('layer order from overlay: every directory before its contents, markers and whiteouts before siblings', () => {
    fc.assert(fc.property(layerArb, (layer) => {
      const back = overlayToLayer(upperFrom(layer, layerToOverlay(layer), 'trusted.overlay.opaque'));
      const seen = new Set<string>();
      for (const e of back) {
        const parts = e.path.split('/');
        if (parts.length > 1) expect(seen.has(parts.slice(0, -1).join('/'))).toBe(true);
        seen.add(e.path);
      }
    }), { numRuns: 200 });
  });
});

const itemArb = fc.record({
  kind: fc.constantFrom(1, 2, 3),
  name: fc.array(fc.constantFrom('a', 'b', 'l', '..', '.', '', 'etc'), { maxLength: 6 }).map((p) => p.join('/')),
  target: fc.tuple(fc.boolean(), fc.array(fc.constantFrom('a', 'b', 'l', '..', '.', 'etc'), { minLength: 1, maxLength: 6 })).map(([abs, p]) => (abs ? '/' : '') + p.join('/')),
}).map((i) => (i.kind === 1 ? { ...i, target: '' } : i));

describe('path safety', () => {
  it('no verdict escapes the root, and Wasm agrees with the reference', () => {
    fc.assert(fc.property(fc.array(itemArb, { maxLength: 16 }), (items) => {
      const got = pathVerdicts(items);
      expect(refPs.pathVerdicts(0, items)).toEqual({ status: 0, value: got });
      for (const v of got) {
        if (v.verdict !== refPs.VERDICT_OK) continue;
        expect(isCleanRelative(v.path)).toBe(true);
        if (v.target !== '') expect(isCleanRelative(v.target)).toBe(true);
      }
    }), { numRuns: 1000 });
  });
});
