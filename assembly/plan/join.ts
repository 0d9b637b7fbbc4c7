// joinPlan: a plan that runs a process inside namespaces that exist (docs/core-abi.md
// "joinPlan"): `husk exec` (a container's namespaces and cgroups, its user, environment and
// working directory, docker's capabilities) and `husk enter` (nsenter for husk's objects:
// the namespaces alone, husk's own user, powers and environment).
//
// The request holds facts: the target process (pid and start time, from its record), which
// of its namespaces are not husk's own (ts/ compares the inodes), the container's cgroup
// directories and the host's hierarchies, or pinned namespace files; and what was typed.
//
// exec:  [TARGET, SETNS pid (rootless: user and pid)] [CGROUP_INTO v2 dir] CLONE 0 [CGROUP_JOIN v1 tasks…]
//        [SETNS the rest] CAPS USER CHDIR [NO_NEW_PRIVS] CLOSE_FDS EXEC
// enter: [TARGET] [SETNS(_FILE) pid] CLONE 0 [SETNS(_FILE) user, then the rest] CLOSE_FDS EXEC
//
// pid is entered by the launcher before CLONE (setns of a pid namespace reaches only the
// children made after it), so the new process is born in it; the other namespaces are
// entered by the new process itself, in one setns through the pidfd (the kernel takes the
// user namespace first, as nsenter does), after it joined the cgroups as host root.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX } from "../codec";
import { PlanWriter } from "./encode";
import { searchPath, STATUS_FAILED, STATUS_NOT_EXECUTABLE, STATUS_NOT_FOUND } from "./exec";
import { containerCapabilities, decodeSecurityItem, isSecurityItem, SecurityRequest } from "./security";
import { REQ_SECCOMP_CAPS, SeccompRequest } from "../seccomp/items";
import { chunks, NO_LISTENER, seccompFilter } from "../seccomp/entry";
import { FLAG_NEW_LISTENER } from "../seccomp/profile";
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS, ID_LIMIT } from "./linux";
import { userGid } from "./request";
import { decodeStdioFrame, isStdioItem, PTY_PTMX, StdioRequest, stdioLauncherOps, validateStdio } from "./stdio";

export const REQ_JOIN: u32 = 0x0180;
export const REQ_JOIN_TARGET: u32 = 0x0181;
export const REQ_JOIN_NAMESPACES: u32 = 0x0182;
export const REQ_JOIN_NS_FILE: u32 = 0x0183;
export const REQ_JOIN_CGROUP_DIR: u32 = 0x0184;
/** buildPlan's items, with the same fields. */
const REQ_HOSTNAME: u32 = 0x0105;
const REQ_ENV: u32 = 0x0106;
const REQ_WORKDIR: u32 = 0x0107;
const REQ_USER: u32 = 0x0108;
const REQ_ARGV: u32 = 0x0109;
const REQ_HIERARCHY: u32 = 0x0121;

export const MODE_EXEC: u64 = 1;
export const MODE_ENTER: u64 = 2;
/** JOIN: mode u64, flags u64, pick u64 (enter's namespaces), bounding u64 (husk's CapBnd). Flags: bit 0 --privileged (every capability, no no_new_privs), bit 1 trace, bit 2 die_with_parent. */
export const JOIN_PRIVILEGED: u64 = 1;
export const JOIN_TRACE: u64 = 2;
export const JOIN_DIE_WITH_PARENT: u64 = 4;
/** Bit 3: husk runs as a non-root user, whose powers over the container's namespaces are its user namespace's. */
export const JOIN_ROOTLESS: u64 = 8;
const JOIN_FLAGS_KNOWN: u64 = 15;

const NAMESPACES_KNOWN: u64 = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWUSER | CLONE_NEWTIME;
/** Capabilities 0–40, as the launcher knows them (CAP_CHECKPOINT_RESTORE is 40). */
const ALL_CAPS: u64 = (<u64>1 << 41) - 1;
const PID_MAX: u64 = 0x7fffffff;
const DIRS_MAX: i32 = 64;
const HIERARCHIES_MAX: i32 = 16;
const NS_FILES_MAX: i32 = 8;
const DEFAULT_PATH: string = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

class NsFile {
  constructor(public nstype: u64, public path: string) {}
}

class Hierarchy {
  constructor(public version: u64, public mountpoint: string) {}
}

class JoinRequest {
  mode: u64 = 0;
  flags: u64 = 0;
  hasTarget: bool = false;
  pid: u64 = 0;
  startTime: u64 = 0;
  /** The target's namespaces that are not husk's own (CLONE_NEW* bits). */
  differ: u64 = 0;
  /** `enter --net --uts …`: the namespaces asked for; all of them when none is. */
  pick: u64 = 0;
  /** husk's own bounding set: what --privileged can give. */
  bounding: u64 = 0;
  nsFiles: NsFile[] = [];
  hierarchies: Hierarchy[] = [];
  dirs: string[] = [];
  hostname: string = "";
  env: string[] = [];
  hasEnv: bool = false;
  workdir: string = "/";
  uid: u64 = 0;
  gid: u64 = 0;
  hasUser: bool = false;
  argv: string[] = [];
  /** exec -t: buildPlan's LOG, TTY and ATTACH items (./stdio.ts): the monitor holds a pty. */
  stdio: StdioRequest = new StdioRequest();
  /** The container's own capabilities (buildPlan's CAPABILITIES, as its record keeps them). */
  security: SecurityRequest = new SecurityRequest();
  /** The container's seccomp profile (buildPlan's items 0x0300–0x0305): exec runs under it too. */
  seccomp: SeccompRequest = new SeccompRequest();
}

export function joinPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new JoinRequest();
  let failure = decode(ptr, len, req);
  if (failure === null) failure = validate(req);
  if (failure !== null) return fail(failure);
  const plan = new PlanWriter();
  plan.hello(((req.flags & JOIN_TRACE) != 0 ? <u64>1 : 0) | ((req.flags & JOIN_DIE_WITH_PARENT) != 0 ? <u64>2 : 0));
  if (req.mode == MODE_EXEC) execOps(plan, req);
  else enterOps(plan, req);
  plan.end();
  if (!plan.ok) return fail(invalid(plan.failure));
  return answer(plan.w.buf, plan.w.len);
}

function decodeItem(type: u32, f: Fields, req: JoinRequest): void {
  if (type == REQ_JOIN) {
    req.mode = f.u64("mode");
    req.flags = f.u64("flags");
    req.pick = f.u64("pick");
    req.bounding = f.u64("bounding");
  } else if (type == REQ_JOIN_TARGET) {
    req.pid = f.u64("pid");
    req.startTime = f.u64("start_time");
    req.hasTarget = true;
  } else if (type == REQ_JOIN_NAMESPACES) {
    req.differ = f.u64("differ");
  } else if (type == REQ_JOIN_NS_FILE) {
    const nstype = f.u64("nstype");
    req.nsFiles.push(new NsFile(nstype, f.str("path", PATH_MAX)));
  } else if (type == REQ_JOIN_CGROUP_DIR) {
    req.dirs.push(f.str("path", PATH_MAX));
  } else if (type == REQ_HIERARCHY) {
    const version = f.u64("version");
    const mountpoint = f.str("mountpoint", PATH_MAX);
    f.strs("controllers", 64);
    req.hierarchies.push(new Hierarchy(version, mountpoint));
  } else if (type == REQ_HOSTNAME) {
    req.hostname = f.str("name", STR_MAX);
  } else if (type == REQ_ENV) {
    req.env = f.strs("entries", STR_MAX);
    req.hasEnv = true;
  } else if (type == REQ_WORKDIR) {
    req.workdir = f.str("path", PATH_MAX);
  } else if (type == REQ_USER) {
    req.uid = f.u64("uid");
    const gid = f.u64("gid");
    const primary = f.u64("primary-gid");
    const known = f.u64("known");
    if (f.ok && (known & ~(<u64>3)) != 0) f.failure = malformed(f.context + ": known: unknown bits");
    req.gid = userGid(gid, primary, known);
    req.hasUser = true;
  } else if (type == REQ_ARGV) {
    req.argv = f.strs("args", STR_MAX);
  } else {
    f.failure = malformed(f.context + ": unknown type 0x" + type.toString(16));
  }
}

function decode(ptr: usize, len: i32, req: JoinRequest): Failure | null {
  const r = new FrameReader(ptr, len);
  let joins = 0;
  while (r.next()) {
    if (isStdioItem(r.type)) {
      const failure = decodeStdioFrame(r.type, r.payload, r.payloadLength, r.index, req.stdio);
      if (failure !== null) return failure;
      continue;
    }
    if (isSecurityItem(r.type)) {
      const failure = decodeSecurityItem(r.payload, r.payloadLength, r.index, req.security);
      if (failure !== null) return failure;
      continue;
    }
    if (req.seccomp.isItem(r.type) && r.type != REQ_SECCOMP_CAPS) {
      const failure = req.seccomp.decode(r.type, r.payload, r.payloadLength, r.index);
      if (failure !== null) return failure;
      continue;
    }
    if (r.type == REQ_JOIN) joins++;
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "0x" + r.type.toString(16));
    decodeItem(r.type, f, req);
    if (f.failure !== null) return f.failure;
    if (!f.finish()) return f.failure;
  }
  if (r.failure !== null) return r.failure;
  if (joins != 1) return malformed("request: " + joins.toString() + " JOIN frames (exactly 1)");
  if (req.dirs.length > DIRS_MAX || req.hierarchies.length > HIERARCHIES_MAX || req.nsFiles.length > NS_FILES_MAX) return malformed("request: too many items");
  return null;
}

function validate(req: JoinRequest): Failure | null {
  if (req.mode != MODE_EXEC && req.mode != MODE_ENTER) return malformed("request: mode " + req.mode.toString() + " unknown");
  if ((req.flags & ~JOIN_FLAGS_KNOWN) != 0) return malformed("request: JOIN flags: unknown bits");
  if (((req.differ | req.pick) & ~NAMESPACES_KNOWN) != 0) return malformed("request: namespace bits unknown");
  if (req.mode == MODE_EXEC && !req.hasTarget) return malformed("request: exec without JOIN_TARGET");
  if (req.hasTarget == (req.nsFiles.length > 0)) return malformed("request: exactly one of JOIN_TARGET and JOIN_NS_FILE");
  if (req.hasTarget) {
    if (req.pid == 0 || req.pid > PID_MAX) return invalid("pid " + req.pid.toString() + ": out of range");
    if (req.startTime == 0) return invalid("pid " + req.pid.toString() + ": no start time, so a reused pid could not be told apart");
  }
  for (let i = 0; i < req.nsFiles.length; i++) {
    const n = req.nsFiles[i];
    if (popcnt(n.nstype) != 1 || (n.nstype & NAMESPACES_KNOWN) == 0) return malformed("request: JOIN_NS_FILE nstype " + n.nstype.toString());
    if (n.path.length == 0 || n.path.charCodeAt(0) != 0x2f) return invalid("namespace file " + n.path + ": not absolute");
  }
  if (req.uid >= ID_LIMIT) return invalid("user: uid " + req.uid.toString() + " out of range (below 4294967295)");
  if (req.gid >= ID_LIMIT) return invalid("user: gid " + req.gid.toString() + " out of range (below 4294967295)");
  if (req.workdir.length == 0 || req.workdir.charCodeAt(0) != 0x2f) return invalid("workdir: " + req.workdir + " is not an absolute path");
  for (let i = 0; i < req.dirs.length; i++) {
    if (versionOf(req, req.dirs[i]) == 0) return invalid("cgroup " + req.dirs[i] + ": not below a cgroup mount of this host");
  }
  if (req.mode == MODE_EXEC && req.argv.length == 0) return invalid("exec: no command given");
  return validateStdio(req.stdio);
}

function isClean(path: string): bool {
  if (path.length < 2 || path.charCodeAt(0) != 0x2f) return false;
  const parts = path.slice(1).split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == "." || p == "..") return false;
  }
  return true;
}

/** The version of the hierarchy `dir` lies strictly below (the longest mount point), or 0. */
function versionOf(req: JoinRequest, dir: string): u64 {
  if (!isClean(dir)) return 0;
  let best: Hierarchy | null = null;
  for (let i = 0; i < req.hierarchies.length; i++) {
    const h = req.hierarchies[i];
    if (!isClean(h.mountpoint) || (h.version != 1 && h.version != 2)) continue;
    if (dir.length > h.mountpoint.length + 1 && dir.startsWith(h.mountpoint + "/")) {
      if (best === null || h.mountpoint.length > best.mountpoint.length) best = h;
    }
  }
  return best === null ? 0 : best.version;
}

/** PATH, HOSTNAME and HOME first (as `run`), then the container's entries and the exec's. */
function execEnv(req: JoinRequest): string[] {
  const out = new Array<string>();
  const index = new Map<string, i32>();
  const defaults = new Array<string>();
  defaults.push("PATH=" + DEFAULT_PATH);
  if (req.hostname.length > 0) defaults.push("HOSTNAME=" + req.hostname);
  defaults.push(req.uid == 0 ? "HOME=/root" : "HOME=/");
  for (let pass = 0; pass < 2; pass++) {
    const list = pass == 0 ? defaults : req.env;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      const eq = entry.indexOf("=");
      const key = eq < 0 ? entry : entry.substring(0, eq);
      if (index.has(key)) out[index.get(key)] = entry;
      else {
        index.set(key, out.length);
        out.push(entry);
      }
    }
  }
  return out;
}

function execOps(plan: PlanWriter, req: JoinRequest): void {
  stdioLauncherOps(plan, req.stdio);
  plan.target(req.pid, req.startTime);
  // Rootless: only the container's user namespace gives the power to enter its pid namespace,
  // so the launcher enters both (the kernel takes the user namespace first); root needs none.
  const launcherEnters = (req.flags & JOIN_ROOTLESS) != 0 && (req.differ & CLONE_NEWUSER) != 0
    ? req.differ & (CLONE_NEWUSER | CLONE_NEWPID) : req.differ & CLONE_NEWPID;
  if (launcherEnters != 0) plan.setns(launcherEnters);
  for (let i = 0; i < req.dirs.length; i++) if (versionOf(req, req.dirs[i]) == 2) plan.cgroupInto(req.dirs[i]);
  plan.clone(0);
  // Joined as host root, before the container's user namespace: the tasks files are root's.
  for (let i = 0; i < req.dirs.length; i++) if (versionOf(req, req.dirs[i]) == 1) plan.cgroupJoin(req.dirs[i] + "/tasks");
  const rest = req.differ & ~launcherEnters & ~CLONE_NEWPID;
  if (rest != 0) plan.setns(rest);
  // exec -t: the pty comes from the container's own devpts (as run -t's), so `tty` names it.
  if (req.stdio.hasTty && (rest & CLONE_NEWNS) != 0) plan.pty(PTY_PTMX);
  const privileged = (req.flags & JOIN_PRIVILEGED) != 0;
  // The container's capabilities (--cap-add, --cap-drop as it was run with); exec --privileged:
  // every capability husk itself may hold (a host may drop some from root's).
  const own = containerCapabilities(req.security);
  if (own.failure !== null) {
    plan.w.fail(own.failure!.reason);
    return;
  }
  const caps = privileged ? req.bounding & ALL_CAPS : own.caps;
  plan.caps(caps, caps, caps, 0);
  plan.user(req.uid, req.gid, new Array<u64>());
  plan.chdir(req.workdir);
  if (!privileged) plan.noNewPrivs();
  plan.closeFds();
  // The container's filter, as runc's exec applies it (none for a --privileged container);
  // exec --privileged keeps it: it changes the capabilities, not the profile.
  if (!req.security.privileged) {
    const filter = seccompFilter(req.seccomp, own.caps);
    if (filter.failure !== null) {
      plan.w.fail(filter.failure!.reason);
      return;
    }
    if ((filter.flags & FLAG_NEW_LISTENER) != 0) {
      plan.w.fail(NO_LISTENER);
      return;
    }
    if (!filter.none) plan.seccomp(filter.flags, chunks(filter.program));
  }
  const env = execEnv(req);
  plan.exec(req.argv[0], req.argv, env, searchPath(env), STATUS_FAILED, STATUS_NOT_FOUND, STATUS_NOT_EXECUTABLE);
}

/** nsenter's way: every namespace of the target asked for, nothing else changed. */
function enterOps(plan: PlanWriter, req: JoinRequest): void {
  const pick = req.pick == 0 ? NAMESPACES_KNOWN : req.pick;
  if (req.hasTarget) {
    plan.target(req.pid, req.startTime);
    let wanted = req.differ & pick;
    // Rootless: a user has no power over the container's other namespaces until it is in the
    // container's user namespace, so that one is entered too: with pid by the launcher, as exec
    // does, or else with the rest in one setns (the kernel takes the user namespace first);
    // root enters exactly what was asked for.
    const rootless = (req.flags & JOIN_ROOTLESS) != 0 && (req.differ & CLONE_NEWUSER) != 0 && wanted != 0;
    if (rootless) wanted |= CLONE_NEWUSER;
    const first = (wanted & CLONE_NEWPID) == 0 ? 0 : wanted & (rootless ? CLONE_NEWUSER | CLONE_NEWPID : CLONE_NEWPID);
    if (first != 0) plan.setns(first);
    plan.clone(0);
    if ((wanted & ~first) != 0) plan.setns(wanted & ~first);
  } else {
    for (let i = 0; i < req.nsFiles.length; i++) {
      const n = req.nsFiles[i];
      if (n.nstype == CLONE_NEWPID && (pick & CLONE_NEWPID) != 0) plan.setnsFile(n.path, n.nstype);
    }
    plan.clone(0);
    // The user namespace first: the others are entered with its capabilities.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < req.nsFiles.length; i++) {
        const n = req.nsFiles[i];
        if (n.nstype == CLONE_NEWPID || (pick & n.nstype) == 0) continue;
        if ((n.nstype == CLONE_NEWUSER) == (pass == 0)) plan.setnsFile(n.path, n.nstype);
      }
    }
  }
  plan.closeFds();
  const env = new Array<string>();
  let hasPath = false;
  for (let i = 0; i < req.env.length; i++) {
    env.push(req.env[i]);
    if (req.env[i].startsWith("PATH=")) hasPath = true;
  }
  if (!hasPath) env.push("PATH=" + DEFAULT_PATH);
  const argv = req.argv.length > 0 ? req.argv : ["sh"];
  plan.exec(argv[0], argv, env, searchPath(env), STATUS_FAILED, STATUS_NOT_FOUND, STATUS_NOT_EXECUTABLE);
}
