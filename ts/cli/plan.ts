// husk plan: the ops `husk run` would perform, in words (or JSON), without running them.
import { writeFileSync } from 'node:fs';
import type { GlobalFlags, RunFlags } from './args.js';
import { HuskError } from '../errors.js';
import { prepare } from '../runtime/container.js';
import { ensureRoot } from '../runtime/state.js';
import { describePlan } from '../protocol/describe.js';
import { decodePlan } from '../protocol/plan.js';

export async function planCommand(global: GlobalFlags, flags: RunFlags, opts: { save?: string; format: 'text' | 'json'; hostCgroups?: 'v1' | 'v2' | 'hybrid' }): Promise<number> {
  if (opts.save !== undefined) ensureRoot(global.root); // the stage dir the plan mounts on
  // A saved plan is run by the launcher alone, with no orchestrator to die with.
  // --host-cgroups: the same request, as if this were a typical host of that layout.
  const cgroupFacts = opts.hostCgroups === undefined ? undefined : (await import('../cgroup/detect.js')).exampleCgroupFacts(opts.hostCgroups);
  const prepared = prepare(flags, { root: global.root, usedRanges: [], dieWithParent: false, cgroupFacts });
  if (opts.save !== undefined) {
    try {
      writeFileSync(opts.save, prepared.plan);
    } catch (err) {
      throw new HuskError('invalid-value', `cannot write plan to ${opts.save}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  const plan = decodePlan(prepared.plan);
  if (opts.format === 'json') {
    const json = JSON.stringify(plan, (_k, v) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2);
    process.stdout.write(json + '\n');
  } else {
    process.stdout.write(describePlan(plan));
  }
  if (opts.save !== undefined) process.stderr.write(`plan saved to ${opts.save}; run it with: husk-launcher < ${opts.save}\n`);
  return 0;
}
