// The maps of a new user namespace (docs/core-abi.md "idmapCompute"): from the mode the user
// asked for (auto, keep-id or --uidmap/--gidmap lines), the caller (rootful or rootless, its
// ids) and the subordinate id files, the exact lines of uid_map and gid_map, whether
// newuidmap/newgidmap must write them (a rootless caller mapping subordinate ids) and whether
// setgroups must be denied. Pure and total: every input gives lines or a reason.

import { Failure, invalid } from "../abi";
import { AUTO_BASE, AUTO_END, AUTO_SIZE_DEFAULT, AUTO_SIZE_MAX, IdRange, pickFree, sortedRanges } from "./auto";
import { checkLine, ID_END, IdLine, LINES_MAX, normalizeLines } from "./lines";
import {
  hasHelpers, IdmapRequest, KIND_GID, KIND_UID, MODE_AUTO, MODE_KEEP_ID, MODE_MAPS, MODE_NONE, MODE_ROOTLESS,
} from "./request";
import { allRanges, coveredBy, ownedRanges, parseId, parseSubid, SubidEntry, withoutId } from "./subid";

export const USED_RANGES_MAX: i32 = 65536;
/** --uidmap / --gidmap values taken per kind, before merging (340 lines is checked after). */
export const MAPS_MAX: i32 = 65536;

export class IdmapResult {
  uid: IdLine[] = [];
  gid: IdLine[] = [];
  rootless: bool = false;
  /** newuidmap/newgidmap must write the maps (a rootless caller maps subordinate ids). */
  helper: bool = false;
  setgroupsDeny: bool = false;
  /** A rootless default map of the caller's ids alone: what that limits, one line for people. */
  note: string = "";
  /** `--userns auto`: where its ids came from, one line for `husk plan`. */
  choice: string = "";
}

/** The fix for a caller without subordinate ids: the command that gives it some. */
function addRangesHint(req: IdmapRequest): string {
  const who = req.name.length > 0 ? req.name : req.uid.toString();
  return "add a range of your own to /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + who + ")";
}

const NO_HELPERS = "newuidmap and newgidmap are not installed (install the uidmap package)";

/**
 * Container ids 1, 2, … on the caller's subordinate ranges `rest` in order (its own id, line 0
 * 0→own, is mapped apart): podman's rootless default. At most LINES_MAX - 1 ranges.
 */
function subordinateLines(rest: IdRange[], out: IdLine[]): void {
  let c: u64 = 1;
  for (let i = 0; i < rest.length && i < LINES_MAX - 1 && c < ID_END; i++) {
    const n = min<u64>(rest[i].size, ID_END - c);
    out.push(new IdLine(c, rest[i].start, n, "", false));
    c += n;
  }
}

/**
 * The rootless default (MODE_ROOTLESS): the caller's uid and gid are root inside; with
 * subordinate ranges of its own and both helpers installed, those follow from id 1 up.
 * Without them, a single-id map and a note saying what it limits and how to get more.
 */
function rootlessLines(req: IdmapRequest, ownedUid: IdRange[], ownedGid: IdRange[], uidLines: IdLine[], gidLines: IdLine[], res: IdmapResult): void {
  uidLines.push(new IdLine(0, req.uid, 1, "", true));
  gidLines.push(new IdLine(0, req.gid, 1, "", true));
  const restUid = withoutId(ownedUid, req.uid);
  const restGid = withoutId(ownedGid, req.gid);
  const ranges = restUid.length > 0 && restGid.length > 0;
  if (ranges && hasHelpers(req)) {
    subordinateLines(restUid, uidLines);
    subordinateLines(restGid, gidLines);
    return;
  }
  const limits = "the container maps only your uid " + req.uid.toString() + " and gid " + req.gid.toString() +
    " (as its root): files of other owners show as nobody and chown to other ids fails";
  res.note = ranges ? limits + "; " + NO_HELPERS : limits + "; for more ids " + addRangesHint(req);
}

/** Parses `CONTAINER:HOST:SIZE` (podman's --uidmap form) into `out`. */
export function parseMapText(field: string, text: string, out: IdLine[]): Failure | null {
  const a = text.indexOf(":");
  const b = a < 0 ? -1 : text.indexOf(":", a + 1);
  if (a < 0 || b < 0 || text.indexOf(":", b + 1) >= 0) {
    return invalid(field + ": \"" + text + "\": expected CONTAINER:HOST:SIZE (three decimal numbers)");
  }
  const from: i32[] = [0, a + 1, b + 1];
  const to: i32[] = [a, b, text.length];
  for (let i = 0; i < 3; i++) {
    if (to[i] == from[i]) return invalid(field + ": \"" + text + "\": expected CONTAINER:HOST:SIZE (three decimal numbers)");
    for (let j = from[i]; j < to[i]; j++) {
      const c = text.charCodeAt(j);
      if (c < 0x30 || c > 0x39) return invalid(field + ": \"" + text + "\": expected CONTAINER:HOST:SIZE (three decimal numbers)");
    }
  }
  const v: u64[] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const n = parseId(text, from[i], to[i]);
    if (n < 0) return invalid(field + ": \"" + text + "\": " + text.substring(from[i], to[i]) + " is out of range (ids and sizes are below 4294967295)");
    v[i] = <u64>n;
  }
  out.push(new IdLine(v[0], v[1], v[2], text, false));
  return null;
}

function checkUsed(used: IdRange[]): Failure | null {
  if (used.length > USED_RANGES_MAX) {
    return invalid("used-range: " + used.length.toString() + " ranges (at most " + USED_RANGES_MAX.toString() + ")");
  }
  for (let i = 0; i < used.length; i++) {
    const start = used[i].start;
    const size = used[i].size;
    if (start > 0x100000000 || size > 0x100000000 - start) {
      return invalid("used-range: " + start.toString() + "+" + size.toString() + " ends past 2^32");
    }
  }
  return null;
}

/** Host ranges a rootful pick avoids: others' containers, every subordinate range, and `extra`. */
function rootfulAvoid(req: IdmapRequest, subuid: SubidEntry[], subgid: SubidEntry[]): IdRange[] {
  const avoid = req.used.slice(0);
  allRanges(subuid, avoid);
  allRanges(subgid, avoid);
  return avoid;
}

/** Owner of the subordinate ranges podman's rootful `--userns auto` takes its ids from. */
const CONTAINERS_USER = "containers";
/** A uid no subordinate id line is owned by in decimal: ranges of a name alone. */
const NO_UID: u64 = u64.MAX_VALUE;

function rangeText(start: u64, size: u64): string {
  return start.toString() + "-" + (start + size - 1).toString();
}

/**
 * Root's `--userns auto`, as podman: from the ranges of the user `containers` in the subuid
 * and subgid files when they have some (both must), around the ranges other containers hold;
 * else from husk's pool, around those and every range of the two files.
 */
function rootfulAutoLines(req: IdmapRequest, subuid: SubidEntry[], subgid: SubidEntry[], size: u64, uidLines: IdLine[], gidLines: IdLine[], res: IdmapResult): Failure | null {
  const cu = ownedRanges(subuid, CONTAINERS_USER, NO_UID);
  const cg = ownedRanges(subgid, CONTAINERS_USER, NO_UID);
  if (cu.length == 0 && cg.length == 0) {
    const picked = pickFree(sortedRanges(rootfulAvoid(req, subuid, subgid)), size, AUTO_BASE, AUTO_END);
    if (picked < 0) return noFreeRange(size);
    uidLines.push(new IdLine(0, <u64>picked, size));
    gidLines.push(new IdLine(0, <u64>picked, size));
    res.choice = "userns auto: host ids " + rangeText(<u64>picked, size) + " from husk's pool (" + rangeText(AUTO_BASE, AUTO_END - AUTO_BASE) +
      "; the subuid and subgid files have no \"containers\" entry)";
    return null;
  }
  const missing = cu.length == 0 ? "subuid" : cg.length == 0 ? "subgid" : "";
  if (missing.length > 0) {
    const flag = missing == "subuid" ? "--add-subuids" : "--add-subgids";
    return invalid("userns: auto: the " + (missing == "subuid" ? "subgid" : "subuid") + " file has ranges for \"containers\" and the " + missing +
      " file has none: add one (as root: usermod " + flag + " 100000-165535 containers), or remove both");
  }
  const used = sortedRanges(req.used);
  const u = pickOwned(cu, used, size);
  if (u < 0) return invalid("userns: no free range of " + size.toString() + " ids in the \"containers\" entry of the subuid file");
  const g = pickOwned(cg, used, size);
  if (g < 0) return invalid("userns: no free range of " + size.toString() + " ids in the \"containers\" entry of the subgid file");
  uidLines.push(new IdLine(0, <u64>u, size));
  gidLines.push(new IdLine(0, <u64>g, size));
  res.choice = "userns auto: host uids " + rangeText(<u64>u, size) + " and gids " + rangeText(<u64>g, size) +
    " from the \"containers\" entries of the subuid and subgid files";
  return null;
}

function noFreeRange(size: u64): Failure {
  return invalid("userns: no free range of " + size.toString() + " ids between " + AUTO_BASE.toString() + " and " + AUTO_END.toString());
}

/** The first free `size` ids inside the caller's ranges, or -1. */
function pickOwned(owned: IdRange[], usedSorted: IdRange[], size: u64): i64 {
  for (let i = 0; i < owned.length; i++) {
    const r = owned[i];
    if (r.size < size) continue;
    const got = pickFree(usedSorted, size, r.start, r.start + r.size);
    if (got >= 0) return got;
  }
  return -1;
}

/**
 * keep-id: container id `id` is host id `id`; the other container ids, from 0 up and skipping
 * `id`, take the host ids of `rest` in order.
 */
function keepIdLines(id: u64, rest: IdRange[], own: bool, out: IdLine[]): void {
  let c: u64 = 0;
  for (let i = 0; i < rest.length; i++) {
    const r = rest[i];
    let off: u64 = 0;
    while (off < r.size) {
      if (c == id) c = id + 1;
      if (c >= ID_END) break;
      let n = r.size - off;
      if (c < id) n = min<u64>(n, id - c);
      n = min<u64>(n, ID_END - c);
      out.push(new IdLine(c, r.start + off, n, "", false));
      c += n;
      off += n;
    }
  }
  out.push(new IdLine(id, id, 1, "", own));
}

/** Checks the lines the user typed for one kind, and (rootless) that each host range is the caller's. */
function userLines(
  req: IdmapRequest, kind: u64, copied: bool, owned: IdRange[], own: u64, out: IdLine[],
): Failure | null {
  const field = kind == KIND_UID ? "uidmap" : "gidmap";
  const source = copied ? (kind == KIND_UID ? KIND_GID : KIND_UID) : kind;
  // A line names the flag it was typed with (--gidmap alone serves uids too).
  const typed = source == KIND_UID ? "uidmap" : "gidmap";
  let n = 0;
  for (let i = 0; i < req.maps.length; i++) {
    if (req.maps[i].kind != source) continue;
    n++;
    if (n > MAPS_MAX) return invalid(typed + ": more than " + MAPS_MAX.toString() + " maps given");
    const bad = parseMapText(typed, req.maps[i].text, out);
    if (bad !== null) return bad;
    const l = out[out.length - 1];
    const badLine = checkLine(typed, l);
    if (badLine !== null) return badLine;
    if (!req.rootless) continue;
    if (coveredBy(owned, l.outside, l.count)) continue;
    if (l.count == 1 && l.outside == own) {
      l.own = true;
      continue;
    }
    const what = kind == KIND_UID ? "uid" : "gid";
    let reason = field + ": \"" + l.text + "\": host ids " + l.outside.toString() + "-" + (l.outside + l.count - 1).toString() +
      " are not yours: not in your subordinate " + what + "s (the sub" + what + " file) and not your own " + what + " " + own.toString();
    if (copied) reason += " (--" + (kind == KIND_UID ? "gidmap" : "uidmap") + " applies to " + what + "s too when --" + field + " is not given)";
    return invalid(reason);
  }
  return null;
}

function countKind(req: IdmapRequest, kind: u64): i32 {
  let n = 0;
  for (let i = 0; i < req.maps.length; i++) if (req.maps[i].kind == kind) n++;
  return n;
}

/** Fills `res` for `req`; returns the first refusal. A request without USERNS gives no lines. */
export function computeIdmap(req: IdmapRequest, res: IdmapResult): Failure | null {
  const usedBad = checkUsed(req.used);
  if (usedBad !== null) return usedBad;
  res.rootless = req.rootless;
  if (req.mode == MODE_NONE) return null;

  const subuid = new Array<SubidEntry>();
  const subgid = new Array<SubidEntry>();
  for (let i = 0; i < req.subuid.length; i++) parseSubid(req.subuid[i], subuid);
  for (let i = 0; i < req.subgid.length; i++) parseSubid(req.subgid[i], subgid);
  const ownedUid = ownedRanges(subuid, req.name, req.uid);
  const ownedGid = ownedRanges(subgid, req.name, req.uid);

  const uidLines = new Array<IdLine>();
  const gidLines = new Array<IdLine>();
  let field = "userns";
  if (req.mode != MODE_MAPS && req.maps.length > 0) {
    const flag = countKind(req, KIND_UID) > 0 ? "uidmap" : "gidmap";
    return invalid(flag + ": cannot be combined with --userns " + (req.mode == MODE_AUTO ? "auto" : "keep-id"));
  }

  if (req.mode == MODE_ROOTLESS) {
    rootlessLines(req, ownedUid, ownedGid, uidLines, gidLines, res);
  } else if (req.mode == MODE_AUTO) {
    const size = req.size == 0 ? AUTO_SIZE_DEFAULT : req.size;
    if (size > AUTO_SIZE_MAX) return invalid("userns: size " + size.toString() + " over " + AUTO_SIZE_MAX.toString());
    if (!req.rootless) {
      const bad = rootfulAutoLines(req, subuid, subgid, size, uidLines, gidLines, res);
      if (bad !== null) return bad;
    } else {
      if (ownedUid.length == 0 || ownedGid.length == 0) return invalid("userns: auto needs subordinate ids of yours, and you have none: " + addRangesHint(req));
      const used = sortedRanges(req.used);
      const u = pickOwned(ownedUid, used, size);
      if (u < 0) return invalid("userns: no free range of " + size.toString() + " ids in your subordinate uids (the subuid file)");
      const g = pickOwned(ownedGid, used, size);
      if (g < 0) return invalid("userns: no free range of " + size.toString() + " ids in your subordinate gids (the subgid file)");
      uidLines.push(new IdLine(0, <u64>u, size));
      gidLines.push(new IdLine(0, <u64>g, size));
      res.choice = "userns auto: host uids " + rangeText(<u64>u, size) + " and gids " + rangeText(<u64>g, size) + " from your subordinate ids";
      // The caller's own ids too, right after the range: the container is set up in the
      // caller's state directory (0700), which its root reaches only over a mapped owner.
      if (size < ID_END) {
        uidLines.push(new IdLine(size, req.uid, 1, "", true));
        gidLines.push(new IdLine(size, req.gid, 1, "", true));
      }
    }
  } else if (req.mode == MODE_KEEP_ID) {
    let restUid = withoutId(ownedUid, req.uid);
    let restGid = withoutId(ownedGid, req.gid);
    if (!req.rootless && (restUid.length == 0 || restGid.length == 0)) {
      // Root without subordinate ranges of its own: the other ids come from the auto pool.
      const avoid = rootfulAvoid(req, subuid, subgid);
      avoid.push(new IdRange(req.uid, 1));
      avoid.push(new IdRange(req.gid, 1));
      const picked = pickFree(sortedRanges(avoid), AUTO_SIZE_DEFAULT, AUTO_BASE, AUTO_END);
      if (picked < 0) return noFreeRange(AUTO_SIZE_DEFAULT);
      const pool: IdRange[] = [new IdRange(<u64>picked, AUTO_SIZE_DEFAULT)];
      if (restUid.length == 0) restUid = pool;
      if (restGid.length == 0) restGid = pool;
    }
    keepIdLines(req.uid, restUid, req.rootless, uidLines);
    keepIdLines(req.gid, restGid, req.rootless, gidLines);
  } else {
    const uidGiven = countKind(req, KIND_UID) > 0;
    const gidGiven = countKind(req, KIND_GID) > 0;
    let bad = userLines(req, KIND_UID, !uidGiven, ownedUid, req.uid, uidLines);
    if (bad !== null) return bad;
    bad = userLines(req, KIND_GID, !gidGiven, ownedGid, req.gid, gidLines);
    if (bad !== null) return bad;
    field = "";
  }

  const uidField = field.length > 0 ? field : countKind(req, KIND_UID) > 0 ? "uidmap" : "gidmap";
  const gidField = field.length > 0 ? field : countKind(req, KIND_GID) > 0 ? "gidmap" : "uidmap";
  let bad = normalizeLines(uidField, uidLines, res.uid);
  if (bad !== null) return bad;
  bad = normalizeLines(gidField, gidLines, res.gid);
  if (bad !== null) return bad;

  if (req.rootless) {
    let subordinate = false;
    let subordinateGid = false;
    for (let i = 0; i < res.uid.length; i++) if (!res.uid[i].own) subordinate = true;
    for (let i = 0; i < res.gid.length; i++) if (!res.gid[i].own) subordinateGid = true;
    res.helper = subordinate || subordinateGid;
    // newgidmap leaves setgroups alone once a subordinate range is mapped, and writes deny
    // otherwise; a direct write of one's own gid needs deny (user_namespaces(7)).
    res.setgroupsDeny = !subordinateGid;
  }
  return null;
}

/** Whether container id `id` is mapped by `lines`. */
export function maps(lines: IdLine[], id: u64): bool {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (id >= l.inside && id - l.inside < l.count) return true;
  }
  return false;
}

/** Whether host id `id` is mapped by `lines`. */
function mapsOutside(lines: IdLine[], id: u64): bool {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (id >= l.outside && id - l.outside < l.count) return true;
  }
  return false;
}

/** Idmapped trees a plan can hold (the launcher's slots 0–15). */
export const PLAN_TREES_MAX: i32 = 16;

/**
 * What a plan needs of the maps: the container is set up as its root (container uid 0 and gid
 * 0 mapped), the process's user is mapped, newuidmap and newgidmap are installed when the
 * maps need them (`helpers`: IDMAP_HELPERS named both), and its idmapped trees fit the slots.
 */
export function checkPlanMaps(res: IdmapResult, req: IdmapRequest, uid: u64, gid: u64, trees: i32): Failure | null {
  if (req.rootless && req.mode == MODE_KEEP_ID && (!maps(res.uid, 0) || !maps(res.gid, 0))) {
    // The caller's own id stays its own: the container's root needs a subordinate id.
    return invalid("userns: keep-id needs subordinate ids of yours for the container's root, and you have none: " + addRangesHint(req));
  }
  if (!maps(res.uid, 0)) return invalid("uidmap: container uid 0 is not mapped (husk sets the container up as its root)");
  if (!maps(res.gid, 0)) return invalid("gidmap: container gid 0 is not mapped (husk sets the container up as its root)");
  if (!maps(res.uid, uid)) return invalid("user: uid " + uid.toString() + " is not mapped in the user namespace");
  if (!maps(res.gid, gid)) return invalid("user: gid " + gid.toString() + " is not mapped in the user namespace");
  if (req.rootless && (!mapsOutside(res.uid, req.uid) || !mapsOutside(res.gid, req.gid))) {
    return invalid("uidmap: your own uid " + req.uid.toString() + " and gid " + req.gid.toString() +
      " must be mapped too (e.g. --uidmap 65536:" + req.uid.toString() + ":1 --gidmap 65536:" + req.gid.toString() +
      ":1): husk sets the container up in your state directory, which only you may enter");
  }
  if (res.helper && !hasHelpers(req)) {
    return invalid("userns: mapping your subordinate ids needs newuidmap and newgidmap, which are not installed: install the uidmap package (apt-get install uidmap)");
  }
  if (trees > PLAN_TREES_MAX) {
    return invalid("host-dir: " + trees.toString() + " directories to idmap in a user namespace (at most " + PLAN_TREES_MAX.toString() + ")");
  }
  return null;
}
