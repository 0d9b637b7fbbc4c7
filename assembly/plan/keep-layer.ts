// A writable layer that outlives the container's run (`husk run -d`, `husk create`): the
// overlay's upper and work directories of a `host` or `--rootfs` image on the host's disk
// instead of in the stage tmpfs, so `husk start` of the exited container finds its files.
// ts/ makes the two directories (owned by the container's root); the core only puts them in
// the overlay options (rootfs.ts). Items 0x0170-0x017f.
//
//   KEEP_LAYER 0x0170  upper str, work str   absolute, clean, and not the same directory

import { Failure, malformed } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { isCleanAbsolute } from "./cgroup";

export const REQ_KEEP_LAYER: u32 = 0x0170;
const REQ_FIRST: u32 = 0x0170;
const REQ_LAST: u32 = 0x017f;

export class KeptLayer {
  present: bool = false;
  upper: string = "";
  work: string = "";
}

export function isKeepLayerItem(type: u32): bool {
  return type >= REQ_FIRST && type <= REQ_LAST;
}

/** Decodes one frame of 0x0170-0x017f into `keep`; a failure when it is malformed. */
export function decodeKeepLayerItem(type: u32, ptr: usize, len: i32, index: i32, keep: KeptLayer): Failure | null {
  const where = "request: frame " + index.toString();
  if (type != REQ_KEEP_LAYER) return malformed(where + ": unknown type 0x" + type.toString(16));
  if (keep.present) return malformed(where + " (KEEP_LAYER): given twice");
  const f = Fields.ofFrame(ptr, len, index, "KEEP_LAYER");
  keep.present = true;
  keep.upper = f.str("upper", PATH_MAX);
  keep.work = f.str("work", PATH_MAX);
  if (!f.finish()) return f.failure;
  if (!isCleanAbsolute(keep.upper)) return malformed(where + " (KEEP_LAYER): upper: not an absolute clean path: \"" + keep.upper + "\"");
  if (!isCleanAbsolute(keep.work)) return malformed(where + " (KEEP_LAYER): work: not an absolute clean path: \"" + keep.work + "\"");
  if (keep.upper == keep.work) return malformed(where + " (KEEP_LAYER): upper and work are one directory");
  return null;
}
