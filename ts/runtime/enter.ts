// husk enter: nsenter for husk's objects — a command in every namespace of a container's
// process, of a pinned namespace set (ns:NAME), or of any process (PID), picked with --net,
// --uts...; husk's own user, capabilities and environment, no cgroup joined.

import { join } from 'node:path';
import type { EnterFlags } from '../cli/args-execns.js';
import { HuskError } from '../errors.js';
import { joinPlan } from '../core/join-plan.js';
import type { JoinRequest } from '../core/join-plan.js';
import { launch } from './launcher.js';
import { callerUid } from './paths.js';
import { differingNamespaces, NS_BIT } from './ns-facts.js';
import { nsDir, pinnedTypes } from './ns-store.js';
import { statusOf } from './outcome.js';
import { findContainer, sweep } from './records.js';
import { processStart } from './state.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

async function targetOf(root: string, ref: string): Promise<Pick<JoinRequest, 'target' | 'differ' | 'nsFiles'>> {
  if (ref.startsWith('ns:')) {
    const name = ref.slice(3);
    const types = pinnedTypes(root, name);
    return { nsFiles: types.map((t) => ({ nstype: NS_BIT.get(t)!, path: join(nsDir(root, name), t) })) };
  }
  if (/^\d+$/.test(ref)) {
    const pid = Number(ref);
    const startTime = processStart(pid);
    if (startTime === undefined) throw new HuskError('invalid-value', `no such process: ${ref}`);
    return { target: { pid, startTime }, differ: differingNamespaces(pid) };
  }
  const { cgroupHost } = await import('../cgroup/host.js');
  const rec = findContainer(await sweep(root, cgroupHost), ref);
  if (rec.finished !== undefined || rec.pid === undefined || rec.pidStart === undefined || processStart(rec.pid) !== rec.pidStart) {
    throw new HuskError('invalid-value', `container ${rec.name ?? rec.id.slice(0, 12)} is not running`);
  }
  return { target: { pid: rec.pid, startTime: rec.pidStart }, differ: differingNamespaces(rec.pid) };
}

export async function enterCommand(root: string, f: EnterFlags): Promise<number> {
  let pick = 0n;
  for (const t of f.types) pick |= NS_BIT.get(t)!;
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // Without a command the core runs `sh` (found through PATH inside).
  const plan = joinPlan({ mode: 'enter', pick, env, argv: f.argv, dieWithParent: true, rootless: callerUid() !== 0, ...(await targetOf(root, f.target)) });
  const outcome = await launch(plan, { forwardSignals: FORWARDED });
  return statusOf(outcome, f.argv[0] ?? 'sh');
}

