// pinPlan: the plan that makes and pins namespaces (`husk ns create`, `husk pod create`) or
// removes pins (`ns rm`, `pod rm`) (docs/core-abi.md "pinPlan").
//
// net, ipc, uts, cgroup only: a control plan, PIN_NEW — the launcher itself unshares and binds
//   /proc/self/ns/TYPE under the namespace's directory; no process is made.
// with mnt, pid or time: a container plan — [UNSHARE time] CLONE (the others), a PIN per type
//   (the monitor binds /proc/PID/ns/TYPE of the new process), then the new process EXECs
//   husk's tiny init (`husk-launcher --hold`): pid 1 of a new pid namespace stays (a pid
//   namespace takes processes only while its init lives); without one it exits at once.
// remove: [SIGNAL_PROCESS SIGTERM to the init] UNPIN per pin.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, Writer } from "../codec";
import { HELLO_MAGIC, PLAN_MAX, PlanWriter, PROTOCOL_VERSION, T_END, T_HELLO } from "./encode";
import { STATUS_FAILED, STATUS_NOT_EXECUTABLE, STATUS_NOT_FOUND } from "./exec";
import { checkLine, IdLine, mapText, normalizeLines } from "../idmap/lines";
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS, TIME_OFFSET_MAX } from "./linux";

export const REQ_PIN_CREATE: u32 = 0x0185;
export const REQ_PIN_REMOVE: u32 = 0x0186;
export const REQ_PIN_HOLDER: u32 = 0x0189;
/** A clock's offset for the new time namespace (`ns create --time-offset`): clock u64, seconds i64. */
export const REQ_PIN_TIME_OFFSET: u32 = 0x0388;
/** A line of the new user namespace's uid map / gid map (`ns create --user`): inside, outside, count u64. */
export const REQ_PIN_UID_LINE: u32 = 0x0389;
export const REQ_PIN_GID_LINE: u32 = 0x038a;
const LINES_MAX: i32 = 340;
const T_PIN_NEW: u16 = 0x0083;
const T_UNPIN: u16 = 0x0084;
const T_SIGNAL_PROCESS: u16 = 0x0063;

/** What the launcher can make alone (PIN_NEW). */
const UNSHAREABLE: u64 = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
/** What needs a process of its own (PIN after CLONE; a user namespace's maps are written for it). */
const HELD: u64 = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWTIME | CLONE_NEWUSER;
const KNOWN: u64 = UNSHAREABLE | HELD | CLONE_NEWUSER;
const REMOVES_MAX: i32 = 16;
const PID_MAX: u64 = 0x7fffffff;
const SIGTERM: u64 = 15;
/** The /proc/PID/ns names, in the order pins are made. */
const TYPES: u64[] = [CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME];
const NAMES: string[] = ["user", "net", "uts", "ipc", "cgroup", "mnt", "pid", "time"];

class PinRequest {
  creates: i32 = 0;
  flags: u64 = 0;
  dir: string = "";
  removes: string[] = [];
  hasHolder: bool = false;
  pid: u64 = 0;
  startTime: u64 = 0;
  hasMonotonic: bool = false;
  monotonic: i64 = 0;
  hasBoottime: bool = false;
  boottime: i64 = 0;
  uidLines: IdLine[] = [];
  gidLines: IdLine[] = [];
}

export function pinPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new PinRequest();
  let failure = decode(ptr, len, req);
  if (failure === null) failure = validate(req);
  if (failure !== null) return fail(failure);
  if (req.creates == 1 && (req.flags & HELD) != 0) return heldPlan(req);
  const w = new Writer(PLAN_MAX);
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
  if (req.creates == 1) {
    w.begin(T_PIN_NEW, "pin-new");
    w.u64(req.flags);
    w.str("dir", req.dir, PATH_MAX);
    w.end();
  }
  if (req.hasHolder) {
    // The init first: its pid namespace (and what is in it) ends with it.
    w.begin(T_SIGNAL_PROCESS, "signal-process");
    w.u64(req.pid);
    w.u64(req.startTime);
    w.u64(SIGTERM);
    w.end();
  }
  for (let i = 0; i < req.removes.length; i++) {
    w.begin(T_UNPIN, "unpin");
    w.str("path", req.removes[i], PATH_MAX);
    w.end();
  }
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "pinPlan: a few small frames fit");
  return answer(w.buf, w.len);
}

/** mnt, pid or time: a process is made in the new namespaces, they are pinned, it holds or goes. */
function heldPlan(req: PinRequest): i32 {
  const plan = new PlanWriter();
  plan.hello(0);
  // A time namespace is entered by the children made after unshare (time_namespaces(7)); its
  // offsets can be written only until the first one does.
  if ((req.flags & CLONE_NEWTIME) != 0) {
    plan.unshare(CLONE_NEWTIME);
    let text = "";
    if (req.hasMonotonic) text += "monotonic " + req.monotonic.toString() + " 0\n";
    if (req.hasBoottime) text += "boottime " + req.boottime.toString() + " 0\n";
    if (text.length > 0) plan.writeFile("/proc/self/timens_offsets", text);
  }
  plan.clone(req.flags & ~CLONE_NEWTIME);
  // A user namespace's maps, as the ts/ side computed them (--userns auto's way, or
  // --uidmap/--gidmap); the namespaces made with it are its own.
  if ((req.flags & CLONE_NEWUSER) != 0) {
    plan.uidMap(mapText(req.uidLines));
    plan.gidMap(mapText(req.gidLines));
  }
  for (let i = 0; i < TYPES.length; i++) if ((req.flags & TYPES[i]) != 0) plan.pin(TYPES[i], req.dir + "/" + NAMES[i]);
  plan.closeFds();
  // husk's tiny init: the launcher's own sealed copy, still this process's /proc/self/exe.
  const argv = ["husk-launcher", "--hold"];
  plan.exec("/proc/self/exe", argv, new Array<string>(), new Array<string>(), STATUS_FAILED, STATUS_NOT_FOUND, STATUS_NOT_EXECUTABLE);
  plan.end();
  assert(plan.ok, "pinPlan: a few small frames fit");
  return answer(plan.w.buf, plan.w.len);
}

function decode(ptr: usize, len: i32, req: PinRequest): Failure | null {
  const r = new FrameReader(ptr, len);
  while (r.next()) {
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "PIN");
    if (r.type == REQ_PIN_CREATE) {
      req.flags = f.u64("flags");
      req.dir = f.str("dir", PATH_MAX - 8);
      req.creates++;
    } else if (r.type == REQ_PIN_REMOVE) {
      req.removes.push(f.str("path", PATH_MAX));
    } else if (r.type == REQ_PIN_TIME_OFFSET) {
      const clock = f.u64("clock");
      const seconds = <i64>f.u64("seconds");
      if (clock == CLOCK_MONOTONIC && !req.hasMonotonic) {
        req.hasMonotonic = true;
        req.monotonic = seconds;
      } else if (clock == CLOCK_BOOTTIME && !req.hasBoottime) {
        req.hasBoottime = true;
        req.boottime = seconds;
      } else {
        return malformed(r.where() + ": PIN_TIME_OFFSET clock " + clock.toString() + " unknown or given twice");
      }
    } else if (r.type == REQ_PIN_UID_LINE || r.type == REQ_PIN_GID_LINE) {
      const line = new IdLine(f.u64("inside"), f.u64("outside"), f.u64("count"));
      const lines = r.type == REQ_PIN_UID_LINE ? req.uidLines : req.gidLines;
      if (lines.length == LINES_MAX) return malformed(r.where() + ": more than 340 map lines");
      lines.push(line);
    } else if (r.type == REQ_PIN_HOLDER) {
      req.pid = f.u64("pid");
      req.startTime = f.u64("start_time");
      if (req.hasHolder) return malformed(r.where() + ": a second PIN_HOLDER");
      req.hasHolder = true;
    } else {
      return malformed(r.where() + ": unknown type 0x" + r.type.toString(16));
    }
    if (!f.finish()) return f.failure;
  }
  return r.failure;
}

function validate(req: PinRequest): Failure | null {
  if (req.creates > 1) return malformed("request: more than one PIN_CREATE");
  if (req.creates == 0 && req.removes.length == 0 && !req.hasHolder) return malformed("request: nothing to pin or unpin");
  if (req.creates == 1 && (req.removes.length > 0 || req.hasHolder)) return malformed("request: PIN_CREATE with PIN_REMOVE");
  if (req.removes.length > REMOVES_MAX) return malformed("request: more than 16 PIN_REMOVE");
  if ((req.flags & ~KNOWN) != 0) return malformed("request: PIN_CREATE flags: unknown bits");
  if (req.creates == 1) {
    if (req.flags == 0) return invalid("ns create: no namespace type given\nName at least one of --net, --uts, --ipc, --cgroup, --mnt, --pid, --time.");
    if (req.dir.length == 0 || req.dir.charCodeAt(0) != 0x2f) return invalid("ns dir " + req.dir + ": not absolute");
  }
  const hasMaps = req.uidLines.length > 0 || req.gidLines.length > 0;
  if (hasMaps != (req.creates == 1 && (req.flags & CLONE_NEWUSER) != 0)) return malformed("request: PIN_UID_LINE and PIN_GID_LINE go with the user bit of PIN_CREATE, and only with it");
  if (hasMaps) {
    const u = checkMap("uid map", req.uidLines);
    if (u !== null) return u;
    const g = checkMap("gid map", req.gidLines);
    if (g !== null) return g;
  }
  if ((req.hasMonotonic || req.hasBoottime) && (req.creates == 0 || (req.flags & CLONE_NEWTIME) == 0)) return invalid("--time-offset: needs a new time namespace (--time)");
  if (req.hasMonotonic && (req.monotonic > TIME_OFFSET_MAX || req.monotonic < -TIME_OFFSET_MAX)) return invalid("time-offset: monotonic offset " + req.monotonic.toString() + " s out of range (±4611686018 s)");
  if (req.hasBoottime && (req.boottime > TIME_OFFSET_MAX || req.boottime < -TIME_OFFSET_MAX)) return invalid("time-offset: boottime offset " + req.boottime.toString() + " s out of range (±4611686018 s)");
  for (let i = 0; i < req.removes.length; i++) {
    if (req.removes[i].length == 0 || req.removes[i].charCodeAt(0) != 0x2f) return invalid("pin " + req.removes[i] + ": not absolute");
  }
  if (req.hasHolder && (req.pid == 0 || req.pid > PID_MAX || req.startTime == 0)) return invalid("init pid " + req.pid.toString() + ": out of range or without a start time");
  return null;
}

/** A map the kernel takes: each line within the id space, none overlapping (../idmap/lines.ts). */
function checkMap(field: string, lines: IdLine[]): Failure | null {
  if (lines.length == 0) return invalid(field + ": empty");
  for (let i = 0; i < lines.length; i++) {
    const bad = checkLine(field, lines[i]);
    if (bad !== null) return bad;
  }
  const normal = new Array<IdLine>();
  return normalizeLines(field, lines, normal);
}
