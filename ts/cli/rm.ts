// husk rm [-f]: remove a container's state; -f kills a running one first (through its
// cgroup: every process, not only the first), waits for its launcher to finish, and removes
// what is left.
import type { LifecycleCommand } from './args-lifecycle.js';
import { HuskError, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, removeContainerState, statusOfRecord, sweep } from '../runtime/containers.js';
import { isLive } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function removeOne(root: string, rec: ContainerRecord, force: boolean): Promise<void> {
  const host = await cgroupHost();
  if (statusOfRecord(rec, host) !== 'exited') {
    if (!force) throw new HuskError('invalid-value', `cannot remove container ${rec.name ?? rec.id.slice(0, 12)}: it is running`, { hint: 'Stop it first, or use husk rm -f.' });
    if (rec.cgroups?.length) await host.kill(host.dirsOf(rec.cgroups));
    else if (rec.pid !== undefined) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    // The launcher reaps it, removes its cgroups and writes its status file.
    for (let i = 0; i < 500 && isLive(rec); i++) await sleep(10);
    if (isLive(rec) && rec.launcherPid !== undefined) {
      try {
        process.kill(rec.launcherPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  if (rec.cgroups?.length) await host.remove(host.dirsOf(rec.cgroups));
  removeContainerState(root, rec.id);
}

export async function rmCommand(cmd: Extract<LifecycleCommand, { name: 'rm' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  let status = 0;
  for (const ref of cmd.targets) {
    try {
      const rec = findContainer(records, ref);
      await removeOne(cmd.global.root, rec, cmd.force);
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  return status;
}
