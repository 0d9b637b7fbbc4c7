// buildPlan: a typed request in, the plan's bytes and the core's summary of them out
// (docs/core-abi.md "buildPlan", "The summary").
// The request is encoded with the protocol's framing; values the frames cannot carry (a NUL
// byte, a string over its bound, a negative id) are refused here with the same kind of
// error the core gives, so a user sees one kind of message whichever side caught it.
import { HuskError } from '../errors.js';
import { FRAME_PAYLOAD_MAX, FieldReader, FrameWriter, PATH_MAX, STRS_MAX, STR_MAX, readFrameAt } from '../protocol/frames.js';
import { call } from './wasm.js';
import { idmapFrames } from './idmap.js';
import type { UsernsFacts } from './idmap.js';
import { seccompFrames } from './seccomp.js';
import type { SeccompChoice } from './seccomp.js';

export const REQUEST = {
  IMAGE: 0x0101,
  HOST_DIR: 0x0102,
  STAGE: 0x0103,
  NAMESPACES: 0x0104,
  HOSTNAME: 0x0105,
  ENV: 0x0106,
  WORKDIR: 0x0107,
  USER: 0x0108,
  ARGV: 0x0109,
  USERNS: 0x010a,
  USED_RANGE: 0x010b,
  TIME_OFFSET: 0x010c,
  OPTIONS: 0x010d,
  ID: 0x010e,
  HOST_ENTRY: 0x010f,
  // 0x0110–0x011f: the user namespace's maps (ts/core/idmap.ts IDMAP)
  IDMAP_CALLER: 0x0110,
  SUBUID: 0x0111,
  SUBGID: 0x0112,
  IDMAP: 0x0113,
  // 0x0120–0x012f: the container's cgroups and the status file (assembly/plan/cgroup.ts)
  CGROUP: 0x0120,
  CGROUP_HIERARCHY: 0x0121,
  CGROUP_LIMIT: 0x0122,
  CGROUP_HOST: 0x0123,
  STATUS_FILE: 0x0124,
  // 0x0140–0x014f: a layered image (assembly/plan/layers.ts); 0x0142–0x0145 are fsPlan's (ts/core/fs.ts)
  LAYER: 0x0140,
  UPPER: 0x0141,
  OVERLAY_OPTIONS: 0x0146,
  // 0x0160–0x016f: the container's stdio held by the monitor (assembly/plan/stdio.ts)
  LOG: 0x0160,
  TTY: 0x0161,
  ATTACH: 0x0162,
  // 0x0150–0x015f: the image's config and --entrypoint (assembly/plan/image-config.ts)
  IMAGE_ENTRYPOINT: 0x0150,
  IMAGE_CMD: 0x0151,
  IMAGE_ENV: 0x0152,
  IMAGE_WORKDIR: 0x0153,
  IMAGE_USER: 0x0154,
  IMAGE_STOP_SIGNAL: 0x0155,
  IMAGE_EXPOSED_PORTS: 0x0156,
  ENTRYPOINT: 0x0157,
  // 0x0170–0x017f: a writable layer kept on disk (assembly/plan/keep-layer.ts)
  KEEP_LAYER: 0x0170,
  // 0x0307: --cap-add, --cap-drop, --privileged (assembly/plan/security.ts); 0x0300–0x0306 are ts/core/seccomp.ts's
  CAPABILITIES: 0x0307,
  // 0x030a–0x030e: docker's run options (assembly/plan/run-options.ts)
  ULIMIT: 0x030a,
  SYSCTL: 0x030b,
  OOM_SCORE_ADJ: 0x030c,
  GROUP_ADD: 0x030d,
  TMPFS: 0x030e,
  DEVICE: 0x032f,
  // 0x0337: --privileged's host device nodes (assembly/plan/host-devices.ts)
  HOST_DEVICE: 0x0337,
  READ_ONLY: 0x030f,
  // 0x0380–0x038f: containers that live on (assembly/plan/lifecycle.ts)
  INIT: 0x0380,
} as const;

/**
 * The image's config (OCI "config": Entrypoint, Cmd, Env, WorkingDir, User, StopSignal,
 * ExposedPorts) as facts; the core merges it with the flags as docker does. `user` is the
 * image's User resolved in the image's own /etc/passwd and /etc/group (or why it could not be).
 */
export interface ImageConfigFacts {
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  env?: readonly string[];
  workdir?: string;
  user?: { spec: string; uid: Id; gid?: Id; primaryGid?: Id } | { spec: string; problem: string };
  stopSignal?: string;
  exposedPorts?: readonly string[];
}

export const CLOCK = { monotonic: 1, boottime: 7 } as const;

/** NAMESPACES bits (assembly/plan/request.ts): what the flags share with husk. */
export const NAMESPACE_BITS = { pid: 1, net: 2, ipc: 4, uts: 8, cgroup: 16 } as const;

/** CLONE_NEWUSER in PlanSummary.newNamespaces. */
const CLONE_NEWUSER = 0x10000000n;

/** The namespaces the flags keep of husk's own (`--pid host` ...); the core makes the rest new. */
export interface NamespaceShare {
  pid?: boolean;
  net?: boolean;
  ipc?: boolean;
  uts?: boolean;
  cgroup?: boolean;
}

export interface PlanHostDir {
  /** A top-level entry of the host: `usr`, `etc`, `lib`, ... */
  name: string;
  kind: 'dir' | 'symlink';
  /** The symlink's target; empty (or absent) for a directory. */
  target?: string;
}

export type PlanImage =
  /**
   * The built-in host image: `hostEntries`, the host's top-level directories and symlinks (the
   * facts; the core picks the image's from them), or `hostDirs`, exactly the ones to show.
   */
  | { kind: 'host'; hostDirs?: readonly PlanHostDir[]; hostEntries?: readonly PlanHostDir[] }
  /** `flatten`: copied onto the stage, not stacked (the kernel refuses overlayfs in the user namespace). */
  | { kind: 'rootfs'; path: string; readwrite?: boolean; flatten?: boolean }
  /**
   * A layered image: `lowers`, host directories bottom → top (at most 500), stacked by
   * overlayfs under `upper` (a persistent upper and work directory on disk) or, without it,
   * the stage tmpfs. `legacyOverlay` forces the launcher's mount(2) fallback (short names)
   * instead of fsconfig "lowerdir+"; default: HUSK_OVERLAY_LEGACY=1 in the environment.
   */
  | { kind: 'layers'; lowers: readonly string[]; upper?: { upper: string; work: string }; legacyOverlay?: boolean; flatten?: boolean };

export type Id = number | bigint;

export interface PlanRequest {
  image: PlanImage;
  /** Absolute host directory the container mounts its private stage tmpfs on. */
  stage: string;
  /** The namespaces shared with husk (the flags as typed); the core decides the set (PlanSummary.newNamespaces). */
  share?: NamespaceShare;
  /** The container's id: a new UTS namespace without `hostname` is named by its first 12 characters. */
  id?: string;
  /** As typed (-h); needs a new UTS namespace. */
  hostname?: string;
  /** KEY=VALUE, in order; a later entry wins. */
  env?: readonly string[];
  /** Absolute; default `/`. */
  workdir?: string;
  /**
   * -u: the uid, the group as typed (`gid`) and the user's passwd entry's group
   * (`primaryGid`); the core picks the gid (typed, else primary, else 0). Without `user`: 0:0
   * (keep-id: the caller's ids).
   */
  user?: { uid: Id; gid?: Id; primaryGid?: Id };
  argv: readonly string[];
  /**
   * The user-namespace facts (ts/core/idmap.ts UsernsFacts): --userns as typed (`host`, `auto`
   * with its size as typed, `keep-id`), --uidmap/--gidmap, the caller, the subordinate files.
   * The core decides whether the container gets a user namespace and its maps
   * (PlanSummary.userns); absent: as `--userns host` without maps (none).
   */
  userns?: UsernsFacts;
  /** Host id ranges others hold, avoided by `userns: auto`. */
  usedRanges?: readonly { start: Id; size: Id }[];
  /** A new time namespace (--timens): a clock without an offset gets 0. */
  timens?: boolean;
  /** Seconds added to the clocks in a new time namespace (negative allowed), as typed. */
  timeOffsets?: { monotonic?: Id; boottime?: Id };
  trace?: boolean;
  dieWithParent?: boolean;
  /** The container dies with its monitor (PR_SET_PDEATHSIG), the monitor not with husk: run -d. */
  diesWithMonitor?: boolean;
  /** Stop the container right before EXEC until the orchestrator sends START (WAIT_START). */
  waitStart?: boolean;
  /** The container's cgroups (docs/core-abi.md "cgroups"). */
  cgroup?: PlanCgroup;
  /** Where the launcher leaves its last events (CGROUP_FILE…, EXIT) for a later husk. */
  statusFile?: string;
  /**
   * Namespaces joined instead of made (`--net ns:NAME`, `--net container:OTHER`, `--pod`):
   * pinned files with their CLONE_NEW* type, and another container's process with the types
   * taken from it (items 0x0187, 0x0188: assembly/plan/joins.ts).
   */
  joins?: { files: { nstype: bigint; path: string }[]; process?: { flags: bigint; pid: number; startTime: string } };
  /** The file the monitor writes the container's output to, as CRI lines (docs/protocol.md "The container log"). */
  logFile?: string;
  /** With logFile: a pty of this size instead of the output pipes. */
  tty?: { rows: number; cols: number };
  /** With logFile: the socket `husk attach` joins; stdin kept open (-i); the container waits for the first client. */
  attach?: { path: string; stdin: boolean; waitClient: boolean };
  /** An image's config: `argv` is then the arguments typed after IMAGE (may be empty). */
  imageConfig?: ImageConfigFacts;
  /** --entrypoint as typed ('' clears the image's); needs imageConfig. */
  entrypoint?: string;
  /** The overlay's upper and work directories on disk (made by ts/), kept after the run. */
  keepLayer?: { upper: string; work: string };
  /** The seccomp filter (items 0x0300–0x0305): absent, husk's default (docker's profile). */
  seccomp?: SeccompChoice;
  /** The host's kernel release (uname -r): a profile's minKernel conditions compare it. */
  kernel?: string;
  /** --cap-add, --cap-drop as typed, --privileged, and husk's own bounding set (item 0x0307). */
  capabilities?: { privileged: boolean; bounding: bigint; add: readonly string[]; drop: readonly string[] };
  /** --ulimit, --sysctl as typed; --oom-score-adj; --group-add gids; --tmpfs target and options (items 0x030a–0x030e). */
  /** --device: the host's node (resolved, checked to be a device), its path inside, r/w/m (item 0x032f). */
  devices?: readonly { host: string; container: string; perms: string; kind: 'b' | 'c'; major: number; minor: number }[];
  /** --privileged: every character and block node under the host's /dev, path below /dev (item 0x0337). */
  hostDevices?: readonly { path: string; kind: 'b' | 'c' }[];
  runOptions?: { ulimits?: readonly string[]; sysctls?: readonly string[]; oomScoreAdj?: number; groups?: readonly number[]; tmpfs?: readonly { target: string; options: string }[]; readOnly?: boolean };
  /** --init: husk's init is the container's pid 1 (reaps, forwards signals; docs/protocol.md "husk's init"). */
  init?: boolean;
  /** The network the container is attached to (items 0x0344–0x0348; ts/core/network.ts). */
  network?: NetAttach;
  /** User-mode networking by pasta, and the ports it publishes (items 0x0363–0x0364; ts/network/usermode.ts). */
  usermode?: { program: string; ports: readonly { hostIp: string; hostPort: number; port: number; proto: string }[] };
}

/** A network as its record has it, the addresses others hold, and what the flags ask. */
export interface NetAttach {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  internal?: boolean;
  /** Addresses leased to other containers (the core picks the lowest one not among them). */
  used: readonly string[];
  /** --ip as typed. */
  ip?: string;
  /** Where ts/ writes hosts, hostname and resolv.conf (bound over the image's). */
  filesDir?: string;
  nameservers?: readonly string[];
  search?: readonly string[];
  /** -p: host address ('' for any), host port, container port, tcp|udp. */
  ports?: readonly { hostIp: string; hostPort: number; port: number; proto: string }[];
  /** --name ('' without one) and --network-alias, as typed (item 0x0349: the names it answers to). */
  names?: { name: string; aliases: readonly string[] };
  /** --dns, --add-host, --mac-address as typed (item 0x034c). */
  options?: { dns: readonly string[]; addHosts: readonly string[]; mac: string };
  /** -P: the host ports in use (item 0x034d, 1024 a frame); undefined without -P. */
  busyPorts?: readonly number[];
  /** A dual-stack network's IPv6 subnet and gateway (item 0x035c); undefined: IPv4 only. */
  subnet6?: string;
  gateway6?: string;
  /** IPv6 addresses leased to other containers (item 0x035d). */
  used6?: readonly string[];
  /** --ip6 as typed. */
  ip6?: string;
}

export interface PlanCgroupHierarchy {
  version: 1 | 2;
  mountpoint: string;
  /** v1: the controllers bound to it (`name=X` for a named one); v2: the usable controllers. */
  controllers: readonly string[];
}

export interface PlanCgroup {
  /** Relative to each hierarchy's mount, e.g. `husk` or `a/b`. */
  parent: string;
  /** The container's own directory under parent (its id). */
  name: string;
  rootless?: boolean;
  /** Rootless v2: the delegated cgroup (relative) from which husk may enable controllers. */
  delegate?: string;
  /** Rootless: the user owns no cgroup (no delegated subtree); the core refuses limits, or makes none. */
  notDelegated?: boolean;
  hierarchies: readonly PlanCgroupHierarchy[];
  /** Docker flag names without `--` and the values as typed (device paths as MAJ:MIN). */
  limits: readonly { name: string; value: string }[];
  host: { cpus: number; mems: number; flags: number; cpusetCpus: string; cpusetMems: string };
}

/**
 * The core refused a request. status 2: a value the user gave (exit 125, message starts with
 * the field; a second line, when the core gives one, is a hint); status 1: the request was
 * malformed, a bug in ts/.
 */
export class CoreError extends HuskError {
  readonly status: 1 | 2;
  readonly field: string;
  readonly reason: string;

  constructor(status: 1 | 2, answer: string) {
    const newline = status === 2 ? answer.indexOf('\n') : -1;
    const reason = newline < 0 ? answer : answer.slice(0, newline);
    super(
      status === 2 ? 'invalid-value' : 'internal',
      status === 2 ? reason : `internal error: malformed request to the policy core: ${reason}`,
      { hint: newline < 0 ? undefined : answer.slice(newline + 1) },
    );
    this.name = 'CoreError';
    this.status = status;
    this.reason = reason;
    const colon = reason.indexOf(':');
    this.field = colon < 0 ? reason : reason.slice(0, colon);
  }
}

const decoder = new TextDecoder();
const U64_MAX = (1n << 64n) - 1n;

/**
 * Writes request frames, refusing what the frames cannot carry with status 2. Every frame goes
 * straight into one FrameWriter buffer (reused from call to call): a string is encoded once,
 * and its UTF-8 length is what the writer wrote.
 */
export class RequestWriter {
  private readonly w = new FrameWriter();
  /** Where the open frame's payload starts. */
  private start = 0;
  private field = '';

  reset(): this {
    this.w.reset();
    return this;
  }

  begin(field: string, type: number): this {
    this.field = field;
    this.w.begin(type);
    this.start = this.w.length;
    return this;
  }

  u64(value: Id | boolean, what = this.field): this {
    if (typeof value === 'boolean') this.w.u64(value ? 1 : 0);
    else if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) this.w.u64(value);
    else this.w.u64(this.whole(value, what));
    return this;
  }

  u64s(values: readonly Id[]): this {
    const whole = values.map((v) => this.whole(v, this.field));
    this.w.u64s(whole);
    return this;
  }

  /** A signed 64-bit value, sent in two's complement. */
  i64(value: Id, what = this.field): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) this.refuse(`${what}: ${value} is not a whole number`);
    const v = BigInt(value);
    if (v < -(1n << 63n) || v >= 1n << 63n) this.refuse(`${what}: ${v} out of range`);
    this.w.u64(BigInt.asUintN(64, v));
    return this;
  }

  str(value: string, max: number = STR_MAX): this {
    this.checkStr(value, max);
    const at = this.w.length;
    this.w.str(value);
    if (this.w.length - at - 4 > max) this.tooLong(max);
    return this;
  }

  strs(values: readonly string[], max: number = STR_MAX): this {
    if (values.length > STRS_MAX) this.refuse(`${this.field}: ${values.length} entries (at most ${STRS_MAX})`);
    // Every entry is checked before any is written: the first bad one is reported.
    for (const v of values) {
      this.checkStr(v, max);
      // Over the bound in UTF-8 though not in UTF-16 units (3 bytes a unit at most)?
      if (v.length * 3 > max && Buffer.byteLength(v, 'utf8') > max) this.tooLong(max);
    }
    this.w.strs(values);
    return this;
  }

  end(): void {
    const bytes = this.w.length - this.start;
    if (bytes > FRAME_PAYLOAD_MAX) this.refuse(`${this.field}: ${bytes} bytes in all (at most ${FRAME_PAYLOAD_MAX})`);
    this.w.end();
  }

  /** Frames made elsewhere (ts/core/idmap.ts), already checked. */
  raw(frames: readonly Uint8Array[]): void {
    for (const f of frames) this.w.raw(f);
  }

  /** Every frame, as a view of the writer's buffer: valid until the next reset. */
  view(): Uint8Array {
    return this.w.view();
  }

  private whole(value: Id, what: string): bigint {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) this.refuse(`${what}: ${value} is not a whole number`);
    const v = BigInt(value);
    if (v < 0n || v > U64_MAX) this.refuse(`${what}: ${v} out of range`);
    return v;
  }

  /** A NUL, or more UTF-16 units than `max` bytes (UTF-8 never takes fewer bytes than units). */
  private checkStr(value: string, max: number): void {
    if (value.includes('\0')) this.refuse(`${this.field}: contains a NUL byte`);
    if (value.length > max) this.tooLong(max);
  }

  private tooLong(max: number): never {
    this.refuse(`${this.field}: longer than ${max} bytes`);
  }

  private refuse(reason: string): never {
    throw new CoreError(2, reason);
  }
}

/** Reused from call to call; a new one after a large request, so its buffer is not kept. */
let requestWriter = new RequestWriter();

/** The request frames of docs/core-abi.md for `req` (exported for tests). */
export function encodeRequest(req: PlanRequest): Uint8Array {
  const request = encodeInto(requestWriter.reset(), req).view().slice();
  if (request.length > 1 << 16) requestWriter = new RequestWriter();
  return request;
}

function namespaceBits(req: PlanRequest): number {
  const s = req.share;
  let bits = 0;
  if (s === undefined) return bits;
  if (s.pid) bits |= NAMESPACE_BITS.pid;
  if (s.net) bits |= NAMESPACE_BITS.net;
  if (s.ipc) bits |= NAMESPACE_BITS.ipc;
  if (s.uts) bits |= NAMESPACE_BITS.uts;
  if (s.cgroup) bits |= NAMESPACE_BITS.cgroup;
  return bits;
}

/** Encodes `req` into `w`; the frames are `w.view()`. */
function encodeInto(w: RequestWriter, req: PlanRequest): RequestWriter {
  const image = req.image;
  if (image.kind === 'host') {
    w.begin('image', REQUEST.IMAGE).u64(1).str('').u64(0).end();
    for (const d of image.hostDirs ?? []) {
      w.begin('host-dir', REQUEST.HOST_DIR).str(d.name).u64(d.kind === 'dir' ? 1 : 2).str(d.kind === 'dir' ? '' : (d.target ?? ''), PATH_MAX).end();
    }
    for (const d of image.hostEntries ?? []) {
      w.begin('host-entry', REQUEST.HOST_ENTRY).str(d.name).u64(d.kind === 'dir' ? 1 : 2).str(d.kind === 'dir' ? '' : (d.target ?? ''), PATH_MAX).end();
    }
  } else if (image.kind === 'layers') {
    w.begin('image', REQUEST.IMAGE).u64(3).str('').u64(0).end();
    for (const lower of image.lowers) w.begin('layer', REQUEST.LAYER).str(lower, PATH_MAX).end();
    if (image.upper !== undefined) w.begin('upper', REQUEST.UPPER).str(image.upper.upper, PATH_MAX).str(image.upper.work, PATH_MAX).end();
    if (image.legacyOverlay ?? process.env.HUSK_OVERLAY_LEGACY === '1') w.begin('overlay', REQUEST.OVERLAY_OPTIONS).u64(1).end();
  } else {
    w.begin('rootfs', REQUEST.IMAGE).u64(2).str(image.path, PATH_MAX).u64(image.readwrite === true).end();
  }
  // 0x0330: the flatten fallback (assembly/plan/flatten.ts).
  if (image.kind !== 'host' && image.flatten === true) w.begin('flatten', 0x0330).u64(1).end();
  w.begin('stage', REQUEST.STAGE).str(req.stage, PATH_MAX).end();
  w.begin('namespaces', REQUEST.NAMESPACES).u64(namespaceBits(req)).end();
  for (const j of req.joins?.files ?? []) w.begin('join', 0x0187).u64(j.nstype).str(j.path, PATH_MAX).end();
  const jp = req.joins?.process;
  if (jp) w.begin('join', 0x0188).u64(jp.flags).u64(jp.pid).u64(/^\d{1,20}$/.test(jp.startTime) ? BigInt(jp.startTime) : 0n).end();
  if (req.id !== undefined) w.begin('id', REQUEST.ID).str(req.id).end();
  if (req.hostname !== undefined) w.begin('hostname', REQUEST.HOSTNAME).str(req.hostname).end();
  if (req.env !== undefined && req.env.length > 0) w.begin('env', REQUEST.ENV).strs(req.env).end();
  if (req.workdir !== undefined) w.begin('workdir', REQUEST.WORKDIR).str(req.workdir, PATH_MAX).end();
  const u = req.user;
  if (u !== undefined) {
    const known = (u.gid !== undefined ? 1 : 0) | (u.primaryGid !== undefined ? 2 : 0);
    w.begin('user', REQUEST.USER).u64(u.uid, 'user: uid').u64(u.gid ?? 0, 'user: gid').u64(u.primaryGid ?? 0, 'user: gid').u64(known).end();
  }
  w.begin('argv', REQUEST.ARGV).strs(req.argv).end();
  if (req.userns !== undefined) w.raw(idmapFrames(req.userns, req.usedRanges));
  else for (const r of req.usedRanges ?? []) w.begin('used-range', REQUEST.USED_RANGE).u64(r.start).u64(r.size).end();
  const t = req.timeOffsets;
  if (t?.monotonic !== undefined) w.begin('time-offset', REQUEST.TIME_OFFSET).u64(CLOCK.monotonic).i64(t.monotonic).end();
  if (t?.boottime !== undefined) w.begin('time-offset', REQUEST.TIME_OFFSET).u64(CLOCK.boottime).i64(t.boottime).end();
  const cg = req.cgroup;
  if (cg !== undefined) {
    w.begin('cgroup-parent', REQUEST.CGROUP).str(cg.parent, PATH_MAX).str(cg.name).u64((cg.rootless === true ? 1 : 0) | (cg.notDelegated === true ? 2 : 0)).str(cg.delegate ?? '', PATH_MAX).end();
    for (const h of cg.hierarchies) w.begin('cgroup-hierarchy', REQUEST.CGROUP_HIERARCHY).u64(h.version).str(h.mountpoint, PATH_MAX).strs(h.controllers, 64).end();
    for (const l of cg.limits) w.begin(l.name, REQUEST.CGROUP_LIMIT).str(l.name, 64).str(l.value, PATH_MAX).end();
    const host = cg.host;
    w.begin('cgroup-host', REQUEST.CGROUP_HOST).u64(host.cpus).u64(host.mems).u64(host.flags).str(host.cpusetCpus).str(host.cpusetMems).end();
  }
  if (req.statusFile !== undefined) w.begin('status-file', REQUEST.STATUS_FILE).str(req.statusFile, PATH_MAX).end();
  if (req.logFile !== undefined) w.begin('log', REQUEST.LOG).str(req.logFile, PATH_MAX).end();
  if (req.tty !== undefined) w.begin('tty', REQUEST.TTY).u64(req.tty.rows).u64(req.tty.cols).end();
  if (req.attach !== undefined) w.begin('attach', REQUEST.ATTACH).str(req.attach.path, PATH_MAX).u64((req.attach.stdin ? 1 : 0) | (req.attach.waitClient ? 2 : 0)).end();
  if (req.imageConfig !== undefined) imageConfigFrames(w, req.imageConfig, req.entrypoint);
  if (req.network !== undefined) netFrames(w, req.network);
  if (req.usermode !== undefined) {
    w.begin('network', 0x0363).str(req.usermode.program, PATH_MAX).end();
    for (const p of req.usermode.ports) w.begin('publish', 0x0364).str(p.hostIp, 64).u64(p.hostPort).u64(p.port).str(p.proto, 16).end();
  }
  if (req.keepLayer !== undefined) w.begin('keep-layer', REQUEST.KEEP_LAYER).str(req.keepLayer.upper, PATH_MAX).str(req.keepLayer.work, PATH_MAX).end();
  const ro = req.runOptions;
  for (const u of ro?.ulimits ?? []) w.begin('ulimit', REQUEST.ULIMIT).str(u).end();
  for (const c of ro?.sysctls ?? []) w.begin('sysctl', REQUEST.SYSCTL).str(c).end();
  if (ro?.oomScoreAdj !== undefined) w.begin('oom-score-adj', REQUEST.OOM_SCORE_ADJ).i64(ro.oomScoreAdj).end();
  if (ro?.groups !== undefined && ro.groups.length > 0) {
    if (ro.groups.length > 1024) throw new CoreError(2, `group-add: ${ro.groups.length} groups (at most 1024)`);
    w.begin('group-add', REQUEST.GROUP_ADD).u64s(ro.groups).end();
  }
  for (const t of ro?.tmpfs ?? []) w.begin('tmpfs', REQUEST.TMPFS).str(t.target, PATH_MAX).str(t.options).end();
  for (const d of req.hostDevices ?? []) w.begin('privileged', REQUEST.HOST_DEVICE).str(d.path, PATH_MAX - 5).str(d.kind).end();
  for (const d of req.devices ?? []) w.begin('device', REQUEST.DEVICE).str(d.host, PATH_MAX).str(d.container, PATH_MAX).str(d.perms.slice(0, 8)).str(d.kind).u64(d.major).u64(d.minor).end();
  if (ro?.readOnly === true) w.begin('read-only', REQUEST.READ_ONLY).end();
  const caps = req.capabilities;
  if (caps !== undefined) w.begin('cap-add', REQUEST.CAPABILITIES).u64(caps.privileged ? 1 : 0).u64(caps.bounding).strs(caps.add).strs(caps.drop).end();
  if (req.seccomp !== undefined || req.kernel !== undefined) w.raw(seccompFrames(req.seccomp ?? { mode: 'default' }, req.kernel));
  if (req.init === true) w.begin('init', REQUEST.INIT).u64(0).end();
  const options = (req.trace ? 1 : 0) | (req.dieWithParent ? 2 : 0) | (req.waitStart ? 4 : 0) | (req.timens ? 8 : 0) | (req.diesWithMonitor ? 16 : 0);
  if (options !== 0) w.begin('options', REQUEST.OPTIONS).u64(options).end();
  return w;
}

/** The image's config items (docs/core-abi.md "Image config"), each only when the image has it. */
/** The NET items of a container on a network (0x0344–0x0349), for buildPlan and networkConnect. */
export function netFrames(w: RequestWriter, n: NetAttach): void {
  w.begin('network', 0x0344).str(n.name).str(n.bridge).str(n.subnet).str(n.gateway).u64(n.internal === true).end();
  for (let i = 0; i < n.used.length; i += 4096) w.begin('network', 0x0345).strs(n.used.slice(i, i + 4096), 64).end();
  if (n.ip !== undefined) w.begin('ip', 0x0346).str(n.ip, 64).end();
  if (n.filesDir !== undefined) w.begin('network', 0x0347).str(n.filesDir, PATH_MAX - 16).strs(n.nameservers ?? [], 256).strs(n.search ?? [], 256).end();
  for (const p of n.ports ?? []) w.begin('publish', 0x0348).str(p.hostIp, 64).u64(p.hostPort).u64(p.port).str(p.proto, 16).end();
  if (n.names !== undefined) w.begin('network-alias', 0x0349).str(n.names.name).strs(n.names.aliases, 256).end();
  const o = n.options;
  if (n.busyPorts !== undefined) {
    w.begin('publish-all', 0x034d).u64s(n.busyPorts.slice(0, 1024)).end();
    for (let i = 1024; i < n.busyPorts.length; i += 1024) w.begin('publish-all', 0x034d).u64s(n.busyPorts.slice(i, i + 1024)).end();
  }
  if (o !== undefined && (o.dns.length > 0 || o.addHosts.length > 0 || o.mac !== '')) w.begin('network-options', 0x034c).strs(o.dns, 64).strs(o.addHosts, 512).str(o.mac, 64).end();
  // IPv6: the network's subnet (empty when it has none: the core refuses --ip6 by name).
  if (n.subnet6 !== undefined || n.ip6 !== undefined) w.begin('ip6', 0x035c).str(n.subnet6 ?? '').str(n.gateway6 ?? '').str(n.ip6 ?? '', 64).end();
  const used6 = n.used6 ?? [];
  for (let i = 0; i < used6.length; i += 4096) w.begin('network', 0x035d).strs(used6.slice(i, i + 4096), 64).end();
}

function imageConfigFrames(w: RequestWriter, c: ImageConfigFacts, entrypoint: string | undefined): void {
  if (c.entrypoint !== undefined) w.begin('entrypoint', REQUEST.IMAGE_ENTRYPOINT).strs(c.entrypoint).end();
  // Always sent (a null Cmd is an empty one to docker): it says the request has a config.
  w.begin('cmd', REQUEST.IMAGE_CMD).strs(c.cmd ?? []).end();
  if (c.env !== undefined && c.env.length > 0) w.begin('env', REQUEST.IMAGE_ENV).strs(c.env).end();
  if (c.workdir !== undefined && c.workdir !== '') w.begin('workdir', REQUEST.IMAGE_WORKDIR).str(c.workdir, PATH_MAX).end();
  const u = c.user;
  if (u !== undefined && u.spec !== '') {
    w.begin('user', REQUEST.IMAGE_USER).str(u.spec);
    if ('problem' in u) w.u64(0).u64(0).u64(0).u64(4).str(u.problem);
    else w.u64(u.uid, 'user: uid').u64(u.gid ?? 0, 'user: gid').u64(u.primaryGid ?? 0, 'user: gid').u64((u.gid !== undefined ? 1 : 0) | (u.primaryGid !== undefined ? 2 : 0)).str('');
    w.end();
  }
  if (c.stopSignal !== undefined && c.stopSignal !== '') w.begin('stop-signal', REQUEST.IMAGE_STOP_SIGNAL).str(c.stopSignal).end();
  if (c.exposedPorts !== undefined && c.exposedPorts.length > 0) w.begin('exposed-ports', REQUEST.IMAGE_EXPOSED_PORTS).strs(c.exposedPorts).end();
  if (entrypoint !== undefined) w.begin('entrypoint', REQUEST.ENTRYPOINT).str(entrypoint).end();
}

/** The summary frames ahead of the plan in buildPlan's answer (docs/core-abi.md "The summary"). */
export const ANSWER = {
  SUMMARY: 0x01a0,
  CGROUP_DIR: 0x01a1,
  HOST_RANGE: 0x01a2,
  USERNS_RANGE: 0x01a3,
  COMMAND: 0x01a4,
  STOP_SIGNAL: 0x01a5,
  EXPOSED_PORT: 0x01a6,
  NET_CHOSEN: 0x0352,
  NET_FILE: 0x0353,
  NET_PORTS: 0x0354,
  NET_DNS: 0x0355,
  NET_PUBLISHED: 0x0357,
  NET_CHOSEN6: 0x035e,
  USERNS_NOTE: 0x0370,
  USERNS_CHOICE: 0x0371,
  OCI_WARNING: 0x03a0,
} as const;

/** What the core chose for a container on a network (docs/core-abi.md "Networks"). */
export interface NetChosen {
  network: string;
  address: string;
  prefix: number;
  mac: string;
  veth: string;
  gateway: string;
  /** hosts, hostname, resolv.conf: the text ts/ writes before the launcher binds them. */
  files: { name: string; content: string }[];
  /**
   * The control plan (hex) that deletes the ports' nft elements: the plan's NFT_ELEMENTS
   * adds them and the monitor deletes them at the end; this is for a monitor that was killed.
   */
  ports?: { unpublish: string };
  /** On a network with names: where husk-dns listens, where it forwards, and this container's line of its records. */
  dns?: { listen: string; upstreams: string[]; record: string };
  /** Every port published (-p and -P), as `husk port` shows them. */
  published?: { hostIp: string; hostPort: number; port: number; proto: string }[];
  /** On a dual-stack network: its IPv6 address, prefix and gateway. */
  address6?: string;
  prefix6?: number;
  gateway6?: string;
}

export interface IdRange {
  start: number;
  size: number;
}

/** What the core chose that ts/ keeps about a container (never read back from the plan). */
export interface PlanSummary {
  /** CLONE_NEW* bits of the namespaces the container gets new (TIME included); the others it shares with husk. */
  newNamespaces: bigint;
  /** The core made a user namespace (CLONE_NEWUSER in newNamespaces): hostRanges are its maps'. */
  userns: boolean;
  /** The host name set in the container; undefined when it keeps the host's. */
  hostname?: string;
  /** The container's own cgroup directories (removed at its end), one per hierarchy. */
  cgroupDirs: string[];
  /** Every host id range its uid and gid maps take (empty without a user namespace). */
  hostRanges: IdRange[];
  /** The first uid line's host range (for --userns auto, the range the core picked). */
  usernsRange?: IdRange;
  /** Rootless with a single-id map: what that limits, one line for people (husk prints it as a note). */
  usernsNote?: string;
  /** `--userns auto`: where its ids came from (the core's words, for `husk plan`). */
  usernsChoice?: string;
  /** ociPlan: what of config.json it ignored, as runc ignores it (husk-runc prints each as a warning). */
  warnings?: string[];
  /** With an image config: the command run (entrypoint and arguments, merged as docker does). */
  command?: string[];
  /** With an image config: the image's StopSignal (SIGTERM when it has none). */
  stopSignal?: { number: number; name: string };
  /** With an image config: its ExposedPorts, as `PORT/PROTO`. */
  exposedPorts?: string[];
  /** On a network: its address, MAC, veth, files. */
  net?: NetChosen;
}

export interface PlanAnswer {
  /** The plan, exactly as the launcher reads it (HELLO … END): a view of the answer. */
  plan: Uint8Array;
  /** Decoded on first use (the warm API's run() never asks). */
  readonly summary: PlanSummary;
}

/** Where the plan starts in an answer: SUMMARY's first field. */
function planOffset(answer: Uint8Array): number {
  const view = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
  if (answer.length < 16 || view.getUint16(4, true) !== ANSWER.SUMMARY) throw new CoreError(1, 'answer: no SUMMARY frame first');
  const offset = Number(view.getBigUint64(8, true));
  if (offset > answer.length) throw new CoreError(1, `answer: plan offset ${offset} beyond ${answer.length} bytes`);
  return offset;
}

const range = (r: FieldReader): IdRange => ({ start: Number(r.u64()), size: Number(r.u64()) });

/** The summary frames (before the plan). */
export function decodeSummary(frames: Uint8Array): PlanSummary {
  const out: PlanSummary = { newNamespaces: 0n, userns: false, cgroupDirs: [], hostRanges: [] };
  let at = 0;
  for (;;) {
    const f = readFrameAt(frames, at);
    if (f === null) break;
    at = f.next;
    const r = new FieldReader(f.frame.payload);
    switch (f.frame.type) {
      case ANSWER.SUMMARY: {
        r.u64();
        out.newNamespaces = r.u64();
        out.userns = (out.newNamespaces & CLONE_NEWUSER) !== 0n;
        const hostname = r.str();
        if (hostname !== '') out.hostname = hostname;
        break;
      }
      case ANSWER.CGROUP_DIR:
        out.cgroupDirs.push(r.str());
        break;
      case ANSWER.HOST_RANGE:
        out.hostRanges.push(range(r));
        break;
      case ANSWER.USERNS_RANGE:
        out.usernsRange = range(r);
        out.userns = true; // a joined user namespace (--userns ns:NAME) is not among the new ones
        break;
      case ANSWER.USERNS_NOTE:
        out.usernsNote = r.str();
        break;
      case ANSWER.USERNS_CHOICE:
        out.usernsChoice = r.str();
        break;
      case ANSWER.OCI_WARNING:
        (out.warnings ??= []).push(r.str());
        break;
      case ANSWER.COMMAND:
        out.command = r.strs();
        break;
      case ANSWER.STOP_SIGNAL:
        out.stopSignal = { number: Number(r.u64()), name: r.str() };
        break;
      case ANSWER.EXPOSED_PORT:
        (out.exposedPorts ??= []).push(r.str());
        break;
      case ANSWER.NET_CHOSEN:
        out.net = { network: r.str(), address: r.str(), prefix: Number(r.u64()), mac: r.str(), veth: r.str(), gateway: r.str(), files: [] };
        break;
      case ANSWER.NET_FILE:
        out.net?.files.push({ name: r.str(), content: r.str() });
        break;
      case ANSWER.NET_PORTS:
        if (out.net) out.net.ports = { unpublish: r.str() };
        break;
      case ANSWER.NET_PUBLISHED:
        if (out.net) (out.net.published ??= []).push({ hostIp: r.str(), hostPort: Number(r.u64()), port: Number(r.u64()), proto: r.str() });
        break;
      case ANSWER.NET_CHOSEN6:
        if (out.net) Object.assign(out.net, { address6: r.str(), prefix6: Number(r.u64()), gateway6: r.str() });
        break;
      case ANSWER.NET_DNS:
        if (out.net) out.net.dns = { listen: r.str(), upstreams: r.strs(), record: r.str() };
        break;
    }
  }
  return out;
}

/** Splits buildPlan's answer into the plan (a view) and its summary (decoded when asked). */
export function splitAnswer(answer: Uint8Array): PlanAnswer {
  const offset = planOffset(answer);
  let summary: PlanSummary | undefined;
  return {
    plan: answer.subarray(offset),
    get summary(): PlanSummary {
      return (summary ??= decodeSummary(answer.subarray(0, offset)));
    },
  };
}

/**
 * Calls the core's buildPlan on request frames as they are (for tests and fuzzing). On status
 * 0, `bytes` is the plan alone and `summary` what came before it; else the reason.
 */
export function buildPlanRaw(request: Uint8Array): { status: 0 | 1 | 2; bytes: Uint8Array; summary?: PlanSummary } {
  const answer = call('buildPlan', request);
  if (answer.status !== 0) return answer;
  const split = splitAnswer(answer.bytes);
  return { status: 0, bytes: split.plan, summary: split.summary };
}

/** The plan for `req` and the core's summary of it. Throws CoreError. */
export function buildPlanAnswer(req: PlanRequest): PlanAnswer {
  // The frames go to the core straight from the writer's buffer (call() copies them in).
  const request = encodeInto(requestWriter.reset(), req).view();
  if (request.length > 1 << 16) requestWriter = new RequestWriter();
  const answer = call('buildPlan', request);
  if (answer.status === 0) return splitAnswer(answer.bytes);
  throw new CoreError(answer.status, decoder.decode(answer.bytes));
}

/**
 * The request frames of `req` without its network: kept with a container on a network, so a
 * later start can ask the core again with another address (ts/network/replan.ts).
 */
export function encodeWithoutNetwork(req: PlanRequest): Uint8Array {
  return encodeRequest({ ...req, network: undefined });
}

/** buildPlanAnswer for frames of encodeWithoutNetwork and a network (the core reads items in any order). */
export function buildPlanAnswerWith(frames: Uint8Array, net: NetAttach): PlanAnswer {
  const w = requestWriter.reset();
  w.raw([frames]);
  netFrames(w, net);
  const request = w.view();
  if (request.length > 1 << 16) requestWriter = new RequestWriter();
  const answer = call('buildPlan', request);
  if (answer.status === 0) return splitAnswer(answer.bytes);
  throw new CoreError(answer.status, decoder.decode(answer.bytes));
}

/** The plan alone, exactly as the launcher reads it (HELLO … END). Throws CoreError. */
export function buildPlan(req: PlanRequest): Uint8Array {
  return buildPlanAnswer(req).plan;
}
