// ociPlan: an OCI bundle's config.json (as items, ./oci-request.ts) in; out, the summary
// then the plan (docs/core-abi.md "ociPlan"). husk-runc's decisions live here: which
// namespaces are new or joined, the capability sets, rlimits, sysctls, the cgroup limits and
// device rules read from linux.resources, and the order of the ops.
//
// Order: HELLO [cgroup ops] [EXEC_FIFO] [SETNS_FILE joined…] CLONE [CGROUP_JOIN…] [UNSHARE
// cgroup] [oom_score_adj] [sysctls] [LOOPBACK_UP] `/` propagation, SET_ROOT rootfs, the
// config's mounts, devices, cwd, masked and read-only paths, PIVOT_ROOT [`/` read-only]
// [SETHOSTNAME] RLIMIT… CLOSE_FDS [PRESERVE_FDS] CAPS (bounding; before USER, which would lose
// CAP_SETPCAP) USER [UMASK] CAPS (the sets) CHDIR [NO_NEW_PRIVS] [FIFO_WAIT] EXEC.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { HEADER_SIZE, PATH_MAX, STR_MAX } from "../codec";
import { Write } from "../cgroup/resources";
import { deviceAccess, DeviceRule, devicesProgram, deviceType, parseRuleLine } from "../cgroup/devices";
import { DEFAULT_DEVICE_RULES } from "./devices";
import { cgroupJoinOps, cgroupLauncherOps, checkCgroupShape, CgroupLimit, CgroupRequest, containerDir, deviceCgroupKind, unshareCgroupAfterJoin, v1DevicesAt, validateCgroup } from "./cgroup";
import { PlanWriter } from "./encode";
import { searchPath, STATUS_FAILED, STATUS_NOT_EXECUTABLE, STATUS_NOT_FOUND } from "./exec";
import { BIND_CREATE, BIND_RECURSIVE, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS, ID_LIMIT, MS_RDONLY, MS_REC } from "./linux";
import { checkIdmapped, checkMounts, checkPaths, deviceOps, idmapMountOps, insideRoot, mountOps, mountOptionNames, mountsDev, MS_REMOUNT, pathOps, propagationOf } from "./oci-mounts";
import {
  asField, DEVICE_ANY, decodeOciRequest, HOOK_KINDS, HOOK_NO_TIMEOUT, OciHook, OCI_DIE_WITH_PARENT, OCI_NO_NEW_PRIVS, OCI_TERMINAL, OCI_TRACE, OciDeviceRule, OciIdMap, OciPair, OciRequest, UMASK_UNSET, unsupportedField, unknownTopLevel, isSemVer,
} from "./oci-request";
import { ANS_CGROUP_DIR, ANS_OCI_WARNING, ANS_SUMMARY } from "./summary";
import { chunks, Filter, seccompFilter } from "../seccomp/entry";
import { FLAG_NEW_LISTENER } from "../seccomp/profile";

const MS_BIND: u64 = 4096;
const U64_NONE: u64 = 0xffffffffffffffff;
const MS_SLAVE: u64 = 1 << 19;
const CAP_SETGID: u64 = 6;
const CAP_SETUID: u64 = 7;

const CAPABILITIES: string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];
const SCHED_POLICIES: string[] = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE"];
const SCHED_NUMBERS: u64[] = [0, 1, 2, 3, 5];
/** personality(2)'s PER_LINUX32 (uname -m says i686). */
const PER_LINUX32: u64 = 0x0008;
const IO_CLASSES: string[] = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
const CAP_SETS: string[] = ["bounding", "effective", "permitted", "inheritable", "ambient"];

const RLIMITS: string[] = [
  "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
  "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
];

/** OCI namespace types, and the CLONE_NEW* bit of each. */
const NS_TYPES: string[] = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];
const NS_BITS: u64[] = [CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME];
/** Namespaces the launcher can join by path before CLONE (docs/protocol.md SETNS_FILE). */
const JOINABLE: u64 = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

/** linux.resources fields → the cgroup module's flags (docker's names; values in bytes, units). */
const RESOURCE_FIELDS: string[] = ["memory.limit", "memory.reservation", "memory.swap", "cpu.shares", "cpu.quota", "cpu.period", "cpu.cpus", "cpu.mems", "pids.limit", "blockIO.weight"];
const RESOURCE_FLAGS: string[] = ["memory", "memory-reservation", "memory-swap", "cpu-shares", "cpu-quota", "cpu-period", "cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight"];


/** Decided from the request, then written. */
class OciDecisions {
  newNamespaces: u64 = 0;
  joins: string[] = [];
  joinTypes: u64[] = [];
  /** process.scheduler's policy number (u64 max: none); linux.personality's persona (u64 max: none). */
  schedPolicy: u64 = U64_NONE;
  persona: u64 = U64_NONE;
  /** process.ioPriority as ioprio_set's value; 0: none. */
  ioprio: u64 = 0;
  /** linux.namespaces' user and time entries with a path: entered after CLONE. */
  userPath: string = "";
  timePath: string = "";
  caps: u64[] = [0, 0, 0, 0, 0];
  rlimitResources: u64[] = [];
  propagation: u64 = MS_SLAVE | MS_REC;
  sysctlPaths: string[] = [];
  seccomp: Filter = new Filter();
  /** process.capabilities' names this kernel table does not know: ignored, as runc does. */
  ignoredCaps: string[] = [];
  /** What of the config was ignored as runc ignores it: OCI_WARNING lines. */
  warnings: string[] = [];
  /** Per linux.devices entry: made by mknod (true) or the host's node bound in. */
  devicesMade: bool[] = [];
}

export function ociPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new OciRequest();
  let failure = decodeOciRequest(ptr, len, req);
  if (failure === null) failure = checkCgroupShape(req.cgroup);
  const d = new OciDecisions();
  if (failure === null) failure = decide(req, d);
  if (failure !== null) return fail(failure);
  const plan = new PlanWriter();
  writeSummary(plan, req, d);
  writePlan(plan, req, d);
  if (!plan.ok) return fail(invalid(plan.failure));
  return answer(plan.w.buf, plan.w.len);
}

function decide(req: OciRequest, d: OciDecisions): Failure | null {
  const version = req.version;
  if (version !== null) {
    if (!isSemVer(version)) return invalid("ociVersion: \"" + version + "\" is not a SemVer version (runtime-spec: MAJOR.MINOR.PATCH)");
    if (!version.startsWith("1.")) return invalid("ociVersion: \"" + version + "\": husk-runc reads runtime-spec 1.x");
  }
  for (let i = 0; i < req.fields.length; i++) {
    if (unknownTopLevel(req.fields[i])) d.warnings.push(req.fields[i] + ": unknown property ignored, as runtime-spec says");
  }
  const field = unsupportedField(req);
  if (field !== null) {
    return invalid(field + ": not supported by husk-runc");
  }
  if (req.root.length == 0 || req.root.charCodeAt(0) != 0x2f) return invalid("root.path: \"" + req.root + "\" is not an absolute path");
  if (req.args.length == 0 || req.args[0].length == 0) return invalid("process.args: empty");
  if (req.cwd.length == 0 || req.cwd.charCodeAt(0) != 0x2f) return invalid("process.cwd: \"" + req.cwd + "\" is not an absolute path");
  if (req.uid >= ID_LIMIT) return invalid("process.user.uid: " + req.uid.toString() + " out of range");
  if (req.gid >= ID_LIMIT) return invalid("process.user.gid: " + req.gid.toString() + " out of range");
  for (let i = 0; i < req.groups.length; i++) {
    if (req.groups[i] >= ID_LIMIT) return invalid("process.user.additionalGids: " + req.groups[i].toString() + " out of range");
  }
  if (req.umask != UMASK_UNSET && req.umask > 0o777) return invalid("process.user.umask: " + req.umask.toString() + " is over 0777");
  const terminal = (req.options & OCI_TERMINAL) != 0;
  if (terminal && req.console.length == 0) return invalid("process.terminal: a terminal needs --console-socket");
  if (!terminal && req.console.length > 0) return invalid("--console-socket: only for a process with a terminal (process.terminal)");
  if (req.console.length >= 108) return invalid("--console-socket: a socket path is at most 107 bytes");
  if (req.hasOomScoreAdj && (req.oomScoreAdj < -1000 || req.oomScoreAdj > 1000)) return invalid("process.oomScoreAdj: " + req.oomScoreAdj.toString() + " is not -1000 to 1000");
  if (req.execFifo.length > 0 && req.execFifo.charCodeAt(0) != 0x2f) return invalid("exec fifo: not an absolute path");
  if (req.preserveFds > PRESERVED_FDS_MAX) return invalid("--preserve-fds: " + req.preserveFds.toString() + " is over " + PRESERVED_FDS_MAX.toString());
  if (req.hasIoPriority) {
    const at = IO_CLASSES.indexOf(req.ioClass);
    if (at < 0) return invalid("process.ioPriority.class: \"" + req.ioClass + "\" is not IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
    if (req.ioPriority > 7) return invalid("process.ioPriority.priority: " + req.ioPriority.toString() + " is not 0 to 7");
    // ioprio_set's value: the class (1 to 3) in bits 13-15, the level below (linux/ioprio.h).
    d.ioprio = ((<u64>at + 1) << 13) | req.ioPriority;
  }
  if (req.hasScheduler) {
    const policy = SCHED_POLICIES.indexOf(req.schedPolicy);
    if (policy < 0) return invalid("process.scheduler.policy: \"" + req.schedPolicy + "\" is not SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH or SCHED_IDLE");
    if (req.schedNice < -20 || req.schedNice > 19) return invalid("process.scheduler.nice: " + req.schedNice.toString() + " is not -20 to 19");
    // The kernel's rule: a real-time policy takes a priority 1-99, the others 0.
    const realtime = policy == 1 || policy == 2;
    if (realtime ? req.schedPriority < 1 || req.schedPriority > 99 : req.schedPriority != 0) return invalid("process.scheduler.priority: " + req.schedPriority.toString() + (realtime ? " is not 1 to 99" : " must be 0 for " + req.schedPolicy));
    d.schedPolicy = SCHED_NUMBERS[policy];
  }
  if (req.hasPersonality) {
    if (req.personality == "LINUX") d.persona = 0;
    else if (req.personality == "LINUX32") d.persona = PER_LINUX32;
    else return invalid("linux.personality.domain: \"" + req.personality + "\" is not LINUX or LINUX32");
  }
  let failure = decideCaps(req, d);
  if (failure === null) failure = decideRlimits(req, d);
  if (failure === null && req.join) failure = decideJoin(req, d);
  if (failure === null && !req.join) failure = decideNamespaces(req, d);
  if (failure === null) failure = decideSysctls(req, d);
  if (failure === null) failure = checkMounts(req.mounts, (d.newNamespaces & CLONE_NEWCGROUP) != 0);
  if (failure === null) failure = checkIdmapped(req.mounts, (d.newNamespaces & CLONE_NEWUSER) != 0 || d.userPath.length > 0, d.userPath.length > 0);
  if (failure === null) failure = checkPaths("maskedPaths", req.masked);
  if (failure === null) failure = checkPaths("readonlyPaths", req.readonly);
  const configRules = req.deviceRules.length;
  if (failure === null) failure = decideDevices(req, d);
  if (failure === null) failure = decideCgroup(req, configRules, d);
  if (failure === null) failure = decideHooks(req);
  if (failure === null) {
    // No linux.seccomp: no filter (the OCI spec's default); the profile's includes.caps and
    // excludes.caps are judged against the process's effective set.
    if (req.seccomp.mode == 0) d.seccomp.none = true;
    else d.seccomp = seccompFilter(req.seccomp, d.caps[1]);
    if (d.seccomp.failure !== null) failure = asField(d.seccomp.failure!);
  }
  if (failure === null) failure = decideListener(req, d);
  return failure;
}

/** The state the listener travels with is at most this long (the launcher's bound). */
const LISTENER_STATE_MAX: i32 = 16384;

/**
 * SCMP_ACT_NOTIFY (docs/protocol.md "The seccomp listener"): a filter that notifies needs
 * listenerPath; one that does not ignores it (the spec's rule). listenerMetadata needs
 * listenerPath in any case.
 */
function decideListener(req: OciRequest, d: OciDecisions): Failure | null {
  const path = req.listenerPath;
  if (req.hasListener && path.length == 0 && req.listenerMetadata) return invalid("linux.seccomp.listenerMetadata: given without listenerPath");
  if ((d.seccomp.flags & FLAG_NEW_LISTENER) == 0) return null;
  if (path.length == 0) return invalid("linux.seccomp.listenerPath: missing; SCMP_ACT_NOTIFY needs a seccomp agent's socket to send the listener to");
  if (path.charCodeAt(0) != 0x2f) return invalid("linux.seccomp.listenerPath: \"" + path + "\" is not an absolute path");
  if (path.length >= 108) return invalid("linux.seccomp.listenerPath: a socket path is at most 107 bytes");
  const s = req.listenerState;
  if (s[0].length + s[1].length + s[2].length > LISTENER_STATE_MAX) return invalid("linux.seccomp.listenerMetadata: the container process state is over 16384 bytes");
  // The forked child (PID_FORK) is not the process the launcher can take the listener from.
  if (d.userPath.length > 0 && (d.newNamespaces & CLONE_NEWPID) != 0) return invalid("linux.seccomp: SCMP_ACT_NOTIFY with a user namespace joined by path and a new pid namespace is not supported by husk-runc");
  return null;
}

function listenerOp(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  if ((d.seccomp.flags & FLAG_NEW_LISTENER) == 0) return;
  plan.seccompListener(req.listenerPath, req.listenerState[0], req.listenerState[1], req.listenerState[2]);
}

function decideCaps(req: OciRequest, d: OciDecisions): Failure | null {
  for (let s = 0; s < 5; s++) {
    const names = req.caps[s];
    for (let i = 0; i < names.length; i++) {
      const bit = CAPABILITIES.indexOf(names[i]);
      // runc 1.1 ignores a name it does not know (with a warning), so engines' configs that
      // name a newer kernel's capability still run: the same here, said in the summary.
      if (bit < 0) {
        if (!d.ignoredCaps.includes(names[i])) d.ignoredCaps.push(names[i]);
        continue;
      }
      d.caps[s] |= <u64>1 << <u64>bit;
    }
  }
  // The kernel raises an ambient capability only if it is permitted and inheritable.
  const notBoth = d.caps[4] & ~(d.caps[2] & d.caps[3]);
  if (notBoth != 0) return invalid("process.capabilities.ambient: " + CAPABILITIES[<i32>ctz(notBoth)] + " is not also permitted and inheritable");
  return null;
}

function decideRlimits(req: OciRequest, d: OciDecisions): Failure | null {
  for (let i = 0; i < req.rlimits.length; i++) {
    const r = req.rlimits[i];
    const resource = RLIMITS.indexOf(r.type);
    if (resource < 0) return invalid("process.rlimits[" + i.toString() + "].type: unknown \"" + r.type + "\"");
    if (d.rlimitResources.includes(<u64>resource)) return invalid("process.rlimits: " + r.type + " given twice");
    if (r.soft > r.hard) return invalid("process.rlimits[" + i.toString() + "]: soft " + r.soft.toString() + " is over hard " + r.hard.toString());
    d.rlimitResources.push(<u64>resource);
  }
  return null;
}

function decideNamespaces(req: OciRequest, d: OciDecisions): Failure | null {
  let seen: u64 = 0;
  for (let i = 0; i < req.namespaces.length; i++) {
    const n = req.namespaces[i];
    const at = NS_TYPES.indexOf(n.type);
    if (at < 0) return invalid("linux.namespaces[" + i.toString() + "].type: unknown \"" + n.type + "\"");
    const bit = NS_BITS[at];
    if ((seen & bit) != 0) return invalid("linux.namespaces: " + n.type + " given twice");
    seen |= bit;
    if (n.path.length == 0) {
      d.newNamespaces |= bit;
      continue;
    }
    if ((bit & (JOINABLE | CLONE_NEWUSER | CLONE_NEWTIME)) == 0) return invalid("linux.namespaces[" + i.toString() + "]: joining a " + n.type + " namespace by path is not supported by husk-runc");
    if (n.path.charCodeAt(0) != 0x2f) return invalid("linux.namespaces[" + i.toString() + "].path: \"" + n.path + "\" is not an absolute path");
    // User and time are entered by the container process after CLONE (writeJoinedUser).
    if (bit == CLONE_NEWUSER) d.userPath = n.path;
    else if (bit == CLONE_NEWTIME) d.timePath = n.path;
    else {
      d.joins.push(n.path);
      d.joinTypes.push(bit);
    }
  }
  if ((d.newNamespaces & CLONE_NEWNS) == 0) return invalid("linux.namespaces: husk-runc needs a new mount namespace");
  const userns = (d.newNamespaces & CLONE_NEWUSER) != 0;
  // A joined user namespace has its maps already: the config gives none (the kernel writes a
  // namespace's maps once).
  if (d.userPath.length > 0 && (req.uidMaps.length > 0 || req.gidMaps.length > 0)) {
    return invalid((req.uidMaps.length > 0 ? "linux.uidMappings" : "linux.gidMappings") + ": not with a joined user namespace (linux.namespaces user path " + d.userPath + "), which has its mappings");
  }
  // Entering a time namespace takes CAP_SYS_ADMIN over its owner, which the root of a user
  // namespace made at CLONE does not have over the host's.
  if (d.timePath.length > 0 && userns) return invalid("linux.namespaces: a time namespace joined by path (" + d.timePath + ") with a new user namespace: its root may not enter it; join the user namespace too, or make a new time namespace");
  let failure = checkIdMaps("linux.uidMappings", req.uidMaps, userns);
  if (failure === null) failure = checkIdMaps("linux.gidMappings", req.gidMaps, userns);
  if (failure !== null) return failure;
  if (req.timeOffsets.length > 0 && (d.newNamespaces & CLONE_NEWTIME) == 0) return invalid("linux.timeOffsets: needs a new time namespace (linux.namespaces)");
  for (let i = 0; i < req.timeOffsets.length; i++) {
    const t = req.timeOffsets[i];
    if (t.clock != "monotonic" && t.clock != "boottime") return invalid("linux.timeOffsets." + t.clock + ": not a clock a time namespace offsets (monotonic, boottime)");
    if (t.nanosecs >= 1000000000) return invalid("linux.timeOffsets." + t.clock + ".nanosecs: " + t.nanosecs.toString() + " is not below 1000000000");
  }
  // A uts namespace joined by path takes the hostname too (runc sets it there); the host's
  // (no uts entry) never does.
  if (req.hasHostname && (d.newNamespaces & CLONE_NEWUTS) == 0 && !d.joinTypes.includes(CLONE_NEWUTS)) {
    return invalid("hostname: needs a new uts namespace, or one joined by path (linux.namespaces)");
  }
  if (req.hasHostname && d.joinTypes.includes(CLONE_NEWUTS) && userns) {
    return invalid("hostname: a uts namespace joined by path with a new user namespace: its root may not set the host name there");
  }
  if (req.propagation.length > 0) {
    d.propagation = propagationOf(req.propagation);
    if (d.propagation == 0) return invalid("linux.rootfsPropagation: unknown \"" + req.propagation + "\"");
  }
  return null;
}

/**
 * A user namespace's maps: given with one (both uid and gid), never without; at most 340
 * ranges (the kernel's), each of size ≥ 1 and inside the id space, none overlapping another on
 * either side; the container's 0 mapped, since the process becomes the namespace's root first
 * (USER 0:0 right after the maps) and sets the container up as it.
 */
function checkIdMaps(field: string, maps: OciIdMap[], userns: bool): Failure | null {
  if (!userns) return maps.length == 0 ? null : invalid(field + ": needs a new user namespace (linux.namespaces)");
  if (maps.length == 0) return invalid(field + ": a user namespace needs its mappings");
  if (maps.length > 340) return invalid(field + ": " + maps.length.toString() + " ranges (at most 340)");
  let zero = false;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    const at = field + "[" + i.toString() + "]";
    if (m.size == 0 || m.container >= ID_LIMIT || m.host >= ID_LIMIT || m.size > ID_LIMIT - m.container || m.size > ID_LIMIT - m.host) return invalid(at + ": not a range of ids (size ≥ 1, inside 0 to 4294967294)");
    for (let k = 0; k < i; k++) {
      const o = maps[k];
      if (m.container < o.container + o.size && o.container < m.container + m.size) return invalid(at + ": container ids overlap " + field + "[" + k.toString() + "]");
      if (m.host < o.host + o.size && o.host < m.host + m.size) return invalid(at + ": host ids overlap " + field + "[" + k.toString() + "]");
    }
    if (m.container == 0) zero = true;
  }
  if (!zero) return invalid(field + ": the container's id 0 is not mapped (husk-runc sets the container up as its root)");
  return null;
}

function mapLines(maps: OciIdMap[]): string {
  let text = "";
  for (let i = 0; i < maps.length; i++) text += maps[i].container.toString() + " " + maps[i].host.toString() + " " + maps[i].size.toString() + "\n";
  return text;
}

const PID_MAX: u64 = 0x7fffffff;
/** PRESERVE_FDS's bound (protocol.md). */
const PRESERVED_FDS_MAX: u64 = 1024;
const JOIN_KNOWN: u64 = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME;

/** `exec`: a process in the namespaces and cgroups of a running init; nothing else of the config. */
function decideJoin(req: OciRequest, d: OciDecisions): Failure | null {
  if (req.joinPid == 0 || req.joinPid > PID_MAX) return invalid("exec: pid " + req.joinPid.toString() + " out of range");
  if (req.joinStart == 0) return invalid("exec: pid " + req.joinPid.toString() + ": no start time, so a reused pid could not be told apart");
  if ((req.joinDiffer & ~JOIN_KNOWN) != 0) return invalid("exec: unknown namespace bits");
  for (let i = 0; i < req.joinCgroups.length; i++) {
    const v = req.joinVersions[i];
    if ((v != 1 && v != 2) || req.joinCgroups[i].charCodeAt(0) != 0x2f || req.joinCgroups[i].indexOf("/../") >= 0) return invalid("exec: cgroup " + req.joinCgroups[i] + ": not an absolute cgroup directory");
  }
  if (req.namespaces.length > 0 || req.mounts.length > 0 || req.sysctls.length > 0 || req.hasHostname) return invalid("exec: a process joins its container: namespaces, mounts, sysctls and hostname are the container's");
  d.newNamespaces = 0;
  return null;
}

const UNSET: u64 = 0xffffffffffffffff;

/**
 * linux.devices, as runc makes them: without a user namespace (new or joined) each node is
 * made in the rootfs by mknod with the entry's mode (default 0666) and owner (default 0:0);
 * in one, where mknod of a device is not allowed, the host's node of that type and number is
 * bound in (the launcher's BIND with create), so its mode and owner are the host's and a
 * fileMode, uid or gid that differs is refused rather than ignored. A FIFO (type p) is made
 * either way. Each device also gets a device-cgroup allow rule after linux.resources.devices
 * (runc's order), where the host has a device cgroup.
 */
function decideDevices(req: OciRequest, d: OciDecisions): Failure | null {
  const userns = (d.newNamespaces & CLONE_NEWUSER) != 0 || d.userPath.length > 0;
  for (let i = 0; i < req.devices.length; i++) {
    const dev = req.devices[i];
    const field = "linux.devices[" + i.toString() + "]";
    if (req.join) return invalid("exec: a process has no devices of its own");
    if (dev.path.length == 0 || dev.path.charCodeAt(0) != 0x2f || insideRoot(dev.path) === null || insideRoot(dev.path) == "") return invalid(field + ".path: \"" + dev.path + "\" is not an absolute path inside the rootfs");
    if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p") {
      return invalid(field + ".type: \"" + dev.type + "\" is not a device type (c, u, b or p)");
    }
    const fifo = dev.type == "p";
    if (!fifo && (dev.major == UNSET || dev.minor == UNSET || dev.major > 0xfff || dev.minor > 0xfffff)) return invalid(field + ": major and minor are needed (major ≤ 4095, minor ≤ 1048575)");
    if (dev.mode != UNSET && dev.mode > 0o7777) return invalid(field + ".fileMode: 0" + dev.mode.toString(8) + " is not a permission mode (at most 07777)");
    if ((dev.uid != UNSET && dev.uid >= ID_LIMIT) || (dev.gid != UNSET && dev.gid >= ID_LIMIT)) return invalid(field + ".uid/gid: out of range");
    const kind = dev.type == "b" ? "b" : "c";
    const name = kind + " " + dev.major.toString() + ":" + dev.minor.toString();
    const made = fifo || !userns;
    d.devicesMade.push(made);
    if (fifo) continue;
    req.deviceRules.push(new OciDeviceRule(true, kind, dev.major, dev.minor, "rwm"));
    if (made) continue;
    if (dev.hostPath.length == 0) return invalid(field + ": this host has no " + name + " device to bind (in a user namespace husk-runc binds the host's device nodes, as runc does)");
    if (dev.mode != UNSET && (dev.mode & 0o7777) != (dev.hostMode & 0o7777)) {
      return invalid(field + ".fileMode: 0" + (dev.mode & 0o7777).toString(8) + " differs from the host's " + dev.hostPath + " (0" + (dev.hostMode & 0o7777).toString(8) + "), whose node husk-runc binds in a user namespace");
    }
    if ((dev.uid != UNSET && dev.uid != dev.hostUid) || (dev.gid != UNSET && dev.gid != dev.hostGid)) {
      return invalid(field + ".uid/gid: " + dev.uid.toString() + ":" + dev.gid.toString() + " differs from the host's " + dev.hostPath + " (" + dev.hostUid.toString() + ":" + dev.hostGid.toString() + "), whose node husk-runc binds in a user namespace");
    }
  }
  return null;
}

const S_IFIFO: u64 = 0o010000;
const S_IFCHR: u64 = 0o020000;
const S_IFBLK: u64 = 0o060000;

/** linux.devices' ops, in their order: MKNOD_DEV where decideDevices chose it, else BIND. */
function deviceEntryOps(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  for (let i = 0; i < req.devices.length; i++) {
    const dev = req.devices[i];
    const target = <string>insideRoot(dev.path);
    if (!d.devicesMade[i]) {
      plan.bind(dev.hostPath, target, BIND_CREATE);
      continue;
    }
    const type = dev.type == "p" ? S_IFIFO : dev.type == "b" ? S_IFBLK : S_IFCHR;
    const mode = dev.mode == UNSET ? 0o666 : dev.mode;
    // The kernel's 32-bit dev_t for mknod (new_encode_dev): minor's low byte, the major, the rest of the minor.
    const rdev: u64 = dev.type == "p" ? 0 : (dev.minor & 0xff) | (dev.major << 8) | ((dev.minor & ~(<u64>0xff)) << 12);
    plan.mknodDev(target, type | mode, rdev, dev.uid == UNSET ? 0 : dev.uid, dev.gid == UNSET ? 0 : dev.gid);
  }
}

/** HOOK's bound on a timeout (docs/protocol.md "Hooks in the container"). */
const HOOK_TIMEOUT_MAX: u64 = 2000000;
/** HOOK's bound on the state's two halves (they must fit in an empty pipe). */
const HOOK_STATE_MAX: i32 = 16384;

/**
 * hooks: husk-runc runs prestart, createRuntime, poststart and poststop itself, in the runtime's
 * namespaces (ts/runc/hooks.ts); createContainer and startContainer are HOOK ops the container
 * process runs. Each path absolute, a timeout (when given) at least 1 s.
 */
function decideHooks(req: OciRequest): Failure | null {
  const counts: i32[] = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < req.hooks.length; i++) {
    const h = req.hooks[i];
    if (h.kind < 1 || h.kind > <u64>HOOK_KINDS.length) return invalid("hooks: kind " + h.kind.toString() + " unknown");
    const at = <i32>h.kind - 1;
    const field = "hooks." + HOOK_KINDS[at] + "[" + counts[at].toString() + "]";
    counts[at]++;
    if (req.join) return invalid("exec: a process has no hooks");
    if (at == 2 || at == 3) {
      const which = at - 2;
      if (!req.hasHookState[which]) return malformed("request: hooks." + HOOK_KINDS[at] + " without OCI_HOOK_STATE kind " + h.kind.toString());
      const prefix = req.hookStatePrefix[which];
      if (!prefix.startsWith("{") || !req.hookStateSuffix[which].endsWith("}") || prefix.length + req.hookStateSuffix[which].length > HOOK_STATE_MAX) {
        return invalid(field + ": the container's state is over " + HOOK_STATE_MAX.toString() + " bytes of JSON (its annotations?)");
      }
      if (h.timeout != HOOK_NO_TIMEOUT && h.timeout > HOOK_TIMEOUT_MAX) return invalid(field + ".timeout: over " + HOOK_TIMEOUT_MAX.toString() + " seconds");
    }
    if (h.path.length == 0 || h.path.charCodeAt(0) != 0x2f) return invalid(field + ".path: \"" + h.path + "\" is not an absolute path");
    if (h.timeout == 0) return invalid(field + ".timeout: must be at least 1 second");
    for (let k = 0; k < h.env.length; k++) {
      if (h.env[k].indexOf("=") <= 0) return invalid(field + ".env: \"" + h.env[k] + "\" is not KEY=VALUE");
    }
  }
  return null;
}

/** runc's rule: only namespaced sysctls, and only in a namespace that is not the host's. */
function decideSysctls(req: OciRequest, d: OciDecisions): Failure | null {
  const ipc = KERNEL_IPC;
  for (let i = 0; i < req.sysctls.length; i++) {
    const key = req.sysctls[i].name;
    if (key.length == 0 || key.indexOf("/") >= 0 || key.indexOf("..") >= 0) return invalid("linux.sysctl: \"" + key + "\" is not a sysctl name");
    let needs: u64 = 0;
    if (ipc.includes(key) || key.startsWith("fs.mqueue.")) needs = CLONE_NEWIPC;
    else if (key.startsWith("net.")) needs = CLONE_NEWNET;
    else if (key == "kernel.hostname" || key == "kernel.domainname") needs = CLONE_NEWUTS;
    else return invalid("linux.sysctl: \"" + key + "\" is not a namespaced sysctl, so husk-runc will not set it");
    const own = (d.newNamespaces & needs) != 0 || d.joinTypes.includes(needs);
    if (!own) return invalid("linux.sysctl: \"" + key + "\" needs the container's own " + (needs == CLONE_NEWNET ? "network" : needs == CLONE_NEWIPC ? "ipc" : "uts") + " namespace");
    d.sysctlPaths.push("/proc/sys/" + key.replaceAll(".", "/"));
  }
  return null;
}

const KERNEL_IPC: string[] = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

/**
 * linux.resources → the cgroup module's limits; linux.resources.devices (then linux.devices'
 * allow rules, then runc's defaults) → v1 device writes, or on cgroup v2 a BPF program.
 */
function decideCgroup(req: OciRequest, configRules: i32, d: OciDecisions): Failure | null {
  const cg = req.cgroup;
  const limits = ociLimits(req.resources, cg, false);
  if (limits !== null) return limits;
  const problem = validateCgroup(cg);
  if (problem !== null) return invalid("linux.resources: " + problem.reason);
  const memory = memoryExtras(req.resources, cg, d);
  if (memory !== null) return memory;
  if (req.deviceRules.length == 0 || !cg.present) return null;
  const kind = deviceCgroupKind(cg);
  // Without a device cgroup nothing restricts devices: linux.devices' own allow rules
  // need no writes; the config's rules (deny ones among them) cannot be honoured.
  if (kind == "" && configRules == 0) return null;
  if (kind == "") return invalid("linux.resources.devices: this container has no device cgroup here (no cgroup v1 devices controller, and no cgroup v2 hierarchy it may attach a BPF device program to without root)");
  const rules = new Array<DeviceRule>();
  for (let i = 0; i < req.deviceRules.length; i++) {
    const rule = req.deviceRules[i];
    const line = deviceLine(rule.type, rule.major, rule.minor, rule.access);
    if (line === null) return invalid("linux.resources.devices[" + i.toString() + "]: not a device rule (type a, b or c; access of r, w, m)");
    rules.push(new DeviceRule(rule.allow, deviceType(rule.type), rule.major, rule.minor, deviceAccess(rule.access)));
  }
  for (let i = 0; i < DEFAULT_DEVICE_RULES.length; i++) rules.push(parseRuleLine(true, DEFAULT_DEVICE_RULES[i]));
  if (kind == "v2") return devicesProgram(rules, "linux.resources.devices", cg.devicesProgram);
  const writes: Write[] = cg.writes[v1DevicesAt(cg)];
  for (let i = 0; i < req.deviceRules.length; i++) {
    const rule = req.deviceRules[i];
    // Deny-all resets the list (a); allow-all likewise.
    writes.push(new Write("devices", rule.allow ? "devices.allow" : "devices.deny", <string>deviceLine(rule.type, rule.major, rule.minor, rule.access)));
  }
  for (let i = 0; i < DEFAULT_DEVICE_RULES.length; i++) writes.push(new Write("devices", "devices.allow", DEFAULT_DEVICE_RULES[i]));
  return null;
}

/** linux.resources.memory fields of the OCI spec that docker's flags have no name for. */
const MEMORY_EXTRAS: string[] = ["memory.kernel", "memory.kernelTCP", "memory.swappiness", "memory.disableOOMKiller"];

/**
 * memory.kernel and memory.kernelTCP are ignored with a warning, as runc 1.1 ignores them
 * (kernel memory limits are deprecated; the kernel here no longer takes them);
 * memory.swappiness (0-100) and memory.disableOOMKiller are written to a v1 memory
 * controller (memory.swappiness, memory.oom_control), as runc writes them; cgroup v2 has
 * neither file, so there they are refused by name.
 */
function memoryExtras(resources: OciPair[], cg: CgroupRequest, d: OciDecisions): Failure | null {
  let at = -1;
  for (let i = 0; i < cg.used.length; i++) if (cg.used[i].version == 1 && cg.used[i].has("memory")) at = i;
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i];
    if (!MEMORY_EXTRAS.includes(r.name)) continue;
    const field = "linux.resources." + r.name;
    if (r.name == "memory.kernel" || r.name == "memory.kernelTCP") {
      d.warnings.push(field + ": ignored, as runc ignores kernel memory limits");
      continue;
    }
    if (r.name == "memory.disableOOMKiller" && r.value == "false") continue;
    if (!cg.present || at < 0) return invalid(field + ": needs a cgroup v1 memory controller (cgroup v2 has no such setting)");
    if (r.name == "memory.disableOOMKiller") {
      if (r.value != "true") return invalid(field + ": not true or false");
      cg.writes[at].push(new Write("memory", "memory.oom_control", "1"));
      continue;
    }
    const value = r.value;
    let digits = value.length > 0 && value.length <= 3;
    for (let k = 0; k < value.length; k++) if (value.charCodeAt(k) < 0x30 || value.charCodeAt(k) > 0x39) digits = false;
    if (!digits || I32.parseInt(value) > 100) return invalid(field + ": \"" + value + "\" is not 0 to 100");
    cg.writes[at].push(new Write("memory", "memory.swappiness", value));
  }
  return null;
}

/**
 * linux.resources' fields → the cgroup module's limits on `cg`. At create, -1 (and a pids
 * limit of 0) mean "no limit": nothing to write. At `update` a pids limit of -1 or 0 lifts
 * the limit (pids.max "max"), as runc's update does.
 */
export function ociLimits(resources: OciPair[], cg: CgroupRequest, update: bool): Failure | null {
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i];
    const at = RESOURCE_FIELDS.indexOf(r.name);
    // At create memoryExtras reads these; `update` does not take them.
    if (at < 0 && !update && MEMORY_EXTRAS.includes(r.name)) continue;
    if (at < 0) return invalid("linux.resources." + r.name + ": not supported by husk-runc");
    if (!cg.present) return invalid("linux.resources." + r.name + ": this host has no cgroup filesystem mounted");
    const pids = r.name == "pids.limit";
    if (pids && update && (r.value == "-1" || r.value == "0")) {
      cg.limits.push(new CgroupLimit("pids-limit", "0"));
      continue;
    }
    if (r.value == "-1" || (pids && r.value == "0")) continue;
    cg.limits.push(new CgroupLimit(RESOURCE_FLAGS[at], r.value));
  }
  return null;
}

function deviceLine(type: string, major: u64, minor: u64, access: string): string | null {
  const kind = type.length == 0 ? "a" : type;
  if (kind != "a" && kind != "b" && kind != "c") return null;
  const how = access.length == 0 ? "rwm" : access;
  for (let i = 0; i < how.length; i++) {
    const c = how.charAt(i);
    if (c != "r" && c != "w" && c != "m") return null;
  }
  if (kind == "a") return "a *:* " + how;
  return kind + " " + (major == DEVICE_ANY ? "*" : major.toString()) + ":" + (minor == DEVICE_ANY ? "*" : minor.toString()) + " " + how;
}

function writeSummary(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  const w = plan.w;
  w.begin(ANS_SUMMARY, "summary");
  w.u64(0); // the plan offset, set below
  w.u64(d.newNamespaces);
  w.str("hostname", req.hasHostname ? req.hostname : "", STR_MAX);
  w.end();
  const cg = req.cgroup;
  if (cg.present) {
    for (let i = 0; i < cg.used.length; i++) {
      w.begin(ANS_CGROUP_DIR, "cgroup-dir");
      w.str("path", containerDir(cg, cg.used[i]), PATH_MAX);
      w.end();
    }
  }
  if (d.ignoredCaps.length > 0) {
    let names = d.ignoredCaps.join(", ");
    if (names.length > 1024) names = names.substring(0, 1024) + "…";
    d.warnings.unshift("process.capabilities: ignoring unknown capabilities " + names);
  }
  for (let i = 0; i < d.warnings.length; i++) {
    w.begin(ANS_OCI_WARNING, "oci-warning");
    w.str("text", d.warnings[i], STR_MAX);
    w.end();
  }
  if (w.ok) store<u64>(changetype<usize>(w.buf) + HEADER_SIZE, <u64>w.len);
}

/** `exec`: TARGET, its pid namespace and v2 cgroup before CLONE; v1 cgroups, the rest after it. */
function writeJoinPlan(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  if (req.console.length > 0) plan.console(req.console);
  if (req.execFifo.length > 0) plan.execFifo(req.execFifo);
  listenerOp(plan, req, d);
  plan.target(req.joinPid, req.joinStart);
  if ((req.joinDiffer & CLONE_NEWPID) != 0) plan.setns(CLONE_NEWPID);
  for (let i = 0; i < req.joinCgroups.length; i++) if (req.joinVersions[i] == 2) plan.cgroupInto(req.joinCgroups[i]);
  plan.clone(0);
  // Joined as host root, before the container's user namespace: the tasks files are root's.
  for (let i = 0; i < req.joinCgroups.length; i++) if (req.joinVersions[i] == 1) plan.cgroupJoin(req.joinCgroups[i] + "/tasks");
  const rest = req.joinDiffer & ~CLONE_NEWPID;
  if (rest != 0) plan.setns(rest);
  processOps(plan, req, d);
  plan.end();
}

function writePlan(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  const cg = req.cgroup;
  const hello: u64 = ((req.options & OCI_TRACE) != 0 ? 1 : 0) | ((req.options & OCI_DIE_WITH_PARENT) != 0 ? 2 : 0);
  plan.hello(hello);
  if (req.join) return writeJoinPlan(plan, req, d);
  cgroupLauncherOps(plan, cg);
  if (req.console.length > 0) plan.console(req.console);
  if (req.execFifo.length > 0) plan.execFifo(req.execFifo);
  listenerOp(plan, req, d);
  for (let i = 0; i < d.joins.length; i++) plan.setnsFile(d.joins[i], d.joinTypes[i]);
  // A time namespace is the launcher's children's: made, and its offsets written, before CLONE.
  const timens = (d.newNamespaces & CLONE_NEWTIME) != 0;
  if (timens) {
    plan.unshare(CLONE_NEWTIME);
    let offsets = "";
    for (let i = 0; i < req.timeOffsets.length; i++) offsets += req.timeOffsets[i].clock + " " + req.timeOffsets[i].secs.toString() + " " + req.timeOffsets[i].nanosecs.toString() + "\n";
    if (offsets.length > 0) plan.writeFile("/proc/self/timens_offsets", offsets);
  }
  const cgroupNs = (d.newNamespaces & CLONE_NEWCGROUP) != 0;
  if (d.userPath.length > 0) writeJoinedUser(plan, req, d);
  else {
    const cgroupAfter = unshareCgroupAfterJoin(cg, d.newNamespaces, CLONE_NEWCGROUP);
    plan.clone((cgroupAfter ? d.newNamespaces & ~CLONE_NEWCGROUP : d.newNamespaces) & ~CLONE_NEWTIME);
    const userns = (d.newNamespaces & CLONE_NEWUSER) != 0;
    if (userns) {
      plan.uidMap(mapLines(req.uidMaps));
      plan.gidMap(mapLines(req.gidMaps));
    }
    idmapMountOps(plan, req.mounts, req.bundle);
    cgroupJoinOps(plan, cg);
    // Entered by the process as host root (CAP_SYS_ADMIN over the time namespace's owner),
    // before the user namespace's root has only that namespace's powers.
    if (d.timePath.length > 0) plan.setnsFile(d.timePath, CLONE_NEWTIME);
    // The process still has the host's ids, which the maps may not cover: root of the namespace first.
    if (userns) plan.user(0, 0, new Array<u64>());
    if (cgroupAfter) plan.unshare(CLONE_NEWCGROUP);
  }
  if (req.hasOomScoreAdj) plan.writeFile("/proc/self/oom_score_adj", req.oomScoreAdj.toString());
  for (let i = 0; i < d.sysctlPaths.length; i++) plan.writeFile(d.sysctlPaths[i], req.sysctls[i].value);
  if ((d.newNamespaces & CLONE_NEWNET) != 0) plan.loopbackUp();
  plan.mount("", "/", "", d.propagation, "");
  // The rootfs bound on itself before its mounts are made, as runc does: PIVOT_ROOT then
  // finds a mount's root and pivots onto it as it is, instead of binding it again, which
  // would not copy the config's unbindable mounts.
  plan.bind(req.root, req.root, BIND_RECURSIVE);
  plan.setRoot(req.root);
  mountOps(plan, req.mounts, req.bundle, cg, cgroupNs);
  deviceOps(plan, mountsDev(req.mounts), hasDevpts(req));
  deviceEntryOps(plan, req, d);
  const cwd = insideRoot(req.cwd);
  if (cwd !== null) plan.mkdir(cwd, 0o755);
  pathOps(plan, req.masked, req.readonly);
  // runc's order: prestart and createRuntime (husk-runc's, in the runtime's namespaces) once
  // the mounts are made, then createContainer in the container's, both before pivot_root.
  if (hasHooks(req, 1) || hasHooks(req, 2)) plan.hookSync();
  hookOps(plan, req, 3, req.bundle);
  plan.pivotRoot(req.root);
  if (req.rootReadonly) plan.mount("", "/", "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
  if (req.hasHostname) plan.sethostname(req.hostname);
  processOps(plan, req, d);
  plan.end();
}

/**
 * A user namespace joined by path (docs/protocol.md "A joined user namespace", runc's nsexec
 * order): CLONE makes nothing (what it made would belong to the host's user namespace); the
 * process joins its cgroups as host root, enters the time namespace (if joined), then the user
 * namespace, becomes its root, and makes the new namespaces, which are the joined one's own; a
 * new pid namespace takes only children, so it forks: the child is the container's process,
 * pid 1. At `create` the parent exits (PID_FORK_ORPHAN), so the child is the engine's
 * subreaper's, as runc leaves it; in the foreground (`run`, no FIFO) the launcher monitors
 * the parent, which stays as husk's init for it (PID_FORK).
 */
function writeJoinedUser(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  plan.clone(0);
  idmapMountOps(plan, req.mounts, req.bundle);
  cgroupJoinOps(plan, req.cgroup);
  if (d.timePath.length > 0) plan.setnsFile(d.timePath, CLONE_NEWTIME);
  plan.setnsFile(d.userPath, CLONE_NEWUSER);
  plan.user(0, 0, new Array<u64>());
  const fresh = d.newNamespaces & ~CLONE_NEWTIME;
  if (fresh != 0) plan.unshare(fresh);
  if ((fresh & CLONE_NEWPID) != 0) {
    if (req.execFifo.length > 0) plan.pidForkOrphan();
    else plan.pidFork();
  }
}

function hasHooks(req: OciRequest, kind: u64): bool {
  for (let i = 0; i < req.hooks.length; i++) if (req.hooks[i].kind == kind) return true;
  return false;
}

/** HOOK ops for each hook of `kind` (3 createContainer, 4 startContainer), `dir` their cwd. */
function hookOps(plan: PlanWriter, req: OciRequest, kind: u64, dir: string): void {
  let index: u64 = 0;
  for (let i = 0; i < req.hooks.length; i++) {
    const h: OciHook = req.hooks[i];
    if (h.kind != kind) continue;
    const which = <i32>kind - 3;
    plan.hook(kind, index++, h.path, h.args, h.env, dir, h.timeout == HOOK_NO_TIMEOUT ? 0 : h.timeout, req.hookStatePrefix[which], req.hookStateSuffix[which]);
  }
}

function hasDevpts(req: OciRequest): bool {
  for (let i = 0; i < req.mounts.length; i++) if (req.mounts[i].type == "devpts" && insideRoot(req.mounts[i].destination) == "dev/pts") return true;
  return false;
}

function processOps(plan: PlanWriter, req: OciRequest, d: OciDecisions): void {
  for (let i = 0; i < req.rlimits.length; i++) plan.rlimit(d.rlimitResources[i], req.rlimits[i].soft, req.rlimits[i].hard);
  // Before the capabilities go: the RT class takes CAP_SYS_ADMIN (or CAP_SYS_NICE).
  if (d.ioprio != 0) plan.ioprio(d.ioprio);
  // A real-time policy and a negative nice take CAP_SYS_NICE: before the capabilities go.
  if (d.schedPolicy != U64_NONE) plan.scheduler(d.schedPolicy, <u64>req.schedNice, req.schedPriority);
  if (d.persona != U64_NONE) plan.personality(d.persona);
  // Every fd beyond 0-2 is marked close-on-exec before any filter is loaded: profiles older
  // than close_range (docker's before 2020, runtime-tools' default) refuse it with EPERM, and
  // without no_new_privs the filter comes next.
  plan.closeFds();
  if (req.preserveFds > 0) plan.preserveFds(req.preserveFds);
  // Without no_new_privs only a process holding CAP_SYS_ADMIN may load a filter: it is
  // loaded now, before the capabilities are set (runc's order); the steps after it are
  // filtered too, as they are by runc.
  const nnp = (req.options & OCI_NO_NEW_PRIVS) != 0;
  const filter = !d.seccomp.none && d.seccomp.program.length > 0;
  if (filter && !nnp) plan.seccomp(d.seccomp.flags, chunks(d.seccomp.program));
  const bounding = d.caps[0];
  const effective = d.caps[1];
  const permitted = d.caps[2];
  const inheritable = d.caps[3];
  // The bounding set is dropped while this process still holds CAP_SETPCAP, keeping what USER
  // needs (setuid, setgid) and what the final sets name; the final sets come after USER.
  const keep = permitted | effective | inheritable | (<u64>1 << CAP_SETUID) | (<u64>1 << CAP_SETGID);
  plan.caps(bounding, keep, keep, inheritable);
  plan.user(req.uid, req.gid, req.groups);
  if (req.umask != UMASK_UNSET) plan.umask(req.umask);
  plan.caps(bounding, effective, permitted, inheritable);
  if (d.caps[4] != 0) plan.ambient(d.caps[4]);
  plan.chdir(req.cwd);
  if (nnp) plan.noNewPrivs();
  if (filter && nnp) plan.seccomp(d.seccomp.flags, chunks(d.seccomp.program));
  if (req.execFifo.length > 0) plan.fifoWait();
  // startContainer: released, right before EXEC, with the process's own credentials (runc's).
  hookOps(plan, req, 4, "");
  plan.exec(req.args[0], req.args, req.env, searchPath(req.env), STATUS_FAILED, STATUS_NOT_FOUND, STATUS_NOT_EXECUTABLE);
}

function jsonList(items: string[]): string {
  const quoted = new Array<string>();
  for (let i = 0; i < items.length; i++) quoted.push("\"" + items[i] + "\"");
  return "[" + quoted.join(",") + "]";
}

/**
 * ociFeatures: what husk-runc supports, as the OCI features document (runtime-spec
 * features.md) that `husk-runc features` prints. No input; the answer is the JSON text.
 * It is made from the same tables the plan is checked against, so it cannot drift.
 */
/** The seccomp actions the compiler takes (assembly/seccomp/profile.ts actionValue). */
const SECCOMP_ACTIONS: string[] = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"];

export function ociFeatures(len: i32): i32 {
  const namespaces = new Array<string>();
  for (let i = 0; i < NS_TYPES.length; i++) namespaces.push(NS_TYPES[i]);
  const json = "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.0.2\",\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\",\"startContainer\",\"poststart\",\"poststop\"]," +
    "\"mountOptions\":" + jsonList(mountOptionNames()) + "," +
    "\"linux\":{\"namespaces\":" + jsonList(namespaces) + ",\"capabilities\":" + jsonList(CAPABILITIES) + "," +
    "\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false}," +
    "\"mountExtensions\":{\"idmap\":{\"enabled\":true}}," +
    "\"seccomp\":{\"enabled\":true,\"actions\":" + jsonList(SECCOMP_ACTIONS) + "},\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}}," +
    "\"annotations\":{\"org.opencontainers.runc.version\":\"husk-runc\"}}";
  const bytes = new ArrayBuffer(json.length);
  for (let i = 0; i < json.length; i++) store<u8>(changetype<usize>(bytes) + <usize>i, <u8>json.charCodeAt(i));
  return answer(bytes, json.length);
}
