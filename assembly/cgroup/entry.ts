// cgroupWrites: docker resource flags → the cgroup file writes for a v1 or v2 host
// (docs/policy-core.md "cgroupWrites"). One module per controller; the layout picks the
// v1 or v2 function of each, in runc's order.

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { cpuV1, cpuV2 } from "./cpu";
import { cpuset } from "./cpuset";
import { blkioV1, ioV2 } from "./io";
import { memoryV1, memoryV2 } from "./memory";
import { Outcome } from "./parse";
import { pids } from "./pids";
import { checkHost, finishResources, Host, LAYOUT_V1, readFlag, Resources, Write } from "./resources";

export const CG_HOST: u32 = 0x0201;
export const CG_FLAG: u32 = 0x0202;
export const CG_WRITE: u16 = 0x0281;
/** Flag names are short; values are at most a path's length. */
const NAME_MAX: i32 = 64;
const OUTPUT_MAX: i32 = 64 << 20;

/** The writes, in runc's order: v1 by subsystem list, v2 as fs2.Manager.Set. */
export function writesFor(host: Host, r: Resources): Write[] {
  const out = new Array<Write>();
  if (host.layout == LAYOUT_V1) {
    cpuset(r, out);
    memoryV1(host, r, out);
    cpuV1(r, out);
    pids(r, out);
    blkioV1(host, r, out);
  } else {
    pids(r, out);
    memoryV2(host, r, out);
    ioV2(host, r, out);
    cpuV2(r, out);
    cpuset(r, out);
  }
  return out;
}

export function cgroupWrites(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const host = new Host();
  let hasHost = false;
  const names = new Array<string>();
  const values = new Array<string>();
  while (frames.next()) {
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    if (frames.type == CG_HOST) {
      if (hasHost) return fail(malformed(frameContext(frames.index) + ": HOST given twice"));
      hasHost = true;
      host.layout = f.u64("layout");
      host.cpus = f.u64("cpus");
      host.mems = f.u64("mems");
      host.flags = f.u64("flags");
    } else if (frames.type == CG_FLAG) {
      names.push(f.str("name", NAME_MAX));
      values.push(f.str("value", PATH_MAX));
    } else {
      return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    }
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
  }
  if (frames.failure !== null) return fail(frames.failure!);
  if (!hasHost) return fail(malformed("request: no HOST frame"));

  const out = new Outcome();
  checkHost(out, host);
  const r = new Resources();
  const seen: u32[] = [0];
  for (let i = 0; i < names.length && out.ok; i++) readFlag(out, host, names[i], values[i], r, seen);
  finishResources(out, r);
  if (!out.ok) return fail(out.failure!);

  const writes = writesFor(host, r);
  const w = new Writer(OUTPUT_MAX);
  for (let i = 0; i < writes.length; i++) {
    w.begin(CG_WRITE, "write");
    w.str("controller", writes[i].controller, STR_MAX);
    w.str("file", writes[i].file, STR_MAX);
    w.str("value", writes[i].value, STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}
