// husk-runc's commands that act on a container that exists: state, kill, delete, list.
// Signals and cgroup removal go through control plans (ts/runtime/control.ts): the core
// decides, the launcher acts, a pid is only signalled after its start time is checked.
import { rmdirSync } from 'node:fs';
import { RuncError } from './args.js';
import type { RuncCommand } from './args.js';
import { alive, listIds, mustRead, ociState, readState, removeDir, statusOf } from './state.js';
import type { RuncState } from './state.js';

export function stateCommand(root: string, id: string): number {
  process.stdout.write(`${JSON.stringify(ociState(root, mustRead(root, id)), null, 2)}\n`);
  return 0;
}

async function hierarchies() {
  const { cgroupHost } = await import('../cgroup/host.js');
  return (await cgroupHost()).hierarchies;
}

export async function killCommand(root: string, cmd: Extract<RuncCommand, { name: 'kill' }>): Promise<number> {
  const st = mustRead(root, cmd.id);
  const status = statusOf(root, st);
  if (status === 'stopped' || status === 'creating') throw new RuncError('container not running');
  const { killContainer, signalProcess } = await import('../runtime/control.js');
  const signal = /^\d+$/.test(cmd.signal) ? Number(cmd.signal) : cmd.signal;
  if (cmd.all && (signal === 9 || /^(SIG)?KILL$/i.test(String(signal)))) {
    await killContainer(await hierarchies(), st.cgroupDirs, { pid: st.pid, startTime: st.startTime });
    return 0;
  }
  try {
    const r = await signalProcess(st.pid, st.startTime, signal);
    if (r === 'gone') throw new RuncError('container not running');
  } catch (err) {
    if (err instanceof RuncError) throw err;
    throw new RuncError((err as Error).message.replace(/^--?signal: /, ''));
  }
  return 0;
}

export async function deleteCommand(root: string, cmd: Extract<RuncCommand, { name: 'delete' }>): Promise<number> {
  const st = readState(root, cmd.id);
  if (st === undefined) {
    if (cmd.force) return 0;
    throw new RuncError(`container does not exist: ${cmd.id}`);
  }
  const status = statusOf(root, st);
  if ((status === 'running' || status === 'paused') && !cmd.force) throw new RuncError(`cannot delete container ${cmd.id} that is not stopped: ${status}`);
  if (status === 'creating' && !cmd.force) throw new RuncError(`cannot delete container ${cmd.id}: it is still being created`);
  // A created container is destroyed by delete (runc's rule); a running one only with --force.
  await destroy(st);
  const stopped = { ...ociState(root, st), status: 'stopped', pid: 0 };
  removeDir(root, cmd.id);
  const { runHooks } = await import('./hooks.js');
  runHooks(st.hooks, 'poststop', stopped);
  return 0;
}

/** Kills what is left of the container (checked by start time) and removes its cgroups. */
export async function destroy(st: RuncState): Promise<void> {
  const { killContainer, removeCgroups } = await import('../runtime/control.js');
  const h = await hierarchies();
  if (alive(st)) await killContainer(h, st.cgroupDirs, { pid: st.pid, startTime: st.startTime });
  const left = await removeCgroups(h, st.cgroupDirs);
  if (left.length > 0) throw new RuncError(`cannot remove the container's cgroups: ${left.join(', ')}`);
  removeDefaultParents(st);
}

/**
 * The default parent (husk-runc/ in each hierarchy) removed once its last container is gone.
 * EBUSY or ENOTEMPTY: another container is in it (concurrent deletes must not fail); any
 * other error leaves an empty directory behind, never worth failing a delete for.
 */
function removeDefaultParents(st: RuncState): void {
  for (const dir of st.cgroupParentDirs ?? []) {
    try {
      rmdirSync(dir);
    } catch {
      // Left behind: see above.
    }
  }
}

export function listCommand(root: string, cmd: Extract<RuncCommand, { name: 'list' }>): number {
  const states = listIds(root).flatMap((id) => {
    const st = readState(root, id);
    return st === undefined ? [] : [ociState(root, st)];
  });
  if (cmd.quiet) {
    for (const s of states) process.stdout.write(`${s.id}\n`);
  } else if (cmd.format === 'json') {
    process.stdout.write(`${JSON.stringify(states)}\n`);
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [String(s.id), String(s.pid), String(s.status), String(s.bundle), String(s.created), 'root'])];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) process.stdout.write(`${r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] + 3))).join('')}\n`);
  }
  return 0;
}
