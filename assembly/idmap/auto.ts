// `--userns auto`: pick a host id range for a new user namespace.
//
// The pool is systemd's range for container ids, 524288 (0x80000) up to 1879048191
// (0x6fffffff) (systemd docs/UIDS-GIDS.md): it lies above the ids distributions give to
// people (below 60000) and to systemd's dynamic users (61184–65519), and above the first
// ranges useradd writes to /etc/subuid (from 100000, 65536 each). ts/ passes the ranges other
// containers hold as `used`, and the core adds every range of /etc/subuid and /etc/subgid (a
// rootful pick must not hand a person's subordinate ids to a container); the pick is the
// lowest start at or above the base whose range overlaps none of them.

export const AUTO_BASE: u64 = 0x80000;
/** Exclusive end of the pool. */
export const AUTO_END: u64 = 0x70000000;
export const AUTO_SIZE_DEFAULT: u64 = 65536;
export const AUTO_SIZE_MAX: u64 = AUTO_END - AUTO_BASE;

export class IdRange {
  constructor(public start: u64, public size: u64) {}
}

function byStart(a: IdRange, b: IdRange): i32 {
  if (a.start < b.start) return -1;
  if (a.start > b.start) return 1;
  return 0;
}

/** A copy of `ranges` sorted by start. */
export function sortedRanges(ranges: IdRange[]): IdRange[] {
  const sorted = ranges.slice(0);
  sorted.sort(byStart);
  return sorted;
}

/**
 * The lowest start in [base, end) of a free range of `size` ids that ends at or before `end`,
 * or -1 when there is none. `sorted` is sorted by start (sortedRanges); its ranges may overlap
 * each other; empty ones are ignored; each ends at or below 2^32 (the caller checks).
 */
export function pickFree(sorted: IdRange[], size: u64, base: u64, end: u64): i64 {
  assert(size > 0 && base <= end && end <= 0x100000000, "pickFree: bounds");
  let start = base;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i];
    if (r.size == 0) continue;
    const rangeEnd = r.start + r.size;
    if (rangeEnd <= start) continue;
    if (r.start >= start + size) break;
    start = rangeEnd;
    if (start > end) return -1;
  }
  if (start + size > end) return -1;
  return <i64>start;
}

/**
 * The lowest start ≥ AUTO_BASE of a free range of `size` ids that ends at or before AUTO_END,
 * or -1 when there is none. Ranges in `used` may overlap each other; empty ones are ignored.
 * Each used range must end at or below 2^32 (the caller checks).
 */
export function pickAutoRange(used: IdRange[], size: u64): i64 {
  assert(size > 0 && size <= AUTO_SIZE_MAX, "pickAutoRange: size out of range");
  return pickFree(sortedRanges(used), size, AUTO_BASE, AUTO_END);
}
