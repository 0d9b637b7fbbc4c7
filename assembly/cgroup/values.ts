// cgroupLimitValues: the resource flags as typed → the numbers docker's HostConfig shows
// (`husk inspect`), read by the same rules cgroupWrites applies (parse.ts), so that what
// inspect shows is what the core enforced (docs/core-abi.md "cgroupLimitValues").

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { CG_FLAG } from "./entry";
import { Outcome, parseInteger, parseNanoCpus, parseSize } from "./parse";

export const CG_VALUE: u16 = 0x0282;
const NAME_MAX: i32 = 64;
/** --cpus without the host's count as a bound (inspect shows what was typed and accepted). */
const ANY_CPUS: u64 = 65536;

/** The value of one flag, or the outcome's refusal; `known` false for a flag without a number. */
function valueOf(out: Outcome, name: string, text: string): i64 {
  if (name == "memory-swap" && text == "-1") return -1;
  if (name == "memory" || name == "memory-swap" || name == "memory-reservation") return parseSize(out, name, text);
  if (name == "cpus") return parseNanoCpus(out, text, ANY_CPUS);
  if (name == "cpu-shares" || name == "pids-limit") return parseInteger(out, name, text);
  out.refuse(name + ": not a number flag");
  return 0;
}

export function cgroupLimitValues(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const w = new Writer(16 << 20);
  while (frames.next()) {
    if (frames.type != CG_FLAG) return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    const name = f.str("name", NAME_MAX);
    const text = f.str("value", PATH_MAX);
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
    const out = new Outcome();
    const value = valueOf(out, name, text);
    w.begin(CG_VALUE, "value");
    w.str("name", name, STR_MAX);
    w.u64(out.ok ? 1 : 0);
    w.u64(out.ok ? <u64>value : 0);
    w.end();
  }
  if (frames.failure !== null) return fail(frames.failure!);
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}
