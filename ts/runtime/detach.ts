// run -d: the launcher in its own session, its output to a log file and its events to a
// file in the container's state directory (a file, not a pipe: nobody reads a pipe once husk
// has gone, and the file keeps the start for later). husk waits until the command has been
// executed (the plan has the trace flag: EXEC's OP_TIME comes just before execve) or the
// start failed, then leaves the launcher to monitor the container alone.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HuskError } from '../errors.js';
import { EventStream } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import type { LaunchOutcome } from './launcher.js';
import { launcherPath } from './paths.js';

const EXEC_CODE = 0x0038;

export interface DetachedStart {
  launcherPid: number;
  /** The container process's pid, once CLONE made it. */
  pid?: number;
  /** Set when the container already ended (or never started): as a foreground run's outcome. */
  ended?: LaunchOutcome;
}

export async function launchDetached(plan: Uint8Array, opts: { eventsPath: string; logPath: string; onSpawn: (pid: number) => void; timeoutMs?: number }): Promise<DetachedStart> {
  const spawnedAt = process.hrtime.bigint();
  const log = openSync(opts.logPath, 'a', 0o600);
  const events = openSync(opts.eventsPath, 'a', 0o600);
  let child;
  try {
    child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], {
      detached: true,
      stdio: ['ignore', log, log, 'pipe', events] as StdioOptions,
    });
  } finally {
    closeSync(log);
    closeSync(events);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new HuskError('internal', `cannot start the launcher ${launcherPath()}: ${(err as NodeJS.ErrnoException).code ?? err.message}`))),
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
  const outcome: LaunchOutcome = { exit: { how: 'failed', value: 125 }, opTimes: [], cgroupFiles: [], spawnedAt };
  for (;;) {
    const seen = readEvents(opts.eventsPath);
    let started = false;
    let exit: Extract<LauncherEvent, { kind: 'exit' }> | undefined;
    for (const ev of seen) {
      if (ev.kind === 'pid') start.pid = ev.pid;
      else if (ev.kind === 'op-time' && ev.code === EXEC_CODE) started = true;
      else if (ev.kind === 'error' && outcome.error === undefined) outcome.error = ev;
      else if (ev.kind === 'cgroup-file') outcome.cgroupFiles.push({ path: ev.path, content: ev.content });
      else if (ev.kind === 'exit') exit = ev;
    }
    if (exit) {
      outcome.exit = { how: exit.how, value: exit.value };
      outcome.pid = start.pid;
      start.ended = outcome;
      break;
    }
    if (started && !outcome.error) break;
    if (exitedEarly && !exit) {
      // The launcher is gone without an EXIT: read once more (its last write may be late).
      await new Promise((r) => setTimeout(r, 20));
      if (readEvents(opts.eventsPath).some((e) => e.kind === 'exit')) continue;
      outcome.error ??= { kind: 'error', index: -1, code: 0, errno: 0, message: 'the launcher ended without reporting' };
      start.ended = outcome;
      break;
    }
    if (Date.now() > deadline) throw new HuskError('launcher', `the container did not start within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  planPipe.destroy();
  return start;
}

function readEvents(path: string): LauncherEvent[] {
  try {
    return new EventStream().push(readFileSync(path));
  } catch {
    return [];
  }
}
