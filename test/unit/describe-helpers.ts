// Comparing the core's reading of a plan (ts/core/describe.ts) with the oracle's decode
// (test/oracle/plan-codec.ts): the same ops and fields; the runner is the core's alone.
import type { PlanDescription } from '../../ts/core/describe.js';
import { OP_BY_NAME } from '../../ts/protocol/ops.js';
import type { Plan } from '../oracle/plan-codec.js';

/** The description as the oracle's Plan shape (no runners). */
export function withoutRunners(d: PlanDescription): Plan {
  return { version: d.version, flags: d.flags, ops: d.ops.map((o) => ({ name: o.name, args: o.args })) };
}

/** Who runs each op, by the op table's sides (docs/protocol.md): what the core must answer. */
export function runnersOf(plan: Plan): string[] {
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
