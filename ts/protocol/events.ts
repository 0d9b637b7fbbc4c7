// Events from the launcher (docs/protocol.md), decoded from a byte stream as it arrives.
import { FieldReader, FrameError, readFrameAt } from './frames.js';
import { EVENT } from './ops.js';

export type LauncherEvent =
  | { kind: 'hello'; version: bigint }
  | { kind: 'pid'; pid: number }
  | { kind: 'op-time'; index: number; code: number; ns: bigint }
  | { kind: 'error'; index: number; code: number; errno: number; message: string }
  | { kind: 'exit'; how: 'exited' | 'signaled' | 'failed'; value: number }
  | { kind: 'cgroup-file'; path: string; content: string }
  /** The container process stands at WAIT_START: created, waiting for START. */
  | { kind: 'ready' }
  /** EXEC succeeded; `at` is the launcher's CLOCK_MONOTONIC (ns) when the monitor saw it. */
  | { kind: 'started'; at: bigint }
  /** Server mode: one RUN's event, with the RUN's tag. */
  | { kind: 'tagged'; tag: bigint; event: LauncherEvent };

export const NO_OP_INDEX = -1;

function toIndex(v: bigint): number {
  return v === 0xffffffffffffffffn ? NO_OP_INDEX : Number(v);
}

export function decodeEvent(type: number, payload: Uint8Array): LauncherEvent {
  const r = new FieldReader(payload);
  let ev: LauncherEvent;
  switch (type) {
    case EVENT.HELLO:
      ev = { kind: 'hello', version: r.u64() };
      break;
    case EVENT.PID:
      ev = { kind: 'pid', pid: Number(r.u64()) };
      break;
    case EVENT.OP_TIME:
      ev = { kind: 'op-time', index: toIndex(r.u64()), code: Number(r.u64()), ns: r.u64() };
      break;
    case EVENT.ERROR:
      ev = { kind: 'error', index: toIndex(r.u64()), code: Number(r.u64()), errno: Number(r.u64()), message: r.str() };
      break;
    case EVENT.EXIT: {
      const how = Number(r.u64());
      const value = Number(r.u64());
      if (how > 2) throw new FrameError(`EXIT event of unknown kind ${how}`);
      ev = { kind: 'exit', how: (['exited', 'signaled', 'failed'] as const)[how], value };
      break;
    }
    case EVENT.CGROUP_FILE:
      ev = { kind: 'cgroup-file', path: r.str(), content: r.str() };
      break;
    case EVENT.READY:
      ev = { kind: 'ready' };
      break;
    case EVENT.STARTED:
      ev = { kind: 'started', at: r.u64() };
      break;
    case EVENT.TAGGED: {
      // A tag, then one whole event frame (never itself TAGGED) as the rest of the payload.
      const tag = r.u64();
      const inner = readFrameAt(payload, 8);
      if (inner === null || inner.next !== payload.length) throw new FrameError('TAGGED: the event frame does not fill the rest');
      if (inner.frame.type === EVENT.TAGGED) throw new FrameError('TAGGED inside TAGGED');
      return { kind: 'tagged', tag, event: decodeEvent(inner.frame.type, inner.frame.payload) };
    }
    default:
      throw new FrameError(`unknown event type 0x${type.toString(16)}`);
  }
  r.end();
  return ev;
}

/** Accumulates bytes from the event pipe and yields whole events. */
export class EventStream {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array): LauncherEvent[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const events: LauncherEvent[] = [];
    let at = 0;
    for (;;) {
      const f = readFrameAt(joined, at);
      if (f === null) break;
      events.push(decodeEvent(f.frame.type, f.frame.payload));
      at = f.next;
    }
    this.buffer = joined.slice(at);
    return events;
  }

  /** Bytes left that did not make a whole frame (a launcher that died mid-write). */
  get pending(): number {
    return this.buffer.length;
  }
}
