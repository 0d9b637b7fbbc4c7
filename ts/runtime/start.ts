// Starting a container whose plan is saved (runtime/create.ts): a Created one, or an exited
// one again, with the same writable layer, cgroup names and status file. The caller holds
// the container's lock (runtime/lock.ts). The launcher runs detached and stays as the
// monitor; husk returns once the command was executed, as `run -d` does.
import { rmSync } from 'node:fs';
import { launchDetached } from './detach.js';
import type { DetachedStart } from './detach.js';
import { readSavedPlan, savePlan } from './create.js';
import { eventsPath, statusFilePath } from './records.js';
import { containerPid, processStart, writeRecord } from './state.js';
import { crashPoint } from './crash-point.js';
import type { ContainerRecord } from './state.js';

/**
 * Runs the saved plan; the record says from the spawn on that the launcher is its monitor.
 * Returns the start (with `ended` when the command never ran or ended already).
 */
export async function startSaved(root: string, rec: ContainerRecord, onSpawn?: () => void): Promise<DetachedStart> {
  const again = !rec.neverStarted;
  // Its address again (given back when it stopped), before the plan that holds it runs; or a
  // new address, and a new plan that holds it, when another container took it meanwhile.
  const nets = again && (rec.network !== undefined || rec.networks !== undefined) ? await (await import('../network/restart.js')).leaseForStart(root, rec) : undefined;
  if (nets?.plan) savePlan(root, rec.id, nets.plan);
  const plan = nets?.plan ?? readSavedPlan(root, rec.id);
  // What the last run left says nothing about this one.
  rmSync(statusFilePath(root, rec.id), { force: true });
  rmSync(eventsPath(root, rec.id), { force: true });
  for (const key of ['launcherPid', 'launcherStart', 'pid', 'pidStart', 'finished', 'exit', 'error', 'oomKilled', 'memoryLimit'] as const) delete rec[key];
  rec.ownerPid = process.pid;
  rec.ownerStart = processStart(process.pid);
  if (again) rec.restartCount = (rec.restartCount ?? 0) + 1;
  writeRecord(root, rec);
  nets?.serve();
  const start = await launchDetached(plan, {
    eventsPath: eventsPath(root, rec.id),
    // The plan goes to the launcher only after this: a husk killed before the record names
    // its launcher leaves a launcher that reads EOF instead of a plan and runs nothing.
    onSpawn: (pid) => {
      crashPoint('spawned-unrecorded');
      rec.launcherPid = pid;
      rec.launcherStart = processStart(pid);
      writeRecord(root, rec);
      onSpawn?.();
    },
  });
  // Killed here, husk leaves a running container whose record lacks its pid: the next
  // command's sweep adopts it from the launcher's events file (records.ts adoptStarted).
  crashPoint('started-unrecorded');
  const container = containerPid(start, rec.launcherPid);
  rec.pid = container?.pid ?? start.pid;
  if (container) rec.pidStart = container.pidStart;
  rec.started = new Date().toISOString();
  delete rec.neverStarted;
  writeRecord(root, rec);
  // Networks joined by `network connect` are joined again, now that it runs (their veths went
  // with its last namespace). Its command may run a moment before they are there.
  if (nets?.rejoin.length && start.ended === undefined) await (await import('../network/connect.js')).rejoinNetworks(root, rec, nets.rejoin);
  return start;
}
