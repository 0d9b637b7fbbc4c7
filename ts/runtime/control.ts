// Acting on a container that exists — freeze, thaw, kill, remove its cgroups, signal its
// process — through a control plan (docs/protocol.md "Control plans"): the core decides the
// ops (ts/core/control.ts), a one-shot launcher runs them, and this file folds the launcher's
// events into a result. No file under ts/ writes a cgroup file or signals a container's
// process by pid itself.
import { HuskError } from '../errors.js';
import { controlPlan } from '../core/control.js';
import type { ControlHierarchy, ControlRequest } from '../core/control.js';
import type { LauncherEvent } from '../protocol/events.js';
import { constants } from 'node:os';
import { OP_BY_CODE, OP_BY_NAME } from '../protocol/ops.js';
import { launch } from './launcher.js';
import { errnoName, errnoText } from './outcome.js';

const { ESRCH } = constants.errno;
const SIGNAL_PROCESS = OP_BY_NAME.get('SIGNAL_PROCESS')!.code;
const CGROUP_REMOVE = OP_BY_NAME.get('CGROUP_REMOVE')!.code;

type ErrorEvent = Extract<LauncherEvent, { kind: 'error' }>;

export interface ControlResult {
  /** Ops that failed, each as the launcher reported it (a gone process is not among them). */
  failed: ErrorEvent[];
  /** SIGNAL_PROCESS found no such process: it ended, or its pid now names another one. */
  gone: boolean;
  /** The launcher ran no plan: the core said there was nothing to do. */
  nothing: boolean;
}

/**
 * Runs the control plan for `req`; resolves with what failed. Throws a HuskError when the core
 * refuses the request (e.g. a directory outside the cgroup mounts) or the launcher cannot run.
 */
export async function runControl(req: ControlRequest): Promise<ControlResult> {
  const plan = controlPlan(req);
  const result: ControlResult = { failed: [], gone: false, nothing: plan === undefined };
  if (plan === undefined) return result;
  const outcome = await launch(plan, {
    stdio: 'ignore',
    onEvent: (ev) => {
      if (ev.kind !== 'error') return;
      if (ev.code === SIGNAL_PROCESS && ev.errno === ESRCH) result.gone = true;
      else result.failed.push(ev);
    },
  });
  // A launcher that ended without its EXIT (killed, crashed) failed as a whole.
  if (outcome.exit.how === 'failed' && result.failed.length === 0 && outcome.error?.index === -1) result.failed.push(outcome.error);
  return result;
}

/** `kill cgroup /sys/…: EBUSY (device or resource busy)`: what one failed op did. */
export function describeFailure(ev: ErrorEvent): string {
  const op = ev.index >= 0 ? '' : `${OP_BY_CODE.get(ev.code)?.name.toLowerCase() ?? 'launcher'}: `;
  const why = ev.errno ? `: ${errnoName(ev.errno)} (${errnoText(ev.errno).toLowerCase()})` : '';
  return `${op}${ev.message}${why}`;
}

/**
 * Runs a one-shot plan (pins, a network's bridge) and throws a HuskError of `code` naming
 * every op that failed, or the launcher's status when it said nothing.
 */
export async function runPlanOrThrow(plan: Uint8Array, what: string, code: 'launcher' | 'host'): Promise<void> {
  const failures: string[] = [];
  const outcome = await launch(plan, {
    stdio: 'ignore',
    onEvent: (ev) => {
      if (ev.kind === 'error') failures.push(describeFailure(ev));
    },
  });
  if (failures.length > 0 || outcome.exit.how !== 'exited' || outcome.exit.value !== 0) {
    throw new HuskError(code, `${what}: ${failures.join('; ') || `the launcher ended with status ${outcome.exit.value}`}`);
  }
}

/** A HuskError saying what `what` could not do, or nothing when every op succeeded. */
function throwIfFailed(what: string, result: ControlResult): void {
  if (result.failed.length === 0) return;
  throw new HuskError('launcher', `cannot ${what}: ${result.failed.map(describeFailure).join('; ')}`);
}

/** Freezes (or thaws) every process of a container; returns once the kernel says so. */
export async function freezeCgroups(hierarchies: readonly ControlHierarchy[], dirs: readonly string[], frozen: boolean, what?: string): Promise<void> {
  const result = await runControl({ action: frozen ? 'freeze' : 'thaw', hierarchies, dirs });
  throwIfFailed(what ?? (frozen ? 'freeze the container' : 'thaw the container'), result);
}

/**
 * Kills every process of a container: through its cgroups (thawed first), or with no cgroup
 * through its process, checked by start time. Resolves once its cgroups list no process.
 */
export async function killContainer(hierarchies: readonly ControlHierarchy[], dirs: readonly string[], process?: ControlRequest['process']): Promise<void> {
  const result = await runControl({ action: 'kill', hierarchies, dirs, process });
  throwIfFailed('kill the container', result);
}

/** Removes a container's cgroup directories (thaw, kill, children on EBUSY); returns those left. */
export async function removeCgroups(hierarchies: readonly ControlHierarchy[], dirs: readonly string[]): Promise<string[]> {
  if (dirs.length === 0) return [];
  const result = await runControl({ action: 'remove', hierarchies, dirs });
  const left = result.failed.filter((ev) => ev.code === CGROUP_REMOVE).map((ev) => ev.message.replace(/^remove cgroup /, ''));
  const other = result.failed.filter((ev) => ev.code !== CGROUP_REMOVE);
  if (other.length > 0) throw new HuskError('launcher', `cannot remove the container's cgroups: ${other.map(describeFailure).join('; ')}`);
  return left;
}

/**
 * Sends `signal` to a process only if it is still the one that started at `startTime`
 * (/proc/PID/stat field 22). 'gone' when it ended or its pid now names another process.
 */
export async function signalProcess(pid: number, startTime: string, signal: number | string): Promise<'signalled' | 'gone'> {
  const result = await runControl({ action: 'signal', hierarchies: [], dirs: [], process: { pid, startTime }, signal });
  throwIfFailed(`signal process ${pid}`, result);
  return result.gone ? 'gone' : 'signalled';
}
