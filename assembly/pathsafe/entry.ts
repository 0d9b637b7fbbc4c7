// pathVerdicts(len): a batch of entry names, symlinks and hardlinks → one verdict each
// (docs/policy-core.md "Path safety").

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { cleanParts, joinParts } from "./clean";
import { ITEM_HARDLINK, ITEM_NAME, LinkTable, PathItem, pathVerdicts as verdictsOf } from "./resolve";

export const PS_OPTIONS: u32 = 0x0401;
export const PS_ITEM: u32 = 0x0402;
export const PS_LINK: u32 = 0x0403;
export const PS_VERDICT: u16 = 0x0481;
const OUTPUT_MAX: i32 = 256 << 20;

export function pathVerdicts(len: i32): i32 {
  __collect(); // the last call's garbage, before this one grows memory (docs/policy-core.md)
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  let hasOptions = false;
  let base: u64 = 0;
  const items = new Array<PathItem>();
  const known = new LinkTable();
  while (frames.next()) {
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    if (frames.type == PS_OPTIONS) {
      if (hasOptions) return fail(malformed(frameContext(frames.index) + ": OPTIONS given twice"));
      hasOptions = true;
      base = f.u64("base");
      if (f.ok && base > 0xffffffff) return fail(malformed(frameContext(frames.index) + ": base over 2^32"));
    } else if (frames.type == PS_ITEM) {
      const kind = f.u64("kind");
      const name = f.str("name", PATH_MAX);
      const target = f.str("target", PATH_MAX);
      if (f.ok && (kind < ITEM_NAME || kind > ITEM_HARDLINK)) {
        return fail(malformed(frameContext(frames.index) + ": kind: unknown value " + kind.toString()));
      }
      if (f.ok && kind == ITEM_NAME && target.length > 0) return fail(malformed(frameContext(frames.index) + ": target: a name has no target"));
      items.push(new PathItem(kind, name, target));
    } else if (frames.type == PS_LINK) {
      const path = f.str("path", PATH_MAX);
      const target = f.str("target", PATH_MAX);
      if (f.ok) {
        const parts = cleanParts(path);
        if (parts === null || parts.length == 0 || joinParts(parts) != path || target.length == 0) {
          return fail(malformed(frameContext(frames.index) + ": a known link needs a clean path and a target"));
        }
      }
      known.set(path, target);
    } else {
      return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    }
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
  }
  if (frames.failure !== null) return fail(frames.failure!);
  if (!hasOptions) return fail(malformed("request: no OPTIONS frame"));
  const verdicts = verdictsOf(base, items, known);
  const w = new Writer(OUTPUT_MAX);
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i];
    w.begin(PS_VERDICT, "verdict");
    w.u64(v.index);
    w.u64(v.verdict);
    w.str("path", v.path, STR_MAX);
    w.str("target", v.target, STR_MAX);
    w.str("reason", v.reason, STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}
