// Events from the launcher (docs/protocol.md), decoded from a byte stream as it arrives.
import { FieldReader, FrameError, HEADER_BYTES, readFrameAt } from './frames.js';
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
  /** After PID_FORK: the host pid of the container's pid 1 (a joined user namespace). */
  | { kind: 'inner-pid'; pid: number }
  | { kind: 'detached' }
  /** EXEC succeeded; `at` is the launcher's CLOCK_MONOTONIC (ns) when the monitor saw it. */
  | { kind: 'started'; at: bigint }
  /** An fs plan's READ_XATTRS (op `index`): one xattr of its path; value in lowercase hex. */
  | { kind: 'xattr'; index: number; name: string; value: string }
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
      if (how > 3) throw new FrameError(`EXIT event of unknown kind ${how}`);
      // Kind 3: an EXEC_FIFO plan's launcher left its container waiting (docs/protocol.md).
      if (how === 3) {
        ev = { kind: 'detached' };
        break;
      }
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
    case EVENT.INNER_PID:
      ev = { kind: 'inner-pid', pid: Number(r.u64()) };
      break;
    case EVENT.XATTR:
      ev = { kind: 'xattr', index: toIndex(r.u64()), name: r.str(), value: r.str() };
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

/** A TAGGED frame's header, its tag and the inner event's header. */
const TAGGED_MIN = HEADER_BYTES + 8 + HEADER_BYTES;
const EXIT_KINDS = ['exited', 'signaled', 'failed'] as const;

/**
 * The server's everyday events — TAGGED PID, STARTED, READY and EXIT, whole in `view` at `at`
 * and well formed — read in place, with no object per frame or field; anything else (or
 * anything wrong) is undefined, for readFrameAt and decodeEvent to read or refuse as always.
 */
function taggedFast(view: DataView, at: number): LauncherEvent | undefined {
  if (view.getUint16(at + 4, true) !== EVENT.TAGGED || view.getUint16(at + 6, true) !== 0) return undefined;
  const length = view.getUint32(at, true);
  if (length < 16 || at + HEADER_BYTES + length > view.byteLength) return undefined;
  const inner = at + HEADER_BYTES + 8;
  const innerLength = view.getUint32(inner, true);
  if (innerLength !== length - 16 || view.getUint16(inner + 6, true) !== 0) return undefined;
  const type = view.getUint16(inner + 4, true);
  const p = inner + HEADER_BYTES;
  let event: LauncherEvent;
  if (type === EVENT.PID && innerLength === 8) event = { kind: 'pid', pid: Number(view.getBigUint64(p, true)) };
  else if (type === EVENT.STARTED && innerLength === 8) event = { kind: 'started', at: view.getBigUint64(p, true) };
  else if (type === EVENT.READY && innerLength === 0) event = { kind: 'ready' };
  else if (type === EVENT.EXIT && innerLength === 16) {
    const how = view.getBigUint64(p, true);
    if (how > 2n) return undefined;
    event = { kind: 'exit', how: EXIT_KINDS[Number(how)], value: Number(view.getBigUint64(p + 8, true)) };
  } else return undefined;
  return { kind: 'tagged', tag: view.getBigUint64(at + HEADER_BYTES, true), event };
}

/** Accumulates bytes from the event pipe and yields whole events. */
export class EventStream {
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): LauncherEvent[] {
    // Usually the last chunk ended on a frame boundary: read this one as it is.
    let bytes = chunk;
    if (this.buffer.length > 0) {
      bytes = new Uint8Array(this.buffer.length + chunk.length);
      bytes.set(this.buffer);
      bytes.set(chunk, this.buffer.length);
    }
    const events: LauncherEvent[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (;;) {
      const ev = bytes.length - at >= TAGGED_MIN ? taggedFast(view, at) : undefined;
      if (ev !== undefined) {
        events.push(ev);
        at += HEADER_BYTES + view.getUint32(at, true);
        continue;
      }
      const f = readFrameAt(bytes, at);
      if (f === null) break;
      events.push(decodeEvent(f.frame.type, f.frame.payload));
      at = f.next;
    }
    // A copy of what is left (a frame cut between two reads): the chunk is not ours to keep.
    // (Uint8Array's slice: a Buffer's would be a view.)
    this.buffer = at === bytes.length ? EMPTY : Uint8Array.prototype.slice.call(bytes, at);
    return events;
  }

  /** Bytes left that did not make a whole frame (a launcher that died mid-write). */
  get pending(): number {
    return this.buffer.length;
  }
}

const EMPTY = new Uint8Array(0);
