// The test oracle for plans: encode, decode and check a plan (docs/protocol.md) in plain
// TypeScript, written apart from the core's encoder (assembly/plan/encode.ts) and reader
// (assembly/plan/describe.ts) so that each can catch the other. The checks mirror the
// launcher's own. ts/ never decodes a plan: it asks the core (ts/core/describe.ts).
import { FieldReader, FrameError, FrameWriter, PATH_MAX, concat, splitFrames } from '../../ts/protocol/frames.js';
import type { FieldValue } from '../../ts/protocol/frames.js';
import { FRAME, HELLO_MAGIC, MAX_OPS, OP_BY_CODE, OP_BY_NAME, PATH_FIELDS, PLAN_BYTES_MAX, PROTOCOL_VERSION } from '../../ts/protocol/ops.js';

export interface Op {
  name: string;
  args: Record<string, FieldValue>;
}

export interface Plan {
  version: bigint;
  flags: bigint;
  ops: Op[];
}

export function encodePlan(plan: Plan): Uint8Array {
  const w = new FrameWriter();
  const parts = [w.u64(HELLO_MAGIC).u64(plan.version).u64(plan.flags).frame(FRAME.HELLO)];
  for (const op of plan.ops) {
    const spec = OP_BY_NAME.get(op.name);
    if (!spec) throw new FrameError(`unknown op ${op.name}`);
    for (const [field, kind] of spec.fields) {
      const v = op.args[field];
      if (kind === 'u64') w.u64(v as bigint);
      else if (kind === 'str') w.str(v as string);
      else if (kind === 'strs') w.strs(v as string[]);
      else w.u64s(v as bigint[]);
    }
    parts.push(w.frame(spec.code));
  }
  parts.push(w.frame(FRAME.END));
  return concat(parts);
}

/** Decodes and checks a whole plan; throws FrameError naming the first problem. */
export function decodePlan(bytes: Uint8Array): Plan {
  if (bytes.length > PLAN_BYTES_MAX) throw new FrameError(`plan of ${bytes.length} bytes over ${PLAN_BYTES_MAX}`);
  const frames = splitFrames(bytes);
  const first = frames[0];
  if (!first || first.type !== FRAME.HELLO) throw new FrameError('plan does not start with HELLO');
  const hello = new FieldReader(first.payload);
  const magic = hello.u64();
  const version = hello.u64();
  const flags = hello.u64();
  hello.end();
  if (magic !== HELLO_MAGIC) throw new FrameError('HELLO has a bad magic number');
  if (version !== PROTOCOL_VERSION) throw new FrameError(`protocol version ${version}, husk speaks ${PROTOCOL_VERSION}`);
  if (flags > 7n) throw new FrameError(`HELLO has unknown flags ${flags}`);
  const last = frames[frames.length - 1];
  if (frames.length < 2 || last.type !== FRAME.END || last.payload.length !== 0) throw new FrameError('plan does not end with END');
  const ops: Op[] = [];
  for (const [i, frame] of frames.slice(1, -1).entries()) {
    const spec = OP_BY_CODE.get(frame.type);
    if (!spec) throw new FrameError(`op ${i}: unknown type 0x${frame.type.toString(16)}`);
    const r = new FieldReader(frame.payload);
    const args: Record<string, FieldValue> = {};
    for (const [field, kind] of spec.fields) {
      if (kind === 'u64') args[field] = r.u64();
      else if (kind === 'str') args[field] = r.str(PATH_FIELDS.has(field) ? PATH_MAX : undefined);
      else if (kind === 'strs') args[field] = r.strs();
      else args[field] = r.u64s();
    }
    r.end();
    ops.push({ name: spec.name, args });
  }
  checkOrder(ops);
  return { version, flags, ops };
}

function checkOrder(ops: Op[]): void {
  if (ops.length > MAX_OPS) throw new FrameError(`plan has ${ops.length} ops, over ${MAX_OPS}`);
  // A control plan: control ops only, at least one (docs/protocol.md "Control plans").
  const control = ops.findIndex((o) => OP_BY_NAME.get(o.name)!.side === 'control');
  if (control === 0) {
    const other = ops.findIndex((o) => OP_BY_NAME.get(o.name)!.side !== 'control');
    if (other >= 0) throw new FrameError(`op ${other} (${ops[other].name}): a container op in a control plan`);
    return;
  }
  if (control > 0) throw new FrameError(`op ${control} (${ops[control].name}): a control op in a container plan`);
  // An fs plan: FS_ROOT first, fs ops only (docs/protocol.md "Fs plans").
  const fs = ops.findIndex((o) => OP_BY_NAME.get(o.name)!.side === 'fs');
  if (fs === 0) {
    if (ops[0].name !== 'FS_ROOT') throw new FrameError(`op 0 (${ops[0].name}): an fs plan does not start with FS_ROOT`);
    const other = ops.findIndex((o) => OP_BY_NAME.get(o.name)!.side !== 'fs');
    if (other >= 0) throw new FrameError(`op ${other} (${ops[other].name}): a container op in an fs plan`);
    return;
  }
  if (fs > 0) throw new FrameError(`op ${fs} (${ops[fs].name}): an fs op in a container plan`);
  const clones = ops.filter((o) => o.name === 'CLONE').length;
  if (clones !== 1) throw new FrameError(`plan has ${clones} CLONE ops, needs exactly 1`);
  if (ops[ops.length - 1].name !== 'EXEC') throw new FrameError('EXEC is not the last op');
  ops.forEach((o, i) => {
    if (o.name === 'SECCOMP_PROGRAM' && ops[i + 1].name !== 'SECCOMP_PROGRAM' && ops[i + 1].name !== 'SECCOMP') {
      throw new FrameError(`op ${i}: SECCOMP_PROGRAM is not followed by SECCOMP_PROGRAM or SECCOMP`);
    }
  });
    const wait = ops.findIndex((o) => o.name === 'WAIT_START' || o.name === 'FIFO_WAIT');
  if (wait >= 0 && wait !== ops.length - 2) throw new FrameError(`op ${wait}: ${ops[wait].name} is not right before EXEC`);
  for (const [i, op] of ops.entries()) {
    if (op.name !== 'INIT') continue;
    const next = ops[i + 1].name;
    if (next !== 'EXEC' && !(next === 'WAIT_START' && i === ops.length - 3)) throw new FrameError(`op ${i}: INIT is not right before EXEC or WAIT_START`);
  }
  let cloned = false;
  let containerStarted = false;
  for (const [i, op] of ops.entries()) {
    const side = OP_BY_NAME.get(op.name)!.side;
    if (side === 'clone') cloned = true;
    else if (!cloned && side !== 'any' && side !== 'pre-clone') throw new FrameError(`op ${i} (${op.name}) cannot run before CLONE`);
    else if (cloned && side === 'pre-clone') throw new FrameError(`op ${i} (${op.name}) is a launcher op after CLONE`);
    else if (side === 'parent' && containerStarted) throw new FrameError(`op ${i} (${op.name}): parent ops stand right after CLONE`);
    else if (op.name === 'CGROUP_JOIN' && containerStarted && ops[i - 1].name !== 'CGROUP_JOIN') {
      throw new FrameError(`op ${i} (CGROUP_JOIN): CGROUP_JOIN stands right after the parent ops, before any other container op`);
    }
    else if (op.name === 'EXEC' && i !== ops.length - 1) throw new FrameError(`op ${i}: EXEC is not last`);
    if (cloned && (side === 'container' || side === 'any')) containerStarted = true;
  }
}

/** Who runs each op (what `husk plan` shows): by the op table's sides, CLONE by the launcher. */
export function runnersOf(plan: Plan): ('launcher' | 'monitor' | 'container')[] {
  let cloned = false;
  return plan.ops.map((op) => {
    const side = OP_BY_NAME.get(op.name)!.side;
    if (op.name === 'CLONE') {
      cloned = true;
      return 'launcher';
    }
    if (side === 'parent') return 'monitor';
    if (side === 'container' || (side === 'any' && cloned)) return 'container';
    return 'launcher';
  });
}
