// husk pause / unpause: freeze every process of a container (v1 freezer.state, v2
// cgroup.freeze), and thaw it; each returns once the kernel reports the new state. The
// freeze is a control plan (runtime/control.ts): the core picks the directory, the
// launcher writes it and waits.
import type { LifecycleCommand } from './args-lifecycle.js';
import { HuskError, escapeControls, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, requireRunning, statusOfRecord, sweep } from '../runtime/records.js';
import { freezeCgroups } from '../runtime/control.js';

export async function pauseCommand(cmd: Extract<LifecycleCommand, { name: 'pause' | 'unpause' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  const host = await cgroupHost();
  let status = 0;
  for (const ref of cmd.targets) {
    try {
      const rec = findContainer(records, ref);
      requireRunning(rec, host, cmd.name);
      const label = rec.name ?? rec.id.slice(0, 12);
      const paused = statusOfRecord(rec, host) === 'paused';
      if (cmd.name === 'pause' && paused) throw new HuskError('invalid-value', `container ${label} is already paused`);
      if (cmd.name === 'unpause' && !paused) throw new HuskError('invalid-value', `container ${label} is not paused`);
      await freezeCgroups(host.hierarchies, rec.cgroups ?? [], cmd.name === 'pause', `${cmd.name} container ${label}`);
      process.stdout.write(`${escapeControls(ref)}\n`); // the name as typed, on one line
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  return status;
}
