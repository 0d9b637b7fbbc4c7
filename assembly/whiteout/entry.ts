// The whiteout entry points (docs/policy-core.md "Whiteouts"): whiteoutClassify,
// whiteoutToOverlay, whiteoutFlatten (a layer's entries in) and whiteoutFromOverlay (an
// upper-dir listing in). One call carries a whole batch.

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { Classified, classifyEntry, LayerEntry, TYPE_FIFO, TYPE_SOCKET } from "./classify";
import { Action, Converted, flatten, fromOverlay, OutEntry, toOverlay, UpperEntry } from "./overlay";

export const WO_OPTIONS: u32 = 0x0301;
export const WO_ENTRY: u32 = 0x0302;
export const WO_UPPER: u32 = 0x0303;
export const WO_CLASS: u16 = 0x0381;
export const WO_ACTION: u16 = 0x0382;
export const WO_LAYER: u16 = 0x0383;
export const OPTION_USERXATTR: u64 = 1;
const OUTPUT_MAX: i32 = 256 << 20;

class WhiteoutRequest {
  base: u64 = 0;
  flags: u64 = 0;
  entries: LayerEntry[] = [];
  upper: UpperEntry[] = [];
  failure: Failure | null = null;
}

/** Decodes OPTIONS (once) and WO_ENTRY or WO_UPPER frames (`upper` picks which). */
function decode(len: i32, upper: bool): WhiteoutRequest {
  const req = new WhiteoutRequest();
  const ptr = inputPointer(len);
  assert(ptr != 0, "decode: checked by the caller");
  const frames = new FrameReader(ptr, len);
  let hasOptions = false;
  const wanted = upper ? WO_UPPER : WO_ENTRY;
  while (frames.next()) {
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    if (frames.type == WO_OPTIONS) {
      if (hasOptions) {
        req.failure = malformed(frameContext(frames.index) + ": OPTIONS given twice");
        return req;
      }
      hasOptions = true;
      req.base = f.u64("base");
      req.flags = f.u64("flags");
      if (f.ok && (req.flags & ~OPTION_USERXATTR) != 0) {
        req.failure = malformed(frameContext(frames.index) + ": flags: unknown bits 0x" + req.flags.toString(16));
        return req;
      }
    } else if (frames.type == wanted) {
      const path = f.str("path", PATH_MAX);
      const type = f.u64("type");
      const max = upper ? TYPE_SOCKET : TYPE_FIFO;
      if (f.ok && (type < 1 || type > max)) {
        req.failure = malformed(frameContext(frames.index) + ": type: unknown value " + type.toString());
        return req;
      }
      if (upper) {
        const rdev = f.u64("rdev");
        req.upper.push(new UpperEntry(path, type, rdev, f.strs("xattrs", STR_MAX)));
      } else {
        const size = f.u64("size");
        req.entries.push(new LayerEntry(path, type, size, f.u64("rdev")));
      }
    } else {
      req.failure = malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16));
      return req;
    }
    if (!f.finish()) {
      req.failure = frameFailure(f.failure!, frames.index);
      return req;
    }
  }
  if (frames.failure !== null) req.failure = frames.failure;
  else if (!hasOptions) req.failure = malformed("request: no OPTIONS frame");
  else if (req.base > 0xffffffff) req.failure = malformed("request: OPTIONS: base over 2^32");
  return req;
}

function writeActions(converted: Converted<Action[]>): i32 {
  if (converted.reason !== null) return fail(new Failure(converted.status, converted.reason!));
  const actions = converted.value;
  const w = new Writer(OUTPUT_MAX);
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    w.begin(WO_ACTION, "action");
    w.u64(a.index);
    w.u64(a.kind);
    w.str("path", a.path, STR_MAX);
    w.str("detail", a.detail, STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}

export function whiteoutClassify(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const req = decode(len, false);
  if (req.failure !== null) return fail(req.failure!);
  const w = new Writer(OUTPUT_MAX);
  for (let i = 0; i < req.entries.length; i++) {
    const c: Classified = classifyEntry(req.base + <u64>i, req.entries[i]);
    w.begin(WO_CLASS, "class");
    w.u64(c.index);
    w.u64(c.kind);
    w.str("path", c.path, STR_MAX);
    w.str("reason", c.reason, STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}

export function whiteoutToOverlay(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const req = decode(len, false);
  if (req.failure !== null) return fail(req.failure!);
  return writeActions(toOverlay(req.base, req.entries, (req.flags & OPTION_USERXATTR) != 0));
}

export function whiteoutFlatten(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const req = decode(len, false);
  if (req.failure !== null) return fail(req.failure!);
  return writeActions(flatten(req.base, req.entries));
}

export function whiteoutFromOverlay(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  if (inputPointer(len) == 0) return badLength(len);
  const req = decode(len, true);
  if (req.failure !== null) return fail(req.failure!);
  const converted: Converted<OutEntry[]> = fromOverlay(req.base, req.upper, (req.flags & OPTION_USERXATTR) != 0);
  if (converted.reason !== null) return fail(new Failure(converted.status, converted.reason!));
  const entries = converted.value;
  const w = new Writer(OUTPUT_MAX);
  for (let i = 0; i < entries.length; i++) {
    w.begin(WO_LAYER, "entry");
    w.u64(entries[i].index);
    w.u64(entries[i].kind);
    w.str("path", entries[i].path, STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}
