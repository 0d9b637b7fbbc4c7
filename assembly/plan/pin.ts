// pinPlan: the control plan that makes and pins namespaces (`husk ns create`, `husk pod
// create`) or removes pins (`ns rm`, `pod rm`) (docs/core-abi.md "pinPlan"). The launcher
// itself unshares and binds /proc/self/ns/TYPE under the namespace's directory: net, ipc,
// uts and cgroup, the types unshare moves the caller into and no process needs to hold.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, Writer } from "../codec";
import { HELLO_MAGIC, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "./encode";
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS } from "./linux";

export const REQ_PIN_CREATE: u32 = 0x0185;
export const REQ_PIN_REMOVE: u32 = 0x0186;
const T_PIN_NEW: u16 = 0x0083;
const T_UNPIN: u16 = 0x0084;

const PINNABLE: u64 = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
const KNOWN: u64 = PINNABLE | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWTIME;
const REMOVES_MAX: i32 = 16;

function flagName(bit: u64): string {
  if (bit == CLONE_NEWNS) return "--mnt";
  if (bit == CLONE_NEWPID) return "--pid";
  if (bit == CLONE_NEWUSER) return "--user";
  return "--time";
}

export function pinPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const r = new FrameReader(ptr, len);
  let creates = 0;
  let flags: u64 = 0;
  let dir = "";
  const removes = new Array<string>();
  while (r.next()) {
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "PIN");
    if (r.type == REQ_PIN_CREATE) {
      flags = f.u64("flags");
      dir = f.str("dir", PATH_MAX - 8);
      creates++;
    } else if (r.type == REQ_PIN_REMOVE) {
      removes.push(f.str("path", PATH_MAX));
    } else {
      return fail(malformed(r.where() + ": unknown type 0x" + r.type.toString(16)));
    }
    if (!f.finish()) return fail(f.failure!);
  }
  if (r.failure !== null) return fail(r.failure!);
  const failure = validate(creates, flags, dir, removes);
  if (failure !== null) return fail(failure);
  const w = new Writer(PLAN_MAX);
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
  if (creates == 1) {
    w.begin(T_PIN_NEW, "pin-new");
    w.u64(flags);
    w.str("dir", dir, PATH_MAX);
    w.end();
  }
  for (let i = 0; i < removes.length; i++) {
    w.begin(T_UNPIN, "unpin");
    w.str("path", removes[i], PATH_MAX);
    w.end();
  }
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "pinPlan: a few small frames fit");
  return answer(w.buf, w.len);
}

function validate(creates: i32, flags: u64, dir: string, removes: string[]): Failure | null {
  if (creates > 1) return malformed("request: more than one PIN_CREATE");
  if (creates == 0 && removes.length == 0) return malformed("request: nothing to pin or unpin");
  if (creates == 1 && removes.length > 0) return malformed("request: PIN_CREATE with PIN_REMOVE");
  if (removes.length > REMOVES_MAX) return malformed("request: more than 16 PIN_REMOVE");
  if ((flags & ~KNOWN) != 0) return malformed("request: PIN_CREATE flags: unknown bits");
  if (creates == 1) {
    if (flags == 0) return invalid("ns create: no namespace type given\nName at least one of --net, --uts, --ipc, --cgroup.");
    const other = flags & ~PINNABLE;
    if (other != 0) {
      const bit = other & (~other + 1);
      return invalid(flagName(bit) + ": husk pins only net, uts, ipc and cgroup namespaces so far");
    }
    if (dir.length == 0 || dir.charCodeAt(0) != 0x2f) return invalid("ns dir " + dir + ": not absolute");
  }
  for (let i = 0; i < removes.length; i++) {
    if (removes[i].length == 0 || removes[i].charCodeAt(0) != 0x2f) return invalid("pin " + removes[i] + ": not absolute");
  }
  return null;
}
