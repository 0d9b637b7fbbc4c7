// What each resource flag needs from the host, and whether this host can give it: the core
// decides (assembly/cgroup/enforce.ts, the same flag → controller table buildPlan uses); this
// file sends it the hierarchies and reads its answer.
import { call } from '../core/wasm.js';
import { CoreError } from '../core/build-plan.js';
import { FieldReader, FrameWriter, readFrameAt } from '../protocol/frames.js';
import type { CgroupFacts } from './detect.js';

export interface Enforcement {
  flag: string;
  controller: string;
  version?: 1 | 2;
  mountpoint?: string;
  rootful: boolean;
  /** Rootless limits need a v2 controller delegated to the user; v1 cannot be delegated. */
  rootless: boolean;
  why?: string;
}

const HIERARCHY = 0x0121;
const FLAG = 0x01b0;

export function enforcement(facts: CgroupFacts): Enforcement[] {
  const w = new FrameWriter();
  for (const h of facts.hierarchies) w.begin(HIERARCHY).u64(h.version).str(h.mountpoint).strs(h.controllers).end();
  const answer = call('cgroupEnforcement', w.view());
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  const out: Enforcement[] = [];
  let at = 0;
  for (;;) {
    const f = readFrameAt(answer.bytes, at);
    if (f === null) break;
    at = f.next;
    if (f.frame.type !== FLAG) continue;
    const r = new FieldReader(f.frame.payload);
    const flag = `--${r.str()}`;
    const controller = r.str();
    const version = Number(r.u64());
    const mountpoint = r.str();
    const rootful = r.u64() === 1n;
    const rootless = r.u64() === 1n;
    const why = r.str() || undefined;
    out.push(version === 0 ? { flag, controller, rootful, rootless, why } : { flag, controller, version: version as 1 | 2, mountpoint, rootful, rootless, why });
  }
  return out;
}
