// A non-root user's image layers, as podman's storage keeps them: the tar's owners shifted
// into the user's subordinate range (tar uid 0 → the user, uid N → START + N - 1, through the
// same map a rootless run gets). The user cannot chown to those ids, so once a layer is
// written (as the user's files) the launcher chowns each entry inside a user namespace
// mapped by newuidmap/newgidmap (docs/protocol.md "Fs plans in a user namespace"); the map
// is the policy core's (idmapCompute, as for `husk run`). Without a range or the helpers the
// layer stays the user's (root's inside), which the run's note already says. A shifted
// layer's directories belong to subordinate ids, so removing one takes the same namespace.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fsPlan, type FsEntry } from '../core/fs.js';
import { computeIdmap } from '../core/idmap.js';
import { HuskError } from '../errors.js';
import { EventStream, type LauncherEvent } from '../protocol/events.js';
import { describeFailure } from '../runtime/control.js';
import { launcherPath } from '../runtime/paths.js';
import { caller, idmapHelpers, readSubidFile } from '../runtime/userns.js';
import { WriteStream } from './write-stream.js';

export type LayerUserns = Extract<FsEntry, { op: 'userns' }>;

/** One entry whose owner is not the layer's root: chowned in the user namespace. */
export interface Owner {
  path: string;
  uid: number;
  gid: number;
  /** The mode again after chown (it clears a file's set-id bits): regular files and directories only. */
  mode?: number;
}

let cached: LayerUserns | null | undefined;

/**
 * The user namespace a non-root caller's layers are written in: the core's map of a rootless
 * run (0 → the caller, 1… → its ranges) when it needs the helpers; null for root, and for a
 * user with no range or no helpers (the layer stays its own).
 */
export function layerUserns(): LayerUserns | null {
  if (cached !== undefined) return cached;
  const who = caller();
  if (!who.rootless) return (cached = null);
  try {
    const answer = computeIdmap({
      mode: 'host', caller: who, uidmap: [], gidmap: [], helpers: idmapHelpers(),
      subuid: readSubidFile('--subuid-file', '/etc/subuid'), subgid: readSubidFile('--subgid-file', '/etc/subgid'),
    });
    const helpers = idmapHelpers();
    cached = answer.helper && answer.newuidmapArgs && answer.newgidmapArgs
      ? { op: 'userns', newuidmap: helpers.newuidmap, uidArgs: answer.newuidmapArgs, newgidmap: helpers.newgidmap, gidArgs: answer.newgidmapArgs }
      : null;
  } catch {
    cached = null; // The run says what is wrong with the ranges; the layer stays the user's.
  }
  return cached;
}

/** Chowns `owners` inside `root` (the layer's temp directory) in the user namespace. */
export async function shiftOwners(root: string, userns: LayerUserns, owners: readonly Owner[], label: string): Promise<void> {
  const inside = owners.filter((o) => o.path !== '.');
  if (inside.length > 0) {
    const stream = WriteStream.start(root, [userns]);
    for (const o of inside) stream.owner(o.path, o.uid, o.gid, o.mode);
    await stream.close(label);
  }
  // The root itself is an entry of its parent (a record's path is never `.`), done last.
  const top = owners.find((o) => o.path === '.');
  if (top !== undefined) {
    const stream = WriteStream.start(dirname(root), [userns]);
    stream.owner(basename(root), top.uid, top.gid, top.mode);
    await stream.close(label);
  }
}

/** Xattrs set in the user namespace (file capabilities: written by its root, rootid the user). */
export async function setInUserns(root: string, userns: LayerUserns, sets: readonly FsEntry[], label: string): Promise<void> {
  for (let i = 0; i < sets.length; i += 1000) {
    const batch = sets.slice(i, i + 1000);
    const plan = fsPlan(root, [userns, ...batch]);
    const r = spawnSync(launcherPath(), ['--plan-fd', '0', '--event-fd', '3'], { input: plan, stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
    const events: LauncherEvent[] = r.output?.[3] ? new EventStream().push(r.output[3] as Buffer) : [];
    if (r.status === 0) continue;
    const ev = events.find((e) => e.kind === 'error') as Extract<LauncherEvent, { kind: 'error' }> | undefined;
    const why = ev === undefined ? (r.error?.message ?? `the launcher exited ${r.status ?? r.signal}`) : describeFailure(ev);
    throw new HuskError('image', `layer ${label}: in your user namespace: ${why}`);
  }
}

/**
 * rm -rf `path`; a tree the user cannot remove (a shifted layer: directories of subordinate
 * ids) is removed by the launcher in the user namespace. Synchronous: the store removes
 * layers under its lock.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const userns = code === 'EACCES' || code === 'EPERM' || code === 'ENOTEMPTY' ? layerUserns() : null;
    if (userns === null) throw e;
    removeInUserns(resolve(path), userns);
  }
}

function removeInUserns(path: string, userns: LayerUserns): void {
  const plan = fsPlan(dirname(path), [userns, { op: 'remove-tree', path: basename(path) }]);
  const r = spawnSync(launcherPath(), ['--plan-fd', '0', '--event-fd', '3'], {
    input: plan, stdio: ['pipe', 'ignore', 'ignore', 'pipe'], timeout: 10 * 60_000,
  });
  const events: LauncherEvent[] = r.output?.[3] ? new EventStream().push(r.output[3] as Buffer) : [];
  if (r.status === 0) return;
  const ev = events.find((e) => e.kind === 'error') as Extract<LauncherEvent, { kind: 'error' }> | undefined;
  const why = ev === undefined ? (r.error?.message ?? `the launcher exited ${r.status ?? r.signal}`) : describeFailure(ev);
  throw new HuskError('host', `cannot remove ${path} in your user namespace: ${why}`);
}
