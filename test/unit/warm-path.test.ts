// The warm API path's shortcuts give what the general code gives: EventStream's in-place
// reading of the server's everyday TAGGED events, the request writer's string checks, and
// the summary ahead of the plan in the core's answer.
import { describe, expect, it } from 'vitest';
import { EventStream, decodeEvent } from '../../ts/protocol/events.js';
import { FrameWriter, concat, splitFrames } from '../../ts/protocol/frames.js';
import { EVENT } from '../../ts/protocol/ops.js';
import { CoreError, encodeRequest, splitAnswer } from '../../ts/core/build-plan.js';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { newContainerId } from '../../ts/runtime/prepare.js';

function event(type: number, fill?: (w: FrameWriter) => void): Uint8Array {
  const w = new FrameWriter();
  fill?.(w);
  return w.frame(type);
}

function tagged(tag: bigint, inner: Uint8Array): Uint8Array {
  const head = new FrameWriter().u64(tag).frame(EVENT.TAGGED);
  const out = concat([head, inner]);
  new DataView(out.buffer).setUint32(0, 8 + inner.length, true);
  return out;
}

/** What the general decoder makes of a buffer of whole frames. */
function reference(bytes: Uint8Array) {
  return splitFrames(bytes).map((f) => decodeEvent(f.type, f.payload));
}

describe('EventStream', () => {
  const events = [
    event(EVENT.HELLO, (w) => w.u64(1)),
    tagged(7n, event(EVENT.PID, (w) => w.u64(4242))),
    tagged(7n, event(EVENT.STARTED, (w) => w.u64(123456789n))),
    tagged(8n, event(EVENT.READY)),
    tagged(7n, event(EVENT.CGROUP_FILE, (w) => w.str('/sys/fs/cgroup/memory/x/memory.oom_control').str('oom_kill 0\n'))),
    tagged(7n, event(EVENT.EXIT, (w) => w.u64(1).u64(9))),
    tagged(2n ** 64n - 1n, event(EVENT.EXIT, (w) => w.u64(0).u64(2 ** 40))),
    tagged(9n, event(EVENT.ERROR, (w) => w.u64(2n ** 64n - 1n).u64(0).u64(0).str('killed'))),
  ];
  const all = concat(events);

  it('reads the same events as decodeEvent, whole or cut anywhere', () => {
    const want = reference(all);
    expect(new EventStream().push(all)).toEqual(want);
    for (let cut = 0; cut <= all.length; cut++) {
      const s = new EventStream();
      const got = [...s.push(all.subarray(0, cut)), ...s.push(all.subarray(cut))];
      expect(got).toEqual(want);
      expect(s.pending).toBe(0);
    }
    const s = new EventStream();
    const got = [];
    for (let i = 0; i < all.length; i++) got.push(...s.push(all.subarray(i, i + 1)));
    expect(got).toEqual(want);
  });

  it('keeps a copy of a cut frame, not the chunk', () => {
    const s = new EventStream();
    const chunk = Buffer.from(all.subarray(0, events[0].length + 5)); // as the pipe gives them
    s.push(chunk);
    chunk.fill(0xff);
    expect(s.push(all.subarray(events[0].length + 5))).toEqual(reference(all).slice(1));
  });

  it('refuses what decodeEvent refuses', () => {
    const bad = [
      tagged(1n, event(EVENT.EXIT, (w) => w.u64(4).u64(0))), // unknown EXIT kind
      tagged(1n, event(EVENT.PID, (w) => w.u64(1).u64(2))), // bytes left over
      tagged(1n, tagged(2n, event(EVENT.READY))), // TAGGED inside TAGGED
      (() => {
        const b = tagged(1n, event(EVENT.PID, (w) => w.u64(1)));
        new DataView(b.buffer).setUint16(16 + 6, 1, true); // inner flags
        return b;
      })(),
      (() => {
        const b = tagged(1n, event(EVENT.STARTED, (w) => w.u64(1)));
        new DataView(b.buffer).setUint32(16, 4, true); // inner length short of the rest
        return b;
      })(),
    ];
    for (const b of bad) {
      expect(() => reference(b)).toThrow();
      expect(() => new EventStream().push(b)).toThrow();
    }
  });
});

describe('encodeRequest', () => {
  const base: PlanRequest = { image: { kind: 'rootfs', path: '/r' }, stage: '/s', share: { pid: true, net: true, ipc: true, uts: true, cgroup: true }, argv: ['true'] };
  const refusal = (req: PlanRequest) => {
    try {
      encodeRequest(req);
    } catch (err) {
      expect(err).toBeInstanceOf(CoreError);
      return (err as CoreError).reason;
    }
    return undefined;
  };

  it('measures strings in UTF-8 bytes and reports the first bad entry', () => {
    expect(refusal({ ...base, hostname: 'é'.repeat(32769) })).toBe('hostname: longer than 65536 bytes');
    expect(refusal({ ...base, hostname: 'é'.repeat(32768) })).toBeUndefined();
    expect(refusal({ ...base, argv: ['é'.repeat(40000), 'a\0'] })).toBe('argv: longer than 65536 bytes');
    expect(refusal({ ...base, argv: ['a\0', 'é'.repeat(40000)] })).toBe('argv: contains a NUL byte');
    expect(refusal({ ...base, workdir: `/${'\u{1F600}'.repeat(1024)}` })).toBe('workdir: longer than 4095 bytes');
    expect(refusal({ ...base, user: { uid: -1, gid: 0 } })).toBe('user: uid: -1 out of range');
    expect(refusal({ ...base, user: { uid: 1.5, gid: 0 } })).toBe('user: uid: 1.5 is not a whole number');
  });

  it('gives a copy, and the same bytes each time', () => {
    const a = encodeRequest({ ...base, env: ['A=1'], user: { uid: 1000, gid: 2n ** 32n - 2n } });
    const b = encodeRequest(base);
    const c = encodeRequest({ ...base, env: ['A=1'], user: { uid: 1000, gid: 2n ** 32n - 2n } });
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(true);
    expect(a.length).toBeGreaterThan(b.length);
  });
});

describe('splitAnswer', () => {
  it('gives the plan after the summary as it is, and the owned cgroup directories from the summary', () => {
    const plan = concat([event(0x0001, (w) => w.u64(0x4b535548).u64(1).u64(0)), event(0x0011, (w) => w.u64(0)), event(0x0002)]);
    const dirs = [event(0x01a1, (w) => w.str('/c/husk/a')), event(0x01a1, (w) => w.str('/d/husk/a'))];
    const head = (offset: number) => event(0x01a0, (w) => w.u64(offset).u64(0x20000).str(''));
    const size = head(0).length + dirs[0].length + dirs[1].length;
    const answer = concat([head(size), ...dirs, plan]);
    const split = splitAnswer(answer);
    expect(Buffer.from(split.plan).equals(Buffer.from(plan))).toBe(true);
    expect(split.summary.cgroupDirs).toEqual(['/c/husk/a', '/d/husk/a']);
    expect(split.summary.hostname).toBeUndefined();
    const badFlags = answer.slice();
    new DataView(badFlags.buffer).setUint16(size + 6, 0, true);
    new DataView(badFlags.buffer).setUint16(head(0).length + 6, 1, true);
    expect(() => splitAnswer(badFlags).summary).toThrow(/flags/);
    expect(() => splitAnswer(plan)).toThrow(/no SUMMARY frame first/);
  });
});

describe('newContainerId', () => {
  it('gives 64 hex digits, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = newContainerId();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(100);
  });
});
