// The container's cgroups (docs/core-abi.md "cgroups", docs/cgroups.md): which directories
// exist in which hierarchy, what is written to them, how the container process gets into
// them before its first instruction, what is reported at the end, and the read-only view of
// its own cgroups under /sys/fs/cgroup inside.
//
//   before CLONE   STATUS_FILE; per hierarchy: CGROUP_MKDIR shared parent components
//                  (v2: + controllers to their cgroup.subtree_control; v1 cpuset: cpus/mems),
//                  CGROUP_MKDIR owned <parent>/<id>, the limit writes, CGROUP_REPORT;
//                  a v2 hierarchy: CGROUP_INTO <parent>/<id> (pure v2: CLONE keeps
//                  CLONE_NEWCGROUP)
//   container      v1 and hybrid, first, right after the parent ops: CGROUP_JOIN
//                  <hierarchy>/<parent>/<id>/tasks per v1 hierarchy (the process moves
//                  itself: no global lock), then UNSHARE(CLONE_NEWCGROUP), so the namespace's
//                  root is the container's own cgroup; after /sys: its cgroups mounted read-only
//
// The values come from the cgroup module (assembly/cgroup/), called directly: one Resources
// read from the user's flags, then v1 or v2 writes per controller, wherever the host has it.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX, STR_MAX } from "../codec";
import { writesFor } from "../cgroup/entry";
import { Outcome } from "../cgroup/parse";
import { checkHost, controllerOfFlag, finishResources, Host, LAYOUT_V1, LAYOUT_V2, readFlag, Resources, v2Name, Write } from "../cgroup/resources";
import { PlanWriter } from "./encode";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "./linux";

export const REQ_CGROUP: u32 = 0x0120;
export const REQ_CGROUP_HIERARCHY: u32 = 0x0121;
export const REQ_CGROUP_LIMIT: u32 = 0x0122;
export const REQ_CGROUP_HOST: u32 = 0x0123;
export const REQ_STATUS_FILE: u32 = 0x0124;
export const REQ_CGROUP_FIRST: u32 = 0x0120;
export const REQ_CGROUP_LAST: u32 = 0x012f;

/** CGROUP flags: bit 0 rootless (v1 cannot be delegated: its limits are refused). */
export const CGROUP_ROOTLESS: u64 = 1;
/** Bit 1: the rootless user owns no cgroup (no delegated subtree was found). */
export const CGROUP_NOT_DELEGATED: u64 = 2;
export const CGROUP_FLAGS_KNOWN: u64 = 3;
/** CGROUP_MKDIR flag bit 0 (docs/protocol.md). */
export const MKDIR_SHARED: u64 = 1;

export const HIERARCHIES_MAX: i32 = 16;
export const LIMITS_MAX: i32 = 256;
export const MKDIRS_MAX: i32 = 32;
export const NAME_MAX: i32 = 128;
/** STATUS_FILE path plus ".tmp" must still be a path. */
export const STATUS_PATH_MAX: i32 = 4091;
const CONTROLLER_MAX: i32 = 64;

const CGROUP_MOUNT_FLAGS: u64 = MS_NOSUID | MS_NODEV | MS_NOEXEC;

export class CgroupHierarchy {
  constructor(public version: u64, public mountpoint: string, public controllers: string[]) {}

  has(controller: string): bool {
    return this.controllers.includes(controller);
  }
}

export class CgroupLimit {
  constructor(public name: string, public value: string) {}
}

export class CgroupRequest {
  present: bool = false;
  parent: string = "";
  name: string = "";
  flags: u64 = 0;
  delegate: string = "";
  hierarchies: CgroupHierarchy[] = [];
  limits: CgroupLimit[] = [];
  hasHost: bool = false;
  host: Host = new Host();
  cpusetCpus: string = "";
  cpusetMems: string = "";
  hasStatusFile: bool = false;
  statusFile: string = "";
  seen: u32 = 0;

  // Decided by validateCgroup:
  /** Hierarchies the container gets a cgroup in (rootless: v2 only). */
  used: CgroupHierarchy[] = [];
  /** Writes per used hierarchy, same index. */
  writes: Write[][] = [];
  /** Only a cgroup v2 hierarchy: CGROUP_INTO, CLONE_NEWCGROUP in CLONE. */
  intoV2: bool = false;
  /** The used v2 hierarchy (pure v2 or hybrid: CGROUP_INTO its directory), or -1. */
  v2At: i32 = -1;
  /** Used v1 hierarchies (CGROUP_JOIN each; the cgroup namespace is made after them). */
  v1Count: i32 = 0;
  /** Device rules on v2 (CGROUP_DEVICES on the v2 directory): the program, or empty. */
  devicesProgram: u64[] = [];

  get rootless(): bool {
    return (this.flags & CGROUP_ROOTLESS) != 0;
  }
}

export function isCgroupItem(type: u32): bool {
  return type >= REQ_CGROUP_FIRST && type <= REQ_CGROUP_LAST;
}

function itemName(type: u32): string {
  switch (type) {
    case REQ_CGROUP: return "CGROUP";
    case REQ_CGROUP_HIERARCHY: return "CGROUP_HIERARCHY";
    case REQ_CGROUP_LIMIT: return "CGROUP_LIMIT";
    case REQ_CGROUP_HOST: return "CGROUP_HOST";
    case REQ_STATUS_FILE: return "STATUS_FILE";
  }
  return "";
}

/**
 * Decodes one request frame of 0x0120–0x012f into `cg`; a failure when it is malformed
 * (unknown type in the range, repeated item, bad enum or flag bits, a field cut short).
 */
export function decodeCgroupFrame(type: u32, ptr: usize, len: i32, index: i32, cg: CgroupRequest): Failure | null {
  const name = itemName(type);
  if (name.length == 0) return malformed("request: frame " + index.toString() + ": unknown type 0x" + type.toString(16));
  const bit: u32 = 1 << (type - REQ_CGROUP_FIRST);
  const repeatable = type == REQ_CGROUP_HIERARCHY || type == REQ_CGROUP_LIMIT;
  if (!repeatable && (cg.seen & bit) != 0) {
    return malformed("request: frame " + index.toString() + " (" + name + "): given twice");
  }
  cg.seen |= bit;
  const f = Fields.ofFrame(ptr, len, index, name);
  switch (type) {
    case REQ_CGROUP: {
      cg.present = true;
      cg.parent = f.str("parent", PATH_MAX);
      cg.name = f.str("name", STR_MAX);
      cg.flags = f.u64("flags");
      cg.delegate = f.str("delegate", PATH_MAX);
      if (f.ok && (cg.flags & ~CGROUP_FLAGS_KNOWN) != 0) {
        f.failure = malformed(f.context + ": flags: unknown bits 0x" + cg.flags.toString(16));
      }
      break;
    }
    case REQ_CGROUP_HIERARCHY: {
      const version = f.u64("version");
      const mountpoint = f.str("mountpoint", PATH_MAX);
      const controllers = f.strs("controllers", CONTROLLER_MAX);
      if (!f.ok) break;
      if (version != 1 && version != 2) {
        f.failure = malformed(f.context + ": version: unknown value " + version.toString());
      } else if (!isCleanAbsolute(mountpoint)) {
        f.failure = malformed(f.context + ": mountpoint: not an absolute clean path: \"" + mountpoint + "\"");
      } else if (cg.hierarchies.length == HIERARCHIES_MAX) {
        f.failure = malformed(f.context + ": more than " + HIERARCHIES_MAX.toString() + " hierarchies");
      } else {
        for (let i = 0; i < controllers.length; i++) {
          const c = controllers[i];
          if (c.length == 0 || c.indexOf(",") >= 0 || c.indexOf("/") >= 0 || c.indexOf(" ") >= 0) {
            f.failure = malformed(f.context + ": controllers: bad name \"" + c + "\"");
            break;
          }
        }
        cg.hierarchies.push(new CgroupHierarchy(version, mountpoint, controllers));
      }
      break;
    }
    case REQ_CGROUP_LIMIT: {
      const flag = f.str("name", CONTROLLER_MAX);
      const value = f.str("value", PATH_MAX);
      if (!f.ok) break;
      if (cg.limits.length == LIMITS_MAX) {
        f.failure = malformed(f.context + ": more than " + LIMITS_MAX.toString() + " limits");
      } else {
        cg.limits.push(new CgroupLimit(flag, value));
      }
      break;
    }
    case REQ_CGROUP_HOST: {
      cg.hasHost = true;
      cg.host.cpus = f.u64("cpus");
      cg.host.mems = f.u64("mems");
      cg.host.flags = f.u64("flags");
      cg.cpusetCpus = f.str("cpuset-cpus", STR_MAX);
      cg.cpusetMems = f.str("cpuset-mems", STR_MAX);
      break;
    }
    case REQ_STATUS_FILE: {
      cg.hasStatusFile = true;
      cg.statusFile = f.str("path", PATH_MAX);
      break;
    }
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** The request's shape across items (status 1): what needs what. */
export function checkCgroupShape(cg: CgroupRequest): Failure | null {
  if (!cg.present) {
    if (cg.hierarchies.length > 0 || cg.limits.length > 0 || cg.hasHost) {
      return malformed("request: CGROUP_HIERARCHY, CGROUP_LIMIT and CGROUP_HOST need a CGROUP frame");
    }
    return null;
  }
  if (!cg.hasHost) return malformed("request: CGROUP needs a CGROUP_HOST frame");
  const out = new Outcome();
  cg.host.layout = LAYOUT_V1;
  checkHost(out, cg.host);
  if (!out.ok) return out.failure;
  for (let i = 0; i < cg.hierarchies.length; i++) {
    const h = cg.hierarchies[i];
    if (h.version == 2) {
      for (let j = 0; j < i; j++) {
        if (cg.hierarchies[j].version == 2) return malformed("request: two cgroup v2 hierarchies");
      }
    }
    for (let j = 0; j < i; j++) {
      if (cg.hierarchies[j].mountpoint == h.mountpoint) return malformed("request: hierarchy " + h.mountpoint + " given twice");
    }
  }
  return null;
}

function isNameChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e;
}

/** Why `path` is not a clean relative path of names (no empty, `.` or `..` components), or null. */
export function relativePathProblem(path: string): string | null {
  if (path.length == 0) return "empty";
  if (path.charCodeAt(0) == 0x2f) return "starts with '/'";
  const parts = path.split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0) return "has an empty component";
    if (p == "." || p == "..") return "has a '" + p + "' component";
  }
  return null;
}

export function isCleanAbsolute(path: string): bool {
  if (path.length == 0 || path.charCodeAt(0) != 0x2f) return false;
  if (path == "/") return true;
  return relativePathProblem(path.substring(1)) === null;
}

function firstFlagOf(cg: CgroupRequest, controller: string): string {
  for (let i = 0; i < cg.limits.length; i++) {
    if (controllerOfFlag(cg.limits[i].name) == controller) return cg.limits[i].name;
  }
  return controller;
}

/** Which used hierarchy holds a controller (v1 name), v1 first: -1 when none. */
function hierarchyOf(cg: CgroupRequest, controller: string): i32 {
  for (let i = 0; i < cg.used.length; i++) {
    if (cg.used[i].version == 1 && cg.used[i].has(controller)) return i;
  }
  const v2 = v2Name(controller);
  for (let i = 0; i < cg.used.length; i++) {
    if (cg.used[i].version == 2 && cg.used[i].has(v2)) return i;
  }
  return -1;
}

/**
 * Where the container's device rules go: "v1" (the used v1 hierarchy with the devices
 * controller: devices.allow/deny writes), "v2" (no such hierarchy, a v2 one used by root: a
 * BPF program, CGROUP_DEVICES) or "" (nowhere: no cgroups, or rootless on v2, where loading a
 * device program needs CAP_BPF and CAP_NET_ADMIN of the host).
 */
export function deviceCgroupKind(cg: CgroupRequest): string {
  if (!cg.present) return "";
  for (let i = 0; i < cg.used.length; i++) if (cg.used[i].version == 1 && cg.used[i].has("devices")) return "v1";
  if (cg.v2At >= 0 && !cg.rootless) return "v2";
  return "";
}

/** The used v1 hierarchy with the devices controller, or -1. */
export function v1DevicesAt(cg: CgroupRequest): i32 {
  for (let i = 0; i < cg.used.length; i++) if (cg.used[i].version == 1 && cg.used[i].has("devices")) return i;
  return -1;
}

/** A v1 hierarchy of the host (used or not) that holds `controller`. */
function v1HasAnywhere(cg: CgroupRequest, controller: string): bool {
  for (let i = 0; i < cg.hierarchies.length; i++) {
    if (cg.hierarchies[i].version == 1 && cg.hierarchies[i].has(controller)) return true;
  }
  return false;
}

/**
 * A container that cannot have cgroups here: none without limits (`present` cleared), a
 * refusal naming why with one. No cgroup filesystem; or a rootless user on a host whose
 * cgroups are v1 only (v1 cannot be delegated) or who owns no v2 subtree.
 */
function withoutCgroups(cg: CgroupRequest): Failure | null {
  let hasV2 = false;
  for (let i = 0; i < cg.hierarchies.length; i++) if (cg.hierarchies[i].version == 2) hasV2 = true;
  let why = "";
  if (cg.hierarchies.length == 0) {
    why = "this host has no cgroup filesystem mounted, so husk cannot enforce limits";
  } else if (cg.rootless && (!hasV2 || (cg.flags & CGROUP_NOT_DELEGATED) != 0)) {
    why = "husk cannot enforce limits without root here: " +
      (!hasV2 ? "cgroup v1 cannot be delegated to an unprivileged user" : "no cgroup v2 subtree is delegated to this user (systemd gives one with Delegate=yes)") +
      "\nRun as root, or on a cgroup v2 host with a delegated subtree.";
  } else {
    return null;
  }
  if (cg.limits.length > 0) return invalid("--" + cg.limits[0].name + ": " + why);
  cg.present = false;
  return null;
}

/** Values (status 2): names, paths, the limits; then which writes go to which hierarchy. */
export function validateCgroup(cg: CgroupRequest): Failure | null {
  if (cg.hasStatusFile) {
    if (!isCleanAbsolute(cg.statusFile) || cg.statusFile == "/") return invalid("status-file: not an absolute clean path: \"" + cg.statusFile + "\"");
    if (cg.statusFile.length > STATUS_PATH_MAX) return invalid("status-file: longer than 4091 bytes");
  }
  if (!cg.present) return null;
  const without = withoutCgroups(cg);
  if (without !== null) return without;
  if (!cg.present) return null;
  // An empty parent: the container's cgroup right under each hierarchy's root (an OCI
  // cgroupsPath of one component, `/name`); husk's own --cgroup-parent never sends one.
  const parentProblem: string | null = cg.parent.length == 0 ? null : relativePathProblem(cg.parent);
  if (parentProblem !== null) return invalid("cgroup-parent: \"" + cg.parent + "\": " + parentProblem);
  if (cg.name.length == 0 || cg.name.length > NAME_MAX || cg.name.charCodeAt(0) == 0x2e) {
    return invalid("cgroup-name: \"" + cg.name + "\": 1 to 128 characters, not starting with '.'");
  }
  for (let i = 0; i < cg.name.length; i++) {
    if (!isNameChar(cg.name.charCodeAt(i))) return invalid("cgroup-name: \"" + cg.name + "\": letters, digits, '-', '_' and '.' only");
  }
  if (cg.delegate.length > 0) {
    if (relativePathProblem(cg.delegate) !== null || !(cg.parent == cg.delegate || cg.parent.startsWith(cg.delegate + "/"))) {
      return invalid("cgroup-parent: \"" + cg.parent + "\" is not inside the delegated cgroup \"" + cg.delegate + "\"");
    }
  }

  // The hierarchies the container gets a cgroup in: all of them, but a rootless container
  // cannot make v1 directories (v1 cannot be delegated), so it only has its v2 one.
  for (let i = 0; i < cg.hierarchies.length; i++) {
    const h = cg.hierarchies[i];
    if (h.version == 2 || !cg.rootless) cg.used.push(h);
  }
  let v1 = 0;
  let v2 = 0;
  for (let i = 0; i < cg.used.length; i++) {
    if (cg.used[i].version == 1) v1++;
    else v2++;
  }
  cg.intoV2 = v2 == 1 && v1 == 0;
  cg.v1Count = v1;
  for (let i = 0; i < cg.used.length; i++) if (cg.used[i].version == 2) cg.v2At = i;

  // The user's limits, read once; v1 and v2 writes of each controller.
  const out = new Outcome();
  const r = new Resources();
  const seen: u32[] = [0];
  for (let i = 0; i < cg.limits.length && out.ok; i++) readFlag(out, cg.host, cg.limits[i].name, cg.limits[i].value, r, seen);
  finishResources(out, r);
  if (!out.ok) return out.failure;
  const hostV1 = new Host();
  hostV1.layout = LAYOUT_V1;
  hostV1.cpus = cg.host.cpus;
  hostV1.mems = cg.host.mems;
  hostV1.flags = cg.host.flags;
  const hostV2 = new Host();
  hostV2.layout = LAYOUT_V2;
  hostV2.cpus = cg.host.cpus;
  hostV2.mems = cg.host.mems;
  hostV2.flags = cg.host.flags;
  const writesV1 = writesFor(hostV1, r);
  const writesV2 = writesFor(hostV2, r);
  for (let i = 0; i < cg.used.length; i++) cg.writes.push(new Array<Write>());

  // Route each v1 write to the v1 hierarchy holding its controller, each v2 write to the v2
  // hierarchy when no v1 hierarchy holds it (a controller is bound to one version at a time).
  const controllers: string[] = ["cpuset", "memory", "cpu", "pids", "blkio"];
  for (let c = 0; c < controllers.length; c++) {
    const controller = controllers[c];
    let wants = false;
    for (let i = 0; i < writesV1.length; i++) if (writesV1[i].controller == controller) wants = true;
    for (let i = 0; i < writesV2.length; i++) if (writesV2[i].controller == v2Name(controller)) wants = true;
    if (!wants) continue;
    const flag = firstFlagOf(cg, controller);
    if (cg.rootless && v1HasAnywhere(cg, controller)) {
      return invalid(flag + ": the " + controller + " controller is a cgroup v1 controller here, and cgroup v1 cannot be delegated to an unprivileged user, so husk cannot enforce --" + flag + " without root (a cgroup v2 host with a delegated subtree can)");
    }
    const at = hierarchyOf(cg, controller);
    if (at < 0) {
      if (cg.rootless) {
        return invalid(flag + ": the " + v2Name(controller) + " controller is not delegated to this user (not in the delegated cgroup's cgroup.controllers), so husk cannot enforce --" + flag);
      }
      return invalid(flag + ": this host has no " + controller + " controller, so husk cannot enforce --" + flag);
    }
  }
  // Each hierarchy's writes keep the order of their layout (runc's v1 subsystem order, or
  // fs2.Manager.Set's).
  for (let i = 0; i < writesV1.length; i++) {
    const at = hierarchyOf(cg, writesV1[i].controller);
    if (at >= 0 && cg.used[at].version == 1) cg.writes[at].push(writesV1[i]);
  }
  for (let i = 0; i < writesV2.length; i++) {
    const c = writesV2[i].controller;
    const at = hierarchyOf(cg, c == "io" ? "blkio" : c);
    if (at >= 0 && cg.used[at].version == 2) cg.writes[at].push(writesV2[i]);
  }

  // v1 cpuset directories start empty: new ones get the host's cpus and mems.
  for (let i = 0; i < cg.used.length; i++) {
    if (cg.used[i].version == 1 && cg.used[i].has("cpuset") && (cg.cpusetCpus.length == 0 || cg.cpusetMems.length == 0)) {
      return malformed("request: CGROUP_HOST: cpuset-cpus and cpuset-mems are needed with a v1 cpuset hierarchy");
    }
  }

  const mkdirs = cgroupMkdirCount(cg);
  if (mkdirs > MKDIRS_MAX) {
    return invalid("cgroup-parent: \"" + cg.parent + "\" needs " + mkdirs.toString() + " cgroup directories in " +
      cg.used.length.toString() + " hierarchies (at most " + MKDIRS_MAX.toString() + "): use a shorter parent");
  }
  return null;
}

function cgroupMkdirCount(cg: CgroupRequest): i32 {
  return cg.used.length * (parentParts(cg).length + 1);
}

/** The container's cgroup directory in hierarchy `h`. */
export function containerDir(cg: CgroupRequest, h: CgroupHierarchy): string {
  return join(h.mountpoint, cg.parent.length == 0 ? cg.name : cg.parent + "/" + cg.name);
}

/** The parent's components, none for the hierarchy's root. */
function parentParts(cg: CgroupRequest): string[] {
  return cg.parent.length == 0 ? new Array<string>() : cg.parent.split("/");
}

function join(mountpoint: string, relative: string): string {
  return mountpoint == "/" ? "/" + relative : mountpoint + "/" + relative;
}

/** The v2 controllers this container's writes need, as `+a +b` (empty: none). */
function enableLine(writes: Write[]): string {
  const names = new Array<string>();
  for (let i = 0; i < writes.length; i++) {
    const c = writes[i].controller;
    if (!names.includes(c)) names.push(c);
  }
  let line = "";
  for (let i = 0; i < names.length; i++) line += (i > 0 ? " +" : "+") + names[i];
  return line;
}

/** Ops before CLONE: the status file, the directories, the limits, the reports, INTO. */
export function cgroupLauncherOps(plan: PlanWriter, cg: CgroupRequest): void {
  if (cg.hasStatusFile) plan.statusFile(cg.statusFile);
  if (!cg.present) return;
  const parts = parentParts(cg);
  for (let i = 0; i < cg.used.length; i++) {
    const h = cg.used[i];
    const writes = cg.writes[i];
    const cpuset = h.version == 1 && h.has("cpuset");
    const enable = h.version == 2 ? enableLine(writes) : "";
    // v2: a controller reaches the container's cgroup only if every ancestor enables it for
    // its children, from the delegated cgroup (the mount's root when rootful) down.
    if (enable.length > 0 && cg.delegate.length == 0) plan.cgroupWrite(join(h.mountpoint, "cgroup.subtree_control"), enable);
    let prefix = "";
    for (let k = 0; k < parts.length; k++) {
      prefix = k == 0 ? parts[0] : prefix + "/" + parts[k];
      const dir = join(h.mountpoint, prefix);
      plan.cgroupMkdir(dir, MKDIR_SHARED);
      if (cpuset) cpusetOps(plan, cg, dir);
      const delegated = cg.delegate.length == 0 || prefix == cg.delegate || prefix.startsWith(cg.delegate + "/");
      if (enable.length > 0 && delegated) plan.cgroupWrite(dir + "/cgroup.subtree_control", enable);
    }
    const dir = containerDir(cg, h);
    plan.cgroupMkdir(dir, 0);
    if (cpuset) cpusetOps(plan, cg, dir);
    for (let k = 0; k < writes.length; k++) plan.cgroupWrite(dir + "/" + writes[k].file, writes[k].value);
    if (i == cg.v2At && cg.devicesProgram.length > 0) plan.cgroupDevices(dir, cg.devicesProgram);
    reportOps(plan, h, dir);
  }
  // v2 (pure or hybrid): clone3(CLONE_INTO_CGROUP) creates the process there, no migration.
  if (cg.v2At >= 0) plan.cgroupInto(containerDir(cg, cg.used[cg.v2At]));
}

/** A new v1 cpuset cgroup has no cpus and no mems (nothing could run in it). */
function cpusetOps(plan: PlanWriter, cg: CgroupRequest, dir: string): void {
  plan.cgroupWrite(dir + "/cpuset.cpus", cg.cpusetCpus);
  plan.cgroupWrite(dir + "/cpuset.mems", cg.cpusetMems);
}

/** The evidence kept past the container's end: OOM kills, peaks, the limits themselves. */
function reportOps(plan: PlanWriter, h: CgroupHierarchy, dir: string): void {
  if (h.version == 1) {
    if (h.has("memory")) {
      plan.cgroupReport(dir + "/memory.oom_control");
      plan.cgroupReport(dir + "/memory.failcnt");
      plan.cgroupReport(dir + "/memory.max_usage_in_bytes");
      plan.cgroupReport(dir + "/memory.limit_in_bytes");
    }
    if (h.has("pids")) plan.cgroupReport(dir + "/pids.events");
  } else {
    if (h.has("memory")) {
      plan.cgroupReport(dir + "/memory.events");
      plan.cgroupReport(dir + "/memory.peak");
      plan.cgroupReport(dir + "/memory.max");
    }
    if (h.has("pids")) plan.cgroupReport(dir + "/pids.events");
  }
}

/** v1 and hybrid: the container's cgroup namespace is made after it joined its v1 cgroups. */
export function unshareCgroupAfterJoin(cg: CgroupRequest, namespaces: u64, newCgroup: u64): bool {
  return cg.present && cg.v1Count > 0 && (namespaces & newCgroup) != 0;
}

/**
 * The first container ops (right after the parent ops, before USER): v1 and hybrid, the
 * container process joins each v1 hierarchy itself by writing "0" to `tasks`. A thread moving
 * itself is the one migration the kernel makes without the global cgroup_threadgroup_rwsem,
 * whose first writer waits for an RCU grace period (8-15 ms); the monitor writing the pid to
 * `cgroup.procs` (CGROUP_ENTER) takes it. No code of the container's runs before: these are
 * the launcher's first steps in the new process, which is single-threaded.
 */
export function cgroupJoinOps(plan: PlanWriter, cg: CgroupRequest): void {
  if (!cg.present) return;
  for (let i = 0; i < cg.used.length; i++) {
    if (cg.used[i].version == 1) plan.cgroupJoin(containerDir(cg, cg.used[i]) + "/tasks");
  }
}

/** Where hierarchy `h` shows inside: its place under /sys/fs/cgroup on the host, else a name. */
export function insideName(h: CgroupHierarchy): string {
  const prefix = "/sys/fs/cgroup/";
  if (h.mountpoint.startsWith(prefix) && h.mountpoint.length > prefix.length && h.mountpoint.indexOf("/", prefix.length) < 0) {
    return h.mountpoint.substring(prefix.length);
  }
  if (h.version == 2) return "unified";
  const names = new Array<string>();
  for (let i = 0; i < h.controllers.length; i++) {
    const c = h.controllers[i];
    names.push(c.startsWith("name=") ? c.substring(5) : c);
  }
  return names.join(",");
}

/** v1 mount options: the controllers, `none,name=X` for a named hierarchy. */
function v1MountData(h: CgroupHierarchy): string {
  let named = true;
  for (let i = 0; i < h.controllers.length; i++) if (!h.controllers[i].startsWith("name=")) named = false;
  const list = h.controllers.join(",");
  return named ? "none," + list : list;
}

/**
 * Container ops after /sys is in place (in the container's cgroup namespace): its own
 * cgroups at sys/fs/cgroup, read-only, as docker shows them. Pure v2: one cgroup2 mount.
 * Otherwise a tmpfs with each hierarchy mounted read-only in its directory, then the whole
 * made read-only.
 */
export function cgroupMountOps(plan: PlanWriter, cg: CgroupRequest, namespaces: u64, newCgroup: u64): void {
  if (!cg.present || cg.used.length == 0 || (namespaces & newCgroup) == 0) return;
  const base = "sys/fs/cgroup";
  if (cg.intoV2) {
    plan.mount("cgroup2", base, "cgroup2", CGROUP_MOUNT_FLAGS | MS_RDONLY, "");
    return;
  }
  plan.mount("tmpfs", base, "tmpfs", CGROUP_MOUNT_FLAGS, "mode=755");
  for (let i = 0; i < cg.used.length; i++) {
    const h = cg.used[i];
    const target = base + "/" + insideName(h);
    plan.mkdir(target, 0o755);
    if (h.version == 2) plan.mount("cgroup2", target, "cgroup2", CGROUP_MOUNT_FLAGS | MS_RDONLY, "");
    else plan.mount("cgroup", target, "cgroup", CGROUP_MOUNT_FLAGS | MS_RDONLY, v1MountData(h));
    // A co-mounted hierarchy (cpu,cpuacct) is reachable by each controller's name too.
    const name = insideName(h);
    if (h.version == 1 && name.indexOf(",") >= 0) {
      for (let k = 0; k < h.controllers.length; k++) {
        const c = h.controllers[k];
        if (!c.startsWith("name=") && c != name) plan.symlink(name, base + "/" + c);
      }
    }
  }
  plan.readOnly(base);
}
