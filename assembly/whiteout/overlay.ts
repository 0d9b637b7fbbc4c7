// Whiteouts ↔ overlayfs (docs/policy-core.md "Whiteouts"): a layer → the actions that build
// an upper dir (or, flattened, a plain directory), and an upper-dir listing → layer entries.

import { cleanParts, joinParts } from "../pathsafe/clean";
import { FNV_OFFSET, hashChar, hashString } from "../pathsafe/hash";
import {
  CLASS_INVALID, CLASS_OPAQUE, CLASS_PLAIN, CLASS_SKIP, CLASS_WHITEOUT, Classified, classifyEntry,
  LayerEntry, OPAQUE_NAME, TYPE_CHAR, TYPE_DIRECTORY, TYPE_SOCKET, WHITEOUT_PREFIX,
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

export class Action {
  constructor(public index: u64, public kind: u64, public path: string, public detail: string) {}
}

export class UpperEntry {
  constructor(public path: string, public type: u64, public rdev: u64, public xattrs: string[]) {}
}

export class OutEntry {
  parts: string[];
  constructor(public index: u64, public kind: u64, public path: string) {
    this.parts = path.split("/");
  }
}

/** The answer of a conversion: the result, or a reason with its status (2, or 1 for a ts/ bug). */
export class Converted<T> {
  reason: string | null = null;
  status: i32 = 2;
  constructor(public value: T) {}
}

function refusal(c: Classified, e: LayerEntry, reason: string): string {
  return "entry " + c.index.toString() + " (" + e.path + "): " + reason;
}

/** All entries classified; the reason of the first invalid one, or null. */
export function classifyAll(base: u64, entries: LayerEntry[], out: Classified[]): string | null {
  for (let i = 0; i < entries.length; i++) {
    const c = classifyEntry(base + <u64>i, entries[i]);
    if (c.kind == CLASS_INVALID) return refusal(c, entries[i], c.reason);
    out.push(c);
  }
  return null;
}

const SAME_LAYER_FILE: i32 = 1;
const SAME_LAYER_DIR: i32 = 2;

/** Marks the whiteout targets that are proper ancestors of `path` as directories of this layer. */
function markAncestors(targets: Map<u64, i32>, path: string): void {
  let h = FNV_OFFSET;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c == 47 && i > 0 && targets.has(h)) targets.set(h, SAME_LAYER_DIR);
    h = hashChar(h, c);
  }
}

function mark(targets: Map<u64, i32>, path: string, what: i32): void {
  const h = hashString(FNV_OFFSET, path);
  if (targets.has(h) && targets.get(h) < what) targets.set(h, what);
}

export function toOverlay(base: u64, entries: LayerEntry[], userxattr: bool): Converted<Action[]> {
  const classes = new Array<Classified>();
  const actions = new Array<Action>();
  const result = new Converted<Action[]>(actions);
  const bad = classifyAll(base, entries, classes);
  if (bad !== null) {
    result.reason = bad;
    return result;
  }
  // What this layer itself puts at each whiteout's path, by 64-bit path hash (see
  // pathsafe/hash.ts): memory grows with the whiteouts, time with the bytes of the paths.
  const targets = new Map<u64, i32>();
  for (let i = 0; i < classes.length; i++) {
    if (classes[i].kind == CLASS_WHITEOUT) targets.set(hashString(FNV_OFFSET, classes[i].path), 0);
  }
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (c.kind == CLASS_SKIP) continue;
    if (c.kind == CLASS_PLAIN) {
      const e = entries[i];
      if (e.type == TYPE_CHAR && e.rdev == 0) {
        result.reason = refusal(c, e, "a character device 0:0 reads as a whiteout on overlayfs");
        return result;
      }
      if (targets.size > 0) mark(targets, c.path, e.type == TYPE_DIRECTORY ? SAME_LAYER_DIR : SAME_LAYER_FILE);
    } else if (c.kind == CLASS_OPAQUE) {
      if (c.path != "." && targets.size > 0) mark(targets, c.path, SAME_LAYER_DIR);
    }
    if (targets.size > 0) markAncestors(targets, c.path);
  }
  const xattr = userxattr ? XATTR_USER : XATTR_TRUSTED;
  const opaque = new Array<Action>();
  const opaqueSeen = new Set<string>();
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (c.kind == CLASS_PLAIN) {
      actions.push(new Action(c.index, ACTION_EXTRACT, c.path, ""));
    } else if (c.kind == CLASS_OPAQUE || (c.kind == CLASS_WHITEOUT && targets.get(hashString(FNV_OFFSET, c.path)) == SAME_LAYER_DIR)) {
      if (!opaqueSeen.has(c.path)) {
        opaqueSeen.add(c.path);
        opaque.push(new Action(c.index, ACTION_SET_XATTR, c.path, xattr));
      }
    } else if (c.kind == CLASS_WHITEOUT && targets.get(hashString(FNV_OFFSET, c.path)) == 0) {
      actions.push(new Action(c.index, ACTION_MKNOD, c.path, ""));
    }
  }
  for (let i = 0; i < opaque.length; i++) actions.push(opaque[i]);
  return result;
}

export function flatten(base: u64, entries: LayerEntry[]): Converted<Action[]> {
  const classes = new Array<Classified>();
  const actions = new Array<Action>();
  const result = new Converted<Action[]>(actions);
  const bad = classifyAll(base, entries, classes);
  if (bad !== null) {
    result.reason = bad;
    return result;
  }
  const deletes = new Array<Action>();
  const extracts = new Array<Action>();
  const cleared = new Set<string>();
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (c.kind == CLASS_OPAQUE) {
      if (!cleared.has(c.path)) actions.push(new Action(c.index, ACTION_CLEAR, c.path, ""));
      cleared.add(c.path);
    } else if (c.kind == CLASS_WHITEOUT) {
      deletes.push(new Action(c.index, ACTION_DELETE, c.path, ""));
    } else if (c.kind == CLASS_PLAIN) {
      extracts.push(new Action(c.index, ACTION_EXTRACT, c.path, ""));
    }
  }
  for (let i = 0; i < deletes.length; i++) actions.push(deletes[i]);
  for (let i = 0; i < extracts.length; i++) actions.push(extracts[i]);
  return result;
}

function rank(c: string): i32 {
  if (c == OPAQUE_NAME) return 0;
  return c.startsWith(WHITEOUT_PREFIX) ? 1 : 2;
}

/** Layer order: a directory, then its opaque marker, its whiteouts, its other children. */
export function compareLayerParts(pa: string[], pb: string[]): i32 {
  const n = pa.length < pb.length ? pa.length : pb.length;
  for (let i = 0; i < n; i++) {
    const a = pa[i];
    const b = pb[i];
    if (a == b) continue;
    const ra = rank(a);
    const rb = rank(b);
    if (ra != rb) return ra - rb;
    return a < b ? -1 : 1;
  }
  return pa.length - pb.length;
}

function byLayerOrder(x: OutEntry, y: OutEntry): i32 {
  return compareLayerParts(x.parts, y.parts);
}

export function fromOverlay(base: u64, entries: UpperEntry[], userxattr: bool): Converted<OutEntry[]> {
  const marker = (userxattr ? XATTR_USER : XATTR_TRUSTED) + "=y";
  const out = new Array<OutEntry>();
  const result = new Converted<OutEntry[]>(out);
  const seen = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const index = base + <u64>i;
    const where = "entry " + index.toString() + " (" + e.path + "): ";
    const cleaned = cleanParts(e.path);
    if (cleaned === null) {
      result.reason = where + "escapes the root";
      return result;
    }
    const parts = cleaned;
    const path = joinParts(parts);
    if (seen.has(path)) {
      result.reason = where + "listed twice";
      result.status = 1;
      return result;
    }
    seen.add(path);
    if (e.type == TYPE_SOCKET) continue;
    if (parts.length == 0) {
      if (e.type != TYPE_DIRECTORY) {
        result.reason = where + "the root must be a directory";
        return result;
      }
      if (e.xattrs.includes(marker)) out.push(new OutEntry(index, KIND_OPAQUE, OPAQUE_NAME));
      continue;
    }
    const name = parts[parts.length - 1];
    if (name.startsWith(WHITEOUT_PREFIX)) {
      result.reason = where + "a name starting with .wh. cannot be stored in a layer";
      return result;
    }
    if (e.type == TYPE_CHAR && e.rdev == 0) {
      parts[parts.length - 1] = WHITEOUT_PREFIX + name;
      out.push(new OutEntry(index, KIND_WHITEOUT, joinParts(parts)));
      continue;
    }
    out.push(new OutEntry(index, KIND_PLAIN, path));
    if (e.type == TYPE_DIRECTORY && e.xattrs.includes(marker)) {
      out.push(new OutEntry(index, KIND_OPAQUE, path + "/" + OPAQUE_NAME));
    }
  }
  out.sort(byLayerOrder);
  return result;
}
