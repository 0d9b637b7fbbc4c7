// Spawns husk-launcher with the plan on fd 3 and reads its events from fd 4.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EventStream } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import { HuskError } from '../errors.js';
import { foldEvent, lostLauncher, newOutcome } from './event-fold.js';
import type { LaunchOutcome } from './event-fold.js';
import { launcherPath } from './paths.js';

export type { LaunchOutcome } from './event-fold.js';

export interface LaunchOptions {
  stdio?: [StdioOptions extends (infer T)[] ? T : never, any, any] | 'inherit' | 'ignore';
  /** Called with the launcher's pid as soon as it exists and has its plan. */
  onSpawn?: (launcherPid: number) => void;
  onEvent?: (ev: LauncherEvent) => void;
  /** Signals to forward to the launcher (which forwards them to the container). */
  forwardSignals?: NodeJS.Signals[];
  /**
   * The plan fd is the caller's: `launch` writes nothing on it and hands the pipe over, at
   * once, so that the caller writes the plan and what follows it (an fs plan's write stream,
   * ts/image/write-stream.ts) and ends it.
   */
  takePlanPipe?: (pipe: Writable) => void;
}

export function launch(plan: Uint8Array, opts: LaunchOptions = {}): Promise<LaunchOutcome> {
  const base = opts.stdio === undefined || opts.stdio === 'inherit' ? ['inherit', 'inherit', 'inherit'] : opts.stdio === 'ignore' ? ['ignore', 'ignore', 'ignore'] : opts.stdio;
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], {
    stdio: [...base, 'pipe', 'pipe'] as StdioOptions,
  });
  const planPipe = child.stdio[3] as Writable;
  const eventPipe = child.stdio[4] as Readable;
  const outcome = newOutcome(spawnedAt);
  let sawExit = false;
  const stream = new EventStream();
  let protocolError: Error | undefined;

  const forwarded = (opts.forwardSignals ?? []).map((sig) => {
    const handler = () => child.kill(sig);
    process.on(sig, handler);
    return [sig, handler] as const;
  });

  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      unforward();
      const code = (err as NodeJS.ErrnoException).code;
      reject(launcherSpawnError(err));
    });
    planPipe.on('error', () => undefined); // the launcher may exit before reading all of a bad plan
    // The plan first, so the launcher works on it while onSpawn writes its record.
    if (opts.takePlanPipe) opts.takePlanPipe(planPipe);
    else planPipe.end(plan);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    eventPipe.on('data', (chunk: Buffer) => {
      let events: LauncherEvent[];
      try {
        events = stream.push(chunk);
      } catch (err) {
        protocolError = err as Error;
        return;
      }
      for (const ev of events) {
        opts.onEvent?.(ev);
        if (foldEvent(outcome, ev)) sawExit = true;
      }
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let eventsDone = false;
    const finish = () => {
      if (!exited || !eventsDone) return;
      unforward();
      if (protocolError) {
        reject(badEvents(protocolError));
        return;
      }
      if (!sawExit) {
        const why = exited.signal ? `was killed by ${exited.signal}` : `exited with status ${exited.code} without reporting`;
        lostLauncher(outcome, `the launcher ${why}`, exited.signal ? undefined : (exited.code ?? undefined));
      }
      resolve(outcome);
    };
    eventPipe.on('end', () => {
      eventsDone = true;
      finish();
    });
    eventPipe.on('error', () => {
      eventsDone = true;
      finish();
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      finish();
    });
  });

  function unforward(): void {
    for (const [sig, handler] of forwarded) process.off(sig, handler);
  }
}

/** The launcher binary could not be started: missing or unusable, husk's own install. */
export function launcherSpawnError(err: Error): HuskError {
  const code = (err as NodeJS.ErrnoException).code;
  return new HuskError('install', `cannot start the launcher ${launcherPath()}: ${code ?? err.message}`, {
    hint: code === 'ENOENT' ? 'Run `npm install` to build it.' : undefined,
    cause: err,
  });
}

/** The launcher's events could not be read: it speaks another protocol, or its output is torn. */
export function badEvents(err: Error, who = 'the launcher'): HuskError {
  return new HuskError('protocol', `bad event from ${who}: ${err.message}`, { cause: err });
}
