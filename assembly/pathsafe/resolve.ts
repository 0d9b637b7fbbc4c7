// securejoin over a virtual tree: a path is walked from the root one component at a time;
// `..` stops at the root; a component that the batch declared a symlink is replaced by its
// target (an absolute one restarts at the root), at most SYMLINKS_MAX times. Nothing the
// walk returns can name a place outside the root.
//
// Paths are byte ranges (bytes.ts): the walk keeps the resolved path joined in one buffer,
// with the start and the FNV-1a hash of every prefix, so the symlink lookup of a component is
// a hash probe plus one comparison of bytes, whatever the depth.

import {
  Arena, FNV_OFFSET, hashByte, hashBytes, isDotDot, isTrivial, nextSlash, Out, pack, SpanTable, spanLen, spanPtr,
  U64List,
} from "./bytes";

export const ITEM_NAME: u64 = 1;
export const ITEM_SYMLINK: u64 = 2;
export const ITEM_HARDLINK: u64 = 3;

export const VERDICT_OK: u64 = 1;
export const VERDICT_REFUSED: u64 = 2;
export const VERDICT_LOOP: u64 = 3;

export const SYMLINKS_MAX: i32 = 40;
export const RESOLVED_MAX: i32 = 4095;

export const PS_VERDICT: u16 = 0x0481;

const SLASH: u8 = 47;
/** The resolved path never passes RESOLVED_MAX but for the component just added. */
const RESOLVED_ROOM: i32 = 2 * (RESOLVED_MAX + 1);
/** At most one component per two bytes of RESOLVED_ROOM. */
const DEPTH_MAX: i32 = RESOLVED_MAX + 2;

/**
 * The batch's symlinks: clean path → target (packed byte range), by bytes. A name or a
 * hardlink at a link's path clears it (value 0: a target is never empty).
 */
export class LinkTable {
  table: SpanTable = new SpanTable();
  live: i32 = 0;

  reset(): void {
    this.table.reset(16);
    this.live = 0;
  }

  set(p: usize, n: i32, target: u64): void {
    const h = hashBytes(FNV_OFFSET, p, n);
    if (this.table.get(h, p, n, 0) == 0) this.live++;
    this.table.set(h, p, n, <i64>target);
  }

  delete(p: usize, n: i32): void {
    if (this.live == 0) return;
    const h = hashBytes(FNV_OFFSET, p, n);
    if (this.table.get(h, p, n, 0) != 0) {
      this.table.set(h, p, n, 0);
      this.live--;
    }
  }

  /** The target of the link at the `n` bytes at `p` (hash `h`), or 0. */
  @inline find(h: u64, p: usize, n: i32): u64 {
    return <u64>this.table.get(h, p, n, 0);
  }
}

/** The path being resolved: joined in `bytes`, with each component's start and each prefix's hash. */
class Resolved {
  buffer: ArrayBuffer = new ArrayBuffer(RESOLVED_ROOM);
  bytes: usize = 0;
  len: i32 = 0;
  depth: i32 = 0;
  starts: StaticArray<i32> = new StaticArray<i32>(DEPTH_MAX);
  /** hashes[k]: the hash of the first k components joined. */
  hashes: StaticArray<u64> = new StaticArray<u64>(DEPTH_MAX + 1);

  constructor() {
    this.bytes = changetype<usize>(this.buffer);
  }

  clear(): void {
    this.len = 0;
    this.depth = 0;
    unchecked((this.hashes[0] = FNV_OFFSET));
  }

  /** Drops the last component (none at the root). */
  pop(): void {
    if (this.depth == 0) return;
    this.depth--;
    const start = unchecked(this.starts[this.depth]);
    this.len = start == 0 ? 0 : start - 1;
  }
}

const resolved = new Resolved();
/** Components still to walk, last first (trivial ones are never pushed). */
const pending = new U64List();
let reason: string = "";

/** Pushes the components of the `n` bytes at `p`, last first, leaving out "" and ".". */
function pushReversed(p: usize, n: i32): void {
  let end = n;
  while (end >= 0) {
    let start = end - 1;
    while (start >= 0 && load<u8>(p + <usize>start) != SLASH) start--;
    const c = p + <usize>(start + 1);
    const k = end - start - 1;
    if (!isTrivial(c, k)) pending.push(pack(c, k));
    end = start;
  }
}

/**
 * Walks the `n` bytes at `p` from `resolved` as it is (the root when `p` is absolute); true
 * when it resolves (the result is `resolved`), false with `reason` on a loop or a path too long.
 */
function walk(p: usize, n: i32, followLast: bool, links: LinkTable): bool {
  const r = resolved;
  if (n > 0 && load<u8>(p) == SLASH) r.clear();
  pending.length = 0;
  pushReversed(p, n);
  let followed = 0;
  const useLinks = links.live > 0;
  while (pending.length > 0) {
    const s = pending.get(--pending.length);
    const c = spanPtr(s);
    const k = spanLen(s);
    if (isDotDot(c, k)) {
      r.pop();
      continue;
    }
    // The component joined after the resolved path, in place (kept only if it is no link).
    const start = r.depth == 0 ? 0 : r.len + 1;
    let h = unchecked(r.hashes[r.depth]);
    if (r.depth > 0) {
      store<u8>(r.bytes + <usize>r.len, SLASH);
      h = hashByte(h, SLASH);
    }
    memory.copy(r.bytes + <usize>start, c, <usize>k);
    h = hashBytes(h, c, k);
    const len = start + k;
    if (useLinks) {
      const target = links.find(h, r.bytes, len);
      if (target != 0 && (pending.length > 0 || followLast)) {
        if (++followed > SYMLINKS_MAX) {
          reason = "too many levels of symbolic links";
          return false;
        }
        const tp = spanPtr(target);
        const tn = spanLen(target);
        if (load<u8>(tp) == SLASH) r.clear();
        pushReversed(tp, tn);
        continue;
      }
    }
    unchecked((r.starts[r.depth] = start));
    r.depth++;
    unchecked((r.hashes[r.depth] = h));
    r.len = len;
    if (len > RESOLVED_MAX) {
      reason = "resolves to a path longer than " + RESOLVED_MAX.toString() + " bytes";
      return false;
    }
  }
  return true;
}

/** True when a `..` of the `n` bytes at `p` leaves the root lexically. */
export function escapes(p: usize, n: i32): bool {
  let depth = 0;
  let start = 0;
  while (start <= n) {
    const end = nextSlash(p, n, start);
    const c = p + <usize>start;
    const k = end - start;
    if (isDotDot(c, k)) {
      if (depth == 0) return true;
      depth--;
    } else if (!isTrivial(c, k)) {
      depth++;
    }
    start = end + 1;
  }
  return false;
}

/** The items of a batch: kind, name and target (byte ranges of the request). */
export class Items {
  kinds: U64List = new U64List();
  names: U64List = new U64List();
  targets: U64List = new U64List();

  clear(): void {
    this.kinds.length = 0;
    this.names.length = 0;
    this.targets.length = 0;
  }
}

function verdict(out: Out, index: u64, v: u64, pp: usize, pn: i32, tp: usize, tn: i32, why: string): void {
  out.begin(PS_VERDICT, 16 + 5 + pn + 5 + tn);
  out.u64(index);
  out.u64(v);
  if (v == VERDICT_REFUSED) out.bytes(0, 0);
  else out.path(pp, pn);
  if (v == VERDICT_OK && tn >= 0) out.path(tp, tn);
  else out.bytes(0, 0);
  out.text(why);
  out.end();
}

function refused(out: Out, index: u64, why: string): void {
  verdict(out, index, VERDICT_REFUSED, 0, 0, 0, -1, why);
}

/** One verdict per item, in order, into `out`; a symlink joins the table after its own verdict. */
export function pathVerdicts(base: u64, items: Items, links: LinkTable, arena: Arena, out: Out): void {
  const r = resolved;
  for (let i = 0; i < items.kinds.length; i++) {
    const kind = items.kinds.get(i);
    const name = items.names.get(i);
    const target = items.targets.get(i);
    const index = base + <u64>i;
    if (escapes(spanPtr(name), spanLen(name))) {
      refused(out, index, "name: escapes the root");
      continue;
    }
    r.clear();
    if (!walk(spanPtr(name), spanLen(name), false, links)) {
      refused(out, index, "name: " + reason);
      continue;
    }
    if (kind != ITEM_NAME && r.depth == 0) {
      refused(out, index, "name: a link cannot replace the root");
      continue;
    }
    if (kind == ITEM_NAME) {
      links.delete(r.bytes, r.len);
      verdict(out, index, VERDICT_OK, r.bytes, r.len, 0, -1, "");
      continue;
    }
    const tn = spanLen(target);
    if (tn == 0) {
      refused(out, index, "target: empty");
      continue;
    }
    // Where the link itself lands: kept (the walk of its target reuses `resolved`).
    const path = arena.alloc(r.len);
    const pathLen = r.len;
    memory.copy(path, r.bytes, <usize>pathLen);
    if (kind == ITEM_HARDLINK) {
      if (escapes(spanPtr(target), tn)) {
        refused(out, index, "target: hardlink target outside the root");
        continue;
      }
      r.clear();
      if (!walk(spanPtr(target), tn, false, links)) {
        refused(out, index, "target: " + reason);
        continue;
      }
      if (r.depth == 0) {
        refused(out, index, "target: a hardlink to the root");
        continue;
      }
      links.delete(path, pathLen);
      verdict(out, index, VERDICT_OK, path, pathLen, r.bytes, r.len, "");
      continue;
    }
    // A symlink: its target resolves from the link's directory; absolute ones from the root.
    r.pop();
    if (walk(spanPtr(target), tn, true, links)) verdict(out, index, VERDICT_OK, path, pathLen, r.bytes, r.len, "");
    else verdict(out, index, VERDICT_LOOP, path, pathLen, 0, -1, "target: " + reason);
    links.set(path, pathLen, target);
  }
}
