// The flatten fallback (assembly/plan/flatten.ts, docs/core-abi.md "Flatten"): where the
// kernel refuses overlayfs in the user namespace, FLATTEN makes the core copy the image onto
// the stage — each layer bottom first by a COPY_TREE that applies its whiteouts and opaque
// directories (user.overlay.opaque in a user namespace), a --rootfs directory by one plain
// COPY_TREE — and mount no overlay.
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGE, brief, expectCoreBuilt, find, opsOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const L = '/var/lib/husk/layers';
const lowers = [`${L}/aa/diff`, `${L}/bb/diff`, `${L}/cc/diff`];

describe('FLATTEN', () => {
  it('copies each layer into STAGE/root, bottom first, as layers (flag 1) with trusted.overlay.opaque without a user namespace; no OVERLAY', () => {
    const ops = opsOf(rootfsRequest({ image: { kind: 'layers', lowers, flatten: true } }));
    expect(find(ops, 'OVERLAY')).toEqual([]);
    expect(find(ops, 'COPY_TREE').map(brief)).toEqual(lowers.map((l) => `COPY_TREE "${l}" "${STAGE}/root" "trusted.overlay.opaque" 0x1`));
  });

  it('a --rootfs directory is one plain copy; --rootfs-rw stays a bind', () => {
    const ops = opsOf(rootfsRequest({ image: { kind: 'rootfs', path: '/srv/rootfs', flatten: true } }));
    expect(find(ops, 'COPY_TREE').map(brief)).toEqual([`COPY_TREE "/srv/rootfs" "${STAGE}/root" "" 0x0`]);
    expect(find(ops, 'MOUNT').some((o) => o.args.fstype === 'overlay')).toBe(false);
    const rw = opsOf(rootfsRequest({ image: { kind: 'rootfs', path: '/srv/rootfs', readwrite: true, flatten: true } }));
    expect(find(rw, 'COPY_TREE')).toEqual([]);
    expect(find(rw, 'BIND').map((o) => o.args.source)).toContain('/srv/rootfs');
  });
});

describe('FLATTEN in a user namespace', () => {
  it('the layers are copied from their one idmapped tree (slot 0), with user.overlay.opaque as the opaque marker', () => {
    const ops = opsOf(rootfsRequest({ image: { kind: 'layers', lowers, flatten: true }, userns: { mode: 'auto' } }));
    expect(find(ops, 'OVERLAY')).toEqual([]);
    expect(find(ops, 'COPY_TREE').map(brief)).toEqual(['aa', 'bb', 'cc'].map((l) => `COPY_TREE "${STAGE}/lower/0/${l}/diff" "${STAGE}/root" "user.overlay.opaque" 0x1`));
    expect(find(ops, 'ATTACH_TREE').length).toBe(1);
  });
});
