// Runs one plan for husk-runc: the launcher gets husk-runc's own stdio (the engine's pipes or
// terminal become the container's, as with runc), the plan on fd 3, events back on fd 4.
// Resolves once the launcher has exited and its event pipe is closed (for `create`, the
// container then waits on its exec FIFO, no longer the launcher's child).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EventStream } from '../protocol/events.js';
import { FrameWriter } from '../protocol/frames.js';
import { CONTROL } from '../protocol/ops.js';
import type { LauncherEvent } from '../protocol/events.js';
import { launcherPath } from '../runtime/paths.js';

export interface RuncLaunch {
  pid?: number;
  ready: boolean;
  detached: boolean;
  error?: Extract<LauncherEvent, { kind: 'error' }>;
  exit?: Extract<LauncherEvent, { kind: 'exit' }>;
  /** The launcher's own exit status, or 128+signal. */
  status: number;
}

export interface RuncLaunchOptions {
  onPid?: (pid: number) => void;
  forward?: boolean;
  trace?: (ev: LauncherEvent) => void;
  /** `--preserve-fds N`: husk-runc's fds 3 to 3+N-1 go to the launcher at the same numbers
   *  (the plan and the events move above them), and the plan's PRESERVE_FDS keeps them. */
  preserveFds?: number;
  /** The plan has HOOK_SYNC: at its READY (the container set up, before pivot_root) this runs
   *  the runtime's hooks; true sends START (the plan goes on), false cancels the container. */
  onSync?: () => boolean;
}

export function runPlan(plan: Uint8Array, opts: RuncLaunchOptions = {}): Promise<RuncLaunch> {
  const kept = opts.preserveFds ?? 0;
  const preserved = Array.from({ length: kept }, (_, i) => 3 + i);
  const planFd = 3 + kept;
  const stdio = ['inherit', 'inherit', 'inherit', ...preserved, 'pipe', 'pipe'] as StdioOptions;
  const child = spawn(launcherPath(), ['--plan-fd', String(planFd), '--event-fd', String(planFd + 1)], { stdio });
  const out: RuncLaunch = { ready: false, detached: false, status: 0 };
  const stream = new EventStream();
  const signals: NodeJS.Signals[] = opts.forward ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] : [];
  const handlers = signals.map((s) => [s, () => child.kill(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve, reject) => {
    let exited = false;
    let drained = false;
    const done = () => {
      if (!exited || !drained) return;
      for (const [s, h] of handlers) process.off(s, h);
      // The plan's socket: a waiting container still holds its other end (until EXEC), which
      // would keep this process alive.
      (child.stdio[planFd] as Writable).destroy();
      resolve(out);
    };
    child.once('error', reject);
    const planStream = child.stdio[planFd] as Writable;
    planStream.on('error', () => undefined);
    // With HOOK_SYNC the plan fd stays open for START (docs/protocol.md "Hooks in the container").
    let syncing = opts.onSync !== undefined;
    if (syncing) planStream.write(plan);
    else planStream.end(plan);
    const events = child.stdio[planFd + 1] as Readable;
    events.on('data', (chunk: Buffer) => {
      for (const ev of stream.push(chunk)) {
        opts.trace?.(ev);
        if (ev.kind === 'ready' && syncing) {
          syncing = false;
          if (opts.onSync!()) planStream.end(new FrameWriter().frame(CONTROL.START));
          else planStream.end();
          continue;
        }
        // INNER_PID: in a user namespace joined by path with a new pid namespace, the
        // container's process is the child PID_FORK made (CLONE's process is its init).
        if (ev.kind === 'pid' || ev.kind === 'inner-pid') {
          out.pid = ev.pid;
          opts.onPid?.(ev.pid);
        } else if (ev.kind === 'ready') out.ready = true;
        else if (ev.kind === 'detached') out.detached = true;
        else if (ev.kind === 'error' && out.error === undefined) out.error = ev;
        else if (ev.kind === 'exit') out.exit = ev;
      }
    });
    events.on('close', () => {
      drained = true;
      done();
    });
    child.on('exit', (code, signal) => {
      out.status = code ?? 128 + (signal ? signalNumber(signal) : 0);
      exited = true;
      done();
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
