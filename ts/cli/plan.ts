// husk plan: the ops `husk run` would perform, in words (or JSON), without running them.
import { writeFileSync } from 'node:fs';
import type { GlobalFlags, RunFlags } from './args.js';
import { HuskError, escapeControls } from '../errors.js';
import { prepare } from '../runtime/prepare.js';
import { ensureRoot } from '../runtime/state.js';
import { describePlanBytes } from '../core/describe.js';
import { describePlan, planJson } from '../protocol/describe.js';

export async function planCommand(global: GlobalFlags, flags: RunFlags, opts: { save?: string; format: 'text' | 'json'; hostCgroups?: 'v1' | 'v2' | 'hybrid' }): Promise<number> {
  if (opts.save !== undefined) ensureRoot(global.root); // the stage dir the plan mounts on
  // A saved plan is run by the launcher alone, with no orchestrator to die with.
  // --host-cgroups: the same request, as if this were a typical host of that layout.
  const cgroupFacts = opts.hostCgroups === undefined ? undefined : (await import('../cgroup/detect.js')).exampleCgroupFacts(opts.hostCgroups);
  const { storeImage } = await import('./run.js');
  const image = await storeImage(global, flags);
  // As run: without --network, root's container is shown on the default network.
  await (await import('../network/default.js')).applyDefaultNetwork(global.root, flags);
  const network = flags.network !== undefined ? await (await import('../network/store.js')).networkForPlan(global.root, flags.network) : undefined;
  const prepared = prepare(flags, { root: global.root, usedRanges: [], dieWithParent: false, cgroupFacts, image, network, dryRun: true });
  if (opts.save !== undefined) {
    try {
      writeFileSync(opts.save, prepared.plan);
    } catch (err) {
      throw new HuskError('invalid-value', `cannot write plan to ${opts.save}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  // The core reads its own plan back: ts/ only puts that reading into words.
  const plan = describePlanBytes(prepared.plan);
  // The choices made beside the ops (where --userns auto took its ids), as the core says them.
  const choices = prepared.summary.usernsChoice === undefined ? [] : [prepared.summary.usernsChoice];
  process.stdout.write(opts.format === 'json' ? planJson(plan, choices) : describePlan(plan, choices));
  if (opts.save !== undefined) {
    const file = escapeControls(opts.save); // the path as typed, on one line
    process.stderr.write(`plan saved to ${file}; run it with: husk-launcher < ${file}\n`);
  }
  return 0;
}
