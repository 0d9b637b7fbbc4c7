// The flatten fallback (docs/core-abi.md "Flatten"): where the kernel refuses an overlayfs
// in the container's user namespace (ts/ probes it at run time: OVERLAY_PROBE), the image is
// copied onto the stage tmpfs instead of stacked — each layer, bottom first, by one COPY_TREE
// that applies the layer's whiteouts (character devices 0/0) and opaque directories (the
// marker xattr named here: user.overlay.opaque in a user namespace), or a `--rootfs`
// directory by one plain COPY_TREE. The container's writes then live on the stage and go with
// it (a kept upper is not used). Item 0x0330.
//
//   FLATTEN 0x0330  flags u64   bit 0: copy instead of overlayfs

import { Failure, malformed } from "../abi";
import { Fields } from "../codec";
import { XATTR_TRUSTED, XATTR_USER } from "../whiteout/overlay";

export const REQ_FLATTEN: u32 = 0x0330;
const FLATTEN_COPY: u64 = 1;
/** COPY_TREE flags (docs/protocol.md "COPY_TREE"): the source is a layer in overlayfs's form. */
export const COPY_WHITEOUTS: u64 = 1;

export class Flatten {
  present: bool = false;
  copy: bool = false;
}

export function isFlattenItem(type: u32): bool {
  return type == REQ_FLATTEN;
}

export function decodeFlattenItem(ptr: usize, len: i32, index: i32, flatten: Flatten): Failure | null {
  const where = "request: frame " + index.toString() + " (FLATTEN)";
  if (flatten.present) return malformed(where + ": given twice");
  const f = Fields.ofFrame(ptr, len, index, "FLATTEN");
  const flags = f.u64("flags");
  if (!f.finish()) return f.failure;
  if ((flags & ~FLATTEN_COPY) != 0) return malformed(where + ": flags: unknown bits 0x" + flags.toString(16));
  flatten.present = true;
  flatten.copy = (flags & FLATTEN_COPY) != 0;
  return null;
}

/** The xattr that marks an opaque directory in the layers a run sees. */
export function opaqueXattr(userns: bool): string {
  return userns ? XATTR_USER : XATTR_TRUSTED;
}
