// Stopping a running container, as docker does: its stop signal (the image's StopSignal,
// else SIGTERM) to the container process, then after the timeout SIGKILL to every process of
// its cgroups; then the launcher, which reaps it and writes its status, is waited for and
// the record finished. Every signal is a control plan: the launcher opens a pidfd for the
// recorded pid and checks its start time, so a recycled pid is never hit. The caller holds
// the container's lock.
import type { CgroupHost } from '../cgroup/host.js';
import { killContainer, signalProcess } from './control.js';
import { finishDead } from './records.js';
import { isLive } from './state.js';
import type { ContainerRecord } from './state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for the container's launcher (its monitor) to end; true once it has. */
export async function launcherEnded(rec: ContainerRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let pause = 5;
  while (isLive(rec)) {
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, 50);
  }
  return true;
}

/** The container process as a control plan names it (pid and start time), if the record has both. */
export function processOf(rec: ContainerRecord): { pid: number; startTime: string } | undefined {
  return rec.pid !== undefined && rec.pidStart !== undefined ? { pid: rec.pid, startTime: rec.pidStart } : undefined;
}

/** Kills every process of the container and waits for its launcher; the launcher itself if it lingers. */
export async function killAndReap(host: CgroupHost, rec: ContainerRecord): Promise<void> {
  await killContainer(host.hierarchies, rec.cgroups ?? [], processOf(rec));
  if (await launcherEnded(rec, 5000)) return;
  if (rec.launcherPid !== undefined && rec.launcherStart !== undefined) await signalProcess(rec.launcherPid, rec.launcherStart, 9);
  await launcherEnded(rec, 2000);
}

/**
 * Stops a running container: stop signal, `timeoutS` seconds, SIGKILL. Resolves with the
 * finished record (its exit: 143 for a SIGTERM it died of, 137 for the SIGKILL).
 */
export async function stopContainer(root: string, rec: ContainerRecord, host: CgroupHost, timeoutS: number): Promise<ContainerRecord | undefined> {
  const proc = processOf(rec);
  let ended = false;
  if (proc && timeoutS > 0) {
    const sent = await signalProcess(proc.pid, proc.startTime, rec.stopSignal ?? 'SIGTERM');
    // 'gone': it ended on its own; its launcher is finishing.
    ended = await launcherEnded(rec, sent === 'gone' ? 5000 : timeoutS * 1000);
  }
  if (!ended) await killAndReap(host, rec);
  return finishDead(root, rec, async () => host);
}
