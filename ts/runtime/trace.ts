// --trace: where a start's milliseconds went, from ts/ and from the launcher's own clock.
import { describePlanBytes } from '../core/describe.js';
import { describeOp } from '../protocol/describe.js';
import type { LaunchOutcome } from './launcher.js';

const ms = (ns: bigint): string => (Number(ns) / 1e6).toFixed(3).padStart(8);

export function formatTrace(planBytes: Uint8Array, outcome: LaunchOutcome, startedAt: bigint): string {
  // Only a traced run asks the core to read its plan back (op index → words).
  const plan = describePlanBytes(planBytes);
  const lines = [`husk trace: ${ms(outcome.spawnedAt - startedAt)} ms  in ts/ before the launcher started`];
  let total = 0n;
  for (const t of outcome.opTimes) {
    total += t.ns;
    const op = plan.ops[t.index];
    lines.push(`husk trace: ${ms(t.ns)} ms  op ${String(t.index).padStart(2)} ${op ? describeOp(op) : `code 0x${t.code.toString(16)}`}`);
  }
  lines.push(`husk trace: ${ms(total)} ms  all ops`);
  return lines.join('\n') + '\n';
}
