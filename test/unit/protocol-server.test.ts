// The frames of the create/start split and of server mode (docs/protocol.md "Starting a
// created container", "Server mode"): WAIT_START in a plan, READY/STARTED/TAGGED events, and
// the RUN/START/SIGNAL requests.
import { describe, expect, it } from 'vitest';
import { EventStream, decodeEvent } from '../../ts/protocol/events.js';
import { FrameWriter, concat } from '../../ts/protocol/frames.js';
import { CONTROL, EVENT, OP_BY_NAME } from '../../ts/protocol/ops.js';
import { decodePlan, encodePlan } from '../oracle/plan-codec.js';
import { describePlan } from '../../ts/protocol/describe.js';
import { describePlanBytes } from '../../ts/core/describe.js';
import { request } from '../../ts/runtime/server.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function event(type: number, fill?: (w: FrameWriter) => void): Uint8Array {
  const w = new FrameWriter();
  fill?.(w);
  return w.frame(type);
}

function tagged(tag: bigint, inner: Uint8Array): Uint8Array {
  const w = new FrameWriter().u64(tag);
  const head = w.frame(EVENT.TAGGED);
  const out = concat([head, inner]);
  new DataView(out.buffer).setUint32(0, 8 + inner.length, true);
  return out;
}

describe('WAIT_START', () => {
  const ops = (middle: string[]) => [
    { name: 'CLONE', args: { flags: 0x00020000n } },
    ...middle.map((name) => ({ name, args: {} })),
    { name: 'EXEC', args: { path: '/bin/true', argv: ['true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
  ];

  it('is op 0x0051, a container op with no fields, right before EXEC', () => {
    expect(OP_BY_NAME.get('WAIT_START')).toMatchObject({ code: 0x0051, side: 'container', fields: [] });
    const bytes = encodePlan({ version: 1n, flags: 0n, ops: ops(['CLOSE_FDS', 'WAIT_START']) });
    expect(hex(bytes)).toContain('0000000051000000');
    const plan = decodePlan(bytes);
    expect(plan.ops.map((o) => o.name)).toEqual(['CLONE', 'CLOSE_FDS', 'WAIT_START', 'EXEC']);
    expect(describePlan(describePlanBytes(bytes))).toMatch(/2 {2}container {2}wait for START/);
  });

  it('anywhere else is refused', () => {
    const bytes = encodePlan({ version: 1n, flags: 0n, ops: ops(['WAIT_START', 'CLOSE_FDS']) });
    expect(() => decodePlan(bytes)).toThrow(/WAIT_START is not right before EXEC/);
    expect(() => describePlanBytes(bytes)).toThrow(/op 1 \(WAIT_START\): WAIT_START is not right before EXEC/);
  });
});

describe('INIT (run --init)', () => {
  const ops = (middle: string[]) => [
    { name: 'CLONE', args: { flags: 0x20020000n } },
    ...middle.map((name) => ({ name, args: {} })),
    { name: 'EXEC', args: { path: '/bin/true', argv: ['true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } },
  ];

  it('is op 0x00b0, a container op with no fields, right before EXEC or WAIT_START', () => {
    expect(OP_BY_NAME.get('INIT')).toMatchObject({ code: 0x00b0, side: 'container', fields: [] });
    for (const middle of [['CLOSE_FDS', 'INIT'], ['CLOSE_FDS', 'INIT', 'WAIT_START']]) {
      const bytes = encodePlan({ version: 1n, flags: 0n, ops: ops(middle) });
      expect(hex(bytes)).toContain('00000000b0000000');
      expect(decodePlan(bytes).ops.map((o) => o.name)).toEqual(['CLONE', ...middle, 'EXEC']);
      expect(describePlan(describePlanBytes(bytes))).toMatch(/2 {2}container {2}fork: the container process stays as husk's init/);
    }
  });

  it('anywhere else, or twice, is refused', () => {
    for (const middle of [['INIT', 'CLOSE_FDS'], ['INIT', 'INIT'], ['INIT', 'CLOSE_FDS', 'WAIT_START']]) {
      const bytes = encodePlan({ version: 1n, flags: 0n, ops: ops(middle) });
      expect(() => decodePlan(bytes)).toThrow(/INIT is not right before EXEC or WAIT_START/);
      expect(() => describePlanBytes(bytes)).toThrow(/op 1 \(INIT\): INIT is not right before EXEC or WAIT_START/);
    }
  });

  it('the core puts it right before WAIT_START and EXEC for --init, and nowhere without', async () => {
    const { buildPlan } = await import('../../ts/core/build-plan.js');
    const base = { image: { kind: 'rootfs' as const, path: '/srv/r' }, stage: '/run/husk/stage', argv: ['sh'] };
    const names = (init: boolean) => decodePlan(buildPlan({ ...base, init, waitStart: true })).ops.map((o) => o.name);
    expect(names(true).slice(-4)).toEqual(['SECCOMP', 'INIT', 'WAIT_START', 'EXEC']);
    expect(names(false)).not.toContain('INIT');
  });
});

describe('PTY (run -t: the pty of the container\'s own devpts)', () => {
  it('is op 0x00b1 with a path; the core puts it right after PIVOT_ROOT with -t, and nowhere without', async () => {
    expect(OP_BY_NAME.get('PTY')).toMatchObject({ code: 0x00b1, side: 'container' });
    const { buildPlan } = await import('../../ts/core/build-plan.js');
    const base = { image: { kind: 'rootfs' as const, path: '/srv/r' }, stage: '/run/husk/stage', argv: ['sh'], logFile: '/run/husk/c/log' };
    const ops = decodePlan(buildPlan({ ...base, tty: { rows: 24, cols: 80 } })).ops;
    const at = ops.findIndex((o) => o.name === 'PTY');
    expect(ops[at - 1].name).toBe('PIVOT_ROOT');
    expect(ops[at].args).toEqual({ path: '/dev/pts/ptmx' });
    expect(ops.some((o) => o.name === 'TTY')).toBe(true);
    expect(decodePlan(buildPlan(base)).ops.map((o) => o.name)).not.toContain('PTY');
  });
});

describe('events', () => {
  it('READY has no fields; STARTED carries a time', () => {
    expect(decodeEvent(EVENT.READY, new Uint8Array())).toEqual({ kind: 'ready' });
    const started = event(EVENT.STARTED, (w) => w.u64(123456789n));
    expect(new EventStream().push(started)).toEqual([{ kind: 'started', at: 123456789n }]);
    expect(() => decodeEvent(EVENT.READY, new Uint8Array(8))).toThrow(/left over/);
  });

  it('TAGGED wraps one whole event after the tag', () => {
    const exit = event(EVENT.EXIT, (w) => w.u64(0).u64(3));
    const bytes = tagged(0x1122334455667788n, exit);
    expect(hex(bytes.subarray(0, 16))).toBe('2000000010800000' + '8877665544332211');
    const stream = new EventStream();
    // Split anywhere, it decodes the same.
    expect([...stream.push(bytes.subarray(0, 13)), ...stream.push(bytes.subarray(13))]).toEqual([
      { kind: 'tagged', tag: 0x1122334455667788n, event: { kind: 'exit', how: 'exited', value: 3 } },
    ]);
    const ready = tagged(5n, event(EVENT.READY));
    expect(new EventStream().push(ready)).toEqual([{ kind: 'tagged', tag: 5n, event: { kind: 'ready' } }]);
  });

  it('TAGGED must hold exactly one event, never TAGGED', () => {
    const exit = event(EVENT.EXIT, (w) => w.u64(0).u64(3));
    const short = tagged(1n, exit.subarray(0, exit.length - 1));
    expect(() => new EventStream().push(short)).toThrow(/TAGGED/);
    const extra = tagged(1n, concat([exit, new Uint8Array([0])]));
    expect(() => new EventStream().push(extra)).toThrow(/TAGGED/);
    expect(() => new EventStream().push(tagged(1n, tagged(2n, exit)))).toThrow(/TAGGED inside TAGGED/);
  });
});

describe('server requests', () => {
  it('RUN, START and SIGNAL carry the tag first', () => {
    expect(CONTROL).toEqual({ START: 3, SIGNAL: 4, RUN: 5 });
    expect(hex(request(CONTROL.RUN, 7n))).toBe('0800000005000000' + '0700000000000000');
    expect(hex(request(CONTROL.START, 7n))).toBe('0800000003000000' + '0700000000000000');
    expect(hex(request(CONTROL.SIGNAL, 7n, 15))).toBe('1000000004000000' + '0700000000000000' + '0f00000000000000');
  });
});
