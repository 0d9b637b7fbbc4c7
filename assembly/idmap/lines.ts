// Map lines (user_namespaces(7) "User and group ID mappings: uid_map and gid_map"): each line
// maps `count` consecutive ids from `inside` (the namespace) to `outside` (its parent, here
// the host). The kernel's rules, checked here before anything is written:
// - count ≥ 1;
// - neither range may reach (u32)-1 = 4294967295, the invalid id: inside + count and
//   outside + count are at most 4294967295 (the kernel computes first + count in u32 and
//   refuses a sum that wraps, and refuses a first id of 4294967295);
// - no two lines overlap, inside or outside;
// - at most 340 lines (Linux ≥ 4.15).
// Adjacent lines (both sides consecutive) are merged into one; the result is sorted by the
// inside id, which is also how the kernel shows a map of more than 5 lines.

import { Failure, invalid } from "../abi";

/** Exclusive end of valid ids: 4294967295 ((u32)-1) is never an id. */
export const ID_END: u64 = 0xffffffff;
export const LINES_MAX: i32 = 340;
/** What translation answers for an id the map does not cover. */
export const UNMAPPED: u64 = 0xffffffff;

export class IdLine {
  /**
   * `text` names the line in a reason (what the user typed, or "" for a line the core made);
   * `own`: a rootless caller's own id (newuidmap's exception: never merged with a
   * subordinate line, which newuidmap would then refuse).
   */
  constructor(public inside: u64, public outside: u64, public count: u64, public text: string = "", public own: bool = false) {}
  /** Position in the list given, the last tie-break of a sort (the sort is not stable). */
  seq: i32 = 0;
}

function bySeq(a: IdLine, b: IdLine): i32 {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

function byInside(a: IdLine, b: IdLine): i32 {
  return a.inside < b.inside ? -1 : a.inside > b.inside ? 1 : bySeq(a, b);
}

function byOutside(a: IdLine, b: IdLine): i32 {
  return a.outside < b.outside ? -1 : a.outside > b.outside ? 1 : bySeq(a, b);
}

function lastId(first: u64, count: u64): string {
  return (first + count - 1).toString();
}

/** `"0:1000:5"` for a line the user typed, `0 1000 5` for one the core made. */
export function lineName(l: IdLine): string {
  if (l.text.length > 0) return "\"" + l.text + "\"";
  return "\"" + l.inside.toString() + " " + l.outside.toString() + " " + l.count.toString() + "\"";
}

/** The kernel's per-line rules; `field` starts the reason (uidmap, gidmap, userns, map). */
export function checkLine(field: string, l: IdLine): Failure | null {
  if (l.count == 0) return invalid(field + ": " + lineName(l) + ": size must be at least 1");
  if (l.inside >= ID_END || l.count > ID_END - l.inside) {
    return invalid(field + ": " + lineName(l) + ": container ids " + l.inside.toString() + "-" + lastId(l.inside, l.count) +
      " go past 4294967294 (the largest id)");
  }
  if (l.outside >= ID_END || l.count > ID_END - l.outside) {
    return invalid(field + ": " + lineName(l) + ": host ids " + l.outside.toString() + "-" + lastId(l.outside, l.count) +
      " go past 4294967294 (the largest id)");
  }
  return null;
}

/**
 * Checks every line, then that no two overlap on either side; merges adjacent lines (never an
 * `own` line) and checks the count. On success `out` holds the merged lines sorted by inside.
 */
export function normalizeLines(field: string, lines: IdLine[], out: IdLine[]): Failure | null {
  for (let i = 0; i < lines.length; i++) {
    const bad = checkLine(field, lines[i]);
    if (bad !== null) return bad;
    lines[i].seq = i;
  }
  const byOut = lines.slice(0);
  byOut.sort(byOutside);
  for (let i = 1; i < byOut.length; i++) {
    const a = byOut[i - 1];
    const b = byOut[i];
    if (a.outside + a.count > b.outside) {
      return invalid(field + ": " + lineName(a) + " and " + lineName(b) + " overlap in the host ids (" +
        b.outside.toString() + "-" + lastId(b.outside, min<u64>(b.count, a.outside + a.count - b.outside)) + ")");
    }
  }
  const sorted = lines.slice(0);
  sorted.sort(byInside);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a.inside + a.count > b.inside) {
      return invalid(field + ": " + lineName(a) + " and " + lineName(b) + " overlap in the container ids (" +
        b.inside.toString() + "-" + lastId(b.inside, min<u64>(b.count, a.inside + a.count - b.inside)) + ")");
    }
  }
  for (let i = 0; i < sorted.length; i++) {
    const l = sorted[i];
    if (out.length > 0) {
      const p = out[out.length - 1];
      if (!p.own && !l.own && p.inside + p.count == l.inside && p.outside + p.count == l.outside) {
        out[out.length - 1] = new IdLine(p.inside, p.outside, p.count + l.count, "", false);
        continue;
      }
    }
    out.push(l);
  }
  if (out.length > LINES_MAX) {
    return invalid(field + ": " + out.length.toString() + " lines after merging adjacent ranges (the kernel takes at most 340)");
  }
  return null;
}

/** The text for /proc/PID/uid_map or gid_map: `inside outside count\n` per line. */
export function mapText(lines: IdLine[]): string {
  let s = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    s += l.inside.toString() + " " + l.outside.toString() + " " + l.count.toString() + "\n";
  }
  return s;
}

/** The host id of container id `id`, or UNMAPPED. `lines` sorted by inside, no overlap. */
export function toHost(lines: IdLine[], id: u64): u64 {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const l = lines[mid];
    if (id < l.inside) hi = mid;
    else if (id - l.inside >= l.count) lo = mid + 1;
    else return l.outside + (id - l.inside);
  }
  return UNMAPPED;
}

/** The container id of host id `id`, or UNMAPPED. `lines` sorted by outside, no overlap. */
export function toContainer(linesByOutside: IdLine[], id: u64): u64 {
  let lo = 0;
  let hi = linesByOutside.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const l = linesByOutside[mid];
    if (id < l.outside) hi = mid;
    else if (id - l.outside >= l.count) lo = mid + 1;
    else return l.inside + (id - l.outside);
  }
  return UNMAPPED;
}

export function sortedByOutside(lines: IdLine[]): IdLine[] {
  const s = lines.slice(0);
  s.sort(byOutside);
  return s;
}
