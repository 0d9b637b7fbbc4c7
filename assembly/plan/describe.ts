// describePlan: plan frames in, the plan field by field out (docs/core-abi.md "describePlan").
// The core that encodes plans also reads them back for people (`husk plan`, `--trace`), so
// ts/ never decodes plan bytes: it only puts this answer into words. A plan is checked as the
// launcher checks it (docs/protocol.md): what this entry describes, the launcher would run,
// and anything else is refused with status 1 and a reason naming the op and the field.
// Only `husk plan`, the API's describe() and `--trace` call it: `husk run` never pays for it.

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { HELLO_MAGIC, OPS_MAX, PLAN_MAX, PROTOCOL_VERSION, T_CGROUP_JOIN, T_CLONE, T_END, T_EXEC, T_HELLO, T_WAIT_START } from "./encode";

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
/** HELLO's flag bits: trace, die_with_parent. */
const HELLO_FLAGS_MAX: u64 = 3;

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

class Layout {
  constructor(public type: u16, public name: string, public side: i32, public fields: string[], public kinds: u8[]) {
    assert(fields.length == kinds.length, "Layout: fields and kinds differ");
  }
}

/** Every op of protocol v1, as the launcher (launcher-zig/src/plan.zig) and encode.ts lay it out. */
const LAYOUTS: Layout[] = [
  new Layout(0x0010, "UNSHARE", SIDE_ANY, ["flags"], [U64]),
  new Layout(0x0011, "CLONE", SIDE_CLONE, ["flags"], [U64]),
  new Layout(0x0012, "WRITE_FILE", SIDE_ANY, ["path", "content"], [PATH, STR]),
  new Layout(0x0013, "UID_MAP", SIDE_PARENT, ["text"], [STR]),
  new Layout(0x0014, "GID_MAP", SIDE_PARENT, ["text"], [STR]),
  new Layout(0x0015, "SETGROUPS", SIDE_PARENT, ["text"], [STR]),
  new Layout(0x0020, "MOUNT", SIDE_CONTAINER, ["source", "target", "fstype", "flags", "data"], [PATH, PATH, STR, U64, STR]),
  new Layout(0x0021, "MKDIR", SIDE_CONTAINER, ["path", "mode"], [PATH, U64]),
  new Layout(0x0022, "TOUCH", SIDE_CONTAINER, ["path", "mode"], [PATH, U64]),
  new Layout(0x0023, "SYMLINK", SIDE_CONTAINER, ["target", "linkpath"], [PATH, PATH]),
  new Layout(0x0024, "BIND", SIDE_CONTAINER, ["source", "target", "flags"], [PATH, PATH, U64]),
  new Layout(0x0025, "PIVOT_ROOT", SIDE_CONTAINER, ["newroot"], [PATH]),
  new Layout(0x0026, "MASK", SIDE_CONTAINER, ["path"], [PATH]),
  new Layout(0x0027, "READONLY", SIDE_CONTAINER, ["path"], [PATH]),
  new Layout(0x0028, "SET_ROOT", SIDE_CONTAINER, ["path"], [PATH]),
  new Layout(0x0030, "SETHOSTNAME", SIDE_CONTAINER, ["name"], [STR]),
  new Layout(0x0031, "LOOPBACK_UP", SIDE_CONTAINER, [], []),
  new Layout(0x0032, "CHDIR", SIDE_CONTAINER, ["path"], [PATH]),
  new Layout(0x0033, "RLIMIT", SIDE_CONTAINER, ["resource", "soft", "hard"], [U64, U64, U64]),
  new Layout(0x0034, "CAPS", SIDE_CONTAINER, ["bounding", "effective", "permitted", "inheritable"], [U64, U64, U64, U64]),
  new Layout(0x0035, "USER", SIDE_CONTAINER, ["uid", "gid", "groups"], [U64, U64, U64S]),
  new Layout(0x0036, "NO_NEW_PRIVS", SIDE_CONTAINER, [], []),
  new Layout(0x0037, "CLOSE_FDS", SIDE_CONTAINER, [], []),
  new Layout(0x0038, "EXEC", SIDE_CONTAINER, ["path", "argv", "env", "search"], [PATH, STRS, STRS, STRS]),
  new Layout(0x0039, "STATUS_FILE", SIDE_PRE, ["path"], [PATH]),
  new Layout(0x0040, "CGROUP_MKDIR", SIDE_PRE, ["path", "flags"], [PATH, U64]),
  new Layout(0x0041, "CGROUP_WRITE", SIDE_PRE, ["path", "value"], [PATH, STR]),
  new Layout(0x0042, "CGROUP_ENTER", SIDE_PARENT, ["path"], [PATH]),
  new Layout(0x0043, "CGROUP_INTO", SIDE_PRE, ["path"], [PATH]),
  new Layout(0x0044, "CGROUP_REPORT", SIDE_PRE, ["path"], [PATH]),
  new Layout(0x0045, "IDMAP_TREE", SIDE_PARENT, ["source", "slot"], [PATH, U64]),
  new Layout(0x0046, "ATTACH_TREE", SIDE_CONTAINER, ["slot", "target"], [U64, PATH]),
  new Layout(0x0047, "CGROUP_JOIN", SIDE_CONTAINER, ["path"], [PATH]),
  new Layout(0x0051, "WAIT_START", SIDE_CONTAINER, [], []),
];

function layoutOf(type: u32): Layout | null {
  for (let i = 0; i < LAYOUTS.length; i++) {
    if (<u32>LAYOUTS[i].type == type) return LAYOUTS[i];
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
  let clones = 0;
  for (let i = 0; i < n; i++) if (ops[i].type == T_CLONE) clones++;
  if (clones != 1) return malformed("plan: " + clones.toString() + " CLONE ops (exactly 1 needed)");
  if (ops[n - 1].type != T_EXEC) return malformed("plan: EXEC is not the last op");
  for (let i = 0; i < n; i++) {
    if (ops[i].type != T_WAIT_START) continue;
    if (i != n - 2) return opFailure(i, ops[i], "WAIT_START is not right before EXEC");
    break;
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
