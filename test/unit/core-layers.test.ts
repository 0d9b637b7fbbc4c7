// A layered image (docs/core-abi.md "Layers"): what buildPlan makes of an image's layer
// directories — one OVERLAY with the lowers top first, an upper on the stage or on disk, in
// a user namespace one idmapped tree (the layers' common directory) for all of them — and
// what it refuses: 501 layers, relative paths, layers that share only / in a user namespace.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, CoreError, encodeRequest, REQUEST, type PlanRequest } from '../../ts/core/build-plan.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { call } from '../../ts/core/wasm.js';
import { describePlan } from '../../ts/protocol/describe.js';
import { STAGE, brief, expectCoreBuilt, find, opsOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const L = '/var/lib/husk/layers';
const lowers = [`${L}/aa/diff`, `${L}/bb/diff`, `${L}/cc/diff`];
const layered = (image: Partial<Extract<PlanRequest['image'], { kind: 'layers' }>> = {}, over: Partial<PlanRequest> = {}): PlanRequest =>
  rootfsRequest({ image: { kind: 'layers', lowers, legacyOverlay: false, ...image }, ...over });

function refusal(req: PlanRequest): CoreError {
  try {
    buildPlan(req);
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('the core made a plan');
}

describe('a layered image', () => {
  it('is one OVERLAY of its layers, top first, under the stage upper, on STAGE/root', () => {
    const ops = opsOf(layered()).map(brief);
    const at = ops.indexOf(`MOUNT "tmpfs" "${STAGE}" "tmpfs" 0x6 "mode=0755"`);
    expect(ops.slice(at + 1, at + 7)).toEqual([
      `MKDIR "${STAGE}/upper" 0x1ed`,
      `MKDIR "${STAGE}/work" 0x1ed`,
      `MKDIR "${STAGE}/root" 0x1ed`,
      `MKDIR "${STAGE}/l" 0x1c0`,
      `OVERLAY [${L}/cc/diff ${L}/bb/diff ${L}/aa/diff] "${STAGE}/upper" "${STAGE}/work" "${STAGE}/root" "${STAGE}/l" 0x0`,
      `SET_ROOT "${STAGE}/root"`,
    ]);
    expect(find(opsOf(layered()), 'MOUNT').some((o) => o.args.fstype === 'overlay')).toBe(false);
  });

  it('writes to a persistent upper and work directory when given, and makes neither', () => {
    const upper = { upper: '/var/lib/husk/containers/c1/upper', work: '/var/lib/husk/containers/c1/work' };
    const ops = opsOf(layered({ upper }));
    const [overlay] = find(ops, 'OVERLAY');
    expect([overlay.args.upper, overlay.args.work]).toEqual([upper.upper, upper.work]);
    expect(find(ops, 'MKDIR').map((o) => o.args.path)).not.toContain(`${STAGE}/upper`);
  });

  it('asks for the mount(2) fallback when told to (flag 2), as `husk plan` shows', () => {
    const bytes = buildPlan(layered({ legacyOverlay: true }));
    const [overlay] = find(opsOf(layered({ legacyOverlay: true })), 'OVERLAY');
    expect(overlay.args.flags).toBe(2n);
    expect(describePlan(describePlanBytes(bytes))).toContain(
      `overlay of 3 layers (top first: ${L}/cc/diff:${L}/bb/diff:${L}/aa/diff) upper ${STAGE}/upper work ${STAGE}/work on ${STAGE}/root (mount(2) with short names)`,
    );
  });

  it('in a user namespace idmaps the layers\' common directory once and stacks the lowers below it, with userxattr', () => {
    const ops = opsOf(layered({}, { userns: { mode: 'auto' } }));
    expect(find(ops, 'IDMAP_TREE').map(brief)).toEqual([`IDMAP_TREE "${L}" 0x0`]);
    expect(find(ops, 'ATTACH_TREE').map(brief)).toEqual([`ATTACH_TREE 0x0 "${STAGE}/lower/0"`]);
    const [overlay] = find(ops, 'OVERLAY');
    expect(overlay.args.lowers).toEqual([`${STAGE}/lower/0/cc/diff`, `${STAGE}/lower/0/bb/diff`, `${STAGE}/lower/0/aa/diff`]);
    expect(overlay.args.flags).toBe(1n);
    // One layer: the layer itself is the tree.
    const one = opsOf(layered({ lowers: [`${L}/aa/diff/`] }, { userns: { mode: 'auto' } }));
    expect(find(one, 'IDMAP_TREE')[0].args.source).toBe(`${L}/aa/diff`);
    expect(find(one, 'OVERLAY')[0].args.lowers).toEqual([`${STAGE}/lower/0`]);
  });

  it('in a user namespace idmaps a persistent upper\'s directory too (slot 1), so the container\'s root writes files owned by 0 on disk', () => {
    const upper = { upper: '/var/lib/husk/containers/c1/upper', work: '/var/lib/husk/containers/c1/work' };
    const ops = opsOf(layered({ upper }, { userns: { mode: 'auto' } }));
    expect(find(ops, 'IDMAP_TREE').map(brief)).toEqual([`IDMAP_TREE "${L}" 0x0`, 'IDMAP_TREE "/var/lib/husk/containers/c1" 0x1']);
    expect(find(ops, 'ATTACH_TREE').map(brief)).toEqual([`ATTACH_TREE 0x0 "${STAGE}/lower/0"`, `ATTACH_TREE 0x1 "${STAGE}/lower/1"`]);
    const [overlay] = find(ops, 'OVERLAY');
    expect([overlay.args.upper, overlay.args.work]).toEqual([`${STAGE}/lower/1/upper`, `${STAGE}/lower/1/work`]);
    expect(refusal(layered({ upper: { upper: '/u', work: '/w' } }, { userns: { mode: 'auto' } })).message).toMatch(/^upper: in a user namespace .* share only \/$/);
  });

  it('stacks 500 layers in one op, also in a user namespace', () => {
    const many = Array.from({ length: 500 }, (_, i) => `${L}/${i.toString(16).padStart(64, '0')}/diff`);
    for (const userns of [undefined, { mode: 'auto' as const }]) {
      const ops = opsOf(layered({ lowers: many }, { userns }));
      expect(find(ops, 'OVERLAY')[0].args.lowers).toHaveLength(500);
      expect(ops.length).toBeLessThan(100);
    }
  });

  it.each([
    [501, 'image has 501 layers; overlayfs stacks at most 500'],
    [1000, 'image has 1000 layers; overlayfs stacks at most 500'],
  ])('refuses %i layers, naming the count', (count, message) => {
    const err = refusal(layered({ lowers: Array.from({ length: count }, (_, i) => `${L}/${i}/diff`) }));
    expect(err.status).toBe(2);
    expect(err.message).toBe(message);
    expect(err.exitStatus).toBe(125);
  });

  it('refuses a relative layer, a relative upper, and layers that share only / in a user namespace', () => {
    expect(refusal(layered({ lowers: ['/a', 'b'] })).message).toBe('layer 1: not an absolute path: "b"');
    expect(refusal(layered({ upper: { upper: 'u', work: '/w' } })).message).toBe('upper: not absolute paths: "u", "/w"');
    expect(refusal(layered({ lowers: ['/srv/a', '/opt/b'] }, { userns: { mode: 'auto' } })).message).toMatch(/^layers: in a user namespace .* share only \/$/);
    // Rootful, such layers are fine: nothing is idmapped.
    expect(find(opsOf(layered({ lowers: ['/srv/a', '/opt/b'] })), 'OVERLAY')[0].args.lowers).toEqual(['/opt/b', '/srv/a']);
  });

  it('calls a malformed layered request malformed (status 1): no layer, LAYER without the kind, a second UPPER', () => {
    const bytes = (req: PlanRequest) => encodeRequest(req);
    expect(refusal(layered({ lowers: [] })).status).toBe(1);
    const rootfs = bytes(rootfsRequest());
    const layer = new Uint8Array([...new Uint8Array(new Uint32Array([6]).buffer), 0x40, 0x01, 0, 0, 2, 0, 0, 0, 0x2f, 0x61]);
    expect(call('buildPlan', new Uint8Array([...rootfs, ...layer])).status).toBe(1);
    const upper = bytes(layered({ upper: { upper: '/u', work: '/w' } }));
    const second = new Uint8Array([...new Uint8Array(new Uint32Array([12]).buffer), REQUEST.UPPER & 0xff, REQUEST.UPPER >> 8, 0, 0, 2, 0, 0, 0, 0x2f, 0x75, 2, 0, 0, 0, 0x2f, 0x77]);
    const answer = call('buildPlan', new Uint8Array([...upper, ...second]));
    expect(answer.status).toBe(1);
    expect(new TextDecoder().decode(answer.bytes)).toContain('UPPER');
  });
});
