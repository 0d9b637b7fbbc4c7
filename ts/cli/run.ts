// husk run: one container in the foreground; its exit status becomes husk's.
import type { GlobalFlags, RunFlags } from './args.js';
import { HuskError } from '../errors.js';
import { launch } from '../runtime/launcher.js';
import { prepare } from '../runtime/container.js';
import { statusOf } from '../runtime/outcome.js';
import { ensureRoot, liveRecords, processStart, removeRecord, writeRecord } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function runCommand(global: GlobalFlags, flags: RunFlags): Promise<number> {
  const started = process.hrtime.bigint();
  try {
    ensureRoot(global.root);
  } catch (err) {
    throw new HuskError('invalid-value', `cannot use state directory ${global.root}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
  }
  // Only --userns auto needs to see other containers (to pick a free id range).
  const used = flags.userns.mode === 'auto' ? liveRecords(global.root).flatMap((r) => (r.userns ? [r.userns] : [])) : [];
  const prepared = prepare(flags, { root: global.root, usedRanges: used, dieWithParent: true });
  let record: ContainerRecord | undefined;
  if (prepared.userns) {
    record = { id: prepared.id, created: new Date().toISOString(), userns: prepared.userns };
    writeRecord(global.root, record);
  }
  try {
    const outcome = await launch(prepared.plan, {
      forwardSignals: FORWARDED,
      onSpawn: (pid) => {
        if (!record) return;
        record.launcherPid = pid;
        record.launcherStart = processStart(pid);
        writeRecord(global.root, record);
      },
    });
    if (flags.trace) {
      const { formatTrace } = await import('../runtime/trace.js');
      process.stderr.write(formatTrace(prepared.plan, outcome, started));
    }
    return statusOf(outcome, flags.argv[0]);
  } finally {
    if (record) removeRecord(global.root, record.id);
  }
}
