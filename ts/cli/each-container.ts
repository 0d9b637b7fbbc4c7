// The loop of the commands that act on each named container in turn (start, stop, restart,
// kill, wait): each target under its container's lock, with its record read again once held;
// the name as typed printed for each one done; a target that fails is reported on its own
// line and the command goes on, then exits 1 (docker's).
import { HuskError, escapeControls, reportText } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import type { CgroupHost } from '../cgroup/host.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import { withContainerLock } from '../runtime/lock.js';
import { findContainer, sweep } from '../runtime/records.js';
import { readRecord } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';

export interface Target {
  root: string;
  ref: string;
  host: CgroupHost;
}

/** Runs `act` per target; `locked: false` for a command that only looks (wait). */
export async function eachContainer(root: string, refs: readonly string[], act: (rec: ContainerRecord, t: Target) => Promise<string | void>, opts: { locked?: boolean } = {}): Promise<number> {
  const records = await sweep(root, cgroupHost);
  const host = await cgroupHost();
  let status = 0;
  for (const ref of refs) {
    try {
      const seen = findContainer(records, ref);
      const once = async () => {
        const rec = readRecord(root, seen.id);
        if (rec === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
        return act(rec, { root, ref, host });
      };
      const out = opts.locked === false ? await once() : await withContainerLock(root, seen.id, once);
      process.stdout.write(`${escapeControls(out ?? ref)}\n`);
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  return status;
}

/** "container web" (its name, else the short id), as messages name it. */
export function label(rec: ContainerRecord): string {
  return rec.name ?? rec.id.slice(0, 12);
}
