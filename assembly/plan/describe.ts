// describePlan: plan frames in, the plan field by field out (docs/core-abi.md "describePlan").
// The core that encodes plans also reads them back for people (`husk plan`, `--trace`), so
// ts/ never decodes plan bytes: it only puts this answer into words. A plan is checked as the
// launcher checks it (docs/protocol.md): what this entry describes, the launcher would run,
// and anything else is refused with status 1 and a reason naming the op and the field.
// Only `husk plan`, the API's describe() and `--trace` call it: `husk run` never pays for it.

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { HELLO_MAGIC, OPS_MAX, PLAN_MAX, PROTOCOL_VERSION, T_CGROUP_JOIN, T_CLONE, T_END, T_EXEC, T_FIFO_WAIT, T_HELLO, T_HOOK, T_INIT, T_SECCOMP, T_SECCOMP_PROGRAM, T_WAIT_START } from "./encode";

// The answer's frames, in order: D_PLAN, then per op D_OP and one frame per field (a strs
// field is D_STRS and one D_ITEM per string, so no frame outgrows the op it describes).
export const D_PLAN: u16 = 0x0581;
export const D_OP: u16 = 0x0582;
export const D_U64: u16 = 0x0583;
export const D_STR: u16 = 0x0584;
export const D_STRS: u16 = 0x0585;
export const D_ITEM: u16 = 0x0586;
export const D_U64S: u16 = 0x0587;

/** Who runs an op, as `husk plan` shows it. */
export const RUNNER_LAUNCHER: u64 = 1;
export const RUNNER_MONITOR: u64 = 2;
export const RUNNER_CONTAINER: u64 = 3;

/** An answer is at most ~3× its plan (an empty string: 4 bytes in, a 12-byte D_ITEM out). */
const ANSWER_MAX: i32 = 16 << 20;
/** HELLO's flag bits: trace, die_with_parent, dies_with_monitor. */
const HELLO_FLAGS_MAX: u64 = 7;

// Field kinds. PATH is a `str` bounded by PATH_MAX (the fields named path, target, source,
// linkpath, newroot), as the launcher bounds them.
const U64: u8 = 1;
const STR: u8 = 2;
const PATH: u8 = 3;
const STRS: u8 = 4;
const U64S: u8 = 5;

// Where an op may stand (docs/protocol.md "The plan"): CLONE itself; pre-clone ops only
// before CLONE; parent ops right after it, in the launcher; container ops after it, in the
// container process; `any` on either side, run by whichever process is there.
const SIDE_CLONE: i32 = 0;
const SIDE_PRE: i32 = 1;
const SIDE_PARENT: i32 = 2;
const SIDE_CONTAINER: i32 = 3;
const SIDE_ANY: i32 = 4;
// A control plan's ops (docs/protocol.md "Control plans"): run one-shot by the launcher, no CLONE.
const SIDE_CONTROL: i32 = 5;
// An fs plan's ops (docs/protocol.md "Fs plans"): FS_ROOT first, run one-shot by the launcher.
const SIDE_FS: i32 = 6;

class Layout {
  fields: string[] = [];
  kinds: u8[] = [];
  constructor(public type: u16, public name: string, public side: i32) {}
}

// Every op of protocol v1, as the launcher and encode.ts lay it out, one op a line: `code
// NAME side field:kind…` (u u64, s str, p path, ss strs, us u64s). A string, read into
// Layouts on the first describePlan call: a table of objects would be built by the module's
// start function on every `husk run`, which never describes a plan.
const TABLE = `0010 UNSHARE any flags:u
0011 CLONE clone flags:u
0012 WRITE_FILE any path:p content:s
0013 UID_MAP parent text:s
0014 GID_MAP parent text:s
0015 SETGROUPS parent text:s
0020 MOUNT container source:p target:p fstype:s flags:u data:s
0021 MKDIR container path:p mode:u
0022 TOUCH container path:p mode:u
0023 SYMLINK container target:p linkpath:p
0024 BIND container source:p target:p flags:u
0025 PIVOT_ROOT container newroot:p
0026 MASK container path:p
0027 READONLY container path:p
0028 SET_ROOT container path:p
0029 OVERLAY container lowers:ss upper:s work:s target:p links:s flags:u
0030 SETHOSTNAME container name:s
0031 LOOPBACK_UP container
0032 CHDIR container path:p
0033 RLIMIT container resource:u soft:u hard:u
0034 CAPS container bounding:u effective:u permitted:u inheritable:u
0035 USER container uid:u gid:u groups:us
0036 NO_NEW_PRIVS container
0037 CLOSE_FDS container
0038 EXEC container path:p argv:ss env:ss search:ss failed_status:u not_found_status:u not_executable_status:u
0039 STATUS_FILE pre path:p
0040 CGROUP_MKDIR pre path:p flags:u
0041 CGROUP_WRITE pre path:p value:s
0042 CGROUP_ENTER parent path:p
0043 CGROUP_INTO pre path:p
0044 CGROUP_REPORT pre path:p
0045 IDMAP_TREE parent source:p slot:u
0046 ATTACH_TREE container slot:u target:p
0047 CGROUP_JOIN container path:p
0048 IDMAP_HELPER parent path:p args:ss
0050 SECCOMP container flags:u program:us
0051 WAIT_START container
0055 SECCOMP_PROGRAM container program:us
0052 LOG pre path:p
0053 TTY pre rows:u cols:u
0054 ATTACH pre path:p flags:u
0060 CGROUP_FREEZE control path:p frozen:u
0061 CGROUP_KILL control path:p
0062 CGROUP_REMOVE control path:p
0063 SIGNAL_PROCESS control pid:u start_time:u signo:u
0080 TARGET pre pid:u start_time:u
0081 SETNS any flags:u
0082 SETNS_FILE any path:p nstype:u
0083 PIN_NEW control flags:u dir:s
0084 UNPIN control path:p
0085 PIN parent nstype:u path:p
0090 NET_BRIDGE control name:s address:s
0091 NET_LINK_DEL control name:s
0092 NET_SYSCTL control key:s value:s
0093 NET_VETH parent host:s peer:s bridge:s mac:s
0094 NET_LINK_UP container name:s
0095 NET_ADDR container name:s address:s flags:u
0096 NET_ROUTE container gateway:s name:s
0097 NET_CONNECT control host:s peer:s bridge:s mac:s address:s pid:u start_time:u
00d8 NFT_ELEMENTS parent family:u table:s set:s flags:u key_words:u data_words:u words:us
00d9 NFT_DELETE control family:u table:s set:s flags:u key_words:u data_words:u words:us
00b0 INIT container
00b1 PTY container path:p
00b2 PID_FORK container
0070 FS_ROOT fs path:p
0071 MKNOD fs path:p mode:u rdev:u
0072 SETXATTR fs path:p name:s value:s
0073 READ_XATTRS fs path:p
0074 WRITE_STREAM fs
0049 FS_USERNS fs newuidmap:p uid_args:ss newgidmap:p gid_args:ss
004a REMOVE_TREE fs path:p
004b NET_HELPER parent path:p args:ss
004c COPY_TREE container source:p target:p opaque_xattr:s flags:u
004d OVERLAY_PROBE fs
00a0 EXEC_FIFO pre path:p
00a1 FIFO_WAIT container
00a2 UMASK container mask:u
00a3 AMBIENT container capabilities:u
00a4 CONSOLE pre path:p
00a5 CGROUP_SET control path:p value:s
00a6 PRESERVE_FDS container count:u
00c8 CGROUP_DEVICES pre path:p program:us
00c0 HOOK container kind:u index:u path:p args:ss env:ss dir:s timeout_s:u state_prefix:s state_suffix:s
00c1 HOOK_SYNC container
00c2 IOPRIO container value:u
00c3 SCHEDULER container policy:u nice:u priority:u
00c4 PERSONALITY container persona:u
00c9 SECCOMP_LISTENER pre path:p state_prefix:s state_middle:s state_suffix:s
00ca IDMAP_MOUNT parent source:p slot:u uid_map:s gid_map:s flags:u
00f0 MKNOD_DEV container path:p mode:u rdev:u uid:u gid:u
00f1 PID_FORK_ORPHAN container`;

let layouts: Layout[] | null = null;

function sideOf(word: string): i32 {
  if (word == "clone") return SIDE_CLONE;
  if (word == "pre") return SIDE_PRE;
  if (word == "parent") return SIDE_PARENT;
  if (word == "any") return SIDE_ANY;
  if (word == "control") return SIDE_CONTROL;
  if (word == "fs") return SIDE_FS;
  assert(word == "container", "describe: TABLE side");
  return SIDE_CONTAINER;
}

function kindOf(word: string): u8 {
  if (word == "u") return U64;
  if (word == "s") return STR;
  if (word == "p") return PATH;
  if (word == "ss") return STRS;
  assert(word == "us", "describe: TABLE kind");
  return U64S;
}

function readTable(): Layout[] {
  const out = new Array<Layout>();
  const rows = TABLE.split("\n");
  for (let i = 0; i < rows.length; i++) {
    const words = rows[i].split(" ");
    const layout = new Layout(<u16>I32.parseInt(words[0], 16), words[1], sideOf(words[2]));
    for (let j = 3; j < words.length; j++) {
      const colon = words[j].indexOf(":");
      layout.fields.push(words[j].substring(0, colon));
      layout.kinds.push(kindOf(words[j].substring(colon + 1)));
    }
    out.push(layout);
  }
  return out;
}

function layoutOf(type: u32): Layout | null {
  let table = layouts;
  if (table === null) layouts = table = readTable();
  for (let i = 0; i < table.length; i++) {
    if (<u32>table[i].type == type) return table[i];
  }
  return null;
}

export function describePlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const w = new Writer(ANSWER_MAX);
  const failure = describe(ptr, len, w);
  if (failure !== null) return fail(failure);
  const f = w.failure;
  if (f !== null) return fail(malformed(f));
  return answer(w.buf, w.len);
}

/** Reads the plan at `ptr` into `w`; the first problem found, or null. */
function describe(ptr: usize, len: i32, w: Writer): Failure | null {
  if (len > PLAN_MAX) return malformed("plan: " + len.toString() + " bytes (at most " + PLAN_MAX.toString() + ")");
  const frames = new FrameReader(ptr, len);
  if (!frames.next()) return frames.failure !== null ? framing(frames.failure!) : malformed("plan: does not start with HELLO");
  if (frames.type != <u32>T_HELLO) return malformed("plan: does not start with HELLO");
  const helloFailure = describeHello(frames, w);
  if (helloFailure !== null) return helloFailure;

  const layouts = new Array<Layout>();
  let ended = false;
  let cloned = false;
  while (frames.next()) {
    if (ended) return malformed("plan: END is not the last frame");
    if (frames.type == <u32>T_END && frames.payloadLength == 0) {
      ended = true;
      continue;
    }
    const index = layouts.length;
    if (index == OPS_MAX) return malformed("plan: more than " + OPS_MAX.toString() + " ops");
    const layout = layoutOf(frames.type);
    if (layout === null) return malformed("plan: op " + index.toString() + ": unknown type 0x" + frames.type.toString(16));
    if (layout.type == T_CLONE) cloned = true;
    const failure = describeOp(frames, layout, runnerOf(layout, cloned), w);
    if (failure !== null) return failure;
    layouts.push(layout);
  }
  if (frames.failure !== null) return framing(frames.failure!);
  if (!ended) return malformed("plan: does not end with END");
  return checkOrder(layouts);
}

/** A framing failure of the reader ("request: frame N: …") said of the plan: "plan: frame N: …". */
function framing(failure: Failure): Failure {
  const reason = failure.reason;
  return reason.startsWith("request") ? malformed("plan" + reason.substring(7)) : failure;
}

function describeHello(frames: FrameReader, w: Writer): Failure | null {
  const f = new Fields(frames.payload, frames.payloadLength, "plan: HELLO");
  const magic = f.u64("magic");
  const version = f.u64("version");
  const flags = f.u64("flags");
  if (!f.finish()) return f.failure;
  if (magic != HELLO_MAGIC) return malformed("plan: HELLO: bad magic number");
  if (version != PROTOCOL_VERSION) return malformed("plan: HELLO: protocol version " + version.toString() + ", the core speaks " + PROTOCOL_VERSION.toString());
  if (flags > HELLO_FLAGS_MAX) return malformed("plan: HELLO: unknown flags " + flags.toString());
  w.begin(D_PLAN, "plan");
  w.u64(version);
  w.u64(flags);
  w.end();
  return null;
}

/** Who runs the op: the launcher before CLONE (and CLONE itself), the monitor for parent ops. */
function runnerOf(layout: Layout, cloned: bool): u64 {
  if (layout.side == SIDE_PARENT) return RUNNER_MONITOR;
  if (layout.side == SIDE_CONTAINER) return RUNNER_CONTAINER;
  if (layout.side == SIDE_ANY && cloned && layout.type != T_CLONE) return RUNNER_CONTAINER;
  return RUNNER_LAUNCHER;
}

/** One op: D_OP, then its fields in the layout's order. */
function describeOp(frames: FrameReader, layout: Layout, runner: u64, w: Writer): Failure | null {
  const index = frames.index - 1; // frame 0 is HELLO
  const f = new Fields(frames.payload, frames.payloadLength, "plan: op " + index.toString() + " (" + layout.name + ")");
  w.begin(D_OP, "op");
  w.u64(<u64>layout.type);
  w.str("name", layout.name, STR_MAX);
  w.u64(runner);
  w.u64(<u64>layout.fields.length);
  w.end();
  for (let i = 0; i < layout.fields.length; i++) {
    const name = layout.fields[i];
    const kind = layout.kinds[i];
    if (kind == U64) describeU64(w, name, f.u64(name));
    else if (kind == STR) describeStr(w, name, f.str(name, STR_MAX));
    else if (kind == PATH) describeStr(w, name, f.str(name, PATH_MAX));
    else if (kind == STRS) describeStrs(w, name, f.strs(name, STR_MAX));
    else describeU64s(w, name, f.u64s(name));
    if (!f.ok) return f.failure;
  }
  if (!f.finish()) return f.failure;
  return null;
}

function describeU64(w: Writer, name: string, value: u64): void {
  w.begin(D_U64, name);
  w.str("field", name, STR_MAX);
  w.u64(value);
  w.end();
}

function describeStr(w: Writer, name: string, value: string): void {
  w.begin(D_STR, name);
  w.str("field", name, STR_MAX);
  w.str(name, value, STR_MAX);
  w.end();
}

function describeStrs(w: Writer, name: string, list: string[]): void {
  w.begin(D_STRS, name);
  w.str("field", name, STR_MAX);
  w.u64(<u64>list.length);
  w.end();
  for (let i = 0; i < list.length; i++) {
    w.begin(D_ITEM, name);
    w.str(name, list[i], STR_MAX);
    w.end();
  }
}

function describeU64s(w: Writer, name: string, list: u64[]): void {
  w.begin(D_U64S, name);
  w.str("field", name, STR_MAX);
  w.u64(<u64>list.length);
  for (let i = 0; i < list.length; i++) w.u64(list[i]);
  w.end();
}

function opFailure(index: i32, layout: Layout, what: string): Failure {
  return malformed("plan: op " + index.toString() + " (" + layout.name + "): " + what);
}

/** The launcher's order rules (docs/protocol.md "The plan"), checked on the whole list. */
function checkOrder(ops: Layout[]): Failure | null {
  const n = ops.length;
  if (n > 0 && ops[0].side == SIDE_CONTROL) {
    for (let i = 1; i < n; i++) if (ops[i].side != SIDE_CONTROL) return opFailure(i, ops[i], "a container op in a control plan");
    return null;
  }
  for (let i = 0; i < n; i++) if (ops[i].side == SIDE_CONTROL) return opFailure(i, ops[i], "a control op in a container plan");
  if (n > 0 && ops[0].side == SIDE_FS) {
    if (ops[0].name != "FS_ROOT") return opFailure(0, ops[0], "an fs plan does not start with FS_ROOT");
    for (let i = 1; i < n; i++) if (ops[i].side != SIDE_FS) return opFailure(i, ops[i], "a container op in an fs plan");
    return null;
  }
  for (let i = 0; i < n; i++) if (ops[i].side == SIDE_FS) return opFailure(i, ops[i], "an fs op in a container plan");
  let clones = 0;
  for (let i = 0; i < n; i++) if (ops[i].type == T_CLONE) clones++;
  if (clones != 1) return malformed("plan: " + clones.toString() + " CLONE ops (exactly 1 needed)");
  if (ops[n - 1].type != T_EXEC) return malformed("plan: EXEC is not the last op");
  for (let i = 0; i < n; i++) {
    if (ops[i].type != T_SECCOMP_PROGRAM) continue;
    const next = ops[i + 1].type; // i < n - 1: EXEC is last.
    if (next != T_SECCOMP_PROGRAM && next != T_SECCOMP) return opFailure(i, ops[i], "SECCOMP_PROGRAM is not followed by SECCOMP_PROGRAM or SECCOMP");
  }
  for (let i = 0; i < n; i++) {
    if (ops[i].type != T_WAIT_START && ops[i].type != T_FIFO_WAIT) continue;
    // startContainer HOOKs may come between FIFO_WAIT and EXEC (the launcher's rule too).
    let next = i + 1;
    if (ops[i].type == T_FIFO_WAIT) while (next < n - 1 && ops[next].type == T_HOOK) next++;
    if (next != n - 1) return opFailure(i, ops[i], ops[i].name + " is not right before EXEC");
    break;
  }
  for (let i = 0; i < n; i++) {
    if (ops[i].type != T_INIT) continue;
    const next = ops[i + 1].type; // EXEC is last, so an INIT has a next op.
    if (next != T_EXEC && !(next == T_WAIT_START && i == n - 3)) return opFailure(i, ops[i], "INIT is not right before EXEC or WAIT_START");
  }
  let cloned = false;
  let containerStarted = false;
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    const side = op.side;
    if (side == SIDE_CLONE) cloned = true;
    else if (!cloned && side != SIDE_ANY && side != SIDE_PRE) return opFailure(i, op, "cannot run before CLONE");
    else if (cloned && side == SIDE_PRE) return opFailure(i, op, "a launcher op after CLONE");
    else if (side == SIDE_PARENT && containerStarted) return opFailure(i, op, "parent ops stand right after CLONE");
    else if (op.type == T_CGROUP_JOIN && containerStarted && ops[i - 1].type != T_CGROUP_JOIN) {
      return opFailure(i, op, "CGROUP_JOIN stands right after the parent ops, before any other container op");
    } else if (op.type == T_EXEC && i != n - 1) return opFailure(i, op, "EXEC is not last");
    if (cloned && (side == SIDE_CONTAINER || side == SIDE_ANY)) containerStarted = true;
  }
  return null;
}
