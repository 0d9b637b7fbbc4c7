// securejoin over a virtual tree: a path is walked from the root one component at a time;
// `..` stops at the root; a component that the batch declared a symlink is replaced by its
// target (an absolute one restarts at the root), at most SYMLINKS_MAX times. Nothing the
// walk returns can name a place outside the root.

import { cleanParts, joinParts } from "./clean";
import { FNV_OFFSET, hashChild, hashString } from "./hash";

export const ITEM_NAME: u64 = 1;
export const ITEM_SYMLINK: u64 = 2;
export const ITEM_HARDLINK: u64 = 3;

export const VERDICT_OK: u64 = 1;
export const VERDICT_REFUSED: u64 = 2;
export const VERDICT_LOOP: u64 = 3;

export const SYMLINKS_MAX: i32 = 40;
export const RESOLVED_MAX: i32 = 4095;

export class PathItem {
  constructor(public kind: u64, public name: string, public target: string) {}
}

export class Verdict {
  constructor(public index: u64, public verdict: u64, public path: string, public target: string, public reason: string) {}
}

class Link {
  constructor(public parts: string[], public target: string) {}
}

/**
 * The batch's symlinks by the hash of their clean path; a hit is confirmed by comparing
 * components, so a walk finds a link in O(component) per step, whatever the depth.
 */
export class LinkTable {
  buckets: Map<u64, Link[]> = new Map<u64, Link[]>();

  private bucket(h: u64): Link[] {
    if (!this.buckets.has(h)) this.buckets.set(h, new Array<Link>());
    return this.buckets.get(h);
  }

  set(path: string, target: string): void {
    const parts = path.split("/");
    const bucket = this.bucket(hashString(FNV_OFFSET, path));
    for (let i = 0; i < bucket.length; i++) {
      if (sameParts(bucket[i].parts, parts, parts.length, "")) {
        bucket[i].target = target;
        return;
      }
    }
    bucket.push(new Link(parts, target));
  }

  delete(path: string): void {
    const h = hashString(FNV_OFFSET, path);
    if (!this.buckets.has(h)) return;
    const bucket = this.buckets.get(h);
    const parts = path.split("/");
    for (let i = 0; i < bucket.length; i++) {
      if (sameParts(bucket[i].parts, parts, parts.length, "")) {
        bucket.splice(i, 1);
        return;
      }
    }
  }

  /** The target of the link at `resolved + [c]` (hash `h`), or null. */
  find(h: u64, resolved: string[], c: string): string | null {
    if (!this.buckets.has(h)) return null;
    const bucket = this.buckets.get(h);
    for (let i = 0; i < bucket.length; i++) {
      if (sameParts(bucket[i].parts, resolved, resolved.length, c)) return bucket[i].target;
    }
    return null;
  }
}

/** True when `link` equals the first `n` of `parts`, followed by `last` when it is not "". */
function sameParts(link: string[], parts: string[], n: i32, last: string): bool {
  const extra = last.length > 0 ? 1 : 0;
  if (link.length != n + extra) return false;
  for (let i = 0; i < n; i++) if (link[i] != parts[i]) return false;
  return extra == 0 || link[n] == last;
}

/** Why a walk failed (a loop, or a path over RESOLVED_MAX); "" while it has not. */
class Walk {
  reason: string = "";
}

function isTrivial(c: string): bool {
  return c.length == 0 || c == ".";
}

function pushReversed(stack: string[], path: string): void {
  const parts = path.split("/");
  for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]);
}

/** The components `path` resolves to from `start`, or null (with `walk.reason`). */
function resolve(start: string[], path: string, followLast: bool, links: LinkTable, walk: Walk): string[] | null {
  const resolved = path.startsWith("/") ? new Array<string>() : start.slice(0);
  // hashes[k] is the hash of the first k components joined with "/".
  const hashes = new Array<u64>();
  hashes.push(FNV_OFFSET);
  for (let i = 0; i < resolved.length; i++) hashes.push(hashChild(hashes[i], i == 0, resolved[i]));
  const stack = new Array<string>();
  pushReversed(stack, path);
  let followed = 0;
  let length = 0;
  for (let i = 0; i < resolved.length; i++) length += resolved[i].length + 1;
  const useLinks = links.buckets.size > 0;
  while (stack.length > 0) {
    const c = stack.pop();
    if (isTrivial(c)) continue;
    if (c == "..") {
      if (resolved.length > 0) {
        length -= resolved.pop().length + 1;
        hashes.pop();
      }
      continue;
    }
    const h = hashChild(hashes[hashes.length - 1], resolved.length == 0, c);
    if (useLinks) {
      const target = links.find(h, resolved, c);
      if (target !== null) {
        let last = true;
        for (let i = stack.length - 1; i >= 0; i--) {
          if (!isTrivial(stack[i])) {
            last = false;
            break;
          }
        }
        if (!last || followLast) {
          followed++;
          if (followed > SYMLINKS_MAX) {
            walk.reason = "too many levels of symbolic links";
            return null;
          }
          if (target.startsWith("/")) {
            resolved.length = 0;
            hashes.length = 1;
            length = 0;
          }
          pushReversed(stack, target);
          continue;
        }
      }
    }
    resolved.push(c);
    hashes.push(h);
    length += c.length + 1;
    if (length - 1 > RESOLVED_MAX) {
      walk.reason = "resolves to a path longer than " + RESOLVED_MAX.toString() + " bytes";
      return null;
    }
  }
  return resolved;
}

function refused(index: u64, reason: string): Verdict {
  return new Verdict(index, VERDICT_REFUSED, "", "", reason);
}

/** One verdict per item, in order; a symlink joins the table after its own verdict. */
export function pathVerdicts(base: u64, items: PathItem[], links: LinkTable): Verdict[] {
  const out = new Array<Verdict>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const index = base + <u64>i;
    if (cleanParts(item.name) === null) {
      out.push(refused(index, "name: escapes the root"));
      continue;
    }
    const walk = new Walk();
    const whereOrNull = resolve(new Array<string>(), item.name, false, links, walk);
    if (whereOrNull === null) {
      out.push(refused(index, "name: " + walk.reason));
      continue;
    }
    const where = whereOrNull;
    const path = joinParts(where);
    if (item.kind != ITEM_NAME && where.length == 0) {
      out.push(refused(index, "name: a link cannot replace the root"));
      continue;
    }
    if (item.kind == ITEM_NAME) {
      links.delete(path);
      out.push(new Verdict(index, VERDICT_OK, path, "", ""));
      continue;
    }
    if (item.target.length == 0) {
      out.push(refused(index, "target: empty"));
      continue;
    }
    if (item.kind == ITEM_HARDLINK) {
      if (cleanParts(item.target) === null) {
        out.push(refused(index, "target: hardlink target outside the root"));
        continue;
      }
      const to = resolve(new Array<string>(), item.target, false, links, walk);
      if (to === null) {
        out.push(refused(index, "target: " + walk.reason));
        continue;
      }
      if (to.length == 0) {
        out.push(refused(index, "target: a hardlink to the root"));
        continue;
      }
      links.delete(path);
      out.push(new Verdict(index, VERDICT_OK, path, joinParts(to), ""));
      continue;
    }
    const to = resolve(where.slice(0, where.length - 1), item.target, true, links, walk);
    if (to === null) out.push(new Verdict(index, VERDICT_LOOP, path, "", "target: " + walk.reason));
    else out.push(new Verdict(index, VERDICT_OK, path, joinParts(to), ""));
    links.set(path, item.target);
  }
  return out;
}
