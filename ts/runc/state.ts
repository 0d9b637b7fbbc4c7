// husk-runc's state under --root: one directory per container, `<root>/<id>/`, holding
// state.json (written temp + rename, never in place) and, from `create` until `start`,
// exec.fifo, the FIFO the container's init waits on (the launcher makes it: EXEC_FIFO).
// A container's status is read from the kernel each time, never stored: its init is alive
// (pid and start time match) or not, and the FIFO is there (created) or gone (running).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStart } from '../runtime/state.js';
import { RuncError } from './args.js';
import type { Hooks } from './hooks.js';

export interface RuncState {
  id: string;
  /** The init's pid in the host's pid namespace (0 until the launcher reported it). */
  pid: number;
  /** /proc/PID/stat field 22 of the init: a reused pid is told apart by it. */
  startTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  /** The container's own cgroup directories (the core's summary): `delete` removes them. */
  cgroupDirs: string[];
  /** The cgroup's parent and name as create planned them (`update` plans the same cgroup). */
  cgroupParent?: string;
  cgroupName?: string;
  /** With no linux.cgroupsPath: the default parent's directories (husk-runc/ in each
   *  hierarchy), which `delete` removes when no other container is left in them. */
  cgroupParentDirs?: string[];
  /** The file that says whether the container is frozen and the contents that mean so (the
   *  core's choice at create: ts/core/control.ts freezerFile), so `state` reads one file. */
  freezer?: { path: string; frozen: string[] };
  /** config.json's poststart and poststop hooks, run by `start` and `delete` (hooks.ts). */
  hooks?: Hooks;
  /** husk-runc's own pid while `create` runs (a state without an init yet is not stale then). */
  creator?: number;
  creatorStart?: string;
}

export type RuncStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export function containerDir(root: string, id: string): string {
  return join(root, id);
}

export function fifoPath(root: string, id: string): string {
  return join(root, id, 'exec.fifo');
}

/** Makes the container's directory; the id is taken by whoever makes it first. */
export function claimDir(root: string, id: string): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = containerDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuncError(`container with id exists: ${id}`);
    throw err;
  }
  return dir;
}

export function writeState(root: string, st: RuncState): void {
  const path = join(containerDir(root, st.id), 'state.json');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(st));
  renameSync(tmp, path);
}

export function readState(root: string, id: string): RuncState | undefined {
  let text: string;
  try {
    text = readFileSync(join(containerDir(root, id), 'state.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  return JSON.parse(text) as RuncState;
}

/** The state of `id`, or runc's error when there is none. */
export function mustRead(root: string, id: string): RuncState {
  const st = readState(root, id);
  if (st === undefined) throw new RuncError(`container does not exist: ${id}`);
  return st;
}

export function removeDir(root: string, id: string): void {
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export function alive(st: RuncState): boolean {
  return st.pid > 0 && processStart(st.pid) === st.startTime;
}

export function statusOf(root: string, st: RuncState): RuncStatus {
  if (st.pid === 0) {
    const creating = st.creator !== undefined && processStart(st.creator) === st.creatorStart;
    return creating ? 'creating' : 'stopped';
  }
  if (!alive(st)) return 'stopped';
  if (st.freezer !== undefined && frozen(st.freezer)) return 'paused';
  return existsSync(fifoPath(root, st.id)) ? 'created' : 'running';
}

function frozen(freezer: { path: string; frozen: string[] }): boolean {
  try {
    return freezer.frozen.includes(readFileSync(freezer.path, 'utf8').trim());
  } catch {
    return false;
  }
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** The OCI state (runtime-spec runtime.md "State") as `runc state` prints it. */
export function ociState(root: string, st: RuncState): Record<string, unknown> {
  const status = statusOf(root, st);
  return {
    ociVersion: '1.0.2',
    id: st.id,
    pid: status === 'stopped' ? 0 : st.pid,
    status,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    annotations: st.annotations,
    owner: '',
  };
}
