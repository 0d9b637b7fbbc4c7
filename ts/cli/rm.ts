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
import { findContainer, removeContainerState, removeLeftCgroups, statusOfRecord, sweep } from '../runtime/records.js';
import { removeCgroups } from '../runtime/control.js';
import { killAndReap } from '../runtime/stop.js';
import { isLive, readRecord } from '../runtime/state.js';
import { withContainerLock } from '../runtime/lock.js';
import type { ContainerRecord } from '../runtime/state.js';

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
  const status = statusOfRecord(rec, host);
  if (status !== 'running' && status !== 'paused' && !(status === 'created' && isLive(rec))) {
    // Ended: what its launcher left was for the sweep, which leaves alone what it may not touch.
    await removeLeftCgroups(rec.cgroups ?? [], async () => host);
    removeContainerState(root, rec.id, rec.layerStorage);
    return;
  }
  if (!force) throw new HuskError('invalid-value', `cannot remove container ${rec.name ?? rec.id.slice(0, 12)}: it is running`, { hint: 'Stop it first, or use husk rm -f.' });
  await killAndReap(host, rec);
  const present = (rec.cgroups ?? []).filter((dir) => existsSync(dir));
  if (present.length > 0) {
    const left = await removeCgroups(host.hierarchies, present);
    if (left.length > 0) throw new HuskError('launcher', `cannot remove the cgroups of container ${rec.name ?? rec.id.slice(0, 12)}: ${left.join(', ')} still busy`);
  }
  removeContainerState(root, rec.id, rec.layerStorage);
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
