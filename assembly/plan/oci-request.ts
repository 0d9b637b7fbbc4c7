// An OCI bundle's config.json as request items 0x0310–0x033f (docs/core-abi.md "ociPlan"):
// ts/runc/ reads the JSON and sends each field as typed; this file decodes the items and
// says which fields husk-runc supports. Every field present in config.json arrives as an
// OCI_FIELD item too (its dotted path, e.g. `linux.seccomp`), so a field this file does not
// know is refused by name (runc's users expect an error, never a field silently ignored).

import { Failure, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX } from "../codec";
import { CgroupRequest, decodeCgroupFrame, isCgroupItem, REQ_CGROUP } from "./cgroup";
import { REQ_SECCOMP_CAPS, SeccompRequest } from "../seccomp/items";

export const REQ_OCI_ROOT: u32 = 0x0310;
export const REQ_OCI_ARGS: u32 = 0x0311;
export const REQ_OCI_ENV: u32 = 0x0312;
export const REQ_OCI_CWD: u32 = 0x0313;
export const REQ_OCI_USER: u32 = 0x0314;
export const REQ_OCI_CAPS: u32 = 0x0315;
export const REQ_OCI_RLIMIT: u32 = 0x0316;
export const REQ_OCI_OPTIONS: u32 = 0x0317;
export const REQ_OCI_HOSTNAME: u32 = 0x0318;
export const REQ_OCI_NAMESPACE: u32 = 0x0319;
export const REQ_OCI_MOUNT: u32 = 0x031a;
export const REQ_OCI_MASKED: u32 = 0x031b;
export const REQ_OCI_READONLY: u32 = 0x031c;
export const REQ_OCI_SYSCTL: u32 = 0x031d;
export const REQ_OCI_FIELD: u32 = 0x031f;
export const REQ_OCI_RESOURCE: u32 = 0x0320;
export const REQ_OCI_DEVICE_RULE: u32 = 0x0321;
export const REQ_OCI_EXEC_FIFO: u32 = 0x0323;
export const REQ_OCI_CONSOLE: u32 = 0x0324;
export const REQ_OCI_OOM_SCORE_ADJ: u32 = 0x0325;
export const REQ_OCI_PROPAGATION: u32 = 0x0326;
export const REQ_OCI_BUNDLE: u32 = 0x0327;
/** `exec`: the process joins a running container's init (its namespaces and cgroups). */
export const REQ_OCI_JOIN: u32 = 0x0328;
export const REQ_OCI_JOIN_CGROUP: u32 = 0x0329;
/** `create --preserve-fds N`: fds 3 to 3+N-1 reach the container (the launcher has them there). */
export const REQ_OCI_PRESERVE_FDS: u32 = 0x032a;
/** One entry of config.json `hooks` (kind: HOOK_KINDS' index + 1). */
export const REQ_OCI_HOOK: u32 = 0x032b;

/**
 * The OCI state a createContainer (kind 3) or startContainer (kind 4) hook reads, around the
 * pid the launcher puts between the two halves (ts/runc/ writes the JSON; the core checks it
 * is an object's text).
 */
export const REQ_OCI_HOOK_STATE: u32 = 0x0338;
/** process.ioPriority: its class name and priority. */
export const REQ_OCI_IO_PRIORITY: u32 = 0x0339;
/** process.scheduler: policy name, nice (i64 two's complement), priority. */
export const REQ_OCI_SCHEDULER: u32 = 0x033a;
/** linux.personality: its domain. */
export const REQ_OCI_PERSONALITY: u32 = 0x033b;
/** linux.seccomp.listenerPath (and listenerMetadata): the container process state in three parts around the pid. */
export const REQ_OCI_SECCOMP_LISTENER: u32 = 0x0365;
/** An idmapped bind mount: the OCI_MOUNT before it has uidMappings/gidMappings or idmap/ridmap. */
export const REQ_OCI_MOUNT_IDMAP: u32 = 0x0366;
/** config.json `ociVersion` as written (checked: SemVer, runtime-spec 1.x). */
export const REQ_OCI_VERSION: u32 = 0x03a1;

/** One entry of `linux.devices`, with the host's node of that type and number (or none). */
export const REQ_OCI_DEVICE: u32 = 0x032c;

/** One entry of linux.uidMappings (which 0) or linux.gidMappings (which 1). */
export const REQ_OCI_ID_MAP: u32 = 0x032d;
/** linux.timeOffsets: one clock (monotonic, boottime) and its offset. */
export const REQ_OCI_TIME_OFFSET: u32 = 0x032e;

/** The OCI hook lists, in OCI_HOOK's kind order (1 = prestart …). */
export const HOOK_KINDS: string[] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];
/** OCI_HOOK's timeout when the hook has none. */
export const HOOK_NO_TIMEOUT: u64 = 0xffffffffffffffff;

/** OCI_OPTIONS bits. */
export const OCI_NO_NEW_PRIVS: u64 = 1;
export const OCI_TERMINAL: u64 = 2;
export const OCI_TRACE: u64 = 4;
/** `husk-runc run` in the foreground: the container dies with the launcher (HELLO bit 1). */
export const OCI_DIE_WITH_PARENT: u64 = 8;
const OCI_OPTIONS_KNOWN: u64 = 15;

/** OCI_USER's umask when config.json has none. */
export const UMASK_UNSET: u64 = 0xffffffffffffffff;
/** A device rule's major or minor that is absent (`*`). */
export const DEVICE_ANY: u64 = 0xffffffffffffffff;

const ITEMS_MAX: i32 = 1024;

export class OciMount {
  /** REQ_OCI_MOUNT_IDMAP: idmapped; the source is a directory (else a file); maps as (container, host, size) triples. */
  idmapped: bool = false;
  sourceDir: bool = true;
  uidMaps: OciIdMap[] = [];
  gidMaps: OciIdMap[] = [];
  constructor(public destination: string, public type: string, public source: string, public options: string[]) {}
}

export class OciNamespace {
  constructor(public type: string, public path: string) {}
}

export class OciRlimit {
  constructor(public type: string, public soft: u64, public hard: u64) {}
}

export class OciPair {
  constructor(public name: string, public value: string) {}
}

export class OciHook {
  constructor(public kind: u64, public path: string, public args: string[], public env: string[], public timeout: u64) {}
}

export class OciDevice {
  constructor(
    public path: string, public type: string, public major: u64, public minor: u64,
    public mode: u64, public uid: u64, public gid: u64,
    public hostPath: string, public hostMode: u64, public hostUid: u64, public hostGid: u64,
  ) {}
}

export class OciIdMap {
  constructor(public container: u64, public host: u64, public size: u64) {}
}

export class OciTimeOffset {
  constructor(public clock: string, public secs: i64, public nanosecs: u64) {}
}

export class OciDeviceRule {
  constructor(public allow: bool, public type: string, public major: u64, public minor: u64, public access: string) {}
}

export class OciRequest {
  seen: Set<u32> = new Set<u32>();
  root: string = "";
  rootReadonly: bool = false;
  bundle: string = "";
  args: string[] = [];
  env: string[] = [];
  cwd: string = "/";
  uid: u64 = 0;
  gid: u64 = 0;
  umask: u64 = UMASK_UNSET;
  groups: u64[] = [];
  /** Capability names per set: bounding, effective, permitted, inheritable, ambient. */
  caps: string[][] = [[], [], [], [], []];
  hasCaps: bool[] = [false, false, false, false, false];
  rlimits: OciRlimit[] = [];
  options: u64 = 0;
  hasHostname: bool = false;
  /** `ociVersion`, when config.json has one. */
  version: string | null = null;
  hostname: string = "";
  namespaces: OciNamespace[] = [];
  mounts: OciMount[] = [];
  masked: string[] = [];
  readonly: string[] = [];
  sysctls: OciPair[] = [];
  fields: string[] = [];
  resources: OciPair[] = [];
  deviceRules: OciDeviceRule[] = [];
  execFifo: string = "";
  /** --console-socket: where the pty's master goes (process.terminal). */
  console: string = "";
  hasOomScoreAdj: bool = false;
  oomScoreAdj: i64 = 0;
  propagation: string = "";
  cgroup: CgroupRequest = new CgroupRequest();
  /** `linux.seccomp` as the seccomp items (0x0300–0x0305, ../seccomp/items.ts); none: no filter. */
  seccomp: SeccompRequest = new SeccompRequest();
  /** `exec`: OCI_JOIN's init (pid, start time), the namespaces of it that differ from husk's. */
  join: bool = false;
  joinPid: u64 = 0;
  joinStart: u64 = 0;
  joinDiffer: u64 = 0;
  joinCgroups: string[] = [];
  joinVersions: u64[] = [];
  preserveFds: u64 = 0;
  hooks: OciHook[] = [];
  /** REQ_OCI_HOOK_STATE's halves, by kind (index 0: createContainer, 1: startContainer). */
  hookStatePrefix: string[] = ["", ""];
  hookStateSuffix: string[] = ["", ""];
  hasHookState: bool[] = [false, false];
  ioClass: string = "";
  ioPriority: u64 = 0;
  hasIoPriority: bool = false;
  /** REQ_OCI_SECCOMP_LISTENER: where SCMP_ACT_NOTIFY's listener goes, and the state's parts. */
  hasListener: bool = false;
  listenerPath: string = "";
  listenerMetadata: bool = false;
  listenerState: string[] = ["", "", ""];
  hasScheduler: bool = false;
  schedPolicy: string = "";
  schedNice: i64 = 0;
  schedPriority: u64 = 0;
  personality: string = "";
  hasPersonality: bool = false;
  devices: OciDevice[] = [];
  uidMaps: OciIdMap[] = [];
  gidMaps: OciIdMap[] = [];
  timeOffsets: OciTimeOffset[] = [];

  has(type: u32): bool {
    return this.seen.has(type);
  }
}

/** Items that may come more than once. */
function repeatable(type: u32): bool {
  return type == REQ_OCI_JOIN_CGROUP || type == REQ_OCI_CAPS || type == REQ_OCI_RLIMIT || type == REQ_OCI_NAMESPACE || type == REQ_OCI_MOUNT ||
    type == REQ_OCI_SYSCTL || type == REQ_OCI_FIELD || type == REQ_OCI_RESOURCE || type == REQ_OCI_DEVICE_RULE || type == REQ_OCI_HOOK || type == REQ_OCI_DEVICE ||
    type == REQ_OCI_ID_MAP || type == REQ_OCI_TIME_OFFSET || type == REQ_OCI_HOOK_STATE || type == REQ_OCI_MOUNT_IDMAP;
}

export function decodeOciRequest(ptr: usize, len: i32, req: OciRequest): Failure | null {
  const frames = new FrameReader(ptr, len);
  let items = 0;
  while (frames.next()) {
    const type = <u32>frames.type;
    if (type == REQ_CGROUP || isCgroupItem(type)) {
      const failure = decodeCgroupFrame(type, frames.payload, frames.payloadLength, frames.index, req.cgroup);
      if (failure !== null) return failure;
      continue;
    }
    if (req.seccomp.isItem(type)) {
      if (type == REQ_SECCOMP_CAPS) return malformed(frames.where() + ": SECCOMP_CAPS is seccompCompile's (ociPlan uses the process's capabilities)");
      const failure = req.seccomp.decode(type, frames.payload, frames.payloadLength, frames.index);
      if (failure !== null) return asField(failure);
      continue;
    }
    if (req.seen.has(type) && !repeatable(type)) return malformed(frames.where() + ": given twice");
    req.seen.add(type);
    if (++items > ITEMS_MAX * 4) return malformed(frames.where() + ": too many items");
    const f = Fields.ofFrame(frames.payload, frames.payloadLength, frames.index, "OCI");
    const failure = decodeItem(type, f, req, frames.where());
    if (failure !== null) return failure;
    if (!f.finish()) return f.failure;
  }
  if (frames.failure !== null) return frames.failure;
  if (!req.has(REQ_OCI_ROOT)) return malformed("request: no OCI_ROOT");
  if (!req.has(REQ_OCI_ARGS)) return malformed("request: no OCI_ARGS");
  const seccomp = req.seccomp.check();
  return seccomp === null ? null : asField(seccomp);
}

/** The seccomp compiler names its fields `seccomp: …`; in config.json they are `linux.seccomp`'s. */
export function asField(failure: Failure): Failure {
  if (failure.reason.startsWith("seccomp: ")) failure.reason = "linux." + failure.reason;
  return failure;
}

function decodeItem(type: u32, f: Fields, req: OciRequest, where: string): Failure | null {
  switch (type) {
    case REQ_OCI_ROOT:
      req.root = f.str("path", PATH_MAX);
      req.rootReadonly = f.u64("readonly") != 0;
      break;
    case REQ_OCI_BUNDLE:
      req.bundle = f.str("path", PATH_MAX);
      break;
    case REQ_OCI_ARGS:
      req.args = f.strs("args", STR_MAX);
      break;
    case REQ_OCI_ENV:
      req.env = f.strs("env", STR_MAX);
      break;
    case REQ_OCI_CWD:
      req.cwd = f.str("path", PATH_MAX);
      break;
    case REQ_OCI_USER:
      req.uid = f.u64("uid");
      req.gid = f.u64("gid");
      req.umask = f.u64("umask");
      req.groups = f.u64s("additional_gids");
      break;
    case REQ_OCI_CAPS: {
      const set = f.u64("set");
      const names = f.strs("names", 64);
      if (set < 1 || set > 5) return malformed(where + ": set " + set.toString());
      req.caps[<i32>set - 1] = names;
      req.hasCaps[<i32>set - 1] = true;
      break;
    }
    case REQ_OCI_RLIMIT:
      req.rlimits.push(new OciRlimit(f.str("type", 64), f.u64("soft"), f.u64("hard")));
      break;
    case REQ_OCI_OPTIONS:
      req.options = f.u64("flags");
      if ((req.options & ~OCI_OPTIONS_KNOWN) != 0) return malformed(where + ": unknown option bits");
      break;
    case REQ_OCI_VERSION:
      req.version = f.str("version", 256);
      break;
    case REQ_OCI_HOSTNAME:
      req.hasHostname = true;
      req.hostname = f.str("name", STR_MAX);
      break;
    case REQ_OCI_NAMESPACE:
      req.namespaces.push(new OciNamespace(f.str("type", 64), f.str("path", PATH_MAX)));
      break;
    case REQ_OCI_MOUNT:
      req.mounts.push(new OciMount(f.str("destination", PATH_MAX), f.str("type", 64), f.str("source", PATH_MAX), f.strs("options", STR_MAX)));
      break;
    case REQ_OCI_MOUNT_IDMAP: {
      const index = f.u64("index");
      const sourceDir = f.u64("source_dir");
      const uid = f.u64s("uid_maps");
      const gid = f.u64s("gid_maps");
      if (!f.ok) break;
      if (req.mounts.length == 0 || index != <u64>(req.mounts.length - 1)) return malformed(where + ": not right after its OCI_MOUNT");
      const m = req.mounts[req.mounts.length - 1];
      if (m.idmapped) return malformed(where + ": given twice");
      if (uid.length % 3 != 0 || gid.length % 3 != 0) return malformed(where + ": maps are not triples");
      m.idmapped = true;
      m.sourceDir = sourceDir != 0;
      for (let i = 0; i < uid.length; i += 3) m.uidMaps.push(new OciIdMap(uid[i], uid[i + 1], uid[i + 2]));
      for (let i = 0; i < gid.length; i += 3) m.gidMaps.push(new OciIdMap(gid[i], gid[i + 1], gid[i + 2]));
      break;
    }
    case REQ_OCI_MASKED:
      req.masked = f.strs("paths", PATH_MAX);
      break;
    case REQ_OCI_READONLY:
      req.readonly = f.strs("paths", PATH_MAX);
      break;
    case REQ_OCI_SYSCTL:
      req.sysctls.push(new OciPair(f.str("key", 256), f.str("value", STR_MAX)));
      break;
    case REQ_OCI_FIELD:
      req.fields.push(f.str("path", 256));
      break;
    case REQ_OCI_RESOURCE:
      req.resources.push(new OciPair(f.str("name", 256), f.str("value", STR_MAX)));
      break;
    case REQ_OCI_DEVICE_RULE: {
      const allow = f.u64("allow") != 0;
      const kind = f.str("type", 8);
      const major = f.u64("major");
      const minor = f.u64("minor");
      req.deviceRules.push(new OciDeviceRule(allow, kind, major, minor, f.str("access", 8)));
      break;
    }
    case REQ_OCI_CONSOLE:
      req.console = f.str("path", PATH_MAX);
      break;
    case REQ_OCI_EXEC_FIFO:
      req.execFifo = f.str("path", PATH_MAX);
      break;
    case REQ_OCI_OOM_SCORE_ADJ:
      req.hasOomScoreAdj = true;
      req.oomScoreAdj = <i64>f.u64("value");
      break;
    case REQ_OCI_JOIN:
      req.join = true;
      req.joinPid = f.u64("pid");
      req.joinStart = f.u64("start_time");
      req.joinDiffer = f.u64("differ");
      break;
    case REQ_OCI_JOIN_CGROUP:
      req.joinVersions.push(f.u64("version"));
      req.joinCgroups.push(f.str("path", PATH_MAX));
      break;
    case REQ_OCI_DEVICE: {
      const path = f.str("path", PATH_MAX);
      const kind = f.str("type", 8);
      const major = f.u64("major");
      const minor = f.u64("minor");
      const mode = f.u64("file_mode");
      const uid = f.u64("uid");
      const gid = f.u64("gid");
      req.devices.push(new OciDevice(path, kind, major, minor, mode, uid, gid, f.str("host_path", PATH_MAX), f.u64("host_mode"), f.u64("host_uid"), f.u64("host_gid")));
      break;
    }
    case REQ_OCI_ID_MAP: {
      const which = f.u64("which");
      const m = new OciIdMap(f.u64("container_id"), f.u64("host_id"), f.u64("size"));
      if (which > 1) return malformed(where + ": which " + which.toString());
      if (which == 0) req.uidMaps.push(m);
      else req.gidMaps.push(m);
      break;
    }
    case REQ_OCI_TIME_OFFSET:
      req.timeOffsets.push(new OciTimeOffset(f.str("clock", 64), <i64>f.u64("secs"), f.u64("nanosecs")));
      break;
    case REQ_OCI_HOOK:
      req.hooks.push(new OciHook(f.u64("kind"), f.str("path", PATH_MAX), f.strs("args", STR_MAX), f.strs("env", STR_MAX), f.u64("timeout")));
      break;
    case REQ_OCI_HOOK_STATE: {
      const kind = f.u64("kind");
      const prefix = f.str("prefix", STR_MAX);
      const suffix = f.str("suffix", STR_MAX);
      if (kind != 3 && kind != 4) return malformed(where + ": kind " + kind.toString() + " (3 or 4)");
      const at = <i32>kind - 3;
      if (req.hasHookState[at]) return malformed(where + ": kind " + kind.toString() + " given twice");
      req.hasHookState[at] = true;
      req.hookStatePrefix[at] = prefix;
      req.hookStateSuffix[at] = suffix;
      break;
    }
    case REQ_OCI_SECCOMP_LISTENER:
      req.hasListener = true;
      req.listenerPath = f.str("path", STR_MAX);
      req.listenerMetadata = f.u64("metadata_given") != 0;
      req.listenerState = [f.str("state_prefix", STR_MAX), f.str("state_middle", STR_MAX), f.str("state_suffix", STR_MAX)];
      break;
    case REQ_OCI_SCHEDULER:
      req.hasScheduler = true;
      req.schedPolicy = f.str("policy", 64);
      req.schedNice = <i64>f.u64("nice");
      req.schedPriority = f.u64("priority");
      break;
    case REQ_OCI_PERSONALITY:
      req.hasPersonality = true;
      req.personality = f.str("domain", 64);
      break;
    case REQ_OCI_IO_PRIORITY:
      req.hasIoPriority = true;
      req.ioClass = f.str("class", 64);
      req.ioPriority = f.u64("priority");
      break;
    case REQ_OCI_PRESERVE_FDS:
      req.preserveFds = f.u64("count");
      break;
    case REQ_OCI_PROPAGATION:
      req.propagation = f.str("mode", 64);
      break;
    default:
      return malformed(where + ": unknown type 0x" + type.toString(16));
  }
  return null;
}

/**
 * The config.json fields husk-runc acts on (or, for a few, knows to be harmless: the OCI
 * version, annotations the engine reads back, the terminal's size). A field not here is
 * refused by name (assembly/plan/oci.ts).
 */
const SUPPORTED_FIELDS: string[] = [
  "ociVersion", "root", "root.path", "root.readonly", "hostname", "mounts", "annotations", "process", "linux",
  "process.terminal", "process.consoleSize", "process.user", "process.args", "process.env", "process.cwd",
  "process.capabilities", "process.rlimits", "process.noNewPrivileges", "process.oomScoreAdj", "process.ioPriority",
  "process.ioPriority.class", "process.ioPriority.priority",
  // sched_setattr's policy, nice and priority (SCHED_DEADLINE's runtime/deadline/period and
  // the flags are not: refused by name), personality(2)'s domain (its flags are not).
  "process.scheduler", "process.scheduler.policy", "process.scheduler.nice", "process.scheduler.priority",
  "linux.personality", "linux.personality.domain",
  "process.user.uid", "process.user.gid", "process.user.umask", "process.user.additionalGids",
  "process.capabilities.bounding", "process.capabilities.effective", "process.capabilities.permitted",
  "process.capabilities.inheritable", "process.capabilities.ambient",
  "linux.namespaces", "linux.cgroupsPath", "linux.resources", "linux.sysctl", "linux.maskedPaths",
  "linux.readonlyPaths", "linux.rootfsPropagation", "linux.seccomp",
  // The hooks husk-runc runs itself, in the runtime's namespaces (ts/runc/hooks.ts), and the
  // two the container process runs (createContainer, startContainer: HOOK ops).
  "hooks", "hooks.prestart", "hooks.createRuntime", "hooks.poststart", "hooks.poststop",
  "hooks.createContainer", "hooks.startContainer",
  "hooks[].path", "hooks[].args", "hooks[].env", "hooks[].timeout",
  "linux.uidMappings", "linux.gidMappings", "linux.timeOffsets",
  "linux.uidMappings[].containerID", "linux.uidMappings[].hostID", "linux.uidMappings[].size",
  "linux.gidMappings[].containerID", "linux.gidMappings[].hostID", "linux.gidMappings[].size",
  "linux.devices", "linux.devices[].path", "linux.devices[].type", "linux.devices[].major", "linux.devices[].minor",
  "linux.devices[].fileMode", "linux.devices[].uid", "linux.devices[].gid",
  // Keys of list entries (`mounts[3].uidMappings` is looked up as `mounts[].uidMappings`).
  "mounts[].destination", "mounts[].type", "mounts[].source", "mounts[].options", "mounts[].uidMappings", "mounts[].gidMappings",
  "linux.namespaces[].type", "linux.namespaces[].path",
  "process.rlimits[].type", "process.rlimits[].soft", "process.rlimits[].hard",
  "linux.resources.devices[].allow", "linux.resources.devices[].type", "linux.resources.devices[].major",
  "linux.resources.devices[].minor", "linux.resources.devices[].access",
];

/** `mounts[3].uidMappings` → `mounts[].uidMappings`; `hooks.poststop[0].x` → `hooks[].x`. */
export function genericField(field: string): string {
  let out = "";
  let i = 0;
  while (i < field.length) {
    const c = field.charAt(i);
    if (c == "[") {
      const close = field.indexOf("]", i);
      if (close < 0) return field;
      out += "[]";
      i = close + 1;
      continue;
    }
    out += c;
    i++;
  }
  if (out.startsWith("hooks.") && out.indexOf("[]") > 0) return "hooks[]" + out.slice(out.indexOf("[]") + 2);
  return out;
}

/**
 * The top-level properties runtime-spec 1.x defines. Any other top-level property is unknown:
 * the spec says a runtime must ignore it (runtime-tools' misc_props checks), so it is ignored
 * with a warning; a defined one husk-runc does not act on (`windows`, `domainname`…) is refused.
 */
const SPEC_TOP_LEVEL: string[] = [
  "ociVersion", "root", "mounts", "process", "hostname", "domainname", "hooks", "annotations",
  "linux", "solaris", "windows", "vm", "zos",
];

/** A top-level property runtime-spec does not define (ignored with a warning). */
export function unknownTopLevel(field: string): bool {
  return field.indexOf(".") < 0 && field.indexOf("[") < 0 && !SPEC_TOP_LEVEL.includes(field);
}

/** The first field husk-runc does not support, or null (unknown top-level properties aside). */
export function unsupportedField(req: OciRequest): string | null {
  for (let i = 0; i < req.fields.length; i++) {
    if (unknownTopLevel(req.fields[i])) continue;
    if (!SUPPORTED_FIELDS.includes(genericField(req.fields[i]))) return req.fields[i];
  }
  return null;
}

/** Whether `v` is a SemVer 2.0 version (MAJOR.MINOR.PATCH, numbers without leading zeros, optional -pre and +build of [0-9A-Za-z.-]). */
export function isSemVer(v: string): bool {
  let i = 0;
  for (let part = 0; part < 3; part++) {
    const start = i;
    while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
    if (i == start || i - start > 9) return false;
    if (i - start > 1 && v.charCodeAt(start) == 0x30) return false;
    if (part < 2) {
      if (i >= v.length || v.charCodeAt(i) != 0x2e) return false;
      i++;
    }
  }
  if (i == v.length) return true;
  const sep = v.charCodeAt(i);
  if (sep != 0x2d && sep != 0x2b) return false;
  if (i + 1 >= v.length) return false;
  for (let j = i + 1; j < v.length; j++) {
    const c = v.charCodeAt(j);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x2e || (c == 0x2b && sep == 0x2d);
    if (!ok) return false;
  }
  return v.charCodeAt(v.length - 1) != 0x2e;
}
