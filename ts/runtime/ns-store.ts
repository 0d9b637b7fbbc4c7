// Namespaces as objects: `<root>/ns/NAME/TYPE`, each a bind mount of a namespace's nsfs file
// (made and removed by the launcher: docs/protocol.md "Pinned namespaces"). This file reads
// what is there — each pin's inode (stat of a bind mount of an nsfs file gives the
// namespace's inode, as `ls -l /proc/PID/ns` shows it), whether it is still pinned, how many
// processes are in it and which containers — and runs the pin plans.
import { spawn } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { pinPlan } from '../core/pin-plan.js';
import type { PinnedIdmap } from '../core/pin-plan.js';
import { EventStream } from '../protocol/events.js';
import { launch, launcherSpawnError } from './launcher.js';
import { launcherPath } from './paths.js';
import { childStart, processStart } from './state.js';
import { describeFailure, runPlanOrThrow } from './control.js';
import { NS_BIT, NS_TYPES } from './ns-facts.js';
import type { ContainerRecord } from './state.js';

const NSFS_MAGIC = 0x6e736673;
/** NAME's pid namespace's init (pid, start time), beside the pins. */
const INIT_FILE = 'init.json';
/** NAME's user namespace's maps, beside the pins (what `run --userns ns:NAME` is given). */
const IDMAP_FILE = 'idmap.json';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface PinnedNs {
  type: string;
  path: string;
  inode?: number;
  /** The bind mount is there (an nsfs file); false: a stale pin whose namespace is gone. */
  pinned: boolean;
  processes: number;
  containers: string[];
  /** husk's init holding NAME's namespaces (pid ns), not counted among `processes`. */
  init?: number;
}

export function nsRoot(root: string): string {
  return join(root, 'ns');
}

export function nsDir(root: string, name: string): string {
  return join(nsRoot(root), name);
}

export function checkNsName(name: string): void {
  if (!NAME_RE.test(name)) throw new HuskError('usage', `invalid namespace name "${name}": use 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit`);
}

export function nsNames(root: string): string[] {
  try {
    return readdirSync(nsRoot(root)).filter((n) => NAME_RE.test(n)).sort();
  } catch {
    return [];
  }
}

/** The types pinned under NAME (as /proc/PID/ns names them); an error if there is no such NAME. */
export function pinnedTypes(root: string, name: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(nsDir(root, name));
  } catch {
    throw new HuskError('invalid-value', `no such namespace: ${name}`, { hint: 'See husk ns ls.' });
  }
  return NS_TYPES.map(([t]) => t).filter((t) => entries.includes(t));
}

/** `TYPE:[INODE]` → the pids in it, for every process of the host, one walk of /proc. */
function processesByNamespace(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    for (const [type] of NS_TYPES) {
      try {
        const link = readlinkSync(`/proc/${name}/ns/${type}`);
        const list = out.get(link);
        if (list) list.push(Number(name));
        else out.set(link, [Number(name)]);
      } catch {
        // gone, or a kernel without that type
      }
    }
  }
  return out;
}

function linkName(type: string, inode: number): string {
  return `${type}:[${inode}]`;
}

/** What is pinned under each name, with the processes and containers in each namespace. */
export function describeNamespaces(root: string, names: readonly string[], records: readonly ContainerRecord[]): Map<string, PinnedNs[]> {
  const procs = processesByNamespace();
  const out = new Map<string, PinnedNs[]>();
  for (const name of names) {
    const list: PinnedNs[] = [];
    const holder = holderOf(root, name);
    const init = holder && processStart(holder.pid) === holder.startTime ? holder.pid : undefined;
    for (const type of pinnedTypes(root, name)) {
      const path = join(nsDir(root, name), type);
      let pinned = false;
      let inode: number | undefined;
      try {
        pinned = statfsSync(path).type === NSFS_MAGIC;
        if (pinned) inode = statSync(path).ino;
      } catch {
        pinned = false;
      }
      const pids = (inode === undefined ? [] : (procs.get(linkName(type, inode)) ?? [])).filter((p) => p !== init);
      const containers = records.filter((r) => r.pid !== undefined && pids.includes(r.pid)).map((r) => r.name ?? r.id.slice(0, 12));
      list.push({ type, path, inode, pinned, processes: pids.length, containers, init });
    }
    out.set(name, list);
  }
  return out;
}

/** Runs a pin plan; throws a HuskError naming what failed. */
function runPins(plan: Uint8Array, what: string): Promise<void> {
  return runPlanOrThrow(plan, what, 'launcher');
}

/** `ns create`: NAME's directory (exclusively: a taken name is an error), then the pins. */
export async function createNamespaces(root: string, name: string, types: readonly string[], timeOffsets?: { monotonic?: number; boottime?: number }, idmap?: PinnedIdmap): Promise<void> {
  checkNsName(name);
  let flags = 0n;
  for (const t of types) flags |= NS_BIT.get(t)!;
  const dir = nsDir(root, name);
  const plan = pinPlan({ create: { flags, dir, timeOffsets, idmap } }); // refused types fail here, before anything is made
  mkdirSync(nsRoot(root), { recursive: true, mode: 0o711 });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new HuskError('invalid-value', `namespace name "${name}" is already in use`, { hint: 'Remove it first (husk ns rm), or choose another name.' });
    throw err;
  }
  try {
    if (idmap) writeFileSync(join(dir, IDMAP_FILE), JSON.stringify(idmap), { mode: 0o644 });
    if (types.includes('pid')) {
      // A pid namespace is held by husk's tiny init, left running under its launcher.
      const init = await launchHolder(plan, `cannot create namespace ${name}`);
      writeFileSync(join(dir, INIT_FILE), JSON.stringify(init), { mode: 0o600 });
    } else {
      await runPins(plan, `cannot create namespace ${name}`);
    }
  } catch (err) {
    // PIN_NEW undoes its own pins; a PIN after CLONE leaves what it made: unpin what is there.
    const left = pinnedTypes(root, name).map((t) => join(dir, t));
    if (left.length > 0) await runPins(pinPlan({ remove: left }), `cannot clean up namespace ${name}`).catch(() => undefined);
    rmSync(join(dir, INIT_FILE), { force: true });
    rmSync(join(dir, IDMAP_FILE), { force: true });
    rmdirSync(dir);
    throw err;
  }
}

/** NAME's user namespace's maps, if it has one. */
export function pinnedIdmap(root: string, name: string): PinnedIdmap | undefined {
  try {
    return JSON.parse(readFileSync(join(nsDir(root, name), IDMAP_FILE), 'utf8')) as PinnedIdmap;
  } catch {
    return undefined;
  }
}

/** The host id ranges every pinned user namespace maps (for --userns auto and ns create --user). */
export function pinnedRanges(root: string): { start: number; size: number }[] {
  return nsNames(root).flatMap((n) => {
    const m = pinnedIdmap(root, n);
    return m ? [...m.uid, ...m.gid].map((l) => ({ start: l.outside, size: l.count })) : [];
  });
}

/** husk's init holding NAME's pid namespace (pid, start time), if it has one. */
export function holderOf(root: string, name: string): { pid: number; startTime: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(nsDir(root, name), INIT_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Starts the plan's launcher in its own session, waits until its init runs (STARTED) or the
 * plan failed, and returns the init's pid and start time; the launcher stays as its monitor.
 */
async function launchHolder(plan: Uint8Array, what: string): Promise<{ pid: number; startTime: string }> {
  const child = spawn(launcherPath(), ['--plan-fd', '3', '--event-fd', '4'], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] as StdioOptions });
  const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(launcherSpawnError(err))));
  failed.catch(() => undefined);
  (child.stdio[3] as Writable).on('error', () => undefined);
  (child.stdio[3] as Writable).end(plan);
  const stream = new EventStream();
  const failures: string[] = [];
  let pid: number | undefined;
  const started = await Promise.race([
    failed,
    new Promise<boolean>((resolve) => {
      const events = child.stdio[4] as Readable;
      events.on('data', (chunk: Buffer) => {
        for (const ev of stream.push(chunk)) {
          if (ev.kind === 'pid') pid = ev.pid;
          if (ev.kind === 'error') failures.push(describeFailure(ev));
          if (ev.kind === 'exit') resolve(false);
          if (ev.kind === 'started' && failures.length === 0) resolve(true);
        }
      });
      events.on('end', () => resolve(false));
    }),
  ]);
  (child.stdio[4] as Readable).destroy();
  (child.stdio[3] as Writable).destroy();
  child.unref();
  const startTime = pid !== undefined ? childStart(pid, child.pid) : undefined;
  if (!started || pid === undefined || startTime === undefined) throw new HuskError('launcher', `${what}: ${failures.join('; ') || 'its init did not start'}`);
  return { pid, startTime };
}

/** `ns rm`: husk's init of NAME's pid namespace (SIGTERM), every pin, then its directory. */
export async function removeNamespaces(root: string, name: string): Promise<void> {
  const paths = pinnedTypes(root, name).map((t) => join(nsDir(root, name), t));
  const holder = holderOf(root, name);
  if (paths.length > 0 || holder) {
    try {
      await runPins(pinPlan({ remove: paths, holder }), `cannot remove namespace ${name}`);
    } catch (err) {
      // An init that is gone already (ESRCH) is what SIGTERM was for.
      if (!(err instanceof HuskError) || !/signal 15 to pid .*: ESRCH/.test(err.message) || paths.some((p) => existsSync(p))) throw err;
    }
  }
  // Its launcher reaps it and ends; wait for that (bounded), so nothing of it outlives rm.
  for (let i = 0; holder && i < 200 && processStart(holder.pid) === holder.startTime; i++) await new Promise((r) => setTimeout(r, 10));
  rmSync(join(nsDir(root, name), INIT_FILE), { force: true });
  rmSync(join(nsDir(root, name), IDMAP_FILE), { force: true });
  rmdirSync(nsDir(root, name));
}
