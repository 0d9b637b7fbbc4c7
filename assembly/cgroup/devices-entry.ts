// devicesProgram(len): device rules in, their cgroup v2 BPF program out (docs/core-abi.md
// "devicesProgram"). buildPlan and ociPlan compile the same way (./devices.ts); this entry
// is for the tests and the fuzzer, which run the program against a reference matcher.

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, Writer } from "../codec";
import { deviceAccess, deviceType, DeviceRule, devicesProgram, DEVICE_RULES_MAX } from "./devices";

/** One rule: allow (0/1), type (a, b, c), major and minor (2^64−1: `*`), access (r, w, m). */
export const REQ_DEVICE_RULE: u32 = 0x0340;
/** The answer: the program, one instruction per u64 (none: every device allowed). */
export const ANSWER_DEVICE_PROGRAM: u16 = 0x0341;

export function devicesProgramEntry(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const rules = new Array<DeviceRule>();
  const frames = new FrameReader(ptr, len);
  while (frames.next()) {
    if (frames.type != REQ_DEVICE_RULE) return fail(malformed(frames.where() + ": unknown type 0x" + frames.type.toString(16)));
    if (rules.length == DEVICE_RULES_MAX) return fail(malformed(frames.where() + ": more than 1024 rules"));
    const f = Fields.ofFrame(frames.payload, frames.payloadLength, frames.index, "DEVICE_RULE");
    const allow = f.u64("allow");
    const type = f.str("type", 8);
    const major = f.u64("major");
    const minor = f.u64("minor");
    const access = f.str("access", 8);
    if (!f.finish()) return fail(f.failure!);
    if (allow > 1) return fail(malformed(frames.where() + ": allow: not 0 or 1"));
    rules.push(new DeviceRule(allow == 1, deviceType(type), major, minor, deviceAccess(access)));
  }
  if (frames.failure !== null) return fail(frames.failure!);
  const program = new Array<u64>();
  const failure = devicesProgram(rules, "devices", program);
  if (failure !== null) return fail(failure);
  const w = new Writer(64 + program.length * 8);
  w.begin(ANSWER_DEVICE_PROGRAM, "DEVICE_PROGRAM");
  w.u64s("instructions", program);
  w.end();
  assert(w.ok, "devicesProgram: answer");
  return answer(w.buf, w.len);
}

