import { describe, expect, it } from 'vitest';
import { FieldReader, FrameWriter, splitFrames } from '../../ts/protocol/frames.js';
import { EventStream } from '../../ts/protocol/events.js';
import { decodePlan, encodePlan } from '../oracle/plan-codec.js';
import { EVENT } from '../../ts/protocol/ops.js';
import type { Plan } from '../oracle/plan-codec.js';

const exec = { name: 'EXEC', args: { path: '/bin/true', argv: ['/bin/true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } };
const clone = { name: 'CLONE', args: { flags: 0x20000n } };
const plan = (ops: Plan['ops'], flags = 0n): Plan => ({ version: 1n, flags, ops });

function withHeader(bytes: Uint8Array, at: number, patch: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  patch(new DataView(copy.buffer, at));
  return copy;
}

describe('frames', () => {
  it('round-trips every field kind', () => {
    const w = new FrameWriter();
    const f = w.u64(0xffffffffffffffffn).str('héllo').strs(['a', '', 'c']).u64s([1n, 2n]).frame(0x1234);
    const [frame] = splitFrames(f);
    expect(frame.type).toBe(0x1234);
    const r = new FieldReader(frame.payload);
    expect(r.u64()).toBe(0xffffffffffffffffn);
    expect(r.str()).toBe('héllo');
    expect(r.strs()).toEqual(['a', '', 'c']);
    expect(r.u64s()).toEqual([1n, 2n]);
    expect(() => r.end()).not.toThrow();
  });

  it('rejects a NUL inside a string, leftover bytes and fields past the end', () => {
    const nul = new FrameWriter().str('a\0b').frame(1);
    expect(() => new FieldReader(splitFrames(nul)[0].payload).str()).toThrow(/NUL/);
    const extra = new FrameWriter().u64(1).u64(2).frame(1);
    const r = new FieldReader(splitFrames(extra)[0].payload);
    r.u64();
    expect(() => r.end()).toThrow(/left over/);
    const short = new FrameWriter().frame(1);
    const r2 = new FieldReader(splitFrames(short)[0].payload);
    expect(() => r2.str()).toThrow(/past the end/);
  });

  it('rejects non-zero header flags and oversized lengths', () => {
    const f = new FrameWriter().u64(1).frame(1);
    expect(() => splitFrames(withHeader(f, 6, (v) => v.setUint16(0, 1, true)))).toThrow(/flags/);
    expect(() => splitFrames(withHeader(f, 0, (v) => v.setUint32(0, (1 << 20) + 1, true)))).toThrow(/over/);
  });
});

describe('plan checks (the same ones the launcher makes)', () => {
  it('accepts the minimal plan', () => {
    expect(decodePlan(encodePlan(plan([clone, exec]))).ops).toHaveLength(2);
  });
  it('needs exactly one CLONE', () => {
    expect(() => decodePlan(encodePlan(plan([exec])))).toThrow(/CLONE/);
    expect(() => decodePlan(encodePlan(plan([clone, clone, exec])))).toThrow(/CLONE/);
  });
  it('needs EXEC last', () => {
    const mkdir = { name: 'MKDIR', args: { path: 'x', mode: 0o755n } };
    expect(() => decodePlan(encodePlan(plan([clone, exec, mkdir])))).toThrow(/EXEC/);
  });
  it('refuses container ops before CLONE', () => {
    const mount = { name: 'MOUNT', args: { source: 'proc', target: 'proc', fstype: 'proc', flags: 0n, data: '' } };
    expect(() => decodePlan(encodePlan(plan([mount, clone, exec])))).toThrow(/before CLONE/);
    const uidmap = { name: 'UID_MAP', args: { text: '0 0 1' } };
    expect(() => decodePlan(encodePlan(plan([uidmap, clone, exec])))).toThrow(/before CLONE/);
  });
  it('takes CGROUP_JOIN only among the first container ops', () => {
    const join = { name: 'CGROUP_JOIN', args: { path: '/sys/fs/cgroup/memory/husk/x/tasks' } };
    const enter = { name: 'CGROUP_ENTER', args: { path: '/sys/fs/cgroup/unified/husk/x/cgroup.procs' } };
    const chdir = { name: 'CHDIR', args: { path: '/' } };
    expect(decodePlan(encodePlan(plan([clone, enter, join, join, chdir, exec]))).ops).toHaveLength(6);
    expect(() => decodePlan(encodePlan(plan([clone, chdir, join, exec])))).toThrow(/CGROUP_JOIN stands right after the parent ops/);
    expect(() => decodePlan(encodePlan(plan([clone, join, enter, exec])))).toThrow(/parent ops stand right after CLONE/);
    expect(() => decodePlan(encodePlan(plan([join, clone, exec])))).toThrow(/before CLONE/);
  });
  it('refuses unknown HELLO flags and a wrong version', () => {
    expect(() => decodePlan(encodePlan(plan([clone, exec], 8n)))).toThrow(/flags/);
    expect(() => decodePlan(encodePlan({ ...plan([clone, exec]), version: 2n }))).toThrow(/version 2/);
  });
  it('refuses a path longer than PATH_MAX', () => {
    const long = { name: 'MKDIR', args: { path: 'a'.repeat(4096), mode: 0o755n } };
    expect(() => decodePlan(encodePlan(plan([clone, long, exec])))).toThrow(/over 4095/);
  });
});

describe('event stream', () => {
  it('yields events only once whole, however the bytes are split', () => {
    const w = new FrameWriter();
    const bytes = Buffer.concat([
      w.u64(1).frame(EVENT.HELLO),
      w.u64(4242).frame(EVENT.PID),
      w.u64(3).u64(0x20).u64(2).str('mount proc on proc').frame(EVENT.ERROR),
      w.u64(1).u64(9).frame(EVENT.EXIT),
    ]);
    for (const step of [1, 3, 7, 100]) {
      const s = new EventStream();
      const got = [];
      for (let i = 0; i < bytes.length; i += step) got.push(...s.push(bytes.subarray(i, i + step)));
      expect(got.map((e) => e.kind)).toEqual(['hello', 'pid', 'error', 'exit']);
      expect(got[2]).toEqual({ kind: 'error', index: 3, code: 0x20, errno: 2, message: 'mount proc on proc' });
      expect(got[3]).toEqual({ kind: 'exit', how: 'signaled', value: 9 });
      expect(s.pending).toBe(0);
    }
  });
});
