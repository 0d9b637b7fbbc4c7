// A new container that joins namespaces that exist instead of making them (`run --net
// ns:NAME`, `--net container:OTHER`, `--pod NAME`): buildPlan's items 0x0187–0x0188
// (docs/core-abi.md "Joined namespaces"). The launcher enters them before CLONE (SETNS_FILE,
// or TARGET and SETNS through a checked pidfd), so CLONE's process is born in them; CLONE
// then makes the rest new.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { PlanWriter } from "./encode";
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS } from "./linux";

export const REQ_JOIN_FILE: u32 = 0x0187;
export const REQ_JOIN_PROCESS: u32 = 0x0188;
/** What the launcher enters for a new container before CLONE (CLONE's process is born in it). */
const JOINABLE_BEFORE: u64 = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP;
/**
 * What the container process enters itself, right after its cgroups (`--userns ns:NAME`,
 * `--time ns:NAME`): the monitor must keep the host's powers and clocks, so never before CLONE.
 */
const JOINABLE_AFTER: u64 = CLONE_NEWUSER | CLONE_NEWTIME;
const JOINABLE: u64 = JOINABLE_BEFORE | JOINABLE_AFTER;
const PID_MAX: u64 = 0x7fffffff;
const FILES_MAX: i32 = 8;

class JoinFile {
  constructor(public nstype: u64, public path: string) {}
}

export class JoinRequest {
  files: JoinFile[] = [];
  hasProcess: bool = false;
  processFlags: u64 = 0;
  pid: u64 = 0;
  startTime: u64 = 0;

  /** CLONE_NEW* bits of every namespace joined: CLONE makes none of them. */
  get joined(): u64 {
    let bits = this.processFlags;
    for (let i = 0; i < this.files.length; i++) bits |= this.files[i].nstype;
    return bits;
  }
}

export function isJoinItem(type: u32): bool {
  return type == REQ_JOIN_FILE || type == REQ_JOIN_PROCESS;
}

export function decodeJoinFrame(type: u32, ptr: usize, len: i32, index: i32, req: JoinRequest): Failure | null {
  const f = Fields.ofFrame(ptr, len, index, type == REQ_JOIN_FILE ? "JOIN_FILE" : "JOIN_PROCESS");
  if (type == REQ_JOIN_FILE) {
    const nstype = f.u64("nstype");
    const path = f.str("path", PATH_MAX);
    if (req.files.length == FILES_MAX) return malformed(f.context + ": more than 8");
    req.files.push(new JoinFile(nstype, path));
  } else {
    req.processFlags = f.u64("flags");
    req.pid = f.u64("pid");
    req.startTime = f.u64("start_time");
    if (req.hasProcess) return malformed(f.context + ": a second JOIN_PROCESS");
    req.hasProcess = true;
  }
  if (!f.finish()) return f.failure;
  return null;
}

function flagOf(bit: u64): string {
  if (bit == CLONE_NEWNET) return "--net";
  if (bit == CLONE_NEWIPC) return "--ipc";
  if (bit == CLONE_NEWUTS) return "--uts";
  if (bit == CLONE_NEWPID) return "--pid";
  if (bit == CLONE_NEWTIME) return "--time";
  if (bit == CLONE_NEWUSER) return "--userns";
  return "namespace";
}

export function validateJoins(req: JoinRequest, userns: bool, timens: bool): Failure | null {
  let seen: u64 = 0;
  for (let i = 0; i < req.files.length; i++) {
    const n = req.files[i];
    if (popcnt(n.nstype) != 1 || (n.nstype & JOINABLE) == 0) return malformed("request: JOIN_FILE nstype " + n.nstype.toString());
    if ((seen & n.nstype) != 0) return invalid(flagOf(n.nstype) + ": joined twice");
    seen |= n.nstype;
    if (n.path.length == 0 || n.path.charCodeAt(0) != 0x2f) return invalid(flagOf(n.nstype) + ": " + n.path + " is not an absolute path");
  }
  if (req.hasProcess) {
    if (req.processFlags == 0 || (req.processFlags & ~JOINABLE_BEFORE) != 0) return malformed("request: JOIN_PROCESS flags");
    if ((seen & req.processFlags) != 0) return invalid(flagOf(seen & req.processFlags) + ": joined twice");
    if (req.pid == 0 || req.pid > PID_MAX) return invalid("pid " + req.pid.toString() + ": out of range");
    if (req.startTime == 0) return invalid("pid " + req.pid.toString() + ": no start time, so a reused pid could not be told apart");
  }
  // A container in a user namespace of its own cannot join another's pid namespace: its
  // /proc would be mounted by a user namespace that does not own that pid namespace.
  // A joined user namespace comes with its maps (the request's IDMAP items): userns is set.
  const joinedUser = (req.joined & CLONE_NEWUSER) != 0;
  if (joinedUser && !userns) return malformed("request: JOIN_FILE of a user namespace without its maps");
  // With one of its own (a joined one's pinned namespaces are its own: ns create --user --pid):
  if (userns && !joinedUser && (req.joined & CLONE_NEWPID) != 0) return invalid("--pid: a container with --userns cannot join another pid namespace");
  // Entering a time namespace takes CAP_SYS_ADMIN over its owner, the host's user namespace,
  // which a process in a user namespace of its own no longer has.
  if (userns && !joinedUser && (req.joined & CLONE_NEWTIME) != 0) return invalid("--time: a container with --userns cannot join a time namespace made outside it");
  if (timens && (req.joined & CLONE_NEWTIME) != 0) return invalid("--time ns:NAME: cannot be given with --timens or --time-offset (the container either joins a time namespace or gets a new one)");
  return null;
}

/** Before CLONE: the launcher enters what the container joins. */
export function joinOps(plan: PlanWriter, req: JoinRequest): void {
  if (req.hasProcess) {
    plan.target(req.pid, req.startTime);
    plan.setns(req.processFlags);
  }
  for (let i = 0; i < req.files.length; i++) if ((req.files[i].nstype & JOINABLE_BEFORE) != 0) plan.setnsFile(req.files[i].path, req.files[i].nstype);
}

/**
 * Right after the container's cgroups, before any other op: what the process enters itself,
 * the user namespace first (the others are entered with its powers).
 */
export function joinContainerOps(plan: PlanWriter, req: JoinRequest): void {
  for (let i = 0; i < req.files.length; i++) if (req.files[i].nstype == CLONE_NEWUSER) plan.setnsFile(req.files[i].path, CLONE_NEWUSER);
  for (let i = 0; i < req.files.length; i++) if (req.files[i].nstype == CLONE_NEWTIME) plan.setnsFile(req.files[i].path, CLONE_NEWTIME);
}

/** The container joins a user namespace that exists (`--userns ns:NAME`). */
export function joinsUser(req: JoinRequest): bool {
  return (req.joined & CLONE_NEWUSER) != 0;
}
