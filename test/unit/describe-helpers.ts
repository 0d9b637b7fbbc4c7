// Comparing the core's reading of a plan (ts/core/describe.ts) with the oracle's decode
// (test/oracle/plan-codec.ts): the same ops and fields; the runner is the core's alone.
import type { PlanDescription } from '../../ts/core/describe.js';
import type { Plan } from '../oracle/plan-codec.js';

export { runnersOf } from '../oracle/plan-codec.js';

/** The description as the oracle's Plan shape (no runners). */
export function withoutRunners(d: PlanDescription): Plan {
  return { version: d.version, flags: d.flags, ops: d.ops.map((o) => ({ name: o.name, args: o.args })) };
}
