// Containers that live on (issue 11's remainder): `run --init`. Items 0x0380-0x038f.
//
//   INIT 0x0380  flags u64   must be 0: husk's init is the container's pid 1 (docs/protocol.md
//                            "husk's init"): the plan gets INIT right before [WAIT_START] EXEC

import { Failure, malformed } from "../abi";
import { Fields } from "../codec";

export const REQ_INIT: u32 = 0x0380;
const REQ_FIRST: u32 = 0x0380;
const REQ_LAST: u32 = 0x038f;

export class LifecycleRequest {
  init: bool = false;
}

export function isLifecycleItem(type: u32): bool {
  return type >= REQ_FIRST && type <= REQ_LAST;
}

/** Decodes one frame of 0x0380-0x038f into `req`; a failure when it is malformed. */
export function decodeLifecycleItem(type: u32, ptr: usize, len: i32, index: i32, req: LifecycleRequest): Failure | null {
  const where = "request: frame " + index.toString();
  if (type != REQ_INIT) return malformed(where + ": unknown type 0x" + type.toString(16));
  if (req.init) return malformed(where + " (INIT): given twice");
  const f = Fields.ofFrame(ptr, len, index, "INIT");
  const flags = f.u64("flags");
  if (!f.finish()) return f.failure;
  if (flags != 0) return malformed(where + " (INIT): flags: unknown bits 0x" + flags.toString(16));
  req.init = true;
  return null;
}
