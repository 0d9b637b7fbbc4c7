// Classifying the entries of an OCI layer (image-spec layer.md "Whiteouts"): plain, a
// whiteout `.wh.NAME`, an opaque marker `.wh..wh..opq`, AUFS metadata to skip
// (`.wh..wh.*` at the top, as docker skips it), or invalid with a reason.

import { cleanParts, joinParts } from "../pathsafe/clean";

export const TYPE_REGULAR: u64 = 1;
export const TYPE_DIRECTORY: u64 = 2;
export const TYPE_SYMLINK: u64 = 3;
export const TYPE_HARDLINK: u64 = 4;
export const TYPE_CHAR: u64 = 5;
export const TYPE_BLOCK: u64 = 6;
export const TYPE_FIFO: u64 = 7;
export const TYPE_SOCKET: u64 = 8;

export const CLASS_PLAIN: u64 = 1;
export const CLASS_WHITEOUT: u64 = 2;
export const CLASS_OPAQUE: u64 = 3;
export const CLASS_INVALID: u64 = 4;
export const CLASS_SKIP: u64 = 5;

export const WHITEOUT_PREFIX = ".wh.";
export const META_PREFIX = ".wh..wh.";
export const OPAQUE_NAME = ".wh..wh..opq";

export class LayerEntry {
  constructor(public path: string, public type: u64, public size: u64, public rdev: u64) {}
}

export class Classified {
  constructor(public index: u64, public kind: u64, public path: string, public reason: string) {}
}

function invalidEntry(index: u64, reason: string): Classified {
  return new Classified(index, CLASS_INVALID, "", reason);
}

export function classifyEntry(index: u64, e: LayerEntry): Classified {
  const cleaned = cleanParts(e.path);
  if (cleaned === null) return invalidEntry(index, "escapes the root");
  const parts = cleaned;
  const count = parts.length;
  if (count > 0 && parts[0].startsWith(META_PREFIX) && !(count == 1 && parts[0] == OPAQUE_NAME)) {
    return new Classified(index, CLASS_SKIP, "", "");
  }
  for (let i = 0; i + 1 < count; i++) {
    if (parts[i].startsWith(WHITEOUT_PREFIX)) return invalidEntry(index, "directory " + parts[i] + " has a whiteout name");
  }
  if (count == 0) {
    if (e.type != TYPE_DIRECTORY) return invalidEntry(index, "the root of a layer must be a directory");
    return new Classified(index, CLASS_PLAIN, ".", "");
  }
  const base = parts[count - 1];
  if (!base.startsWith(WHITEOUT_PREFIX)) return new Classified(index, CLASS_PLAIN, joinParts(parts), "");
  if (e.type != TYPE_REGULAR) return invalidEntry(index, "a whiteout must be a regular file");
  if (e.size != 0) return invalidEntry(index, "a whiteout must be empty");
  parts.pop();
  if (base == OPAQUE_NAME) return new Classified(index, CLASS_OPAQUE, joinParts(parts), "");
  if (base.startsWith(META_PREFIX)) return invalidEntry(index, "unknown whiteout meta name " + base);
  const name = base.substring(WHITEOUT_PREFIX.length);
  if (name.length == 0 || name == "." || name == "..") return invalidEntry(index, "whiteout names \"" + name + "\"");
  parts.push(name);
  return new Classified(index, CLASS_WHITEOUT, joinParts(parts), "");
}
