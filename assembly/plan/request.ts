// The buildPlan request (docs/core-abi.md): decoding (status 1 when a frame is not what the
// document says) and validation (status 2 when a value the user gave is refused; the reason
// starts with the field, as the user knows it).

import { Failure, invalid, malformed } from "../abi";
import { FrameReader, Fields, PATH_MAX, STR_MAX } from "../codec";
import { checkIdmapShape, decideMode, decodeIdmapItem, IdmapRequest, isIdmapItem, MODE_KEEP_ID, MODE_NONE } from "../idmap/request";
import { CgroupRequest, checkCgroupShape, decodeCgroupFrame, isCgroupItem, validateCgroup } from "./cgroup";
import { decodeKeepLayerItem, isKeepLayerItem, KeptLayer } from "./keep-layer";
import { decodeFlattenItem, Flatten, isFlattenItem } from "./flatten";
import { decodeLifecycleItem, isLifecycleItem, LifecycleRequest } from "./lifecycle";
import { checkLayersShape, decodeLayersItem, IMAGE_LAYERS, isLayersItem, LayersRequest, validateLayers, validateLayersUserns } from "./layers";
import { decodeStdioFrame, isStdioItem, StdioRequest, validateStdio } from "./stdio";
import { decodeJoinFrame, isJoinItem, JoinRequest, joinsUser, validateJoins } from "./joins";
import { decideAddress, decodeNetFrame, isNetItem, NetRequest, publishExposed } from "../net/attach";
import { checkUsermode, decodeUsermodeFrame, isUsermodeItem, UsermodeRequest } from "../net/usermode";
import { REQ_SECCOMP_CAPS, SeccompRequest } from "../seccomp/items";
import { decodeSecurityItem, isSecurityItem, SecurityRequest } from "./security";
import { checkSysctls, decodeRunOptionItem, isRunOptionItem, RunOptions } from "./run-options";
import { checkHostDevices, decodeHostDevice, HostDevice, REQ_HOST_DEVICE } from "./host-devices";
import { checkRunDevices, decodeRunDevice, deviceCgroupRules, REQ_RUN_DEVICE, RunDevice } from "./devices";
import { checkImageConfig, decodeImageConfigItem, ImageConfig, IMAGE_USER_UNRESOLVED, isImageConfigItem, mergeCommand, mergeEnv } from "./image-config";
import {
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  ID_LIMIT,
  TIME_OFFSET_MAX,
} from "./linux";

export const REQ_IMAGE: u32 = 0x0101;
export const REQ_HOST_DIR: u32 = 0x0102;
export const REQ_STAGE: u32 = 0x0103;
export const REQ_NAMESPACES: u32 = 0x0104;
export const REQ_HOSTNAME: u32 = 0x0105;
export const REQ_ENV: u32 = 0x0106;
export const REQ_WORKDIR: u32 = 0x0107;
export const REQ_USER: u32 = 0x0108;
export const REQ_ARGV: u32 = 0x0109;
export const REQ_TIME_OFFSET: u32 = 0x010c;
export const REQ_OPTIONS: u32 = 0x010d;
export const REQ_ID: u32 = 0x010e;
export const REQ_HOST_ENTRY: u32 = 0x010f;

export const IMAGE_HOST: u64 = 1;
export const IMAGE_ROOTFS: u64 = 2;
export const HOST_DIR_DIRECTORY: u64 = 1;
export const HOST_DIR_SYMLINK: u64 = 2;
/** OPTIONS bit 2: the plan stops before EXEC until START (WAIT_START); not a HELLO flag. */
export const OPTION_WAIT_START: u64 = 4;
/** OPTIONS bit 3: a new time namespace (--timens); a clock without TIME_OFFSET gets 0. */
export const OPTION_TIMENS: u64 = 8;
/** OPTIONS bit 4: the container dies with its monitor (HELLO flag bit 2), for `run -d`. */
export const OPTION_DIES_WITH_MONITOR: u64 = 16;
export const OPTIONS_KNOWN: u64 = 31;

/**
 * NAMESPACES bits: what the flags keep of husk's own (`--pid host`, ...). Whether there is a
 * user namespace is not a bit: the core decides it from USERNS and IDMAP (decideMode).
 */
export const SHARE_PID: u64 = 1;
export const SHARE_NET: u64 = 2;
export const SHARE_IPC: u64 = 4;
export const SHARE_UTS: u64 = 8;
export const SHARE_CGROUP: u64 = 16;
export const NAMESPACE_BITS_KNOWN: u64 = 31;
/** The default host name is this many first characters of the container's id (docker's). */
export const SHORT_ID_LENGTH: i32 = 12;

export const HOST_DIRS_MAX: i32 = 64;
export const HOST_ENTRIES_MAX: i32 = 4096;

/**
 * The top-level host entries the built-in `host` image shows, in this order, of those the host
 * has (HOST_ENTRY): the programs and libraries, and /etc; nothing of the host's state.
 */
export const HOST_IMAGE_ENTRIES: string[] = ["usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
export const HOSTNAME_MAX: i32 = 64;

export class HostDir {
  constructor(public name: string, public kind: u64, public target: string) {}
}

export class PlanRequest {
  imageKind: u64 = 0;
  rootfs: string = "";
  readwrite: bool = false;
  hostDirs: HostDir[] = [];
  /** HOST_ENTRY facts: the host's top-level directories and symlinks (applyDefaults picks). */
  hostEntries: HostDir[] = [];
  stage: string = "";
  /** NAMESPACES as sent: the share bits (facts from the flags). */
  namespaceBits: u64 = 0;
  /** Decided by decideNamespaces: the CLONE_NEW* flags of the new namespaces. */
  namespaces: u64 = 0;
  hasId: bool = false;
  id: string = "";
  hasHostname: bool = false;
  hostname: string = "";
  env: string[] = [];
  hasWorkdir: bool = false;
  workdir: string = "/";
  hasUser: bool = false;
  uid: u64 = 0;
  gid: u64 = 0;
  hasArgv: bool = false;
  argv: string[] = [];
  /** Items 0x010a, 0x010b, 0x0110–0x011f: the user namespace's id maps (../idmap/). */
  idmap: IdmapRequest = new IdmapRequest();
  hasMonotonic: bool = false;
  monotonic: i64 = 0;
  hasBoottime: bool = false;
  boottime: i64 = 0;
  options: u64 = 0;
  /** Items 0x0140, 0x0141, 0x0146: a layered image's layers and upper (./layers.ts). */
  layers: LayersRequest = new LayersRequest();
  /** Items 0x0120–0x012f: the container's cgroups and the status file (./cgroup.ts). */
  cgroup: CgroupRequest = new CgroupRequest();
  /** Items 0x0160–0x016f: the container's stdio held by the monitor (./stdio.ts). */
  stdio: StdioRequest = new StdioRequest();
  /** Items 0x0344–0x0348: the container on a network (../net/attach.ts). */
  net: NetRequest = new NetRequest();
  /** Items 0x0363–0x0364: user-mode networking by pasta (../net/usermode.ts). */
  usermode: UsermodeRequest = new UsermodeRequest();
  /** Items 0x0187–0x0188: namespaces joined instead of made (./joins.ts). */
  joins: JoinRequest = new JoinRequest();
  /** Items 0x0150–0x015f: the image's config and --entrypoint (./image-config.ts). */
  image: ImageConfig = new ImageConfig();
  /** Items 0x0170–0x017f: a writable layer kept on disk (./keep-layer.ts). */
  keep: KeptLayer = new KeptLayer();
  /** Item 0x0330: copy the image instead of stacking it (./flatten.ts). */
  flatten: Flatten = new Flatten();
  /** Items 0x0300–0x0306: the seccomp profile (../seccomp/items.ts); none: docker's default. */
  seccomp: SeccompRequest = new SeccompRequest();
  /** Item 0x0307: --cap-add, --cap-drop, --privileged (./security.ts). */
  security: SecurityRequest = new SecurityRequest();
  /** Items 0x030a–0x030e: --ulimit, --sysctl, --oom-score-adj, --group-add, --tmpfs (./run-options.ts). */
  runOptions: RunOptions = new RunOptions();
  /** Item 0x032f: --device (./devices.ts). */
  devices: RunDevice[] = [];
  /** Item 0x0337: the host's device nodes, with --privileged (./host-devices.ts). */
  hostDevices: HostDevice[] = [];
  /** Items 0x0380–0x038f: husk's init (./lifecycle.ts). */
  lifecycle: LifecycleRequest = new LifecycleRequest();

  get userns(): bool {
    return this.idmap.mode != MODE_NONE;
  }

  get hasTimeOffset(): bool {
    return this.hasMonotonic || this.hasBoottime || (this.options & OPTION_TIMENS) != 0;
  }
}

function typeName(type: u32): string {
  switch (type) {
    case REQ_IMAGE: return "IMAGE";
    case REQ_HOST_DIR: return "HOST_DIR";
    case REQ_STAGE: return "STAGE";
    case REQ_NAMESPACES: return "NAMESPACES";
    case REQ_HOSTNAME: return "HOSTNAME";
    case REQ_ENV: return "ENV";
    case REQ_WORKDIR: return "WORKDIR";
    case REQ_USER: return "USER";
    case REQ_ARGV: return "ARGV";
    case REQ_TIME_OFFSET: return "TIME_OFFSET";
    case REQ_OPTIONS: return "OPTIONS";
    case REQ_ID: return "ID";
    case REQ_HOST_ENTRY: return "HOST_ENTRY";
  }
  return "";
}

/** Decodes one frame's fields into `req`; `f.failure` is set when the frame is malformed. */
function decodeFrame(type: u32, f: Fields, req: PlanRequest): void {
  switch (type) {
    case REQ_IMAGE: {
      req.imageKind = f.u64("kind");
      req.rootfs = f.str("path", PATH_MAX);
      const rw = f.u64("readwrite");
      if (!f.ok) return;
      if (req.imageKind != IMAGE_HOST && req.imageKind != IMAGE_ROOTFS && req.imageKind != IMAGE_LAYERS) {
        f.failure = malformed(f.context + ": kind: unknown value " + req.imageKind.toString());
      } else if (req.imageKind == IMAGE_LAYERS && (req.rootfs.length > 0 || rw != 0)) {
        f.failure = malformed(f.context + ": a layered image has no path and no readwrite (LAYER, UPPER frames)");
      } else if (rw > 1) {
        f.failure = malformed(f.context + ": readwrite: unknown value " + rw.toString());
      } else if (req.imageKind == IMAGE_HOST && req.rootfs.length > 0) {
        f.failure = malformed(f.context + ": path: must be empty for the host image");
      }
      req.readwrite = rw == 1;
      break;
    }
    case REQ_HOST_DIR: {
      const name = f.str("name", STR_MAX);
      const kind = f.u64("kind");
      const target = f.str("target", PATH_MAX);
      if (!f.ok) return;
      if (kind != HOST_DIR_DIRECTORY && kind != HOST_DIR_SYMLINK) {
        f.failure = malformed(f.context + ": kind: unknown value " + kind.toString());
      } else if (kind == HOST_DIR_DIRECTORY && target.length > 0) {
        f.failure = malformed(f.context + ": target: must be empty for a directory");
      }
      req.hostDirs.push(new HostDir(name, kind, target));
      break;
    }
    case REQ_HOST_ENTRY: {
      const name = f.str("name", STR_MAX);
      const kind = f.u64("kind");
      const target = f.str("target", PATH_MAX);
      if (!f.ok) return;
      if (kind != HOST_DIR_DIRECTORY && kind != HOST_DIR_SYMLINK) {
        f.failure = malformed(f.context + ": kind: unknown value " + kind.toString());
      } else if (req.hostEntries.length == HOST_ENTRIES_MAX) {
        f.failure = malformed(f.context + ": more than " + HOST_ENTRIES_MAX.toString() + " entries");
      }
      req.hostEntries.push(new HostDir(name, kind, target));
      break;
    }
    case REQ_STAGE:
      req.stage = f.str("path", PATH_MAX);
      break;
    case REQ_NAMESPACES: {
      req.namespaceBits = f.u64("flags");
      if (f.ok && (req.namespaceBits & ~NAMESPACE_BITS_KNOWN) != 0) {
        f.failure = malformed(f.context + ": flags: unknown bits 0x" + req.namespaceBits.toString(16));
      }
      break;
    }
    case REQ_ID:
      req.hasId = true;
      req.id = f.str("id", STR_MAX);
      break;
    case REQ_HOSTNAME:
      req.hasHostname = true;
      req.hostname = f.str("name", STR_MAX);
      break;
    case REQ_ENV:
      req.env = f.strs("entries", STR_MAX);
      break;
    case REQ_WORKDIR:
      req.hasWorkdir = true;
      req.workdir = f.str("path", PATH_MAX);
      break;
    case REQ_USER: {
      req.hasUser = true;
      req.uid = f.u64("uid");
      const gid = f.u64("gid");
      const primary = f.u64("primary-gid");
      const known = f.u64("known");
      if (!f.ok) return;
      if ((known & ~USER_KNOWN_ALL) != 0) {
        f.failure = malformed(f.context + ": known: unknown bits 0x" + known.toString(16));
        return;
      }
      req.gid = userGid(gid, primary, known);
      break;
    }
    case REQ_ARGV:
      req.hasArgv = true;
      req.argv = f.strs("args", STR_MAX);
      break;
    case REQ_TIME_OFFSET: {
      const clock = f.u64("clock");
      const seconds = <i64>f.u64("seconds");
      if (!f.ok) return;
      if (clock == CLOCK_MONOTONIC && !req.hasMonotonic) {
        req.hasMonotonic = true;
        req.monotonic = seconds;
      } else if (clock == CLOCK_BOOTTIME && !req.hasBoottime) {
        req.hasBoottime = true;
        req.boottime = seconds;
      } else if (clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME) {
        f.failure = malformed(f.context + ": clock " + clock.toString() + " given twice");
      } else {
        f.failure = malformed(f.context + ": clock: unknown value " + clock.toString());
      }
      break;
    }
    case REQ_OPTIONS: {
      req.options = f.u64("flags");
      if (f.ok && (req.options & ~OPTIONS_KNOWN) != 0) {
        f.failure = malformed(f.context + ": flags: unknown bits 0x" + req.options.toString(16));
      }
      break;
    }
    default:
      assert(false, "decodeFrame: type not checked");
  }
}

/** Decodes the request frames at `ptr` into `req`, or returns why they are malformed. */
export function decodeRequest(ptr: usize, len: i32, req: PlanRequest): Failure | null {
  const frames = new FrameReader(ptr, len);
  let seen: u32 = 0;
  while (frames.next()) {
    const type = frames.type;
    if (isCgroupItem(type)) {
      const failure = decodeCgroupFrame(type, frames.payload, frames.payloadLength, frames.index, req.cgroup);
      if (failure !== null) return failure;
      continue;
    }
    if (isJoinItem(type)) {
      const failure = decodeJoinFrame(type, frames.payload, frames.payloadLength, frames.index, req.joins);
      if (failure !== null) return failure;
      continue;
    }
    if (isNetItem(type)) {
      const failure = decodeNetFrame(type, frames.payload, frames.payloadLength, frames.index, req.net);
      if (failure !== null) return failure;
      continue;
    }
    if (isUsermodeItem(type)) {
      const failure = decodeUsermodeFrame(type, frames.payload, frames.payloadLength, frames.index, req.usermode);
      if (failure !== null) return failure;
      continue;
    }
    if (isStdioItem(type)) {
      const failure = decodeStdioFrame(type, frames.payload, frames.payloadLength, frames.index, req.stdio);
      if (failure !== null) return failure;
      continue;
    }
    if (isImageConfigItem(type)) {
      const failure = decodeImageConfigItem(type, frames.payload, frames.payloadLength, frames.index, req.image);
      if (failure !== null) return failure;
      continue;
    }
    if (isRunOptionItem(type)) {
      const failure = decodeRunOptionItem(type, frames.payload, frames.payloadLength, frames.index, req.runOptions);
      if (failure !== null) return failure;
      continue;
    }
    if (type == REQ_HOST_DEVICE) {
      const f = Fields.ofFrame(frames.payload, frames.payloadLength, frames.index, "HOST_DEVICE");
      const failure = decodeHostDevice(f, req.hostDevices);
      if (failure !== null) return failure;
      if (!f.finish()) return f.failure;
      continue;
    }
    if (type == REQ_RUN_DEVICE) {
      const f = Fields.ofFrame(frames.payload, frames.payloadLength, frames.index, "DEVICE");
      const failure = decodeRunDevice(f, req.devices);
      if (failure !== null) return failure;
      if (!f.finish()) return f.failure;
      continue;
    }
    if (isSecurityItem(type)) {
      const failure = decodeSecurityItem(frames.payload, frames.payloadLength, frames.index, req.security);
      if (failure !== null) return failure;
      continue;
    }
    if (req.seccomp.isItem(type)) {
      if (type == REQ_SECCOMP_CAPS) return malformed(frames.where() + ": SECCOMP_CAPS is seccompCompile's (buildPlan uses the container's capabilities)");
      const failure = req.seccomp.decode(type, frames.payload, frames.payloadLength, frames.index);
      if (failure !== null) return failure;
      continue;
    }
    if (isLifecycleItem(type)) {
      const failure = decodeLifecycleItem(type, frames.payload, frames.payloadLength, frames.index, req.lifecycle);
      if (failure !== null) return failure;
      continue;
    }
    if (isKeepLayerItem(type)) {
      const failure = decodeKeepLayerItem(type, frames.payload, frames.payloadLength, frames.index, req.keep);
      if (failure !== null) return failure;
      continue;
    }
    if (isFlattenItem(type)) {
      const failure = decodeFlattenItem(frames.payload, frames.payloadLength, frames.index, req.flatten);
      if (failure !== null) return failure;
      continue;
    }
    if (isLayersItem(type)) {
      const failure = decodeLayersItem(type, frames.payload, frames.payloadLength, frames.index, req.layers);
      if (failure !== null) return failure;
      continue;
    }
    if (isIdmapItem(type)) {
      const failure = decodeIdmapItem(type, frames.payload, frames.payloadLength, frames.index, req.idmap);
      if (failure !== null) return failure;
      continue;
    }
    const name = typeName(type);
    if (name.length == 0) return malformed(frames.where() + ": unknown type 0x" + type.toString(16));
    const bit: u32 = 1 << (type - REQ_IMAGE);
    const repeatable = type == REQ_HOST_DIR || type == REQ_TIME_OFFSET || type == REQ_HOST_ENTRY;
    if (!repeatable && (seen & bit) != 0) return malformed(frames.where() + " (" + name + "): given twice");
    seen |= bit;
    const fields = Fields.ofFrame(frames.payload, frames.payloadLength, frames.index, name);
    decodeFrame(type, fields, req);
    if (!fields.finish()) return fields.failure;
  }
  if (frames.failure !== null) return frames.failure;
  if ((seen & (1 << (REQ_IMAGE - REQ_IMAGE))) == 0) return malformed("request: no IMAGE frame");
  if ((seen & (1 << (REQ_STAGE - REQ_IMAGE))) == 0) return malformed("request: no STAGE frame");
  if ((seen & (1 << (REQ_ARGV - REQ_IMAGE))) == 0) return malformed("request: no ARGV frame");
  if (req.imageKind != IMAGE_HOST && req.hostDirs.length > 0) {
    return malformed("request: HOST_DIR frames need the host image");
  }
  if (req.imageKind != IMAGE_HOST && req.hostEntries.length > 0) {
    return malformed("request: HOST_ENTRY frames need the host image");
  }
  if (req.hostDirs.length > 0 && req.hostEntries.length > 0) {
    return malformed("request: HOST_DIR (the dirs chosen) and HOST_ENTRY (the host's entries) together");
  }
  if (req.flatten.copy && req.imageKind == IMAGE_HOST) {
    return malformed("request: FLATTEN copies a layered image or a --rootfs directory, not the host image");
  }
  const layersShape = checkLayersShape(req.layers, req.imageKind == IMAGE_LAYERS);
  if (layersShape !== null) return layersShape;
  const idmapShape = checkIdmapShape(req.idmap);
  if (idmapShape !== null) return malformed(idmapShape);
  decideMode(req.idmap);
  const cgroupShape = checkCgroupShape(req.cgroup);
  if (cgroupShape !== null) return cgroupShape;
  const seccompShape = req.seccomp.check();
  if (seccompShape !== null) return seccompShape;
  return null;
}

/** USER `known` bits: the group as typed (-u U:G), the user's primary group (its passwd entry). */
export const USER_GID_TYPED: u64 = 1;
export const USER_PRIMARY_GID: u64 = 2;
const USER_KNOWN_ALL: u64 = 3;

/** The gid a -u user runs with: the group typed, else its passwd entry's, else 0 (docker's). */
export function userGid(gid: u64, primary: u64, known: u64): u64 {
  if ((known & USER_GID_TYPED) != 0) return gid;
  if ((known & USER_PRIMARY_GID) != 0) return primary;
  return 0;
}

/**
 * The namespaces the container gets new: all of mount, pid, net, ipc, uts and cgroup but
 * those the flags share with husk (`--pid host`...), and a user namespace when the flags as
 * typed ask for one (decideMode, at decoding: auto, keep-id, or maps given).
 */
export function decideNamespaces(req: PlanRequest): void {
  const bits = req.namespaceBits;
  let ns = CLONE_NEWNS;
  if ((bits & SHARE_PID) == 0) ns |= CLONE_NEWPID;
  if ((bits & SHARE_NET) == 0) ns |= CLONE_NEWNET;
  if ((bits & SHARE_IPC) == 0) ns |= CLONE_NEWIPC;
  if ((bits & SHARE_UTS) == 0) ns |= CLONE_NEWUTS;
  if ((bits & SHARE_CGROUP) == 0) ns |= CLONE_NEWCGROUP;
  if (req.userns) ns |= CLONE_NEWUSER;
  req.namespaces = ns & ~req.joins.joined;
}

/** The host image's directories: HOST_IMAGE_ENTRIES, in order, that the host has. */
export function hostImageDirs(entries: HostDir[]): HostDir[] {
  const out = new Array<HostDir>();
  for (let i = 0; i < HOST_IMAGE_ENTRIES.length; i++) {
    for (let j = 0; j < entries.length; j++) {
      if (entries[j].name == HOST_IMAGE_ENTRIES[i]) {
        out.push(entries[j]);
        break;
      }
    }
  }
  return out;
}

/**
 * Defaults the flags leave to the core: the host image's directories, the host name of a new UTS namespace (the id's first
 * 12 characters, as docker's), the offsets of a new time namespace (0), and keep-id's user
 * (the caller, as podman's, when -u is not given).
 */
export function applyDefaults(req: PlanRequest): void {
  if (req.imageKind == IMAGE_HOST && req.hostEntries.length > 0) req.hostDirs = hostImageDirs(req.hostEntries);
  if (!req.hasHostname && req.hasId && (req.namespaces & CLONE_NEWUTS) != 0) {
    req.hasHostname = true;
    req.hostname = req.id.length > SHORT_ID_LENGTH ? req.id.substring(0, SHORT_ID_LENGTH) : req.id;
  }
  if ((req.options & OPTION_TIMENS) != 0) {
    req.hasMonotonic = true;
    req.hasBoottime = true;
  }
  if (!req.hasUser && req.idmap.mode == MODE_KEEP_ID) {
    req.uid = req.idmap.uid;
    req.gid = req.idmap.gid;
  }
}

function isAbsolute(path: string): bool {
  return path.length > 0 && path.charCodeAt(0) == 0x2f;
}

function isAlnum(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Why `name` is not an RFC 1123 host name of at most 64 bytes, or null. */
export function hostnameProblem(name: string): string | null {
  const n = name.length;
  if (n == 0) return "empty";
  if (n > HOSTNAME_MAX) return "longer than 64 bytes";
  let labelStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      const label = i - labelStart;
      if (label == 0) return "empty label in \"" + name + "\"";
      if (label > 63) return "label longer than 63 bytes";
      if (name.charCodeAt(labelStart) == 0x2d || name.charCodeAt(i - 1) == 0x2d) {
        return "a label starts or ends with '-' in \"" + name + "\"";
      }
      labelStart = i + 1;
    } else if (!isAlnum(c) && c != 0x2d) {
      return "character " + describeByte(c) + " not allowed (letters, digits, '-' and '.')";
    }
  }
  return null;
}

function describeByte(c: i32): string {
  if (c >= 0x21 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  return "0x" + c.toString(16);
}

/**
 * An image's config merged with the flags (docker's rules, ./image-config.ts): the command,
 * the env (the image's first), the workdir (-w, else the image's, else /) and the user (-u,
 * else the image's, else keep-id's or 0:0 as applyDefaults chose). Runs after applyDefaults.
 */
export function applyImageConfig(req: PlanRequest): Failure | null {
  const c = req.image;
  if (!c.present) return null;
  const problem = checkImageConfig(c);
  if (problem !== null) return problem;
  req.argv = mergeCommand(c, req.argv, req.argv.length > 0);
  if (req.argv.length == 0) {
    if (c.hasEntrypointFlag) return invalid("command: no command specified: an empty --entrypoint clears the image's Entrypoint and Cmd, and none was given after the image");
    return invalid("command: no command specified: the image has no Entrypoint or Cmd, and none was given after the image");
  }
  req.env = mergeEnv(c, req.env);
  if (!req.hasWorkdir && c.workdir.length > 0) {
    req.hasWorkdir = true;
    req.workdir = c.workdir;
  }
  if (!req.hasUser && c.hasUser && c.userSpec.length > 0 && req.idmap.mode != MODE_KEEP_ID) {
    if ((c.userKnown & IMAGE_USER_UNRESOLVED) != 0) return invalid("user: the image's User \"" + c.userSpec + "\": " + c.userProblem);
    req.hasUser = true;
    req.uid = c.uid;
    req.gid = userGid(c.gid, c.primaryGid, c.userKnown & USER_KNOWN_ALL);
  }
  return null;
}

/** Checks the values the user gave; returns the first refusal. */
export function validateRequest(req: PlanRequest): Failure | null {
  const joins = validateJoins(req.joins, req.userns, req.hasTimeOffset);
  if (joins !== null) return joins;
  const sysctls = checkSysctls(req.runOptions, req.namespaces);
  if (sysctls !== null) return sysctls;
  const devices = checkRunDevices(req.devices);
  if (devices !== null) return devices;
  const hostDevices = checkHostDevices(req.hostDevices, req.security.privileged);
  if (hostDevices !== null) return hostDevices;
  if (req.imageKind == IMAGE_LAYERS) {
    const layers = validateLayers(req.layers);
    if (layers !== null) return layers;
    if (req.userns && !req.idmap.rootless) {
      const shared = validateLayersUserns(req.layers);
      if (shared !== null) return shared;
    }
  }
  if (req.imageKind == IMAGE_ROOTFS && !isAbsolute(req.rootfs)) {
    return invalid("rootfs: not an absolute path: \"" + req.rootfs + "\"");
  }
  if (req.imageKind == IMAGE_HOST && req.readwrite) {
    return invalid("rootfs-rw: needs a rootfs directory, not the host image");
  }
  if (req.hostDirs.length > HOST_DIRS_MAX) {
    return invalid("host-dir: " + req.hostDirs.length.toString() + " entries (at most " + HOST_DIRS_MAX.toString() + ")");
  }
  for (let i = 0; i < req.hostDirs.length; i++) {
    const d = req.hostDirs[i];
    if (d.name.length == 0 || d.name == "." || d.name == ".." || d.name.indexOf("/") >= 0) {
      return invalid("host-dir: not a top-level name: \"" + d.name + "\"");
    }
    if (d.kind == HOST_DIR_SYMLINK && d.target.length == 0) {
      return invalid("host-dir: " + d.name + ": empty symlink target");
    }
    for (let j = 0; j < i; j++) {
      if (req.hostDirs[j].name == d.name) return invalid("host-dir: " + d.name + ": given twice");
    }
  }
  if (!isAbsolute(req.stage) || req.stage == "/") {
    return invalid("stage: not an absolute directory other than /: \"" + req.stage + "\"");
  }
  if (req.hasHostname) {
    const problem = hostnameProblem(req.hostname);
    if (problem !== null) return invalid("hostname: " + problem);
    if ((req.namespaces & CLONE_NEWUTS) == 0) {
      return invalid("hostname: needs a new UTS namespace (not with the host's)");
    }
  }
  for (let i = 0; i < req.env.length; i++) {
    const entry = req.env[i];
    const eq = entry.indexOf("=");
    if (eq < 0) return invalid("env: no '=' in \"" + entry + "\" (KEY=VALUE)");
    if (eq == 0) return invalid("env: empty name in \"" + entry + "\"");
  }
  if (req.hasWorkdir && !isAbsolute(req.workdir)) {
    return invalid("workdir: not an absolute path: \"" + req.workdir + "\"");
  }
  if (req.uid >= ID_LIMIT) return invalid("user: uid " + req.uid.toString() + " out of range (below 4294967295)");
  if (req.gid >= ID_LIMIT) return invalid("user: gid " + req.gid.toString() + " out of range (below 4294967295)");
  if (req.argv.length == 0) return invalid("argv: no command given");
  if (req.argv[0].length == 0) return invalid("argv: empty command name");
  if (req.argv[0].length > PATH_MAX) return invalid("argv: command name longer than 4095 bytes");
  // The maps themselves are computed and checked by ../idmap/compute.ts (build.ts).
  if (req.hasMonotonic && (req.monotonic > TIME_OFFSET_MAX || req.monotonic < -TIME_OFFSET_MAX)) {
    return invalid("time-offset: monotonic offset " + req.monotonic.toString() + " s out of range (±4611686018 s)");
  }
  if (req.hasBoottime && (req.boottime > TIME_OFFSET_MAX || req.boottime < -TIME_OFFSET_MAX)) {
    return invalid("time-offset: boottime offset " + req.boottime.toString() + " s out of range (±4611686018 s)");
  }
  const cgroupProblem = validateCgroup(req.cgroup);
  if (cgroupProblem !== null) return cgroupProblem;
  const devicesProblem = deviceCgroupRules(req.cgroup, req.devices, req.security.privileged);
  if (devicesProblem !== null) return devicesProblem;
  const stdioProblem = validateStdio(req.stdio);
  if (stdioProblem !== null) return stdioProblem;
  if (req.net.present && !req.hasId) return malformed("request: NET_ATTACH without ID");
  // Its veth goes into the network namespace CLONE makes; with a joined user namespace CLONE
  // makes none (the process makes its own after it entered that user namespace).
  if (req.net.present && (req.joins.joined & CLONE_NEWUSER) != 0) return invalid("--network: a container in a joined user namespace (--userns ns:NAME) cannot be attached to a network; use --net ns:NAME (a network namespace pinned with it) or none");
  const publishProblem = publishExposed(req.net, req.image.present ? req.image.ports : []);
  if (publishProblem !== null) return publishProblem;
  const netProblem = decideAddress(req.net, (req.namespaces & CLONE_NEWNET) != 0);
  if (netProblem !== null) return netProblem;
  if (req.usermode.present && req.net.present) return invalid("network: pasta and a bridged network cannot be combined");
  if (req.usermode.present && joinsUser(req.joins)) return invalid("network: pasta cannot serve a container in a pinned user namespace (--userns ns:NAME) yet");
  const usermodeProblem = checkUsermode(req.usermode, (req.namespaces & CLONE_NEWNET) != 0);
  if (usermodeProblem !== null) return usermodeProblem;
  return null;
}
