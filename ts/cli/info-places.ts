// husk info's rootless part: where this caller's state and images are, and the user namespace
// a run gets by default (the core's computation, from the same facts a run sends).
import type { GlobalFlags } from './args.js';
import { computeIdmap } from '../core/idmap.js';
import type { IdmapAnswer } from '../core/idmap.js';
import { storageRoot } from '../image/store.js';
import { callerUid, defaultRoot } from '../runtime/paths.js';
import { caller, idmapHelpers, readSubidFile } from '../runtime/userns.js';

export interface Places {
  state: string;
  images: string;
  rootless: boolean;
  /** Rootless: the default user namespace's uid lines, and whether the helpers write them. */
  userns?: { uidMap: string; gidMap: string; helper: boolean; helpersInstalled: boolean };
}

export function places(global?: GlobalFlags): Places {
  const uid = callerUid();
  const out: Places = { state: global?.root ?? defaultRoot(), images: storageRoot(global?.storage), rootless: uid !== 0 };
  if (!out.rootless) return out;
  const helpers = idmapHelpers();
  let answer: IdmapAnswer;
  try {
    answer = computeIdmap({
      mode: 'host',
      caller: caller(),
      subuid: readSubidFile('--subuid-file', '/etc/subuid'),
      subgid: readSubidFile('--subgid-file', '/etc/subgid'),
      helpers,
    });
  } catch {
    return out; // an unreadable subordinate file: a run says why
  }
  out.userns = { uidMap: answer.uidMap, gidMap: answer.gidMap, helper: answer.helper, helpersInstalled: helpers.newuidmap !== '' && helpers.newgidmap !== '' };
  return out;
}

/** The lines of `husk info` for `p`. */
export function placesLines(p: Places): string[] {
  const lines = [`state: ${p.state}`, `images: ${p.images}`];
  if (!p.rootless) {
    lines.push('user namespace: the host\'s by default (--userns auto|keep-id, --uidmap for one)');
  } else if (p.userns) {
    const uid = callerUid();
    const sub = p.userns.uidMap.trim().split('\n').slice(1).map((l) => l.split(' ')).map(([, start, count]) => `${start}-${Number(start) + Number(count) - 1}`);
    lines.push(sub.length > 0
      ? `user namespace: uid ${uid} → root inside, plus subordinate uids ${sub.join(', ')} (by newuidmap/newgidmap)`
      : `user namespace: uid ${uid} → root inside, alone (${p.userns.helpersInstalled ? 'no subordinate ids' : 'newuidmap/newgidmap not installed: the uidmap package'})`);
  }
  return lines;
}
