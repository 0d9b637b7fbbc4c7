// The id-map rules of docs/core-abi.md "idmapCompute" / "idmapTranslate" in plain TypeScript:
// the reference the Wasm core (assembly/idmap/) is tested and fuzzed against. Same inputs,
// same answers, same reasons, written independently of the core's code paths where it can be
// (plain arrays and numbers, no frames).

import type { Direction, IdLine, IdmapAnswer, IdmapCaller, IdmapSpec, IdRangeLike } from '../../ts/core/types.js';
import { SUBID_LINE_MAX } from '../../ts/core/types.js';

export type { Direction, IdLine, IdmapAnswer, IdmapCaller, IdmapSpec, IdRangeLike };
export { SUBID_LINE_MAX };

export type IdmapExpected = { status: 0; value: IdmapAnswer } | { status: 1 | 2; reason: string };

export const AUTO_BASE = 0x80000;
export const AUTO_END = 0x70000000;
export const AUTO_SIZE_DEFAULT = 65536;
export const AUTO_SIZE_MAX = AUTO_END - AUTO_BASE;
/** Exclusive end of valid ids: 4294967295 is the invalid id. */
export const ID_END = 0xffffffff;
export const LINES_MAX = 340;
export const UNMAPPED = 0xffffffff;
export const USED_RANGES_MAX = 65536;
export const MAPS_MAX = 65536;

interface Line extends IdLine {
  text: string;
  own: boolean;
}

interface SubidEntry {
  owner: string;
  start: number;
  count: number;
}

class Refusal {
  constructor(readonly reason: string) {}
}

const byteLength = (s: string): number => Buffer.byteLength(s);

function parseId(s: string): number {
  if (s.length === 0 || s.length > 10 || !/^[0-9]+$/.test(s)) return -1;
  const v = Number(s);
  return v > 0xffffffff ? -1 : v;
}

export function parseSubid(text: string): SubidEntry[] {
  const out: SubidEntry[] = [];
  for (const line of text.split('\n')) {
    if (byteLength(line) > SUBID_LINE_MAX) continue;
    const parts = line.split(':');
    if (parts.length !== 3 || parts[0] === '') continue;
    const start = parseId(parts[1]);
    const count = parseId(parts[2]);
    if (start < 0 || count <= 0 || count > ID_END - start) continue;
    out.push({ owner: parts[0], start, count });
  }
  return out;
}

function ownedRanges(entries: SubidEntry[], name: string, uid: number): IdRangeLike[] {
  const uidText = String(uid);
  const mine = entries.filter((e) => (name !== '' && e.owner === name) || e.owner === uidText).map((e) => ({ start: e.start, size: e.count }));
  mine.sort((a, b) => a.start - b.start);
  const out: IdRangeLike[] = [];
  for (const r of mine) {
    const p = out[out.length - 1];
    if (p && r.start <= p.start + p.size) p.size = Math.max(p.start + p.size, r.start + r.size) - p.start;
    else out.push({ ...r });
  }
  return out;
}

function covered(owned: IdRangeLike[], start: number, count: number): boolean {
  const r = owned.find((o) => start >= o.start && start < o.start + o.size);
  return r !== undefined && start + count <= r.start + r.size;
}

function withoutId(owned: IdRangeLike[], id: number): IdRangeLike[] {
  const out: IdRangeLike[] = [];
  for (const r of owned) {
    if (id < r.start || id >= r.start + r.size) out.push(r);
    else {
      if (id > r.start) out.push({ start: r.start, size: id - r.start });
      if (id + 1 < r.start + r.size) out.push({ start: id + 1, size: r.start + r.size - id - 1 });
    }
  }
  return out;
}

/** The lowest free start in [base, end) for `size` ids around `used`, or -1. */
export function pickFree(used: readonly IdRangeLike[], size: number, base: number, end: number): number {
  const sorted = [...used].sort((a, b) => a.start - b.start);
  let start = base;
  for (const r of sorted) {
    if (r.size === 0 || r.start + r.size <= start) continue;
    if (r.start >= start + size) break;
    start = r.start + r.size;
    if (start > end) return -1;
  }
  return start + size > end ? -1 : start;
}

function lineName(l: Line): string {
  return l.text !== '' ? `"${l.text}"` : `"${l.inside} ${l.outside} ${l.count}"`;
}

function checkLine(field: string, l: Line): void {
  if (l.count === 0) throw new Refusal(`${field}: ${lineName(l)}: size must be at least 1`);
  if (l.inside >= ID_END || l.count > ID_END - l.inside) {
    throw new Refusal(`${field}: ${lineName(l)}: container ids ${l.inside}-${l.inside + l.count - 1} go past 4294967294 (the largest id)`);
  }
  if (l.outside >= ID_END || l.count > ID_END - l.outside) {
    throw new Refusal(`${field}: ${lineName(l)}: host ids ${l.outside}-${l.outside + l.count - 1} go past 4294967294 (the largest id)`);
  }
}

/** Kernel rules, overlap on both sides, merge of adjacent lines, 340 lines. */
function normalize(field: string, lines: Line[]): Line[] {
  for (const l of lines) checkLine(field, l);
  const check = (side: 'outside' | 'inside', what: string) => {
    const sorted = [...lines].sort((a, b) => a[side] - b[side]);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1];
      const b = sorted[i];
      if (a[side] + a.count > b[side]) {
        const n = Math.min(b.count, a[side] + a.count - b[side]);
        throw new Refusal(`${field}: ${lineName(a)} and ${lineName(b)} overlap in the ${what} ids (${b[side]}-${b[side] + n - 1})`);
      }
    }
    return sorted;
  };
  check('outside', 'host');
  const sorted = check('inside', 'container');
  const out: Line[] = [];
  for (const l of sorted) {
    const p = out[out.length - 1];
    if (p && !p.own && !l.own && p.inside + p.count === l.inside && p.outside + p.count === l.outside) {
      out[out.length - 1] = { inside: p.inside, outside: p.outside, count: p.count + l.count, text: '', own: false };
    } else out.push(l);
  }
  if (out.length > LINES_MAX) throw new Refusal(`${field}: ${out.length} lines after merging adjacent ranges (the kernel takes at most 340)`);
  return out;
}

function parseMapText(field: string, text: string): Line {
  const parts = text.split(':');
  const format = `${field}: "${text}": expected CONTAINER:HOST:SIZE (three decimal numbers)`;
  if (parts.length !== 3 || parts.some((p) => !/^[0-9]+$/.test(p))) throw new Refusal(format);
  const v = parts.map((p) => {
    const n = parseId(p);
    if (n < 0) throw new Refusal(`${field}: "${text}": ${p} is out of range (ids and sizes are below 4294967295)`);
    return n;
  });
  return { inside: v[0], outside: v[1], count: v[2], text, own: false };
}

function keepIdLines(id: number, rest: IdRangeLike[], own: boolean): Line[] {
  const out: Line[] = [];
  let c = 0;
  outer: for (const r of rest) {
    let off = 0;
    while (off < r.size) {
      if (c === id) c = id + 1;
      if (c >= ID_END) break outer;
      let n = r.size - off;
      if (c < id) n = Math.min(n, id - c);
      n = Math.min(n, ID_END - c);
      out.push({ inside: c, outside: r.start + off, count: n, text: '', own: false });
      c += n;
      off += n;
    }
  }
  out.push({ inside: id, outside: id, count: 1, text: '', own });
  return out;
}

function userLines(spec: IdmapSpec, caller: IdmapCaller, kind: 'uid' | 'gid', owned: IdRangeLike[]): Line[] {
  const field = `${kind}map`;
  const given = kind === 'uid' ? spec.uidmap ?? [] : spec.gidmap ?? [];
  const other = kind === 'uid' ? spec.gidmap ?? [] : spec.uidmap ?? [];
  const copied = given.length === 0;
  const texts = copied ? other : given;
  const own = kind === 'uid' ? caller.uid : caller.gid;
  const typed = copied ? (kind === 'uid' ? 'gidmap' : 'uidmap') : field;
  const out: Line[] = [];
  for (const text of texts) {
    if (out.length >= MAPS_MAX) throw new Refusal(`${typed}: more than ${MAPS_MAX} maps given`);
    const l = parseMapText(typed, text);
    out.push(l);
    checkLine(typed, l);
    if (!caller.rootless || covered(owned, l.outside, l.count)) continue;
    if (l.count === 1 && l.outside === own) {
      l.own = true;
      continue;
    }
    let reason = `${field}: "${l.text}": host ids ${l.outside}-${l.outside + l.count - 1} are not yours: not in your subordinate ${kind}s (the sub${kind} file) and not your own ${kind} ${own}`;
    if (copied) reason += ` (--${kind === 'uid' ? 'gidmap' : 'uidmap'} applies to ${kind}s too when --${field} is not given)`;
    throw new Refusal(reason);
  }
  return out;
}

function mapText(lines: IdLine[]): string {
  return lines.map((l) => `${l.inside} ${l.outside} ${l.count}\n`).join('');
}

function helperArgs(lines: IdLine[]): string[] {
  return lines.flatMap((l) => [String(l.inside), String(l.outside), String(l.count)]);
}

function compute(spec: IdmapSpec, used: readonly IdRangeLike[]): IdmapAnswer {
  if (used.length > USED_RANGES_MAX) throw new Refusal(`used-range: ${used.length} ranges (at most ${USED_RANGES_MAX})`);
  for (const r of used) {
    if (r.start > 2 ** 32 || r.size > 2 ** 32 - r.start) throw new Refusal(`used-range: ${r.start}+${r.size} ends past 2^32`);
  }
  const caller = spec.caller ?? { rootless: false, uid: 0, gid: 0, name: '' };
  const subuid = parseSubid(spec.subuid ?? '');
  const subgid = parseSubid(spec.subgid ?? '');
  const ownedUid = ownedRanges(subuid, caller.name, caller.uid);
  const ownedGid = ownedRanges(subgid, caller.name, caller.uid);
  const all = (entries: SubidEntry[]) => entries.map((e) => ({ start: e.start, size: e.count }));
  const rootfulAvoid = (): IdRangeLike[] => [...used, ...all(subuid), ...all(subgid)];
  const noFree = (size: number) => new Refusal(`userns: no free range of ${size} ids between ${AUTO_BASE} and ${AUTO_END}`);
  const maps = (spec.uidmap?.length ?? 0) + (spec.gidmap?.length ?? 0);
  let uidLines: Line[] = [];
  let gidLines: Line[] = [];
  let field = 'userns';
  if (spec.mode !== 'maps' && maps > 0) {
    throw new Refusal(`${(spec.uidmap?.length ?? 0) > 0 ? 'uidmap' : 'gidmap'}: cannot be combined with --userns ${spec.mode === 'auto' ? 'auto' : 'keep-id'}`);
  }
  const line = (inside: number, outside: number, count: number, own = false): Line => ({ inside, outside, count, text: '', own });
  if (spec.mode === 'auto') {
    const size = !spec.size ? AUTO_SIZE_DEFAULT : spec.size;
    if (size > AUTO_SIZE_MAX) throw new Refusal(`userns: size ${size} over ${AUTO_SIZE_MAX}`);
    if (!caller.rootless) {
      const picked = pickFree(rootfulAvoid(), size, AUTO_BASE, AUTO_END);
      if (picked < 0) throw noFree(size);
      uidLines = [line(0, picked, size)];
      gidLines = [line(0, picked, size)];
    } else {
      const pickOwned = (owned: IdRangeLike[]) => {
        for (const r of owned) {
          if (r.size < size) continue;
          const got = pickFree(used, size, r.start, r.start + r.size);
          if (got >= 0) return got;
        }
        return -1;
      };
      if (ownedUid.length === 0 || ownedGid.length === 0) {
        const who = caller.name || String(caller.uid);
        throw new Refusal(`userns: auto needs subordinate ids of yours, and you have none: add a range of your own to /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${who})`);
      }
      const u = pickOwned(ownedUid);
      if (u < 0) throw new Refusal(`userns: no free range of ${size} ids in your subordinate uids (the subuid file)`);
      const g = pickOwned(ownedGid);
      if (g < 0) throw new Refusal(`userns: no free range of ${size} ids in your subordinate gids (the subgid file)`);
      uidLines = [line(0, u, size)];
      gidLines = [line(0, g, size)];
      if (size < 0xffffffff) {
        uidLines.push(line(size, caller.uid, 1, true));
        gidLines.push(line(size, caller.gid, 1, true));
      }
    }
  } else if (spec.mode === 'keep-id') {
    let restUid = withoutId(ownedUid, caller.uid);
    let restGid = withoutId(ownedGid, caller.gid);
    if (!caller.rootless && (restUid.length === 0 || restGid.length === 0)) {
      const avoid = [...rootfulAvoid(), { start: caller.uid, size: 1 }, { start: caller.gid, size: 1 }];
      const picked = pickFree(avoid, AUTO_SIZE_DEFAULT, AUTO_BASE, AUTO_END);
      if (picked < 0) throw noFree(AUTO_SIZE_DEFAULT);
      const pool = [{ start: picked, size: AUTO_SIZE_DEFAULT }];
      if (restUid.length === 0) restUid = pool;
      if (restGid.length === 0) restGid = pool;
    }
    uidLines = keepIdLines(caller.uid, restUid, caller.rootless);
    gidLines = keepIdLines(caller.gid, restGid, caller.rootless);
  } else {
    uidLines = userLines(spec, caller, 'uid', ownedUid);
    gidLines = userLines(spec, caller, 'gid', ownedGid);
    field = '';
  }
  const uidGiven = (spec.uidmap?.length ?? 0) > 0;
  const gidGiven = (spec.gidmap?.length ?? 0) > 0;
  const uid = normalize(field || (uidGiven ? 'uidmap' : 'gidmap'), uidLines);
  const gid = normalize(field || (gidGiven ? 'gidmap' : 'uidmap'), gidLines);
  let helper = false;
  let deny = false;
  if (caller.rootless) {
    const subUid = uid.some((l) => !l.own);
    const subGid = gid.some((l) => !l.own);
    helper = subUid || subGid;
    deny = !subGid;
  }
  const strip = (ls: Line[]): IdLine[] => ls.map((l) => ({ inside: l.inside, outside: l.outside, count: l.count }));
  const answer: IdmapAnswer = {
    uid: strip(uid), gid: strip(gid), uidMap: mapText(uid), gidMap: mapText(gid), setgroups: deny ? 'deny' : 'allow', helper,
  };
  if (helper) {
    answer.newuidmapArgs = helperArgs(uid);
    answer.newgidmapArgs = helperArgs(gid);
  }
  return answer;
}

/** The answer idmapCompute gives for `spec` (status 2 with the reason when refused). */
export function computeIdmap(spec: IdmapSpec, used: readonly IdRangeLike[] = []): IdmapExpected {
  try {
    return { status: 0, value: compute(spec, used) };
  } catch (err) {
    if (err instanceof Refusal) return { status: 2, reason: err.reason };
    throw err;
  }
}


/** Translates ids through `lines` (checked as a map: status 2 when they break a rule). */
export function translate(
  maps: { uid: readonly IdLine[]; gid: readonly IdLine[] },
  queries: readonly { kind: 'uid' | 'gid'; direction: Direction; ids: readonly number[] }[],
): { status: 0; value: number[][] } | { status: 2; reason: string } {
  try {
    const asLines = (ls: readonly IdLine[]): Line[] => ls.map((l) => ({ ...l, text: '', own: false }));
    const uid = normalize('uidmap', asLines(maps.uid));
    const gid = normalize('gidmap', asLines(maps.gid));
    return {
      status: 0,
      value: queries.map((q) => {
        const lines = q.kind === 'uid' ? uid : gid;
        return q.ids.map((id) => {
          for (const l of lines) {
            const [from, to] = q.direction === 'to-host' ? [l.inside, l.outside] : [l.outside, l.inside];
            if (id >= from && id - from < l.count) return to + (id - from);
          }
          return UNMAPPED;
        });
      }),
    };
  } catch (err) {
    if (err instanceof Refusal) return { status: 2, reason: err.reason };
    throw err;
  }
}
