// Containers by their records: find one by id or name, tell its status, and sweep what a
// crash left. A record whose launcher is gone is either an exited `run -d` container (kept,
// with its exit status and OOM evidence read from the launcher's status file, until
// `husk rm`) or a leftover of a crash (its cgroups are thawed, killed and removed, and the
// record goes). Either way, no cgroup directory outlives its launcher past the next husk
// command.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { cgroupEvidence } from '../cgroup/evidence.js';
import type { CgroupFile } from '../cgroup/evidence.js';
import type { CgroupHost } from '../cgroup/host.js';
import { CoreError } from '../core/build-plan.js';
import { decodeEvent } from '../protocol/events.js';
import { readFrameAt } from '../protocol/frames.js';
import { removeCgroups } from './control.js';
import { removeKeptLayer } from './kept-layer.js';
import { callerUid } from './paths.js';
import { foldEvent, newOutcome } from './event-fold.js';
import { STATUS_LOST, recordExitCode } from './exit-status.js';
import { beingCreated, containerPid, containersDir, isDeadTemp, isLive, needsSweep, processStart, readRecord, removeRecord, writeRecord } from './state.js';
import { outcomeOf } from './detach.js';
import { isDeadLock, removeDeadLock, tryContainerLock } from './lock.js';
import type { ContainerRecord } from './state.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited';

/** A container's own directory under the root: status file, event log, output log. */
export function stateDir(root: string, id: string): string {
  return join(containersDir(root), id);
}

export function statusFilePath(root: string, id: string): string {
  return join(stateDir(root, id), 'status');
}

export function eventsPath(root: string, id: string): string {
  return join(stateDir(root, id), 'events');
}

/** The monitor's attach socket (docs/protocol.md "The attach socket"). */
export function attachPath(root: string, id: string): string {
  return join(stateDir(root, id), 'attach');
}

export function logPath(root: string, id: string): string {
  return join(stateDir(root, id), 'log');
}

/**
 * Every record as stored, unjudged. A non-root caller reads only records it wrote (owned by
 * its uid): another user's, in a state directory both can reach, are neither shown nor swept.
 */
export function readRecords(root: string): ContainerRecord[] {
  const uid = callerUid();
  let names: string[];
  try {
    names = readdirSync(containersDir(root));
  } catch {
    return [];
  }
  const out: ContainerRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(containersDir(root), name);
    try {
      if (uid !== 0 && statSync(path).uid !== uid) continue;
      const text = readFileSync(path, 'utf8');
      // All a crash of the machine can leave of a record written without fsync (a foreground
      // run's, state.ts writeRecord), whose launcher and cgroups the crash ended too.
      if (text === '') {
        rmSync(path, { force: true });
        continue;
      }
      out.push(JSON.parse(text) as ContainerRecord);
    } catch {
      // half-written records are never renamed into place; an unreadable one is not ours
    }
  }
  return out;
}

/** The launcher's last words: CGROUP_FILE events and EXIT (docs/protocol.md "The status file"). */
export function readStatusFile(path: string): { cgroupFiles: CgroupFile[]; exit?: ContainerRecord['exit']; mtime: Date } | undefined {
  let bytes: Buffer;
  let mtime: Date;
  try {
    bytes = readFileSync(path);
    mtime = statSync(path).mtime;
  } catch {
    return undefined;
  }
  const outcome = newOutcome(0n);
  let exited = false;
  let at = 0;
  try {
    for (;;) {
      const f = readFrameAt(bytes, at);
      if (f === null) break;
      at = f.next;
      if (foldEvent(outcome, decodeEvent(f.frame.type, f.frame.payload))) exited = true;
    }
  } catch {
    // a torn file cannot happen (temp + rename); a foreign one says nothing more
  }
  return { cgroupFiles: outcome.cgroupFiles, exit: exited ? outcome.exit : undefined, mtime };
}

/** The exit code an ended container's record shows (runtime/exit-status.ts decides). */
export function exitCode(exit: ContainerRecord['exit']): number {
  return recordExitCode(true, exit);
}

/** Fills an ended container's exit, OOM evidence and end time from its status file. */
export function finishRecord(root: string, rec: ContainerRecord): void {
  const status = readStatusFile(statusFilePath(root, rec.id));
  rec.finished = (status?.mtime ?? new Date()).toISOString();
  if (status?.exit) {
    rec.exit = status.exit;
    const ev = cgroupEvidence(status.cgroupFiles);
    rec.oomKilled = ev.oomKills > 0;
    if (ev.memoryLimit !== undefined) rec.memoryLimit = ev.memoryLimit;
  } else {
    rec.exit = { how: 'failed', value: STATUS_LOST };
    // The container died with it (PR_SET_PDEATHSIG, HELLO dies_with_monitor): nothing runs unwatched.
    rec.error = 'the launcher ended without leaving its status (killed or crashed); the container was killed with its monitor';
  }
}

export function removeContainerState(root: string, id: string, layerStorage?: string): void {
  removeRecord(root, id);
  rmSync(stateDir(root, id), { recursive: true, force: true });
  removeKeptLayer(root, id);
  // A store image's writable layer (husk run IMAGE: <storage>/containers/<id>), after the
  // record: a crash between the two leaves a layer `image prune` finds, never a record without it.
  if (layerStorage !== undefined) rmSync(join(layerStorage, 'containers', id), { recursive: true, force: true });
}

/**
 * Looks at every record: live ones are kept; for one whose launcher is gone, its cgroups are
 * removed (a crash), an exited -d container is finished from its status file and kept (or
 * removed with --rm), and anything else is removed. Returns the records that remain.
 *
 * A record is judged under its container's lock (runtime/lock.ts), read again once held: a
 * command acting on it right now (rm, start) is left to it, and a record it removed is never
 * written back. Lock and temp files of husk commands that died are removed on the way.
 */
export async function sweep(root: string, host: () => Promise<CgroupHost>): Promise<ContainerRecord[]> {
  const out: ContainerRecord[] = [];
  for (const seen of readRecords(root)) {
    if (orphanedStart(seen)) {
      const adopted = await tryContainerLock(root, seen.id, () => adoptStarted(root, seen.id));
      if (adopted === undefined) out.push(seen);
      else if (adopted.value !== undefined) out.push(adopted.value);
      continue;
    }
    if (isLive(seen) || beingCreated(seen)) {
      out.push(seen); // running, or being created by another husk right now
      continue;
    }
    const judged = await tryContainerLock(root, seen.id, () => judgeAgain(root, seen.id, host));
    if (judged === undefined) out.push(seen); // another command is acting on it
    else if (judged.value !== undefined) out.push(judged.value);
  }
  removeLeftovers(root);
  return out;
}

/**
 * A detached container whose launcher runs while the record lacks its pid and the husk that
 * started it is gone: killed after the launcher ran the plan and before it wrote the pid
 * (start.ts). Its monitor runs it as any other; only the record does not know yet.
 */
function orphanedStart(rec: ContainerRecord): boolean {
  if (rec.detached !== true || rec.pid !== undefined || !isLive(rec)) return false;
  return rec.ownerPid === undefined || processStart(rec.ownerPid) !== rec.ownerStart;
}

/**
 * Adopts such a start, under the container's lock: the pid from the launcher's events file
 * (checked to be its child, so a reused pid is not taken), the start time from the file's
 * last write (the EXEC that came just before execve). Before CLONE there is no pid yet: the
 * record stays as it is, and a later command adopts it.
 */
function adoptStarted(root: string, id: string): ContainerRecord | undefined {
  const rec = readRecord(root, id);
  if (rec === undefined || !orphanedStart(rec)) return rec;
  let outcome;
  try {
    outcome = outcomeOf(eventsPath(root, id)).outcome;
  } catch {
    return rec; // a torn or foreign events file: left as it is
  }
  const container = containerPid(outcome, rec.launcherPid);
  if (container === undefined) return rec;
  rec.pid = container.pid;
  rec.pidStart = container.pidStart;
  try {
    rec.started = statSync(eventsPath(root, id)).mtime.toISOString();
  } catch {
    rec.started = new Date().toISOString();
  }
  delete rec.neverStarted;
  writeRecord(root, rec);
  return rec;
}

/** The record as it is now, under its lock: removed meanwhile, started again, or dead. */
async function judgeAgain(root: string, id: string, host: () => Promise<CgroupHost>): Promise<ContainerRecord | undefined> {
  const rec = readRecord(root, id);
  if (rec === undefined) return undefined;
  if (isLive(rec) || beingCreated(rec)) return rec;
  return finishDead(root, rec, host);
}

/** A record whose launcher is gone, held under its lock: finished and kept, or removed. */
export async function finishDead(root: string, rec: ContainerRecord, host: () => Promise<CgroupHost>): Promise<ContainerRecord | undefined> {
  if (!needsSweep(rec)) {
    // A foreground record of a crash (userns only): liveRecords' rule, applied here too.
    removeRecord(root, rec.id);
    return undefined;
  }
  if (rec.neverStarted) return rec; // `husk create`: nothing ran, nothing to finish
  if (rec.cgroups?.length) await removeLeftCgroups(rec.cgroups, host);
  if (!rec.detached) {
    removeContainerState(root, rec.id, rec.layerStorage);
    return undefined;
  }
  if (rec.finished === undefined) {
    // The cgroup directories stay named: `husk start` makes them again.
    finishRecord(root, rec);
    if (!rec.autoRemove) writeRecord(root, rec);
  }
  if (rec.autoRemove) {
    removeContainerState(root, rec.id, rec.layerStorage);
    return undefined;
  }
  return rec;
}

/** Lock and temp files whose husk died holding or writing them. */
function removeLeftovers(root: string): void {
  let names: string[];
  try {
    names = readdirSync(containersDir(root));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.endsWith('.tmp') || name.endsWith('.stale')) {
      if (isDeadTemp(name.replace(/\.stale$/, '.tmp'))) rmSync(join(containersDir(root), name), { force: true });
    } else if (isDeadLock(root, name)) removeDeadLock(root, name);
  }
}

/**
 * A crash's leftover cgroups, removed by a control plan (runtime/control.ts). What is gone
 * already costs nothing; what the core refuses (a record naming a directory outside the
 * cgroup mounts: edited, or not husk's) or what stays busy is left alone, as before: the
 * sweep never fails the command that runs it.
 */
export async function removeLeftCgroups(dirs: readonly string[], host: () => Promise<CgroupHost>): Promise<void> {
  const present = dirs.filter((dir) => existsSync(dir));
  if (present.length === 0) return;
  try {
    await removeCgroups((await host()).hierarchies, present);
  } catch (err) {
    if (!(err instanceof CoreError)) throw err;
  }
}

/** Finds a container by full id, unique id prefix, or name. */
export function findContainer(records: readonly ContainerRecord[], ref: string): ContainerRecord {
  const exact = records.find((r) => r.id === ref || r.name === ref);
  if (exact) return exact;
  const prefixed = ref.length >= 1 ? records.filter((r) => r.id.startsWith(ref)) : [];
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) throw new HuskError('usage', `multiple containers match "${ref}": give more of the id`);
  throw new HuskError('invalid-value', `no such container: ${ref}`);
}

export function statusOfRecord(rec: ContainerRecord, host?: CgroupHost): ContainerStatus {
  if (rec.neverStarted && !isLive(rec)) return 'created';
  if (rec.finished !== undefined || !isLive(rec)) return 'exited';
  if (rec.pid === undefined) return 'created';
  if (host && rec.cgroups?.length && host.isFrozen(host.dirsOf(rec.cgroups))) return 'paused';
  return 'running';
}

/** A live container, or a clear error naming why the command cannot act on it. */
export function requireRunning(rec: ContainerRecord, host: CgroupHost | undefined, what: string): void {
  const status = statusOfRecord(rec, host);
  if (status === 'exited') throw new HuskError('invalid-value', `cannot ${what} container ${rec.name ?? rec.id.slice(0, 12)}: it is not running`);
  if (!rec.cgroups?.length) throw new HuskError('invalid-value', `cannot ${what} container ${rec.name ?? rec.id.slice(0, 12)}: it has no cgroup of its own`);
}
