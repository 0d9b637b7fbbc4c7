// What buildPlan refuses: a value the user gave (status 2, the reason starts with the field)
// or a request ts/ got wrong (status 1, malformed frames).
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, REQUEST, buildPlan, buildPlanRaw, encodeRequest } from '../../ts/core/build-plan.js';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { FrameWriter, concat, splitFrames } from '../../ts/protocol/frames.js';
import { DEFAULT_NS, NS, expectCoreBuilt, hostRequest, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

function refusal(req: PlanRequest): CoreError {
  try {
    buildPlan(req);
  } catch (err) {
    if (err instanceof CoreError) return err;
    throw err;
  }
  throw new Error('buildPlan accepted the request');
}

const userns = (size?: number, over: Partial<PlanRequest> = {}): PlanRequest =>
  rootfsRequest({ newUserns: true, userns: { mode: 'auto', size }, ...over });

describe('values a user gave are refused with status 2, naming the field', () => {
  const table: [string, PlanRequest, string, RegExp][] = [
    ['no command', rootfsRequest({ argv: [] }), 'argv', /^argv: no command given$/],
    ['an empty command name', rootfsRequest({ argv: [''] }), 'argv', /^argv: empty command name$/],
    ['a hostname over 64 bytes', rootfsRequest({ hostname: 'a'.repeat(65) }), 'hostname', /^hostname: longer than 64 bytes$/],
    ['a hostname of 64 bytes is fine but labels stop at 63', rootfsRequest({ hostname: 'a'.repeat(64) }), 'hostname', /label longer than 63/],
    ['an empty hostname', rootfsRequest({ hostname: '' }), 'hostname', /^hostname: empty$/],
    ['a hostname with _', rootfsRequest({ hostname: 'my_box' }), 'hostname', /character '_' not allowed/],
    ['a hostname with a space', rootfsRequest({ hostname: 'my box' }), 'hostname', /character 0x20 not allowed/],
    ['a hostname label starting with -', rootfsRequest({ hostname: 'a.-b' }), 'hostname', /starts or ends with '-'/],
    ['a hostname with an empty label', rootfsRequest({ hostname: 'a..b' }), 'hostname', /empty label/],
    ['a hostname with the host UTS namespace', rootfsRequest({ share: { uts: true } }), 'hostname', /needs a new UTS namespace/],
    ['an env entry without =', rootfsRequest({ env: ['A=1', 'B'] }), 'env', /^env: no '=' in "B"/],
    ['an env entry with an empty name', rootfsRequest({ env: ['=x'] }), 'env', /^env: empty name in "=x"/],
    ['an env entry with a NUL byte', rootfsRequest({ env: ['A=a\0b'] }), 'env', /^env: contains a NUL byte$/],
    ['an argument with a NUL byte', rootfsRequest({ argv: ['sh', 'a\0'] }), 'argv', /NUL/],
    ['an env value over 64 KiB', rootfsRequest({ env: [`A=${'x'.repeat(65536)}`] }), 'env', /longer than 65536 bytes/],
    ['more than 4096 env entries', rootfsRequest({ env: Array.from({ length: 4097 }, (_, i) => `V${i}=1`) }), 'env', /4097 entries/],
    ['env entries over 1 MiB in all', rootfsRequest({ env: Array.from({ length: 20 }, (_, i) => `V${i}=${'x'.repeat(60000)}`) }), 'env', /bytes in all/],
    ['4096 env entries and the defaults', rootfsRequest({ env: Array.from({ length: 4096 }, (_, i) => `V${i}=1`) }), 'exec', /^exec: env: 4099 strings/],
    ['a relative workdir', rootfsRequest({ workdir: 'src' }), 'workdir', /^workdir: not an absolute path: "src"$/],
    ['an empty workdir', rootfsRequest({ workdir: '' }), 'workdir', /not an absolute path/],
    ['a uid of 2^32-1', rootfsRequest({ user: { uid: 0xffffffff, gid: 0 } }), 'user', /^user: uid 4294967295 out of range/],
    ['a gid of 2^32', rootfsRequest({ user: { uid: 0, gid: 2 ** 32 } }), 'user', /^user: gid 4294967296 out of range/],
    ['a negative uid', rootfsRequest({ user: { uid: -1, gid: 0 } }), 'user', /^user: uid: -1 out of range/],
    ['a fractional gid', rootfsRequest({ user: { uid: 0, gid: 1.5 } }), 'user', /^user: gid: 1.5 is not a whole number/],
    ['a relative rootfs', rootfsRequest({ image: { kind: 'rootfs', path: 'img' } }), 'rootfs', /^rootfs: not an absolute path: "img"$/],
    ['a rootfs path over 4095 bytes', rootfsRequest({ image: { kind: 'rootfs', path: `/${'a'.repeat(4095)}` } }), 'rootfs', /longer than 4095 bytes/],
    ['overlay options over a page', rootfsRequest({ image: { kind: 'rootfs', path: `/${'a'.repeat(4000)}` } }), 'rootfs', /^rootfs: overlay options of \d+ bytes/],
    ['--rootfs-rw with the host image', hostRequest({ image: { kind: 'host', hostDirs: [] } }), '', /./],
    ['a relative stage', rootfsRequest({ stage: 'stage' }), 'stage', /^stage: /],
    ['/ as the stage', rootfsRequest({ stage: '/' }), 'stage', /^stage: /],
    ['a host dir name with a slash', hostRequest({ image: { kind: 'host', hostDirs: [{ name: 'usr/lib', kind: 'dir' }] } }), 'host-dir', /not a top-level name/],
    ['a host dir given twice', hostRequest({ image: { kind: 'host', hostDirs: [{ name: 'usr', kind: 'dir' }, { name: 'usr', kind: 'dir' }] } }), 'host-dir', /usr: given twice/],
    ['a host symlink without a target', hostRequest({ image: { kind: 'host', hostDirs: [{ name: 'bin', kind: 'symlink', target: '' }] } }), 'host-dir', /empty symlink target/],
    ['--uidmap with --userns keep-id', rootfsRequest({ userns: { mode: 'keep-id', uidmap: ['0:1:1'] } }), 'uidmap', /^uidmap: cannot be combined with --userns keep-id$/],
    ['a userns size over the pool', userns(2 ** 31), 'userns', /^userns: size 2147483648 over 1878523904$/],
    ['a uid outside the userns', userns(1000, { user: { uid: 1000, gid: 0 } }), 'user', /^user: uid 1000 is not mapped in the user namespace$/],
    ['a gid outside the userns', userns(10, { user: { uid: 0, gid: 10 } }), 'user', /gid 10 is not mapped/],
    ['a used range past 2^32', userns(65536, { usedRanges: [{ start: 2 ** 32 - 1, size: 2 }] }), 'used-range', /^used-range: 4294967295\+2 ends past 2\^32$/],
    ['more than 64 host dirs', hostRequest({ image: { kind: 'host', hostDirs: Array.from({ length: 65 }, (_, i) => ({ name: `d${i}`, kind: 'dir' as const })) } }), 'host-dir', /65 entries \(at most 64\)/],
    ['no free range left', userns(65536, { usedRanges: [{ start: 0, size: 2 ** 32 }] }), 'userns', /^userns: no free range of 65536 ids between 524288 and 1879048192$/],
    ['a monotonic offset past KTIME_SEC_MAX/2', rootfsRequest({ timeOffsets: { monotonic: 4611686019 } }), 'time-offset', /^time-offset: monotonic offset 4611686019 s out of range/],
    ['a boottime offset below -KTIME_SEC_MAX/2', rootfsRequest({ timeOffsets: { boottime: -4611686019n } }), 'time-offset', /^time-offset: boottime offset -4611686019 s out of range/],
    ['an offset past i64', rootfsRequest({ timeOffsets: { boottime: 1n << 63n } }), 'time-offset', /out of range/],
  ];

  it.each(table.filter(([name]) => !name.startsWith('--rootfs-rw')))('%s', (_name, req, field, reason) => {
    const err = refusal(req);
    expect(err.status).toBe(2);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
    expect(err.code).toBe('invalid-value');
    expect(err.exitStatus).toBe(125);
  });

  it('--rootfs-rw is refused for the host image', () => {
    const req = rootfsRequest();
    const frames = splitFrames(encodeRequest(req));
    const w = new FrameWriter();
    const image = w.u64(1).str('').u64(1).frame(REQUEST.IMAGE);
    const rest = frames.filter((f) => f.type !== REQUEST.IMAGE).map(rebuild);
    const answer = buildPlanRaw(concat([image, ...rest]));
    expect(answer.status).toBe(2);
    expect(new TextDecoder().decode(answer.bytes)).toMatch(/^rootfs-rw: needs a rootfs directory/);
  });

  it('accepts the edges: 64-byte dotted hostname, uid 2^32-2, offsets of ±KTIME_SEC_MAX/2', () => {
    const host = `${'a'.repeat(31)}.${'b'.repeat(32)}`;
    expect(() => buildPlan(rootfsRequest({ hostname: host, user: { uid: 0xfffffffe, gid: 0xfffffffe } }))).not.toThrow();
    expect(() => buildPlan(rootfsRequest({ timeOffsets: { monotonic: 4611686018, boottime: -4611686018 } }))).not.toThrow();
    expect(() => buildPlan(userns(1878523904))).not.toThrow();
  });
});

function rebuild(f: { type: number; payload: Uint8Array }): Uint8Array {
  const out = new Uint8Array(8 + f.payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, f.payload.length, true);
  v.setUint16(4, f.type, true);
  out.set(f.payload, 8);
  return out;
}

describe('malformed requests are status 1 (a bug in ts/)', () => {
  const valid = encodeRequest(rootfsRequest());
  const frames = splitFrames(valid);
  const raw = (bytes: Uint8Array) => {
    const a = buildPlanRaw(bytes);
    return { status: a.status, reason: new TextDecoder().decode(a.bytes) };
  };
  const frame = (type: number, build: (w: FrameWriter) => FrameWriter) => build(new FrameWriter()).frame(type);
  const without = (type: number) => frames.filter((f) => f.type !== type).map(rebuild);
  const withFrame = (extra: Uint8Array, drop?: number) => concat([...(drop ? without(drop) : frames.map(rebuild)), extra]);

  const table: [string, Uint8Array, RegExp][] = [
    ['an empty request', new Uint8Array(0), /no IMAGE frame/],
    ['a cut header', valid.subarray(0, valid.length - 3).subarray(0, 5), /header cut short/],
    ['a payload running past the end', valid.subarray(0, valid.length - 1), /runs past the end/],
    ['flags that are not 0', (() => { const c = valid.slice(); c[6] = 1; return c; })(), /frame 0: flags 1/],
    ['a payload over 1 MiB', (() => { const c = valid.slice(); new DataView(c.buffer).setUint32(0, (1 << 20) + 1, true); return c; })(), /payload of 1048577 bytes/],
    ['an unknown type', withFrame(frame(0x0199, (w) => w)), /unknown type 0x199/],
    ['a plan frame type', withFrame(frame(0x0011, (w) => w.u64(0))), /unknown type 0x11/],
    ['IMAGE twice', withFrame(frame(REQUEST.IMAGE, (w) => w.u64(1).str('').u64(0))), /\(IMAGE\): given twice/],
    ['no ARGV', concat(without(REQUEST.ARGV)), /no ARGV frame/],
    ['no STAGE', concat(without(REQUEST.STAGE)), /no STAGE frame/],
    ['bytes left over in a frame', withFrame(frame(REQUEST.WORKDIR, (w) => w.str('/').u64(1))), /bytes left over/],
    ['a field cut short', withFrame(frame(REQUEST.USER, (w) => w.u64(1))), /gid: runs past the payload/],
    ['a NUL in a string', withFrame(frame(REQUEST.WORKDIR, (w) => w.str('/a\0b'))), /path: string contains a NUL byte/],
    ['a string over its bound', withFrame(frame(REQUEST.WORKDIR, (w) => w.str(`/${'a'.repeat(4095)}`))), /path: string of 4096 bytes \(at most 4095\)/],
    ['a string list over 4096', withFrame(frame(REQUEST.ENV, (w) => w.strs(Array(4097).fill('A=1')))), /list of 4097 strings/],
    ['an unknown image kind', withFrame(frame(REQUEST.IMAGE, (w) => w.u64(4).str('/x').u64(0)), REQUEST.IMAGE), /kind: unknown value 4/],
    ['a path for a layered image', withFrame(frame(REQUEST.IMAGE, (w) => w.u64(3).str('/x').u64(0)), REQUEST.IMAGE), /a layered image has no path/],
    ['readwrite 2', withFrame(frame(REQUEST.IMAGE, (w) => w.u64(2).str('/x').u64(2)), REQUEST.IMAGE), /readwrite: unknown value 2/],
    ['a path for the host image', withFrame(frame(REQUEST.IMAGE, (w) => w.u64(1).str('/x').u64(0)), REQUEST.IMAGE), /must be empty for the host image/],
    ['HOST_DIR with a rootfs image', withFrame(frame(REQUEST.HOST_DIR, (w) => w.str('usr').u64(1).str(''))), /HOST_DIR frames need the host image/],
    ['HOST_ENTRY with a rootfs image', withFrame(frame(REQUEST.HOST_ENTRY, (w) => w.str('usr').u64(1).str(''))), /HOST_ENTRY frames need the host image/],
    ['a namespace bit outside the set', withFrame(frame(REQUEST.NAMESPACES, (w) => w.u64(NS.NEWTIME)), REQUEST.NAMESPACES), /NAMESPACES\): flags: unknown bits 0x80/],
    ['an unknown userns mode', withFrame(frame(REQUEST.USERNS, (w) => w.u64(5).u64(0))), /mode: unknown value 5/],
    ['a size with --userns host', withFrame(frame(REQUEST.USERNS, (w) => w.u64(4).u64(10))), /size: only auto takes a size/],
    ['a namespace bit 5 (no longer a want-userns bit)', withFrame(frame(REQUEST.NAMESPACES, (w) => w.u64(32)), REQUEST.NAMESPACES), /NAMESPACES\): flags: unknown bits 0x20/],
    ['an unknown clock', withFrame(frame(REQUEST.TIME_OFFSET, (w) => w.u64(0).u64(5))), /clock: unknown value 0/],
    ['a clock twice', concat([withFrame(frame(REQUEST.TIME_OFFSET, (w) => w.u64(1).u64(5))), frame(REQUEST.TIME_OFFSET, (w) => w.u64(1).u64(6))]), /clock 1 given twice/],
    ['unknown option bits', withFrame(frame(REQUEST.OPTIONS, (w) => w.u64(32))), /flags: unknown bits 0x20/],
  ];

  it.each(table)('%s', (_name, bytes, reason) => {
    const r = raw(bytes);
    expect(r.status).toBe(1);
    expect(r.reason).toMatch(/^request: /);
    expect(r.reason).toMatch(reason);
  });

  it('turns into an internal error for a person', () => {
    const err = new CoreError(1, 'request: no ARGV frame');
    expect(err.code).toBe('internal');
    expect(err.message).toBe('internal error: malformed request to the policy core: request: no ARGV frame');
    expect(err.field).toBe('request');
  });

  it('a request over 4 MiB is refused before it reaches the core', () => {
    expect(raw(new Uint8Array((4 << 20) + 1)).status).toBe(1);
  });
});
