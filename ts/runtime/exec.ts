// husk exec: a process in a running container — every namespace of its process (the user
// namespace first), its cgroups, its environment, user and working directory unless told
// otherwise, docker's capabilities (all of them with --privileged). ts/ gathers the facts,
// the core makes the plan (ts/core/join-plan.ts), a launcher runs it and stays as the new
// process's monitor; its exit status becomes husk's.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { ownBoundingSet } from '../host/capabilities.js';
import { release } from 'node:os';
import { HuskError } from '../errors.js';
import { callerUid } from './paths.js';
import { joinPlan } from '../core/join-plan.js';
import type { JoinRequest } from '../core/join-plan.js';
import { EventStream } from '../protocol/events.js';
import { OP_BY_NAME } from '../protocol/ops.js';
import type { CgroupHost } from '../cgroup/host.js';
import { collectEnv } from './env.js';
import { launch } from './launcher.js';
import type { LaunchOptions, LaunchOutcome } from './launcher.js';
import { launcherSpawnError } from './launcher.js';
import { differingNamespaces } from './ns-facts.js';
import { statusOf } from './outcome.js';
import { findContainer, statusOfRecord, sweep } from './records.js';
import { processStart } from './state.js';
import type { ContainerRecord } from './state.js';
import { resolveUser } from './user.js';
import { launcherPath } from './paths.js';

const { ESRCH } = constants.errno;
const TARGET_CODE = OP_BY_NAME.get('TARGET')!.code;
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface ExecFlags {
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  env: string[];
  envFiles: string[];
  user?: string;
  workdir?: string;
  privileged: boolean;
  trace: boolean;
  container: string;
  argv: string[];
}


function nameOf(rec: ContainerRecord): string {
  return rec.name ?? rec.id.slice(0, 12);
}

/** The container's process, alive and still the one its record saw start; else a clear error. */
export function runningProcess(rec: ContainerRecord, host: CgroupHost, what: string): { pid: number; startTime: string } {
  const status = statusOfRecord(rec, host);
  if (status === 'paused') throw new HuskError('invalid-value', `container ${nameOf(rec)} is paused, unpause the container before ${what}`);
  if (status !== 'running' || rec.pid === undefined || rec.pidStart === undefined || processStart(rec.pid) !== rec.pidStart) {
    throw new HuskError('invalid-value', `container ${nameOf(rec)} is not running`, { hint: status === 'created' ? 'Start it first (husk start).' : undefined });
  }
  return { pid: rec.pid, startTime: rec.pidStart };
}

/** The request for the core: the record's facts and what was typed on top of them. */
export function execRequest(rec: ContainerRecord, target: { pid: number; startTime: string }, host: CgroupHost, f: ExecFlags): JoinRequest {
  const own = rec.process;
  return {
    mode: 'exec',
    privileged: f.privileged,
    bounding: f.privileged ? ownBoundingSet() : undefined,
    trace: f.trace,
    dieWithParent: !f.detach,
    rootless: callerUid() !== 0,
    target,
    differ: differingNamespaces(target.pid),
    hierarchies: host.hierarchies,
    cgroupDirs: rec.cgroups ?? [],
    hostname: own?.hostname,
    env: [...(own?.env ?? []), ...collectEnv(f.env, f.envFiles)],
    workdir: f.workdir ?? own?.workdir ?? '/',
    // -u NAME is looked up in the container's own /etc/passwd, through its root.
    user: f.user !== undefined ? resolveUser(f.user, `/proc/${target.pid}/root`) : own?.user,
    argv: f.argv,
    capabilities: own?.capabilities === undefined ? undefined : { ...own.capabilities, bounding: ownBoundingSet() },
    seccomp: own?.seccomp,
    kernel: release(),
  };
}

export async function execCommand(root: string, f: ExecFlags): Promise<number> {
  if (f.tty && f.detach) throw new HuskError('usage', '-t and -d cannot be combined', { hint: 'A terminal needs someone at it: use -it, or -d without -t.' });
  const { cgroupHost } = await import('../cgroup/host.js');
  const records = await sweep(root, cgroupHost);
  const rec = findContainer(records, f.container);
  const host = await cgroupHost();
  const target = runningProcess(rec, host, 'exec');
  if (f.tty) {
    const { execWithTty } = await import('./exec-tty.js');
    return execWithTty(root, rec, execRequest(rec, target, host, f), f);
  }
  const plan = joinPlan(execRequest(rec, target, host, f));
  if (f.detach) return execDetached(rec, plan);
  // Without -i the command's stdin is /dev/null, as docker's.
  const stdio = f.interactive ? 'inherit' : (['ignore', 'inherit', 'inherit'] as unknown as LaunchOptions['stdio']);
  const started = process.hrtime.bigint();
  const outcome = await launch(plan, { stdio, forwardSignals: FORWARDED });
  if (f.trace) {
    const { formatTrace } = await import('./trace.js');
    process.stderr.write(formatTrace(plan, outcome, started));
  }
  return statusOfExec(rec, outcome, f.argv[0]);
}

/** The command's status; a container that ended on the way is named as such. */
export function statusOfExec(rec: ContainerRecord, outcome: LaunchOutcome, argv0: string): number {
  const err = outcome.error;
  if (outcome.exit.how === 'failed' && err && err.code === TARGET_CODE && err.errno === ESRCH) {
    throw new HuskError('invalid-value', `container ${nameOf(rec)} is not running`);
  }
  return statusOf(outcome, argv0);
}

/**
 * exec -d: the launcher in its own session with no stdio, left to monitor the command once it
 * was executed (STARTED) or reported as failed.
 */
async function execDetached(rec: ContainerRecord, plan: Uint8Array): Promise<number> {
  const child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] as StdioOptions,
  });
  const spawned = new Promise<'ended'>((_, reject) => child.once('error', (err) => reject(launcherSpawnError(err))));
  spawned.catch(() => undefined);
  (child.stdio[3] as Writable).on('error', () => undefined);
  (child.stdio[3] as Writable).end(plan);
  const events = child.stdio[4] as Readable;
  const stream = new EventStream();
  const { foldEvent, newOutcome, lostLauncher } = await import('./event-fold.js');
  const outcome = newOutcome(process.hrtime.bigint());
  const done = await Promise.race([
    spawned,
    new Promise<'started' | 'ended'>((resolve) => {
      events.on('data', (chunk: Buffer) => {
        for (const ev of stream.push(chunk)) {
          if (foldEvent(outcome, ev)) resolve('ended');
          else if (ev.kind === 'started' && !outcome.error) resolve('started');
        }
      });
      events.on('end', () => {
        lostLauncher(outcome, 'the launcher ended without reporting');
        resolve('ended');
      });
    }),
  ]);
  // Nothing of the launcher's may keep husk waiting: its pipes closed, its handle unref'd.
  events.destroy();
  (child.stdio[3] as Writable).destroy();
  child.unref();
  if (done === 'ended' && outcome.exit.how === 'failed') return statusOfExec(rec, outcome, '');
  return 0;
}
