// describePlan: a plan's bytes in, the core's reading of them out (docs/core-abi.md
// "describePlan"). ts/ shows plans (`husk plan`, the API's describe(), `--trace`) from this
// answer and never decodes plan bytes itself.
import { FrameCursor, FrameError } from '../protocol/frames.js';
import type { FieldValue } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

/** Who runs an op: the launcher (before CLONE, and CLONE), the monitor (parent ops), the container. */
export type Runner = 'launcher' | 'monitor' | 'container';

export interface DescribedOp {
  name: string;
  runner: Runner;
  /** The op's fields in the protocol's order: u64 → bigint, str → string, strs, u64s. */
  args: Record<string, FieldValue>;
}

export interface PlanDescription {
  version: bigint;
  flags: bigint;
  ops: DescribedOp[];
}

export const ANSWER = { PLAN: 0x0581, OP: 0x0582, U64: 0x0583, STR: 0x0584, STRS: 0x0585, ITEM: 0x0586, U64S: 0x0587 } as const;

const RUNNERS: readonly Runner[] = ['launcher', 'monitor', 'container'];
const decoder = new TextDecoder();

/** The plan as the core reads it. Throws CoreError (status 1) for bytes the launcher would refuse. */
export function describePlanBytes(plan: Uint8Array): PlanDescription {
  const answer = call('describePlan', plan);
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  return decodeDescription(answer.bytes);
}

/** Decodes describePlan's answer (exported for the fuzz harness); throws FrameError. */
export function decodeDescription(bytes: Uint8Array): PlanDescription {
  const r = new FrameCursor(bytes);
  if (!r.next() || r.type !== ANSWER.PLAN) throw new FrameError('describePlan: the answer does not start with PLAN');
  const plan: PlanDescription = { version: r.u64(), flags: r.u64(), ops: [] };
  r.end();
  while (r.next()) {
    const type: number = r.type; // read after each next(): a new frame's type
    if (type !== ANSWER.OP) throw new FrameError(`describePlan: frame type 0x${type.toString(16)} where an OP was due`);
    r.u64(); // the op's code: the name says the same
    const name = r.str();
    const runner = RUNNERS[r.u64n() - 1];
    const fields = r.u64n();
    r.end();
    if (runner === undefined) throw new FrameError(`describePlan: op ${name}: unknown runner`);
    const args: Record<string, FieldValue> = {};
    for (let i = 0; i < fields; i++) readField(r, args);
    plan.ops.push({ name, runner, args });
  }
  return plan;
}

function readField(r: FrameCursor, args: Record<string, FieldValue>): void {
  if (!r.next()) throw new FrameError('describePlan: the answer ends inside an op');
  const type: number = r.type;
  const field = r.str();
  if (type === ANSWER.U64) args[field] = r.u64();
  else if (type === ANSWER.STR) args[field] = r.str();
  else if (type === ANSWER.U64S) {
    const values: bigint[] = [];
    for (let n = r.u64n(); n > 0; n--) values.push(r.u64());
    args[field] = values;
  } else if (type === ANSWER.STRS) {
    const count = r.u64n();
    r.end();
    const values: string[] = [];
    for (let i = 0; i < count; i++) {
      if (!r.next() || (r.type as number) !== ANSWER.ITEM) throw new FrameError(`describePlan: ${field}: ${count} items announced, fewer given`);
      values.push(r.str());
      r.end();
    }
    args[field] = values;
    return;
  } else throw new FrameError(`describePlan: frame type 0x${type.toString(16)} where a field was due`);
  r.end();
}
