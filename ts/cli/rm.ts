// husk rm [-f]: remove a container's state; -f kills a running one first (through its
// cgroup: every process, not only the first), waits for its launcher to finish, and removes
// what is left. Every kill and removal is a control plan (runtime/control.ts): a pid is
// signalled only while it still names the process the record saw start.
import { existsSync } from 'node:fs';
import type { LifecycleCommand } from './args-lifecycle.js';
import { HuskError, escapeControls, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import { cgroupHost } from '../cgroup/host.js';
import type { CgroupHost } from '../cgroup/host.js';
import { findContainer, removeContainerState, statusOfRecord, sweep } from '../runtime/records.js';
import { killContainer, removeCgroups, signalProcess } from '../runtime/control.js';
import { isLive, readRecord } from '../runtime/state.js';
import { withContainerLock } from '../runtime/lock.js';
import type { ContainerRecord } from '../runtime/state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Under the container's lock (runtime/lock.ts), with its record read again: of many commands
 * removing one container, one does it and the others find it gone.
 */
async function removeOne(root: string, ref: string, seen: ContainerRecord, force: boolean): Promise<void> {
  await withContainerLock(root, seen.id, async () => {
    const rec = readRecord(root, seen.id);
    if (rec === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
    await removeHeld(root, rec, force);
  });
}

async function removeHeld(root: string, rec: ContainerRecord, force: boolean): Promise<void> {
  const host = await cgroupHost();
  if (statusOfRecord(rec, host) !== 'exited') {
    if (!force) throw new HuskError('invalid-value', `cannot remove container ${rec.name ?? rec.id.slice(0, 12)}: it is running`, { hint: 'Stop it first, or use husk rm -f.' });
    await kill(host, rec);
  }
  const present = (rec.cgroups ?? []).filter((dir) => existsSync(dir));
  if (present.length > 0) {
    const left = await removeCgroups(host.hierarchies, present);
    if (left.length > 0) throw new HuskError('launcher', `cannot remove the cgroups of container ${rec.name ?? rec.id.slice(0, 12)}: ${left.join(', ')} still busy`);
  }
  removeContainerState(root, rec.id);
}

/** Kills the container (its cgroups, or its process), then its launcher if it lingers. */
async function kill(host: CgroupHost, rec: ContainerRecord): Promise<void> {
  // Without a start time (a record of an older husk) the process is not signalled at all:
  // its pid might name another process by now.
  const proc = rec.pid !== undefined && rec.pidStart !== undefined ? { pid: rec.pid, startTime: rec.pidStart } : undefined;
  await killContainer(host.hierarchies, rec.cgroups ?? [], proc);
  // The launcher reaps it, removes its cgroups and writes its status file.
  for (let i = 0; i < 500 && isLive(rec); i++) await sleep(10);
  if (isLive(rec) && rec.launcherPid !== undefined && rec.launcherStart !== undefined) {
    await signalProcess(rec.launcherPid, rec.launcherStart, 9); // 'gone' is as good
  }
}

export async function rmCommand(cmd: Extract<LifecycleCommand, { name: 'rm' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  let status = 0;
  for (const ref of cmd.targets) {
    try {
      await removeOne(cmd.global.root, ref, findContainer(records, ref), cmd.force);
      process.stdout.write(`${escapeControls(ref)}\n`); // the name as typed, on one line
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  return status;
}
