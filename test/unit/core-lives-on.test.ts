// The core's part in containers that live on: a kept writable layer (KEEP_LAYER 0x0170) in
// the overlay instead of the stage, and a detached container that dies with its monitor
// (OPTIONS bit 4 → HELLO flag dies_with_monitor).
import { beforeAll, describe, expect, it } from 'vitest';
import { brief, expectCoreBuilt, find, hostRequest, opsOf, planOf, rootfsRequest, STAGE } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const keepLayer = { upper: '/run/husk/layers/abc/upper', work: '/run/husk/layers/abc/work' };

describe('a kept writable layer', () => {
  it('a rootfs overlay writes to the kept upper, and the stage gets no upper of its own', () => {
    const ops = opsOf(rootfsRequest({ keepLayer }));
    const overlay = find(ops, 'MOUNT').find((o) => o.args.fstype === 'overlay')!;
    expect(String(overlay.args.data)).toContain(`upperdir=${keepLayer.upper},workdir=${keepLayer.work}`);
    expect(ops.map(brief).filter((l) => l.includes(`${STAGE}/upper`))).toEqual([]);
  });

  it('each host directory gets its own upper under the kept one', () => {
    const ops = opsOf(hostRequest({ keepLayer }));
    const data = find(ops, 'MOUNT').filter((o) => o.args.fstype === 'overlay').map((o) => String(o.args.data));
    expect(data).toHaveLength(2);
    expect(data[0]).toContain(`upperdir=${keepLayer.upper}/usr,workdir=${keepLayer.work}/usr`);
    expect(find(ops, 'MKDIR').map((o) => o.args.path)).toContain(`${keepLayer.upper}/etc`);
  });

  it('a relative or shared upper is refused as malformed', () => {
    expect(() => planOf(rootfsRequest({ keepLayer: { upper: 'layers/upper', work: '/w' } }))).toThrow(/KEEP_LAYER\): upper: not an absolute clean path/);
    expect(() => planOf(rootfsRequest({ keepLayer: { upper: '/l', work: '/l' } }))).toThrow(/upper and work are one directory/);
  });
});

describe('dies with its monitor', () => {
  it('sets HELLO flag bit 2 and nothing else', () => {
    expect(planOf(rootfsRequest({ diesWithMonitor: true })).flags).toBe(4n);
    expect(planOf(rootfsRequest({ diesWithMonitor: true, trace: true })).flags).toBe(5n);
    expect(planOf(rootfsRequest({})).flags).toBe(0n);
  });
});
