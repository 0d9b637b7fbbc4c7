// Whiteouts ↔ overlayfs (docs/policy-core.md "Whiteouts"): a layer → the actions that build
// an upper dir (or, flattened, a plain directory), and an upper-dir listing → layer entries.
// Paths are byte ranges; answers are written straight into the output frames.

import { Failure, invalid as refuse, malformed } from "../abi";
import {
  Arena, cleanInto, compareBytes, equalsLiteral, FNV_OFFSET, hashByte, hashBytes, KEEP_MAX, lastSlash, nextSlash, Out, pack,
  SpanTable, spanLen, spanPtr, spanString, startsWith, U64List,
} from "../pathsafe/bytes";
import {
  CLASS_INVALID, CLASS_OPAQUE, CLASS_PLAIN, CLASS_SKIP, CLASS_WHITEOUT, Class, classify, OPAQUE_NAME, TYPE_CHAR,
  TYPE_DIRECTORY, TYPE_SOCKET, WHITEOUT_PREFIX,
} from "./classify";

export const ACTION_EXTRACT: u64 = 16;
export const ACTION_MKNOD: u64 = 17;
export const ACTION_SET_XATTR: u64 = 18;
export const ACTION_DELETE: u64 = 19;
export const ACTION_CLEAR: u64 = 20;

export const KIND_PLAIN: u64 = 1;
export const KIND_WHITEOUT: u64 = 2;
export const KIND_OPAQUE: u64 = 3;

export const XATTR_TRUSTED = "trusted.overlay.opaque";
export const XATTR_USER = "user.overlay.opaque";

export const WO_CLASS: u16 = 0x0381;
export const WO_ACTION: u16 = 0x0382;
export const WO_LAYER: u16 = 0x0383;

/** A batch's entries as the request holds them (raw path ranges), reused from call to call. */
export class Layer {
  base: u64 = 0;
  paths: U64List = new U64List();
  types: U64List = new U64List();
  sizes: U64List = new U64List();
  rdevs: U64List = new U64List();
  /** Upper listings: bit 0 = `trusted.overlay.opaque=y` among the xattrs, bit 1 = `user.`. */
  marks: U64List = new U64List();

  clear(): void {
    this.paths.length = 0;
    this.types.length = 0;
    this.sizes.length = 0;
    this.rdevs.length = 0;
    this.marks.length = 0;
  }

  get count(): i32 {
    return this.paths.length;
  }
}

const arena = new Arena();
const cls = new Class();
/** Per entry of a classified layer: its class, and its path in the arena. */
const kinds = new U64List();
const spans = new U64List();
const targets = new SpanTable();
const seen = new SpanTable();
const later = new U64List();

/** Drops the big scratch buffers of a call (see KEEP_MAX). */
export function releaseScratch(layer: Layer): void {
  arena.trim();
  kinds.trim();
  spans.trim();
  later.trim();
  targets.trim();
  seen.trim();
  outIndex.trim();
  outKind.trim();
  outPath.trim();
  if (order.length > (KEEP_MAX >> 2)) {
    order = new StaticArray<i32>(1024);
    scratch = new StaticArray<i32>(1024);
  }
  layer.paths.trim();
  layer.types.trim();
  layer.sizes.trim();
  layer.rdevs.trim();
  layer.marks.trim();
}

function refusal(layer: Layer, i: i32, reason: string): Failure {
  const p = layer.paths.get(i);
  return refuse("entry " + (layer.base + <u64>i).toString() + " (" + spanString(spanPtr(p), spanLen(p)) + "): " + reason);
}

/** whiteoutClassify: one CLASS frame per entry. */
export function classifyLayer(layer: Layer, out: Out, inputLength: i32): void {
  arena.reset(inputLength);
  for (let i = 0; i < layer.count; i++) {
    const p = layer.paths.get(i);
    const kind = classify(spanPtr(p), spanLen(p), layer.types.get(i), layer.sizes.get(i), arena, cls);
    const reason = kind == CLASS_INVALID ? cls.reason : "";
    const named = kind == CLASS_PLAIN || kind == CLASS_WHITEOUT || kind == CLASS_OPAQUE;
    out.record(WO_CLASS, layer.base + <u64>i, kind, cls.ptr, named ? cls.len : 0, named, reason);
  }
}

/** Classifies every entry into `kinds` and `spans`; the refusal of the first invalid one, or null. */
function classifyAll(layer: Layer, inputLength: i32): Failure | null {
  arena.reset(inputLength);
  kinds.length = 0;
  spans.length = 0;
  kinds.reserve(layer.count);
  spans.reserve(layer.count);
  for (let i = 0; i < layer.count; i++) {
    const p = layer.paths.get(i);
    const kind = classify(spanPtr(p), spanLen(p), layer.types.get(i), layer.sizes.get(i), arena, cls);
    if (kind == CLASS_INVALID) return refusal(layer, i, cls.reason);
    kinds.push(kind);
    spans.push(pack(cls.ptr, cls.len));
  }
  return null;
}

@inline function action(out: Out, index: u64, kind: u64, s: u64, detail: string): void {
  out.record(WO_ACTION, index, kind, spanPtr(s), spanLen(s), true, detail);
}

const SAME_LAYER_FILE: i64 = 1;
const SAME_LAYER_DIR: i64 = 2;

/** Raises the mark of the whiteout target at the `n` bytes at `p` (hash `h`) to `what`. */
function mark(h: u64, p: usize, n: i32, what: i64): void {
  const v = targets.get(h, p, n, -1);
  if (v >= 0 && v < what) targets.set(h, p, n, what);
}

/** Marks the whiteout targets that are proper ancestors of the path as directories of this layer. */
function markAncestors(p: usize, n: i32): void {
  let h = FNV_OFFSET;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 47 && i > 0) mark(h, p, i, SAME_LAYER_DIR);
    h = hashByte(h, c);
  }
}

export function toOverlay(layer: Layer, userxattr: bool, changesOnly: bool, out: Out, inputLength: i32, bothMarkers: bool = false): Failure | null {
  const bad = classifyAll(layer, inputLength);
  if (bad !== null) return bad;
  const count = layer.count;
  // What this layer itself puts at each whiteout's path.
  let whiteouts = 0;
  for (let i = 0; i < count; i++) if (kinds.get(i) == CLASS_WHITEOUT) whiteouts++;
  targets.reset(whiteouts);
  for (let i = 0; i < count; i++) {
    if (kinds.get(i) != CLASS_WHITEOUT) continue;
    const s = spans.get(i);
    targets.set(hashBytes(FNV_OFFSET, spanPtr(s), spanLen(s)), spanPtr(s), spanLen(s), 0);
  }
  for (let i = 0; i < count; i++) {
    const kind = kinds.get(i);
    if (kind == CLASS_SKIP) continue;
    const s = spans.get(i);
    const p = spanPtr(s);
    const n = spanLen(s);
    if (kind == CLASS_PLAIN) {
      const type = layer.types.get(i);
      if (type == TYPE_CHAR && layer.rdevs.get(i) == 0) {
        return refusal(layer, i, "a character device 0:0 reads as a whiteout on overlayfs");
      }
      if (whiteouts > 0) mark(hashBytes(FNV_OFFSET, p, n), p, n, type == TYPE_DIRECTORY ? SAME_LAYER_DIR : SAME_LAYER_FILE);
    } else if (kind == CLASS_OPAQUE) {
      if (n > 0 && whiteouts > 0) mark(hashBytes(FNV_OFFSET, p, n), p, n, SAME_LAYER_DIR);
    }
    if (whiteouts > 0) markAncestors(p, n);
  }
  const xattr = userxattr ? XATTR_USER : XATTR_TRUSTED;
  seen.reset(16);
  later.length = 0;
  for (let i = 0; i < count; i++) {
    const kind = kinds.get(i);
    const s = spans.get(i);
    const index = layer.base + <u64>i;
    if (kind == CLASS_PLAIN) {
      if (!changesOnly) action(out, index, ACTION_EXTRACT, s, "");
      continue;
    }
    if (kind != CLASS_OPAQUE && kind != CLASS_WHITEOUT) continue;
    const h = hashBytes(FNV_OFFSET, spanPtr(s), spanLen(s));
    const target = kind == CLASS_WHITEOUT ? targets.get(h, spanPtr(s), spanLen(s), -1) : -1;
    if (kind == CLASS_OPAQUE || target == SAME_LAYER_DIR) {
      if (seen.add(h, spanPtr(s), spanLen(s))) later.push(<u64>i);
    } else if (target == 0) {
      action(out, index, ACTION_MKNOD, s, "");
    }
  }
  for (let k = 0; k < later.length; k++) {
    const i = <i32>later.get(k);
    action(out, layer.base + <u64>i, ACTION_SET_XATTR, spans.get(i), xattr);
    // Root's layers are stacked outside a user namespace (trusted.) and inside one (user.).
    if (bothMarkers && !userxattr) action(out, layer.base + <u64>i, ACTION_SET_XATTR, spans.get(i), XATTR_USER);
  }
  return null;
}

export function flatten(layer: Layer, out: Out, inputLength: i32): Failure | null {
  const bad = classifyAll(layer, inputLength);
  if (bad !== null) return bad;
  const count = layer.count;
  seen.reset(16);
  for (let i = 0; i < count; i++) {
    if (kinds.get(i) != CLASS_OPAQUE) continue;
    const s = spans.get(i);
    if (seen.add(hashBytes(FNV_OFFSET, spanPtr(s), spanLen(s)), spanPtr(s), spanLen(s))) {
      action(out, layer.base + <u64>i, ACTION_CLEAR, s, "");
    }
  }
  for (let i = 0; i < count; i++) {
    if (kinds.get(i) == CLASS_WHITEOUT) action(out, layer.base + <u64>i, ACTION_DELETE, spans.get(i), "");
  }
  for (let i = 0; i < count; i++) {
    if (kinds.get(i) == CLASS_PLAIN) action(out, layer.base + <u64>i, ACTION_EXTRACT, spans.get(i), "");
  }
  return null;
}

// ---- back from overlay --------------------------------------------------------------------

/** Layer entries to sort: index, kind and path (in the arena) of each. */
const outIndex = new U64List();
const outKind = new U64List();
const outPath = new U64List();
let order = new StaticArray<i32>(1024);
let scratch = new StaticArray<i32>(1024);

function push(index: u64, kind: u64, p: usize, n: i32): void {
  outIndex.push(index);
  outKind.push(kind);
  outPath.push(pack(p, n));
}

/** ".wh." as a little-endian u32. */
const WH_WORD: u32 = 0x2e68772e;

@inline function rank(p: usize, n: i32): i32 {
  if (n < 4 || load<u32>(p) != WH_WORD) return 2;
  return equalsLiteral(p, n, OPAQUE_NAME) ? 0 : 1;
}

/** The index of the first byte where the `n` bytes at `a` and `b` differ, or `n`. */
@inline function firstDifference(a: usize, b: usize, n: i32): i32 {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x = load<u64>(a + <usize>i) ^ load<u64>(b + <usize>i);
    if (x != 0) return i + <i32>(ctz(x) >> 3);
  }
  while (i < n && load<u8>(a + <usize>i) == load<u8>(b + <usize>i)) i++;
  return i;
}

/**
 * Layer order: a directory, then its opaque marker, its whiteouts, its other children. The
 * components before the first differing byte are the same in both paths: only the component
 * that holds it is compared (by rank, then by bytes).
 */
function compareLayer(a: u64, b: u64): i32 {
  const pa = spanPtr(a);
  const na = spanLen(a);
  const pb = spanPtr(b);
  const nb = spanLen(b);
  const common = na < nb ? na : nb;
  const d = firstDifference(pa, pb, common);
  if (d == common) {
    if (na == nb) return 0;
    // One path is a prefix of the other: fewer components first when it ends a component.
    if (na < nb && load<u8>(pb + <usize>d) == 47) return -1;
    if (nb < na && load<u8>(pa + <usize>d) == 47) return 1;
  }
  const start = lastSlash(pa, d) + 1;
  const ea = nextSlash(pa, na, d);
  const eb = nextSlash(pb, nb, d);
  const ca = pa + <usize>start;
  const cb = pb + <usize>start;
  const ra = rank(ca, ea - start);
  const rb = rank(cb, eb - start);
  if (ra != rb) return ra - rb;
  return compareBytes(ca, ea - start, cb, eb - start) < 0 ? -1 : 1;
}

/** Sorts `order[0..n)` by compareLayer of their paths (merge sort: n log n compares). */
function sortOrder(n: i32): void {
  let src = order;
  let dst = scratch;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n);
      const hi = min(lo + (width << 1), n);
      let a = lo;
      let b = mid;
      let k = lo;
      while (a < mid && b < hi) {
        if (compareLayer(outPath.get(unchecked(src[b])), outPath.get(unchecked(src[a]))) < 0) unchecked((dst[k++] = src[b++]));
        else unchecked((dst[k++] = src[a++]));
      }
      while (a < mid) unchecked((dst[k++] = src[a++]));
      while (b < hi) unchecked((dst[k++] = src[b++]));
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== order) memory.copy(changetype<usize>(order), changetype<usize>(src), <usize>n << 2);
}

const SLASH_OPAQUE = "/.wh..wh..opq";

function copyLiteral(p: usize, s: string): void {
  for (let i = 0; i < s.length; i++) store<u8>(p + <usize>i, <u8>s.charCodeAt(i));
}

export function fromOverlay(layer: Layer, userxattr: bool, out: Out, inputLength: i32): Failure | null {
  const markBit: u64 = userxattr ? 2 : 1;
  const count = layer.count;
  arena.reset(inputLength * 2 + 64);
  seen.reset(count);
  outIndex.length = 0;
  outKind.length = 0;
  outPath.length = 0;
  // A directory may give two entries (itself and its opaque marker).
  outIndex.reserve(count * 2);
  outKind.reserve(count * 2);
  outPath.reserve(count * 2);
  for (let i = 0; i < count; i++) {
    const raw = layer.paths.get(i);
    const index = layer.base + <u64>i;
    const rawLen = spanLen(raw);
    // Room for the clean path and what may be added to it (`.wh.` or `/.wh..wh..opq`).
    const dst = arena.alloc(rawLen + SLASH_OPAQUE.length);
    const len = cleanInto(spanPtr(raw), rawLen, dst);
    if (len < 0) return refusal(layer, i, "escapes the root");
    if (!seen.add(hashBytes(FNV_OFFSET, dst, len), dst, len)) {
      return malformed(refusal(layer, i, "listed twice").reason);
    }
    const type = layer.types.get(i);
    const marked = (layer.marks.get(i) & markBit) != 0;
    if (type == TYPE_SOCKET) {
      arena.shrink(dst, len);
      continue;
    }
    if (len == 0) {
      arena.shrink(dst, 0);
      if (type != TYPE_DIRECTORY) return refusal(layer, i, "the root must be a directory");
      if (marked) {
        const p = arena.alloc(OPAQUE_NAME.length);
        copyLiteral(p, OPAQUE_NAME);
        push(index, KIND_OPAQUE, p, OPAQUE_NAME.length);
      }
      continue;
    }
    const baseStart = lastSlash(dst, len) + 1;
    if (startsWith(dst + <usize>baseStart, len - baseStart, WHITEOUT_PREFIX)) {
      return refusal(layer, i, "a name starting with .wh. cannot be stored in a layer");
    }
    if (type == TYPE_CHAR && layer.rdevs.get(i) == 0) {
      // dir/NAME → dir/.wh.NAME in a copy (`seen` keeps the clean path).
      arena.shrink(dst, len);
      const p = arena.alloc(len + 4);
      memory.copy(p, dst, <usize>baseStart);
      copyLiteral(p + <usize>baseStart, WHITEOUT_PREFIX);
      memory.copy(p + <usize>baseStart + 4, dst + <usize>baseStart, <usize>(len - baseStart));
      push(index, KIND_WHITEOUT, p, len + 4);
      continue;
    }
    arena.shrink(dst, len);
    push(index, KIND_PLAIN, dst, len);
    if (type == TYPE_DIRECTORY && marked) {
      const p = arena.alloc(len + SLASH_OPAQUE.length);
      memory.copy(p, dst, <usize>len);
      copyLiteral(p + <usize>len, SLASH_OPAQUE);
      push(index, KIND_OPAQUE, p, len + SLASH_OPAQUE.length);
    }
  }
  const n = outPath.length;
  if (order.length < n) {
    order = new StaticArray<i32>(n);
    scratch = new StaticArray<i32>(n);
  }
  for (let k = 0; k < n; k++) unchecked((order[k] = k));
  sortOrder(n);
  for (let k = 0; k < n; k++) {
    const e = unchecked(order[k]);
    const s = outPath.get(e);
    out.begin(WO_LAYER, 16 + 4 + spanLen(s));
    out.u64(outIndex.get(e));
    out.u64(outKind.get(e));
    out.bytes(spanPtr(s), spanLen(s));
    out.end();
  }
  return null;
}
