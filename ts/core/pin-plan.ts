// pinPlan: the control plan that makes and pins namespaces, or unpins them (docs/core-abi.md
// "pinPlan"; assembly/plan/pin.ts decides which types can be pinned and how).
import { FrameWriter } from '../protocol/frames.js';
import { CLOCK, CoreError } from './build-plan.js';
import { call } from './wasm.js';

/** A pinned user namespace's maps, as its uid_map and gid_map hold them. */
export interface PinnedIdmap {
  uid: { inside: number; outside: number; count: number }[];
  gid: { inside: number; outside: number; count: number }[];
}

export const PIN_REQUEST = { CREATE: 0x0185, REMOVE: 0x0186, HOLDER: 0x0189, TIME_OFFSET: 0x0388, UID_LINE: 0x0389, GID_LINE: 0x038a } as const;

export type PinRequest = { create: { flags: bigint; dir: string; timeOffsets?: { monotonic?: number; boottime?: number }; idmap?: PinnedIdmap } } | { remove: readonly string[]; holder?: { pid: number; startTime: string } };

export function encodePinRequest(req: PinRequest): Uint8Array {
  const w = new FrameWriter();
  if ('create' in req) {
    w.begin(PIN_REQUEST.CREATE).u64(req.create.flags).str(req.create.dir).end();
    const t = req.create.timeOffsets;
    if (t?.monotonic !== undefined) w.begin(PIN_REQUEST.TIME_OFFSET).u64(CLOCK.monotonic).u64(BigInt.asUintN(64, BigInt(t.monotonic))).end();
    if (t?.boottime !== undefined) w.begin(PIN_REQUEST.TIME_OFFSET).u64(CLOCK.boottime).u64(BigInt.asUintN(64, BigInt(t.boottime))).end();
    for (const [type, lines] of [[PIN_REQUEST.UID_LINE, req.create.idmap?.uid ?? []], [PIN_REQUEST.GID_LINE, req.create.idmap?.gid ?? []]] as const) {
      for (const l of lines) w.begin(type).u64(l.inside).u64(l.outside).u64(l.count).end();
    }
  } else {
    for (const path of req.remove) w.begin(PIN_REQUEST.REMOVE).str(path).end();
    const h = req.holder;
    if (h) w.begin(PIN_REQUEST.HOLDER).u64(h.pid).u64(/^\d{1,20}$/.test(h.startTime) ? BigInt(h.startTime) : 0n).end();
  }
  return w.view().slice();
}

/** The control plan. Throws CoreError: status 2 names what cannot be pinned. */
export function pinPlan(req: PinRequest): Uint8Array {
  const answer = call('pinPlan', encodePinRequest(req));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return answer.bytes.slice();
}
