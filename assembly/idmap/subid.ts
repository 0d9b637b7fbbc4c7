// /etc/subuid and /etc/subgid (subuid(5)): one `OWNER:START:COUNT` line per range, OWNER a
// user name or a numeric uid. As shadow's reader does, a line that does not parse is ignored
// (it never grants ids). Also ignored: a count of 0 and a range reaching the invalid id
// 4294967295. A caller owns the ranges whose owner is its user name or its uid in decimal
// (shadow also matches another name with the same uid through the passwd database; the core
// has no passwd database: ts/ passes the caller's name).

import { IdRange } from "./auto";
import { ID_END } from "./lines";

export class SubidEntry {
  constructor(public owner: string, public start: u64, public count: u64) {}
}

/** A decimal id (at most 10 digits, below 2^32) in `s[from, to)`, or -1. */
export function parseId(s: string, from: i32, to: i32): i64 {
  if (to <= from || to - from > 10) return -1;
  let v: u64 = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + <u64>(c - 0x30);
  }
  if (v > 0xffffffff) return -1;
  return <i64>v;
}

/** Appends the valid lines of one chunk (whole lines) of a subordinate id file to `out`. */
export function parseSubid(text: string, out: SubidEntry[]): void {
  const n = text.length;
  let start = 0;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = n;
    parseLine(text, start, end, out);
    start = end + 1;
  }
}

function parseLine(text: string, from: i32, to: i32, out: SubidEntry[]): void {
  let first = -1;
  let second = -1;
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) != 0x3a) continue;
    if (first < 0) first = i;
    else if (second < 0) second = i;
    else return; // a fourth field
  }
  if (second < 0 || first == from) return;
  const start = parseId(text, first + 1, second);
  const count = parseId(text, second + 1, to);
  if (start < 0 || count <= 0) return;
  if (<u64>count > ID_END - <u64>start) return;
  out.push(new SubidEntry(text.substring(from, first), <u64>start, <u64>count));
}

/** Every range of the file (for a rootful pick to avoid). */
export function allRanges(entries: SubidEntry[], out: IdRange[]): void {
  for (let i = 0; i < entries.length; i++) out.push(new IdRange(entries[i].start, entries[i].count));
}

function byStart(a: IdRange, b: IdRange): i32 {
  return a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
}

/**
 * The caller's ranges as a sorted list of disjoint, non-adjacent ranges (overlapping and
 * consecutive lines joined, as newuidmap's range check joins consecutive ranges).
 */
export function ownedRanges(entries: SubidEntry[], name: string, uid: u64): IdRange[] {
  const uidText = uid.toString();
  const mine = new Array<IdRange>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if ((name.length > 0 && e.owner == name) || e.owner == uidText) mine.push(new IdRange(e.start, e.count));
  }
  mine.sort(byStart);
  const out = new Array<IdRange>();
  for (let i = 0; i < mine.length; i++) {
    const r = mine[i];
    if (out.length > 0) {
      const p = out[out.length - 1];
      if (r.start <= p.start + p.size) {
        const end = max<u64>(p.start + p.size, r.start + r.size);
        p.size = end - p.start;
        continue;
      }
    }
    out.push(new IdRange(r.start, r.size));
  }
  return out;
}

/** Whether [start, start + count) lies inside one of `owned` (ownedRanges' output). */
export function coveredBy(owned: IdRange[], start: u64, count: u64): bool {
  for (let i = 0; i < owned.length; i++) {
    const r = owned[i];
    if (start >= r.start && start - r.start < r.size) return count <= r.size - (start - r.start);
  }
  return false;
}

/** `owned` without the single id `id` (a rootless caller's own id, mapped by itself). */
export function withoutId(owned: IdRange[], id: u64): IdRange[] {
  const out = new Array<IdRange>();
  for (let i = 0; i < owned.length; i++) {
    const r = owned[i];
    if (id < r.start || id - r.start >= r.size) {
      out.push(r);
      continue;
    }
    if (id > r.start) out.push(new IdRange(r.start, id - r.start));
    if (id - r.start + 1 < r.size) out.push(new IdRange(id + 1, r.size - (id - r.start) - 1));
  }
  return out;
}

/** The total number of ids in `ranges`. */
export function totalIds(ranges: IdRange[]): u64 {
  let n: u64 = 0;
  for (let i = 0; i < ranges.length; i++) n += ranges[i].size;
  return n;
}
