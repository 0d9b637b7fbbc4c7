// Classifying the entries of an OCI layer (image-spec layer.md "Whiteouts"): plain, a
// whiteout `.wh.NAME`, an opaque marker `.wh..wh..opq`, AUFS metadata to skip
// (`.wh..wh.*` at the top, as docker skips it), or invalid with a reason. Paths are byte
// ranges (pathsafe/bytes.ts): the clean path is written into the call's arena.

import { Arena, cleanInto, equalsLiteral, lastSlash, nextSlash, spanString, startsWith } from "../pathsafe/bytes";

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

/** The answer of `classify` besides its kind: the path (root: length 0) or the reason. */
export class Class {
  ptr: usize = 0;
  len: i32 = 0;
  reason: string = "";
}

function invalid(out: Class, reason: string): u64 {
  out.len = 0;
  out.reason = reason;
  return CLASS_INVALID;
}

/**
 * The common case in one pass: a path that is already clean (no leading or trailing `/`, no
 * "", "." or ".." component), no `.wh.` directory and no `.wh.` at the top. Returns the kind
 * (its path is the request's own bytes, or a copy for a whiteout), or 0 for the general path.
 */
function classifyClean(p: usize, n: i32, type: u64, size: u64, arena: Arena, out: Class): u64 {
  if (n == 0) return 0;
  let start = 0;
  let last = -1;
  while (true) {
    const end = nextSlash(p, n, start);
    const c = p + <usize>start;
    const k = end - start;
    if (k == 0 || (k <= 2 && load<u8>(c) == 46 && (k == 1 || load<u8>(c, 1) == 46))) return 0;
    if (end == n) break;
    if (k >= 4 && load<u32>(c) == WH_WORD) return 0; // a .wh. directory (or .wh..wh. at the top)
    last = end;
    start = end + 1;
  }
  const baseStart = last + 1;
  const base = p + <usize>baseStart;
  const baseLen = n - baseStart;
  out.ptr = p;
  out.len = n;
  if (baseLen < 4 || load<u32>(base) != WH_WORD) return CLASS_PLAIN;
  // .wh.NAME: the general path names every case; only the plain whiteout is done here.
  if (last < 0 || type != TYPE_REGULAR || size != 0 || startsWith(base, baseLen, META_PREFIX)) return 0;
  const nameLen = baseLen - 4;
  if (nameLen == 0 || (nameLen == 1 && load<u8>(base, 4) == 46) || (nameLen == 2 && load<u16>(base, 4) == 0x2e2e)) return 0;
  const dst = arena.alloc(n - 4);
  memory.copy(dst, p, <usize>baseStart);
  memory.copy(dst + <usize>baseStart, base + 4, <usize>nameLen);
  out.ptr = dst;
  out.len = n - 4;
  return CLASS_WHITEOUT;
}

/** ".wh." as a little-endian u32. */
const WH_WORD: u32 = 0x2e68772e;

/** Classifies the entry whose raw path is the `n` bytes at `p`; returns the kind. */
export function classify(p: usize, n: i32, type: u64, size: u64, arena: Arena, out: Class): u64 {
  const fast = classifyClean(p, n, type, size, arena, out);
  if (fast != 0) return fast;
  return classifySlow(p, n, type, size, arena, out);
}

function classifySlow(p: usize, n: i32, type: u64, size: u64, arena: Arena, out: Class): u64 {
  const dst = arena.alloc(n);
  const len = cleanInto(p, n, dst);
  if (len < 0) {
    arena.shrink(dst, 0);
    return invalid(out, "escapes the root");
  }
  arena.shrink(dst, len);
  out.ptr = dst;
  out.len = len;
  const firstEnd = nextSlash(dst, len, 0);
  if (len > 0 && startsWith(dst, firstEnd, META_PREFIX) && !(firstEnd == len && equalsLiteral(dst, len, OPAQUE_NAME))) {
    out.len = 0;
    return CLASS_SKIP;
  }
  const last = lastSlash(dst, len);
  const baseStart = last + 1;
  for (let i = 0; i < baseStart; ) {
    const e = nextSlash(dst, len, i);
    if (startsWith(dst + <usize>i, e - i, WHITEOUT_PREFIX)) {
      return invalid(out, "directory " + spanString(dst + <usize>i, e - i) + " has a whiteout name");
    }
    i = e + 1;
  }
  if (len == 0) {
    if (type != TYPE_DIRECTORY) return invalid(out, "the root of a layer must be a directory");
    return CLASS_PLAIN;
  }
  const base = dst + <usize>baseStart;
  const baseLen = len - baseStart;
  if (!startsWith(base, baseLen, WHITEOUT_PREFIX)) return CLASS_PLAIN;
  if (type != TYPE_REGULAR) return invalid(out, "a whiteout must be a regular file");
  if (size != 0) return invalid(out, "a whiteout must be empty");
  if (equalsLiteral(base, baseLen, OPAQUE_NAME)) {
    out.len = last < 0 ? 0 : last;
    return CLASS_OPAQUE;
  }
  if (startsWith(base, baseLen, META_PREFIX)) return invalid(out, "unknown whiteout meta name " + spanString(base, baseLen));
  const name = base + 4;
  const nameLen = baseLen - 4;
  if (nameLen == 0 || (nameLen == 1 && load<u8>(name) == 46) || (nameLen == 2 && load<u16>(name) == 0x2e2e)) {
    return invalid(out, "whiteout names \"" + spanString(name, nameLen) + "\"");
  }
  memory.copy(base, name, <usize>nameLen);
  out.len = len - 4;
  return CLASS_WHITEOUT;
}
