// run -d: the launcher in its own session (it logs the container's output itself) and its events to a
// file in the container's state directory (a file, not a pipe: nobody reads a pipe once husk
// has gone, and the file keeps the start for later). husk waits until the command has been
// executed (the plan has the trace flag: EXEC's OP_TIME comes just before execve) or the
// start failed, then leaves the launcher to monitor the container alone.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HuskError } from '../errors.js';
import { EventStream } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import { OP_BY_NAME } from '../protocol/ops.js';
import { foldEvents, lostLauncher, newOutcome } from './event-fold.js';
import type { LaunchOutcome } from './event-fold.js';
import { badEvents, launcherSpawnError } from './launcher.js';
import { launcherPath } from './paths.js';

const EXEC_CODE = OP_BY_NAME.get('EXEC')!.code;

export interface DetachedStart {
  launcherPid: number;
  /** The container process's pid, once CLONE made it. */
  pid?: number;
  /** After PID_FORK: its child, the container's pid 1. */
  innerPid?: number;
  /** Set when the container already ended (or never started): as a foreground run's outcome. */
  ended?: LaunchOutcome;
}

export async function launchDetached(plan: Uint8Array, opts: { eventsPath: string; onSpawn: (pid: number) => void; timeoutMs?: number }): Promise<DetachedStart> {
  const spawnedAt = process.hrtime.bigint();
  const events = openSync(opts.eventsPath, 'a', 0o600);
  let child;
  try {
    // The container's output goes to the log the monitor writes (the plan's LOG), not here.
    child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', events] as StdioOptions,
    });
  } finally {
    closeSync(events);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(launcherSpawnError(err))),
  );
  spawnError.catch(() => undefined);
  if (child.pid === undefined) return spawnError;
  opts.onSpawn(child.pid);
  const planPipe = child.stdio[3] as Writable;
  planPipe.on('error', () => undefined);
  planPipe.end(plan);
  let exitedEarly = false;
  child.once('exit', () => (exitedEarly = true));
  child.unref();

  const start: DetachedStart = { launcherPid: child.pid };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let execSeenAt: number | undefined;
  for (;;) {
    // The whole file each time, folded anew: what it says so far.
    const outcome = newOutcome(spawnedAt);
    const exited = foldEvents(outcome, readEvents(opts.eventsPath));
    start.pid = outcome.pid;
    start.innerPid = outcome.innerPid;
    if (exited) {
      start.ended = outcome;
      break;
    }
    const started = outcome.opTimes.some((t) => t.code === EXEC_CODE);
    if (started && !outcome.error && (execved(start.pid, child.pid) || Date.now() > (execSeenAt ??= Date.now()) + EXEC_CONFIRM_MS)) break;
    if (exitedEarly) {
      // The launcher is gone without an EXIT: read once more (its last write may be late).
      await new Promise((r) => setTimeout(r, 20));
      if (readEvents(opts.eventsPath).some((e) => e.kind === 'exit')) continue;
      lostLauncher(outcome, 'the launcher ended without reporting');
      start.ended = outcome;
      break;
    }
    if (Date.now() > deadline) throw new HuskError('launcher', `the container did not start within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  planPipe.destroy();
  return start;
}

/**
 * EXEC's op time is written just before execve, so a command that cannot be run (127, 126)
 * reports its error a moment after it: seen in between, `run -d` said "started" and exited 0
 * (a CI flake). Whether execve happened shows in /proc/PID/exe, which leaves the launcher's
 * binary. Where that cannot be told (the process is gone, /proc/PID/exe is not ours to read,
 * a process that stays the launcher's binary such as an init), the start is taken as before
 * once EXEC_CONFIRM_MS have passed.
 */
const EXEC_CONFIRM_MS = 200;

function execved(pid: number | undefined, launcherPid: number): boolean {
  if (pid === undefined) return false;
  try {
    return readlinkSync(`/proc/${pid}/exe`) !== readlinkSync(`/proc/${launcherPid}/exe`);
  } catch {
    return false;
  }
}

/** What the events file says so far, folded as a foreground run's events are. */
export function outcomeOf(eventsPath: string): { outcome: LaunchOutcome; exited: boolean } {
  const outcome = newOutcome(process.hrtime.bigint());
  const exited = foldEvents(outcome, readEvents(eventsPath));
  return { outcome, exited };
}

/** The events in the file so far (a frame cut by a write in progress waits for the next read). */
function readEvents(path: string): LauncherEvent[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return [];
  }
  try {
    return new EventStream().push(bytes);
  } catch (err) {
    throw badEvents(err as Error);
  }
}
