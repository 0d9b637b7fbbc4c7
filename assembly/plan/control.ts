// controlPlan: how to act on a container that exists (docs/core-abi.md "controlPlan",
// docs/protocol.md "Control plans"). The request names an action, the host's cgroup
// hierarchies, the container's own cgroup directories (from its record) and maybe its
// process; the answer is a control plan for the launcher, or nothing to do (0 bytes).
//
//   freeze / thaw  CGROUP_FREEZE on the v1 freezer directory, else on the v2 one
//   kill           thaw the v1 freezer directory (a frozen task cannot die), then
//                  CGROUP_KILL on the v2 directory (cgroup.kill), else on the freezer one,
//                  else on the first; no directory: SIGNAL_PROCESS 9 to the process
//   remove         CGROUP_REMOVE per directory: the freezer one first (its teardown thaws
//                  what the other hierarchies' teardowns would wait for), then v2, the rest
//   signal         SIGNAL_PROCESS with the process's start time, never a bare pid
//   freezer-file   no plan: FREEZER_FILE, the file that says whether the container is frozen
//                  (the same directory freeze picks) and the contents that mean frozen; ts/
//                  only reads it (`husk ps`'s paused)
//
// Every directory must lie strictly below one of the hierarchies' mount points, with no
// `.`, `..` or empty component: a record that names anything else (edited, or written by
// someone else) gets no plan at all.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, Writer } from "../codec";
import { HELLO_MAGIC, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "./encode";
import { parseSignal } from "./image-config";

export const REQ_CONTROL: u32 = 0x0130;
/** Same fields as buildPlan's CGROUP_HIERARCHY: version, mount point, controllers. */
export const REQ_CONTROL_HIERARCHY: u32 = 0x0121;
export const REQ_CONTROL_DIR: u32 = 0x0131;
export const REQ_CONTROL_PROCESS: u32 = 0x0132;
/** The signal of `signal` as a person typed it (`kill -s`, a StopSignal): docker's ParseSignal. */
export const REQ_CONTROL_SIGNAL_NAME: u32 = 0x0171;

export const ACTION_FREEZE: u64 = 1;
export const ACTION_THAW: u64 = 2;
export const ACTION_KILL: u64 = 3;
export const ACTION_REMOVE: u64 = 4;
export const ACTION_SIGNAL: u64 = 5;
export const ACTION_FREEZER_FILE: u64 = 6;

/** The answer of ACTION_FREEZER_FILE: path str, frozen strs (trimmed contents meaning frozen). */
export const ANS_FREEZER_FILE: u16 = 0x01c0;

const T_CGROUP_FREEZE: u16 = 0x0060;
const T_CGROUP_KILL: u16 = 0x0061;
const T_CGROUP_REMOVE: u16 = 0x0062;
const T_SIGNAL_PROCESS: u16 = 0x0063;

const HIERARCHIES_MAX: i32 = 16;
const DIRS_MAX: i32 = 64;
const CONTROLLER_MAX: i32 = 64;
const SIGKILL: u64 = 9;
const SIGNAL_MAX: u64 = 64;
const PID_MAX: u64 = 0x7fffffff;

class Hierarchy {
  constructor(public version: u64, public mountpoint: string, public controllers: string[]) {}
}

/** A directory of the container's, with the hierarchy it lies in. */
class Dir {
  constructor(public path: string, public hierarchy: Hierarchy) {}

  get isFreezer(): bool {
    return this.hierarchy.version == 1 && this.hierarchy.controllers.includes("freezer");
  }

  get isV2(): bool {
    return this.hierarchy.version == 2;
  }
}

class ControlRequest {
  action: u64 = 0;
  signo: u64 = 0;
  hierarchies: Hierarchy[] = [];
  paths: string[] = [];
  dirs: Dir[] = [];
  pid: u64 = 0;
  startTime: u64 = 0;
  hasProcess: bool = false;
  hasSignalName: bool = false;
  signalName: string = "";
}

export function controlPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new ControlRequest();
  let failure = decode(ptr, len, req);
  if (failure === null) failure = validate(req);
  if (failure !== null) return fail(failure);
  const w = new Writer(PLAN_MAX);
  if (req.action == ACTION_FREEZER_FILE) return answer(w.buf, freezerFile(w, req) ? w.len : 0);
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
  // Nothing to do (no directory to freeze, nothing to kill or remove): 0 bytes, no plan.
  if (writeOps(w, req) == 0) return answer(w.buf, 0);
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "controlPlan: at most 66 small frames fit"); // Paths are bounded by decode.
  return answer(w.buf, w.len);
}

function decode(ptr: usize, len: i32, req: ControlRequest): Failure | null {
  const r = new FrameReader(ptr, len);
  let actions = 0;
  while (r.next()) {
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "CONTROL");
    if (r.type == REQ_CONTROL) {
      req.action = f.u64("action");
      req.signo = f.u64("signo");
      actions++;
    } else if (r.type == REQ_CONTROL_HIERARCHY) {
      f.name = "CGROUP_HIERARCHY";
      const version = f.u64("version");
      const mountpoint = f.str("mountpoint", PATH_MAX);
      const controllers = f.strs("controllers", CONTROLLER_MAX);
      if (req.hierarchies.length == HIERARCHIES_MAX) return malformed(r.where() + ": more than 16 hierarchies");
      req.hierarchies.push(new Hierarchy(version, mountpoint, controllers));
    } else if (r.type == REQ_CONTROL_DIR) {
      f.name = "CONTROL_DIR";
      const path = f.str("path", PATH_MAX);
      if (req.paths.length == DIRS_MAX) return malformed(r.where() + ": more than 64 cgroup directories");
      req.paths.push(path);
    } else if (r.type == REQ_CONTROL_PROCESS) {
      f.name = "CONTROL_PROCESS";
      req.pid = f.u64("pid");
      req.startTime = f.u64("start_time");
      if (req.hasProcess) return malformed(r.where() + ": a second CONTROL_PROCESS");
      req.hasProcess = true;
    } else if (r.type == REQ_CONTROL_SIGNAL_NAME) {
      f.name = "CONTROL_SIGNAL_NAME";
      req.signalName = f.str("name", 64);
      if (req.hasSignalName) return malformed(r.where() + ": a second CONTROL_SIGNAL_NAME");
      req.hasSignalName = true;
    } else {
      return malformed(r.where() + ": unknown type 0x" + r.type.toString(16));
    }
    if (!f.finish()) return f.failure;
  }
  if (r.failure !== null) return r.failure;
  if (actions != 1) return malformed("request: " + actions.toString() + " CONTROL frames (exactly 1)");
  return null;
}

/** No empty, `.` or `..` component, absolute, no trailing `/` (protocol.md "cgroups"). */
function isCleanAbsolute(path: string): bool {
  if (path.length < 2 || path.charCodeAt(0) != 0x2f) return false;
  const parts = path.slice(1).split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == "." || p == "..") return false;
  }
  return true;
}

/** The hierarchy whose mount point `path` lies strictly below (the longest), or null. */
function hierarchyOf(req: ControlRequest, path: string): Hierarchy | null {
  let best: Hierarchy | null = null;
  for (let i = 0; i < req.hierarchies.length; i++) {
    const h = req.hierarchies[i];
    const m = h.mountpoint;
    const prefix = m == "/" ? "/" : m + "/";
    if (path.length > prefix.length && path.startsWith(prefix)) {
      if (best === null || m.length > best.mountpoint.length) best = h;
    }
  }
  return best;
}

function validate(req: ControlRequest): Failure | null {
  if (req.action < ACTION_FREEZE || req.action > ACTION_FREEZER_FILE) return malformed("request: action " + req.action.toString() + " unknown");
  for (let i = 0; i < req.hierarchies.length; i++) {
    const h = req.hierarchies[i];
    if (h.version != 1 && h.version != 2) return malformed("request: hierarchy " + h.mountpoint + ": version " + h.version.toString());
    if (h.mountpoint != "/" && !isCleanAbsolute(h.mountpoint)) return malformed("request: hierarchy " + h.mountpoint + ": not an absolute, clean path");
  }
  // A path from a record: refused as a value (status 2), naming it.
  for (let i = 0; i < req.paths.length; i++) {
    const path = req.paths[i];
    if (!isCleanAbsolute(path)) return invalid("cgroup " + path + ": not an absolute, clean path");
    const h = hierarchyOf(req, path);
    if (h === null) return invalid("cgroup " + path + ": not below a cgroup mount of this host");
    req.dirs.push(new Dir(path, h));
  }
  if (req.hasProcess) {
    if (req.pid == 0 || req.pid > PID_MAX) return invalid("pid " + req.pid.toString() + ": out of range");
    if (req.startTime == 0) return invalid("pid " + req.pid.toString() + ": no start time, so a reused pid could not be told apart");
  }
  if (req.hasSignalName) {
    if (req.action != ACTION_SIGNAL || req.signo != 0) return malformed("request: CONTROL_SIGNAL_NAME needs action signal and signo 0");
    const n = parseSignal(req.signalName);
    if (n == 0) return invalid("invalid signal: " + req.signalName);
    req.signo = <u64>n;
  }
  if (req.action == ACTION_SIGNAL) {
    if (!req.hasProcess) return malformed("request: signal without CONTROL_PROCESS");
    if (req.signo == 0 || req.signo > SIGNAL_MAX) return invalid("signal " + req.signo.toString() + ": not 1 to 64");
  } else if (req.signo != 0) {
    return malformed("request: a signal number for an action that sends none");
  }
  if ((req.action == ACTION_FREEZE || req.action == ACTION_THAW) && req.dirs.length > 0 && freezerOf(req) === null) {
    return invalid("the container has no freezer: no v1 freezer or v2 cgroup directory");
  }
  return null;
}

/** Where a container is frozen: its v1 freezer directory, else its v2 one (as runc does). */
function freezerOf(req: ControlRequest): Dir | null {
  for (let i = 0; i < req.dirs.length; i++) if (req.dirs[i].isFreezer) return req.dirs[i];
  for (let i = 0; i < req.dirs.length; i++) if (req.dirs[i].isV2) return req.dirs[i];
  return null;
}

/**
 * Where the kernel says whether the container is frozen: freezer.state of the v1 freezer
 * directory (FROZEN, or FREEZING on the way), else cgroup.freeze of the v2 one (1). Nothing
 * written (false) when it has neither: it cannot be frozen.
 */
function freezerFile(w: Writer, req: ControlRequest): bool {
  const dir = freezerOf(req);
  if (dir === null) return false;
  w.begin(ANS_FREEZER_FILE, "freezer-file");
  if (dir.isFreezer) {
    w.str("path", dir.path + "/freezer.state", PATH_MAX + 14);
    w.strs("frozen", ["FROZEN", "FREEZING"], 16);
  } else {
    w.str("path", dir.path + "/cgroup.freeze", PATH_MAX + 14);
    w.strs("frozen", ["1"], 16);
  }
  w.end();
  assert(w.ok, "controlPlan: one small frame fits");
  return true;
}

function v1FreezerOf(req: ControlRequest): Dir | null {
  for (let i = 0; i < req.dirs.length; i++) if (req.dirs[i].isFreezer) return req.dirs[i];
  return null;
}

/** The ops for the request; returns how many. */
function writeOps(w: Writer, req: ControlRequest): i32 {
  const action = req.action;
  if (action == ACTION_FREEZE || action == ACTION_THAW) {
    const dir = freezerOf(req);
    if (dir === null) return 0; // No directory: nothing is frozen, nothing to thaw.
    freezeOp(w, dir.path, action == ACTION_FREEZE);
    return 1;
  }
  if (action == ACTION_KILL) return killOps(w, req);
  if (action == ACTION_REMOVE) return removeOps(w, req);
  signalOp(w, req.pid, req.startTime, req.signo);
  return 1;
}

function killOps(w: Writer, req: ControlRequest): i32 {
  if (req.dirs.length == 0) {
    if (!req.hasProcess) return 0;
    signalOp(w, req.pid, req.startTime, SIGKILL);
    return 1;
  }
  let ops = 0;
  const freezer = v1FreezerOf(req);
  if (freezer !== null) {
    freezeOp(w, freezer.path, false);
    ops++;
  }
  let target: Dir = freezer !== null ? freezer : req.dirs[0];
  for (let i = 0; i < req.dirs.length; i++) if (req.dirs[i].isV2) target = req.dirs[i];
  w.begin(T_CGROUP_KILL, "cgroup-kill");
  w.str("path", target.path, PATH_MAX);
  w.end();
  return ops + 1;
}

function removeOps(w: Writer, req: ControlRequest): i32 {
  let ops = 0;
  // Three passes: the freezer directory, the v2 ones, the rest (each once, in record order).
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < req.dirs.length; i++) {
      const d = req.dirs[i];
      const which = d.isFreezer ? 0 : d.isV2 ? 1 : 2;
      if (which != pass) continue;
      w.begin(T_CGROUP_REMOVE, "cgroup-remove");
      w.str("path", d.path, PATH_MAX);
      w.end();
      ops++;
    }
  }
  return ops;
}

function freezeOp(w: Writer, path: string, frozen: bool): void {
  w.begin(T_CGROUP_FREEZE, "cgroup-freeze");
  w.str("path", path, PATH_MAX);
  w.u64(frozen ? 1 : 0);
  w.end();
}

function signalOp(w: Writer, pid: u64, startTime: u64, signo: u64): void {
  w.begin(T_SIGNAL_PROCESS, "signal-process");
  w.u64(pid);
  w.u64(startTime);
  w.u64(signo);
  w.end();
}
