// husk start [-a] CONTAINER...: runs a Created container, or an exited one again with its
// writable layer (runtime/start.ts); a running one is left as it is. -a stays attached:
// the container's output from this start on, and its exit status as husk's.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { StartStopCommand } from './args-lifecycle.js';
import { HuskError } from '../errors.js';
import { eachContainer, label } from './each-container.js';
import { statusOf } from '../runtime/outcome.js';
import { exitCode, logPath, readStatusFile, statusFilePath, sweep } from '../runtime/records.js';
import { startSaved } from '../runtime/start.js';
import { launcherEnded, processOf } from '../runtime/stop.js';
import { signalProcess } from '../runtime/control.js';
import { withContainerLock } from '../runtime/lock.js';
import { isLive, readRecord } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';
import { cgroupHost } from '../cgroup/host.js';
import { CriLogReader } from '../runtime/cri-log.js';
import type { LogMessage } from '../runtime/cri-log.js';

/** Starts `rec` (held under its lock) unless it runs; throws as `run -d` does when it cannot. */
export async function startTarget(root: string, rec: ContainerRecord, ref: string): Promise<void> {
  if (isLive(rec)) return; // running (or being started): docker's start does nothing either
  if (rec.autoRemove && !rec.neverStarted) throw new HuskError('invalid-value', `cannot start container ${label(rec)}: it was run with --rm`);
  const start = await startSaved(root, rec);
  // It could not run its command: the record keeps the exit (ps: Exited (127)), the error reads as run's.
  if (start.ended?.error) statusOf(start.ended, rec.argv?.[0] ?? ref);
}

export async function startCommand(cmd: Extract<StartStopCommand, { name: 'start' }>): Promise<number> {
  if (!cmd.attach) return eachContainer(cmd.global.root, cmd.targets, (rec, t) => startTarget(t.root, rec, t.ref));
  return startAttached(cmd.global.root, cmd.targets[0], cmd.sigProxy);
}

/** The signals `start -a` passes on (docker's --sig-proxy); SIGWINCH has no pty to resize here. */
const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/**
 * While attached, a signal husk receives goes to the container process as `husk kill` sends
 * it: a control plan, through a pidfd checked against the recorded start time. Signals are
 * sent one at a time, in the order received. Returns the function that stops proxying.
 */
function proxySignals(rec: ContainerRecord): () => void {
  let queue = Promise.resolve();
  const handlers = PROXIED.map((sig) => {
    const handler = () => {
      const target = processOf(rec);
      if (target === undefined) return;
      queue = queue.then(() => signalProcess(target.pid, target.startTime, sig)).then(() => undefined, () => undefined);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

/** start -a: the log from here on, printed until the container ends; its exit status. */
async function startAttached(root: string, ref: string, sigProxy: boolean): Promise<number> {
  const { findContainer } = await import('../runtime/records.js');
  const seen = findContainer(await sweep(root, cgroupHost), ref);
  const log = logPath(root, seen.id);
  const reader = new CriLogReader();
  let offset = sizeOf(log);
  const rec = await withContainerLock(root, seen.id, async () => {
    const now = readRecord(root, seen.id);
    if (now === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
    await startTarget(root, now, ref);
    return now;
  });
  const stopProxy = sigProxy ? proxySignals(rec) : () => undefined;
  try {
    while (!(await launcherEnded(rec, 50))) offset = copyOut(log, offset, reader);
  } finally {
    stopProxy();
  }
  copyOut(log, offset, reader);
  print(reader.end());
  // The launcher's last words, read before the record is settled (a --rm one goes then).
  const ended = readStatusFile(statusFilePath(root, rec.id));
  await sweep(root, cgroupHost);
  return exitCode(ended?.exit);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function print(messages: LogMessage[]): void {
  for (const m of messages) (m.stream === 'stderr' ? process.stderr : process.stdout).write(m.text);
}

/** Prints what the log (CRI lines, runtime/cri-log.ts) gained since `offset`; returns the new offset. */
function copyOut(path: string, offset: number, reader: CriLogReader): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return offset;
  }
  try {
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) return offset;
      print(reader.push(buf.subarray(0, n)));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}
