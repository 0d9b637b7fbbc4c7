// The whiteout entry points (docs/policy-core.md "Whiteouts"): whiteoutClassify,
// whiteoutToOverlay, whiteoutFlatten (a layer's entries in) and whiteoutFromOverlay (an
// upper-dir listing in). One call carries a whole batch; paths stay where the request holds
// them (pathsafe/bytes.ts) and answers are written straight into the output frames.

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { frameContext, frameFailure } from "../pathsafe/frame";
import { FrameReader, PATH_MAX, STR_MAX } from "../codec";
import { equalsLiteral, hasNul, Out, pack, SpanFields } from "../pathsafe/bytes";
import { TYPE_FIFO, TYPE_SOCKET } from "./classify";
import { classifyLayer, flatten, fromOverlay, Layer, releaseScratch, toOverlay, XATTR_TRUSTED, XATTR_USER } from "./overlay";

export const WO_OPTIONS: u32 = 0x0301;
export const WO_ENTRY: u32 = 0x0302;
export const WO_UPPER: u32 = 0x0303;
export const OPTION_USERXATTR: u64 = 1;
/** toOverlay: leave out the EXTRACT of each plain entry (an unpacker that wrote them already). */
export const OPTION_CHANGES_ONLY: u64 = 2;
/**
 * toOverlay: opaque markers in both namespaces (trusted. and user.), for a store whose layers
 * are stacked both outside a user namespace and inside one (root's, with --userns).
 */
export const OPTION_BOTH_MARKERS: u64 = 4;

const layer = new Layer();
const fields = new SpanFields();
const out = new Out();
let flags: u64 = 0;

const MARK_TRUSTED = XATTR_TRUSTED + "=y";
const MARK_USER = XATTR_USER + "=y";

const ENTRY = WO_ENTRY;

/**
 * An ENTRY frame that is well formed (the common case) goes in without the field reader: true
 * when it did; false sends it through the reader, which names what is wrong.
 */
function entryFast(p: usize, n: i32): bool {
  if (n < 4 + 24) return false;
  const len = load<u32>(p);
  if (len > <u32>PATH_MAX || <i32>len != n - 4 - 24) return false;
  const path = p + 4;
  if (hasNul(path, <i32>len)) return false;
  const at = path + <usize>len;
  const type = load<u64>(at);
  if (type < 1 || type > TYPE_FIFO) return false;
  layer.paths.push(pack(path, <i32>len));
  layer.types.push(type);
  layer.sizes.push(load<u64>(at, 8));
  layer.rdevs.push(load<u64>(at, 16));
  return true;
}

/** Decodes OPTIONS (once) and WO_ENTRY or WO_UPPER frames (`upper` picks which) into `layer`. */
function decode(len: i32, upper: bool): Failure | null {
  layer.clear();
  layer.base = 0;
  flags = 0;
  // At most one entry per 36 bytes (ENTRY) or 32 (UPPER): no list grows during the call.
  const most = len / 32 + 1;
  layer.paths.reserve(most);
  layer.types.reserve(most);
  layer.rdevs.reserve(most);
  if (upper) layer.marks.reserve(most);
  else layer.sizes.reserve(most);
  const ptr = inputPointer(len);
  assert(ptr != 0, "decode: checked by the caller");
  const frames = new FrameReader(ptr, len);
  const f = fields;
  let hasOptions = false;
  const wanted = upper ? WO_UPPER : WO_ENTRY;
  while (frames.next()) {
    f.reset(frames.payload, frames.payloadLength);
    if (frames.type == WO_OPTIONS) {
      if (hasOptions) return malformed(frameContext(frames.index) + ": OPTIONS given twice");
      hasOptions = true;
      layer.base = f.u64("base");
      flags = f.u64("flags");
      if (f.ok && (flags & ~(OPTION_USERXATTR | OPTION_CHANGES_ONLY | OPTION_BOTH_MARKERS)) != 0) {
        return malformed(frameContext(frames.index) + ": flags: unknown bits 0x" + flags.toString(16));
      }
    } else if (frames.type == ENTRY && !upper && entryFast(frames.payload, frames.payloadLength)) {
      continue;
    } else if (frames.type == wanted) {
      f.str("path", PATH_MAX);
      const path = pack(f.spanPtr, f.spanLength);
      const type = f.u64("type");
      const max = upper ? TYPE_SOCKET : TYPE_FIFO;
      if (f.ok && (type < 1 || type > max)) {
        return malformed(frameContext(frames.index) + ": type: unknown value " + type.toString());
      }
      if (upper) {
        const rdev = f.u64("rdev");
        let marks: u64 = 0;
        const n = f.strsCount("xattrs");
        for (let k = 0; k < n; k++) {
          if (!f.str("xattrs", STR_MAX)) break;
          if (equalsLiteral(f.spanPtr, f.spanLength, MARK_TRUSTED)) marks |= 1;
          else if (equalsLiteral(f.spanPtr, f.spanLength, MARK_USER)) marks |= 2;
        }
        layer.paths.push(path);
        layer.types.push(type);
        layer.rdevs.push(rdev);
        layer.marks.push(marks);
      } else {
        const size = f.u64("size");
        const rdev = f.u64("rdev");
        layer.paths.push(path);
        layer.types.push(type);
        layer.sizes.push(size);
        layer.rdevs.push(rdev);
      }
    } else {
      return malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16));
    }
    if (!f.finish()) return frameFailure(f.failure!, frames.index);
  }
  if (frames.failure !== null) return frames.failure;
  if (!hasOptions) return malformed("request: no OPTIONS frame");
  if (layer.base > 0xffffffff) return malformed("request: OPTIONS: base over 2^32");
  return null;
}

/** Output room for a request of `len` bytes: answers are about as big as their requests. */
function startOutput(len: i32): void {
  out.reset();
  out.room(len + (len >> 2) + 4096);
}

function finish(failure: Failure | null): i32 {
  releaseScratch(layer);
  if (failure !== null) return fail(failure);
  return answer(out.buf, out.len);
}

export function whiteoutClassify(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const bad = decode(len, false);
  if (bad !== null) return finish(bad);
  startOutput(len);
  classifyLayer(layer, out, len);
  return finish(null);
}

export function whiteoutToOverlay(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const bad = decode(len, false);
  if (bad !== null) return finish(bad);
  startOutput(len);
  return finish(toOverlay(layer, (flags & OPTION_USERXATTR) != 0, (flags & OPTION_CHANGES_ONLY) != 0, out, len, (flags & OPTION_BOTH_MARKERS) != 0));
}

export function whiteoutFlatten(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const bad = decode(len, false);
  if (bad !== null) return finish(bad);
  startOutput(len);
  return finish(flatten(layer, out, len));
}

export function whiteoutFromOverlay(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const bad = decode(len, true);
  if (bad !== null) return finish(bad);
  startOutput(len);
  return finish(fromOverlay(layer, (flags & OPTION_USERXATTR) != 0, out, len));
}
