// husk wait CONTAINER...: blocks until each container has ended, then prints its exit code
// (docker's). It waits on the container's launcher, checked by pid and start time, and
// takes no lock while it waits: stop, kill and rm go on meanwhile.
import type { StartStopCommand } from './args-lifecycle.js';
import { HuskError } from '../errors.js';
import { eachContainer } from './each-container.js';
import { exitCode, finishDead, readStatusFile, statusFilePath } from '../runtime/records.js';
import { withContainerLock } from '../runtime/lock.js';
import { launcherEnded } from '../runtime/stop.js';
import { readRecord } from '../runtime/state.js';

export async function waitCommand(cmd: Extract<StartStopCommand, { name: 'wait' }>): Promise<number> {
  return eachContainer(
    cmd.global.root,
    cmd.targets,
    async (rec, t) => {
      while (!(await launcherEnded(rec, 60_000))) {
        // still running: wait on
      }
      if (rec.neverStarted) throw new HuskError('invalid-value', `container ${t.ref} has not been started`);
      const ended = readStatusFile(statusFilePath(t.root, rec.id));
      if (rec.finished === undefined) {
        await withContainerLock(t.root, rec.id, async () => {
          const now = readRecord(t.root, rec.id);
          if (now && now.finished === undefined) await finishDead(t.root, now, async () => t.host);
        });
      }
      return String(exitCode(rec.exit ?? ended?.exit));
    },
    { locked: false },
  );
}
