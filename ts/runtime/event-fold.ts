// The one fold from launcher events to how a launch ended, used by every path that reads
// events: the foreground run (launcher.ts), `run -d` (detach.ts), the warm server (server.ts)
// and a detached container's status file (records.ts). What the outcome means for an exit
// status is outcome.ts's and exit-status.ts's business, not this file's.
// The server calls foldEvent once per event: it allocates nothing beyond what the event
// itself carries (the exit pair, a cgroup file's entry).
import { NO_OP_INDEX } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import { STATUS_HUSK_FAILED } from './exit-status.js';
import type { ContainerExit } from './exit-status.js';

export interface LaunchOutcome {
  /** How the container ended, or how the launcher failed. */
  exit: ContainerExit;
  /** The first ERROR event (the one that stopped the plan). */
  error?: Extract<LauncherEvent, { kind: 'error' }>;
  pid?: number;
  /** PID_FORK's child, the container's pid 1, whose parent is `pid` (husk's init). */
  innerPid?: number;
  opTimes: Extract<LauncherEvent, { kind: 'op-time' }>[];
  /** CGROUP_FILE events: the container's cgroup files read after it ended (OOM evidence). */
  cgroupFiles: { path: string; content: string }[];
  /** hrtime (ns) when the launcher was spawned, for --trace. */
  spawnedAt: bigint;
}

/** An outcome before any event: a failure until an EXIT says otherwise. */
export function newOutcome(spawnedAt: bigint = process.hrtime.bigint()): LaunchOutcome {
  return { exit: { how: 'failed', value: STATUS_HUSK_FAILED }, opTimes: [], cgroupFiles: [], spawnedAt };
}

/** Folds one event into `o`; true at EXIT (the last event of a launch). */
export function foldEvent(o: LaunchOutcome, ev: LauncherEvent): boolean {
  switch (ev.kind) {
    case 'pid':
      o.pid = ev.pid;
      return false;
    case 'inner-pid':
      o.innerPid = ev.pid;
      return false;
    case 'op-time':
      o.opTimes.push(ev);
      return false;
    case 'error':
      o.error ??= ev;
      return false;
    case 'cgroup-file':
      o.cgroupFiles.push({ path: ev.path, content: ev.content });
      return false;
    case 'exit':
      o.exit = { how: ev.how, value: ev.value };
      return true;
    default:
      return false;
  }
}

/** Folds a whole list (a file read at once); true when it held an EXIT. */
export function foldEvents(o: LaunchOutcome, events: readonly LauncherEvent[]): boolean {
  let exited = false;
  for (const ev of events) if (foldEvent(o, ev)) exited = true;
  return exited;
}

/**
 * The launcher is gone (or cannot be trusted) without an EXIT for this launch: the outcome
 * is a failure, and says why unless an ERROR already did.
 */
export function lostLauncher(o: LaunchOutcome, why: string, launcherStatus: number = STATUS_HUSK_FAILED): void {
  o.exit = { how: 'failed', value: launcherStatus };
  o.error ??= { kind: 'error', index: NO_OP_INDEX, code: 0, errno: 0, message: why };
}
