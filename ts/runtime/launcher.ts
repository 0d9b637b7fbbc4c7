// Spawns husk-launcher with the plan on fd 3 and reads its events from fd 4.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EventStream } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import { HuskError } from '../errors.js';
import { launcherPath } from './paths.js';

export interface LaunchOutcome {
  /** How the container ended, or how the launcher failed. */
  exit: { how: 'exited' | 'signaled' | 'failed'; value: number };
  error?: Extract<LauncherEvent, { kind: 'error' }>;
  pid?: number;
  opTimes: Extract<LauncherEvent, { kind: 'op-time' }>[];
  /** CGROUP_FILE events: the container's cgroup files read after it ended (OOM evidence). */
  cgroupFiles: { path: string; content: string }[];
  /** hrtime (ns) when the launcher was spawned, for --trace. */
  spawnedAt: bigint;
}

export interface LaunchOptions {
  stdio?: [StdioOptions extends (infer T)[] ? T : never, any, any] | 'inherit' | 'ignore';
  /** Called with the launcher's pid as soon as it exists and has its plan. */
  onSpawn?: (launcherPid: number) => void;
  onEvent?: (ev: LauncherEvent) => void;
  /** Signals to forward to the launcher (which forwards them to the container). */
  forwardSignals?: NodeJS.Signals[];
}

export function launch(plan: Uint8Array, opts: LaunchOptions = {}): Promise<LaunchOutcome> {
  const base = opts.stdio === undefined || opts.stdio === 'inherit' ? ['inherit', 'inherit', 'inherit'] : opts.stdio === 'ignore' ? ['ignore', 'ignore', 'ignore'] : opts.stdio;
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], {
    stdio: [...base, 'pipe', 'pipe'] as StdioOptions,
  });
  const planPipe = child.stdio[3] as Writable;
  const eventPipe = child.stdio[4] as Readable;
  const outcome: LaunchOutcome = { exit: { how: 'failed', value: 125 }, opTimes: [], cgroupFiles: [], spawnedAt };
  let exitEvent: LauncherEvent | undefined;
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
      reject(new HuskError('internal', `cannot start the launcher ${launcherPath()}: ${code ?? err.message}`, { hint: code === 'ENOENT' ? 'Run `npm install` to build it.' : undefined, cause: err }));
    });
    planPipe.on('error', () => undefined); // the launcher may exit before reading all of a bad plan
    // The plan first, so the launcher works on it while onSpawn writes its record.
    planPipe.end(plan);
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
        if (ev.kind === 'pid') outcome.pid = ev.pid;
        else if (ev.kind === 'op-time') outcome.opTimes.push(ev);
        else if (ev.kind === 'error' && outcome.error === undefined) outcome.error = ev;
        else if (ev.kind === 'exit') exitEvent = ev;
        else if (ev.kind === 'cgroup-file') outcome.cgroupFiles.push({ path: ev.path, content: ev.content });
      }
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let eventsDone = false;
    const finish = () => {
      if (!exited || !eventsDone) return;
      unforward();
      if (protocolError) {
        reject(new HuskError('internal', `bad event from the launcher: ${protocolError.message}`));
        return;
      }
      if (exitEvent && exitEvent.kind === 'exit') outcome.exit = { how: exitEvent.how, value: exitEvent.value };
      else if (exited.signal) outcome.exit = { how: 'failed', value: 125 };
      else outcome.exit = { how: 'failed', value: exited.code ?? 125 };
      if (!exitEvent && !outcome.error) {
        const why = exited.signal ? `was killed by ${exited.signal}` : `exited with status ${exited.code} without reporting`;
        outcome.error = { kind: 'error', index: -1, code: 0, errno: 0, message: `the launcher ${why}` };
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
