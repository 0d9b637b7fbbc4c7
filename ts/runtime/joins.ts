// The namespaces a new container joins instead of making (`--net ns:NAME`, `--net
// container:OTHER`, `--pod NAME`), as facts for the core: a pinned file per type, or another
// container's process (pid and start time from its record, checked again by the launcher's
// pidfd). Every name is resolved here, with one clear line when it names nothing.
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import type { PlanRequest } from '../core/build-plan.js';
import type { RunFlags } from '../cli/args.js';
import type { JoinType } from '../cli/flags-execns.js';
import { NS_BIT } from './ns-facts.js';
import { nsDir } from './ns-store.js';
import { readPod } from './pods.js';
import { findContainer, readRecords } from './records.js';
import { isLive, processStart } from './state.js';

const NSFS_MAGIC = 0x6e736673;

function pinnedFile(root: string, name: string, type: JoinType | 'user', flag: string): string {
  const path = join(nsDir(root, name), type);
  let pinned = false;
  try {
    pinned = statfsSync(path).type === NSFS_MAGIC;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    let exists = true;
    try {
      statfsSync(nsDir(root, name));
    } catch {
      exists = false;
    }
    throw new HuskError('invalid-value', exists ? `${flag} ns:${name}: namespace ${name} has no ${type} namespace` : `${flag} ns:${name}: no such namespace: ${name}`, { hint: 'See husk ns ls.' });
  }
  if (!pinned) throw new HuskError('invalid-value', `${flag} ns:${name}: the pinned ${type} namespace is gone (a stale pin)`, { hint: `Remove it with husk ns rm ${name}.` });
  return path;
}

export function resolveJoins(f: RunFlags, root: string): PlanRequest['joins'] {
  if (f.joins.length === 0 && f.pod === undefined && f.userns.mode !== 'ns') return undefined;
  const files: { nstype: bigint; path: string }[] = [];
  if (f.userns.mode === 'ns') files.push({ nstype: NS_BIT.get('user')!, path: pinnedFile(root, f.userns.name, 'user', '--userns') });
  let processFlags = 0n;
  let target: { pid: number; startTime: string } | undefined;
  for (const j of f.joins) {
    const flag = `--${j.type}`;
    if (j.kind === 'ns') {
      files.push({ nstype: NS_BIT.get(j.type)!, path: pinnedFile(root, j.ref, j.type, flag) });
      continue;
    }
    let rec;
    try {
      rec = findContainer(readRecords(root), j.ref);
    } catch (err) {
      throw new HuskError('invalid-value', `${flag} container:${j.ref}: ${(err as Error).message}`);
    }
    const running = rec.finished === undefined && isLive(rec) && rec.pid !== undefined && rec.pidStart !== undefined && processStart(rec.pid) === rec.pidStart;
    if (!running) throw new HuskError('invalid-value', `${flag} container:${j.ref}: container ${rec.name ?? rec.id.slice(0, 12)} is not running`);
    if (target && target.pid !== rec.pid) throw new HuskError('usage', 'namespaces can be joined from one other container only');
    target = { pid: rec.pid!, startTime: rec.pidStart! };
    processFlags |= NS_BIT.get(j.type)!;
  }
  if (f.pod !== undefined) {
    const pod = readPod(root, f.pod);
    for (const type of pod.share as JoinType[]) {
      if (f.joins.some((j) => j.type === type)) throw new HuskError('usage', `--${type} and --pod ${f.pod}: the pod shares its ${type} namespace already`);
      files.push({ nstype: NS_BIT.get(type)!, path: pinnedFile(root, pod.nsName, type, `--pod ${f.pod}:`) });
    }
  }
  return { files, process: target ? { flags: processFlags, ...target } : undefined };
}
