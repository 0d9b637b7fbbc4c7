// husk create [OPTIONS] IMAGE COMMAND...: makes a container without running it (docker's
// create): its plan is saved, its writable layer made, its name taken; `husk start` runs it.
// Prints the id. `ps -a` shows it as Created.
import type { GlobalFlags, RunFlags } from './args.js';
import { HuskError } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { createContainer } from '../runtime/create.js';
import { holderOf, nameInUse } from '../runtime/names.js';
import { sweep } from '../runtime/records.js';
import { ensureRoot, isLive } from '../runtime/state.js';
import { usedRanges } from '../runtime/userns.js';
import { applyDefaultNetwork } from '../network/default.js';

export async function createCommand(global: GlobalFlags, flags: RunFlags): Promise<number> {
  if (flags.lifecycle.detach) throw new HuskError('usage', 'husk create takes no -d: a created container starts with husk start');
  ensureRoot(global.root);
  // Without --network, root's container joins the default network (network/default.ts).
  await applyDefaultNetwork(global.root, flags);
  const records = await sweep(global.root, cgroupHost);
  const name = flags.lifecycle.name;
  const taken = name !== undefined ? holderOf(records, name) : undefined;
  if (name !== undefined && taken) throw nameInUse(name, taken);
  // Ranges held by live containers and by pinned user namespaces (a joined one has its maps).
  const used = flags.userns.mode !== 'host' && flags.userns.mode !== 'ns' ? [...usedRanges(records.filter(isLive)), ...(await import('../runtime/ns-store.js')).pinnedRanges(global.root)] : [];
  const rec = await createContainer(global.root, flags, used);
  process.stdout.write(`${rec.id}\n`);
  return 0;
}
