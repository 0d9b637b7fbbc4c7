// pathVerdicts(len): a batch of entry names, symlinks and hardlinks → one verdict each
// (docs/policy-core.md "Path safety"). Names and targets stay where the request holds them.

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { frameContext, frameFailure } from "../pathsafe/frame";
import { FrameReader, PATH_MAX } from "../codec";
import { Arena, cleanInto, Out, pack, SpanFields } from "./bytes";
import { ITEM_HARDLINK, ITEM_NAME, Items, LinkTable, pathVerdicts as verdictsOf } from "./resolve";

export const PS_OPTIONS: u32 = 0x0401;
export const PS_ITEM: u32 = 0x0402;
export const PS_LINK: u32 = 0x0403;

const fields = new SpanFields();
const items = new Items();
const known = new LinkTable();
const arena = new Arena();
const out = new Out();

export function pathVerdicts(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  const status = verdicts(len);
  items.kinds.trim();
  items.names.trim();
  items.targets.trim();
  known.table.trim();
  arena.trim();
  return status;
}

function verdicts(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const f = fields;
  let hasOptions = false;
  let base: u64 = 0;
  items.clear();
  // At most one item per 32 bytes: no list grows during the call.
  items.kinds.reserve(len / 32 + 1);
  items.names.reserve(len / 32 + 1);
  items.targets.reserve(len / 32 + 1);
  known.reset();
  arena.reset(4096);
  while (frames.next()) {
    f.reset(frames.payload, frames.payloadLength);
    if (frames.type == PS_OPTIONS) {
      if (hasOptions) return fail(malformed(frameContext(frames.index) + ": OPTIONS given twice"));
      hasOptions = true;
      base = f.u64("base");
      if (f.ok && base > 0xffffffff) return fail(malformed(frameContext(frames.index) + ": base over 2^32"));
    } else if (frames.type == PS_ITEM) {
      const kind = f.u64("kind");
      f.str("name", PATH_MAX);
      const name = pack(f.spanPtr, f.spanLength);
      f.str("target", PATH_MAX);
      const target = pack(f.spanPtr, f.spanLength);
      if (f.ok && (kind < ITEM_NAME || kind > ITEM_HARDLINK)) {
        return fail(malformed(frameContext(frames.index) + ": kind: unknown value " + kind.toString()));
      }
      if (f.ok && kind == ITEM_NAME && f.spanLength > 0) return fail(malformed(frameContext(frames.index) + ": target: a name has no target"));
      items.kinds.push(kind);
      items.names.push(name);
      items.targets.push(target);
    } else if (frames.type == PS_LINK) {
      f.str("path", PATH_MAX);
      const path = f.spanPtr;
      const pathLen = f.spanLength;
      f.str("target", PATH_MAX);
      if (f.ok) {
        // The path must be clean as given: cleaning it changes nothing and leaves something.
        const clean = arena.alloc(pathLen);
        const cleanLen = cleanInto(path, pathLen, clean);
        const same = cleanLen == pathLen && memory.compare(clean, path, <usize>pathLen) == 0;
        arena.shrink(clean, 0);
        if (cleanLen <= 0 || !same || f.spanLength == 0) {
          return fail(malformed(frameContext(frames.index) + ": a known link needs a clean path and a target"));
        }
        known.set(path, pathLen, pack(f.spanPtr, f.spanLength));
      }
    } else {
      return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    }
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
  }
  if (frames.failure !== null) return fail(frames.failure!);
  if (!hasOptions) return fail(malformed("request: no OPTIONS frame"));
  out.reset();
  out.room(len + (len >> 1) + 4096);
  verdictsOf(base, items, known, arena, out);
  return answer(out.buf, out.len);
}
