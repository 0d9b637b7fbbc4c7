// The user-namespace items of a request (docs/core-abi.md): decoded the same way for buildPlan
// and for idmapCompute. Status 1 for the shape (unknown mode or kind, a size where none is
// taken), status 2 (in compute.ts) for the values.

import { Failure, malformed } from "../abi";
import { Fields, STR_MAX } from "../codec";
import { IdRange } from "./auto";

export const REQ_USERNS: u32 = 0x010a;
export const REQ_USED_RANGE: u32 = 0x010b;
export const REQ_IDMAP_CALLER: u32 = 0x0110;
export const REQ_SUBUID: u32 = 0x0111;
export const REQ_SUBGID: u32 = 0x0112;
export const REQ_IDMAP: u32 = 0x0113;
/** idmapTranslate only. */
export const REQ_MAP_LINE: u32 = 0x0114;
export const REQ_TRANSLATE: u32 = 0x0115;
/** Rootless (docs/core-abi.md "Rootless"): where newuidmap and newgidmap are, "" when missing. */
export const REQ_IDMAP_HELPERS: u32 = 0x0360;

export const ANS_UID_LINE: u16 = 0x0191;
export const ANS_GID_LINE: u16 = 0x0192;
export const ANS_MAPS: u16 = 0x0193;
export const ANS_HELPER: u16 = 0x0194;
export const ANS_IDS: u16 = 0x0195;

export const MODE_NONE: u64 = 0;
export const MODE_AUTO: u64 = 1;
export const MODE_KEEP_ID: u64 = 2;
export const MODE_MAPS: u64 = 3;
/**
 * `--userns host` as typed (or not typed: host is the flag's default). Only on the wire: the
 * core turns it into MODE_MAPS when --uidmap/--gidmap are given, else MODE_NONE (decideMode).
 */
export const MODE_HOST: u64 = 4;
/**
 * Never on the wire: `host` (typed or the default) asked by a rootless caller, which cannot
 * use the host's user namespace for a container (it may not make the others without one).
 * The caller's own ids become root inside, plus its subordinate ranges when newuidmap and
 * newgidmap can write them (compute.ts rootlessLines), as podman's rootless default.
 */
export const MODE_ROOTLESS: u64 = 5;

export const KIND_UID: u64 = 1;
export const KIND_GID: u64 = 2;

export const TO_HOST: u64 = 1;
export const TO_CONTAINER: u64 = 2;

export class MapText {
  constructor(public kind: u64, public text: string) {}
}

export class IdmapRequest {
  mode: u64 = MODE_NONE;
  size: u64 = 0;
  used: IdRange[] = [];
  hasCaller: bool = false;
  rootless: bool = false;
  uid: u64 = 0;
  gid: u64 = 0;
  name: string = "";
  subuid: string[] = [];
  subgid: string[] = [];
  maps: MapText[] = [];
  /** IDMAP_HELPERS: the setuid helpers' paths ("" = not installed). */
  newuidmap: string = "";
  newgidmap: string = "";
  /** USERNS (bit 0), IDMAP_CALLER (bit 1) and IDMAP_HELPERS (bit 2) seen, for the once-only rule. */
  seen: u32 = 0;
}

/** Whether `type` is one of the items decodeIdmapFrame reads (not the translate frames). */
export function isIdmapItem(type: u32): bool {
  return type == REQ_USERNS || type == REQ_USED_RANGE || (type >= REQ_IDMAP_CALLER && type <= REQ_IDMAP) || type == REQ_IDMAP_HELPERS;
}

export function idmapItemName(type: u32): string {
  switch (type) {
    case REQ_USERNS: return "USERNS";
    case REQ_USED_RANGE: return "USED_RANGE";
    case REQ_IDMAP_CALLER: return "IDMAP_CALLER";
    case REQ_SUBUID: return "SUBUID";
    case REQ_SUBGID: return "SUBGID";
    case REQ_IDMAP: return "IDMAP";
    case REQ_IDMAP_HELPERS: return "IDMAP_HELPERS";
  }
  return "";
}

/** Whether the item may appear more than once. */
export function idmapItemRepeats(type: u32): bool {
  return type == REQ_USED_RANGE || type == REQ_SUBUID || type == REQ_SUBGID || type == REQ_IDMAP;
}

/** Both helpers are installed (ts/ found them). */
export function hasHelpers(req: IdmapRequest): bool {
  return req.newuidmap.length > 0 && req.newgidmap.length > 0;
}

/** Decodes one user-namespace item into `req`; `f.failure` is set when it is malformed. */
export function decodeIdmapFrame(type: u32, f: Fields, req: IdmapRequest): void {
  switch (type) {
    case REQ_USERNS: {
      const mode = f.u64("mode");
      const size = f.u64("size");
      if (!f.ok) return;
      if (mode != MODE_AUTO && mode != MODE_KEEP_ID && mode != MODE_MAPS && mode != MODE_HOST) {
        f.failure = malformed(f.context + ": mode: unknown value " + mode.toString());
      } else if (mode != MODE_AUTO && size != 0) {
        f.failure = malformed(f.context + ": size: only auto takes a size");
      }
      req.mode = mode;
      req.size = size;
      break;
    }
    case REQ_USED_RANGE: {
      const start = f.u64("start");
      const size = f.u64("size");
      if (!f.ok) return;
      req.used.push(new IdRange(start, size));
      break;
    }
    case REQ_IDMAP_CALLER: {
      const rootless = f.u64("rootless");
      req.uid = f.u64("uid");
      req.gid = f.u64("gid");
      req.name = f.str("name", STR_MAX);
      if (!f.ok) return;
      if (rootless > 1) f.failure = malformed(f.context + ": rootless: unknown value " + rootless.toString());
      else if (req.uid >= 0xffffffff || req.gid >= 0xffffffff) f.failure = malformed(f.context + ": uid or gid out of range");
      req.rootless = rootless == 1;
      req.hasCaller = true;
      break;
    }
    case REQ_SUBUID:
      req.subuid.push(f.str("text", STR_MAX));
      break;
    case REQ_SUBGID:
      req.subgid.push(f.str("text", STR_MAX));
      break;
    case REQ_IDMAP: {
      const kind = f.u64("kind");
      const text = f.str("text", STR_MAX);
      if (!f.ok) return;
      if (kind != KIND_UID && kind != KIND_GID) f.failure = malformed(f.context + ": kind: unknown value " + kind.toString());
      req.maps.push(new MapText(kind, text));
      break;
    }
    case REQ_IDMAP_HELPERS:
      req.newuidmap = f.str("newuidmap", STR_MAX);
      req.newgidmap = f.str("newgidmap", STR_MAX);
      if (!f.ok) return;
      if ((req.newuidmap.length > 0 && req.newuidmap.charCodeAt(0) != 0x2f) || (req.newgidmap.length > 0 && req.newgidmap.charCodeAt(0) != 0x2f)) {
        f.failure = malformed(f.context + ": helper paths must be absolute or empty");
      }
      break;
    default:
      assert(false, "decodeIdmapFrame: not an idmap item");
  }
}

/** Shape rules across items (status 1), once every frame is read. */
export function checkIdmapShape(req: IdmapRequest): string | null {
  if (req.maps.length > 0 && req.mode == MODE_NONE) return "request: IDMAP frames without USERNS";
  if (req.mode == MODE_MAPS && req.maps.length == 0) return "request: USERNS mode 3 (maps) without IDMAP frames";
  return null;
}

/**
 * Which user namespace the flags as typed mean (after checkIdmapShape): `--userns host` (the
 * default) with --uidmap/--gidmap is a new one with exactly those maps (podman's); host alone
 * keeps husk's (MODE_NONE), or for a rootless caller is its own (MODE_ROOTLESS). auto and keep-id stay as they are (compute.ts refuses them with
 * maps, and gives auto's default size).
 */
export function decideMode(req: IdmapRequest): void {
  if (req.mode == MODE_HOST) req.mode = req.maps.length > 0 ? MODE_MAPS : req.rootless ? MODE_ROOTLESS : MODE_NONE;
}

/**
 * Decodes one user-namespace item of a buildPlan request (frame `index`) into `req`, with
 * the rule that USERNS and IDMAP_CALLER come at most once.
 */
export function decodeIdmapItem(type: u32, payload: usize, length: i32, index: i32, req: IdmapRequest): Failure | null {
  const name = idmapItemName(type);
  const bit: u32 = type == REQ_USERNS ? 1 : type == REQ_IDMAP_CALLER ? 2 : type == REQ_IDMAP_HELPERS ? 4 : 0;
  if (bit != 0 && (req.seen & bit) != 0) return malformed("request: frame " + index.toString() + " (" + name + "): given twice");
  req.seen |= bit;
  const f = Fields.ofFrame(payload, length, index, name);
  decodeIdmapFrame(type, f, req);
  if (!f.finish()) return f.failure;
  return null;
}
