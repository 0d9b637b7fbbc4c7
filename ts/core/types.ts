// Types and constants shared by the core's TypeScript wrappers (ts/core/*.ts) and their
// callers: the shapes of the policy core's requests and answers (docs/policy-core.md,
// docs/core-abi.md). The test oracle (test/reference/) uses the same shapes.

// ---- cgroupWrites ----
export interface CgroupHost {
  layout: number;
  cpus: bigint;
  mems: bigint;
  flags: bigint;
}

export interface CgroupFlag {
  name: string;
  value: string;
}

export interface CgroupWrite {
  controller: string;
  file: string;
  value: string;
}

// ---- idmapCompute, idmapTranslate ----
/** What the user asked for, as the wrappers send it. */
export interface IdmapSpec {
  /** `auto`: a free host range of `size` ids (0 or absent: 65536); `keep-id`: the caller keeps its ids; `maps`: the lines below. */
  mode: 'auto' | 'keep-id' | 'maps';
  size?: number;
  /** podman's `CONTAINER:HOST:SIZE`, as typed (repeatable flags). */
  uidmap?: readonly string[];
  gidmap?: readonly string[];
  /** Who runs husk (default: rootful, uid 0, gid 0, no name). */
  caller?: IdmapCaller;
  /** The text of /etc/subuid and /etc/subgid (or --subuid-file / --subgid-file). */
  subuid?: string;
  subgid?: string;
  /** Rootless: where the setuid newuidmap and newgidmap are ('' or absent: not installed). */
  helpers?: { newuidmap: string; newgidmap: string };
}

export interface IdmapCaller {
  rootless: boolean;
  uid: number;
  gid: number;
  /** The caller's user name (subuid owners are names or uids). */
  name: string;
}

export interface IdRangeLike {
  start: number;
  size: number;
}

export interface IdLine {
  inside: number;
  outside: number;
  count: number;
}

export interface IdmapAnswer {
  uid: IdLine[];
  gid: IdLine[];
  /** Exactly what /proc/PID/uid_map and gid_map get. */
  uidMap: string;
  gidMap: string;
  setgroups: 'allow' | 'deny';
  /** newuidmap/newgidmap must write the maps (rootless with subordinate ids). */
  helper: boolean;
  /** Arguments after the pid: `newuidmap PID ...newuidmapArgs` (present when helper). */
  newuidmapArgs?: string[];
  newgidmapArgs?: string[];
}

/** A subordinate-file line longer than this is ignored (the request carries lines of at most 65535 bytes). */
export const SUBID_LINE_MAX = 65535;

export type Direction = 'to-host' | 'to-container';

// ---- pathVerdicts ----
export const ITEM_NAME = 1;
export const ITEM_SYMLINK = 2;
export const ITEM_HARDLINK = 3;

export const VERDICT_OK = 1;
export const VERDICT_REFUSED = 2;
export const VERDICT_LOOP = 3;

export interface PathItem {
  kind: number;
  name: string;
  /** Symlink or hardlink target; "" for a name. */
  target: string;
}

export interface Verdict {
  index: number;
  verdict: number;
  /** Where the entry itself lands, relative to the root ("." is the root). */
  path: string;
  /** Symlink: where it points; hardlink: the file it links to; otherwise "". */
  target: string;
  reason: string;
}

/** A symlink an earlier batch declared (its clean path and its target as written). */
export interface KnownLink {
  path: string;
  target: string;
}

// ---- whiteouts ----
export const ACTION_EXTRACT = 16;
export const ACTION_MKNOD = 17;
export const ACTION_SET_XATTR = 18;
export const ACTION_DELETE = 19;
export const ACTION_CLEAR = 20;
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_NAME = '.wh..wh..opq';

export interface LayerEntry {
  path: string;
  type: number;
  /** u64 on the wire: a number (below 2^53, as tar sizes are) costs no BigInt per entry. */
  size: bigint | number;
  rdev: bigint | number;
}

export interface Classified {
  index: number;
  kind: number;
  /** Plain: the clean path; whiteout: the path it hides; opaque: the directory; else "". */
  path: string;
  reason: string;
}

export interface Action {
  index: number;
  kind: number;
  path: string;
  /** SET_XATTR: the attribute name (value "y"); otherwise "". */
  detail: string;
}

export interface UpperEntry {
  path: string;
  type: number;
  rdev: bigint;
  /** `name=value` for each extended attribute ts read (at least the overlay ones). */
  xattrs: string[];
}

export interface OutEntry {
  index: number;
  kind: number;
  path: string;
}
