// husk wait CONTAINER...: blocks until each container has ended, then prints its exit code
// (docker's). It waits on the container's launcher, checked by pid and start time, and
// takes no lock while it waits: stop, kill and rm go on meanwhile. A Created container is
// waited for as docker's wait does: until some `husk start` has run it and it has ended
// (its record is read again until a start has made a launcher its monitor).
import type { StartStopCommand } from './args-lifecycle.js';
import { HuskError } from '../errors.js';
import { eachContainer } from './each-container.js';
import { exitCode, finishDead, readStatusFile, statusFilePath } from '../runtime/records.js';
import { withContainerLock } from '../runtime/lock.js';
import { launcherEnded } from '../runtime/stop.js';
import { isLive, readRecord } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The record once a start has run it (or its launcher, spawned by a start, is gone); throws if it is removed meanwhile. */
async function untilStarted(root: string, rec: ContainerRecord, ref: string): Promise<ContainerRecord> {
  let now = rec;
  let pause = 10;
  // A start that spawned a launcher which is gone already (it crashed, or the command ended
  // before that start wrote its record): nothing more to wait for.
  const spawnedAndGone = (r: ContainerRecord) => r.launcherPid !== undefined && !isLive(r);
  while (now.neverStarted && !spawnedAndGone(now)) {
    await sleep(pause);
    pause = Math.min(pause * 2, 100);
    const again = readRecord(root, rec.id);
    if (again === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
    now = again;
  }
  return now;
}

export async function waitCommand(cmd: Extract<StartStopCommand, { name: 'wait' }>): Promise<number> {
  return eachContainer(
    cmd.global.root,
    cmd.targets,
    async (seen, t) => {
      const rec = await untilStarted(t.root, seen, t.ref);
      while (!(await launcherEnded(rec, 60_000))) {
        // still running: wait on
      }
      const ended = readStatusFile(statusFilePath(t.root, rec.id));
      const last = readRecord(t.root, rec.id) ?? rec;
      if (last.finished === undefined) {
        await withContainerLock(t.root, rec.id, async () => {
          const now = readRecord(t.root, rec.id);
          if (now && now.finished === undefined && !now.neverStarted) await finishDead(t.root, now, async () => t.host);
        });
      }
      return String(exitCode(last.exit ?? ended?.exit));
    },
    { locked: false },
  );
}
