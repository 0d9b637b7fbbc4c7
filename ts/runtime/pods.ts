// Pods without a pause process: a pod is a set of pinned namespaces (`<root>/ns/pod.NAME`,
// made by the launcher like `husk ns create`) and a cgroup parent its containers go under;
// its record is `<root>/pods/NAME.json`. `run --pod NAME` joins the namespaces
// (ts/runtime/joins.ts) and takes the cgroup parent.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { checkNsName } from './ns-store.js';

export interface PodRecord {
  name: string;
  created: string;
  /** The shared namespace types, as /proc/PID/ns names them. */
  share: string[];
  /** The ns name its pins live under (husk ns ls shows them). */
  nsName: string;
  /** Relative to each hierarchy's mount, as --cgroup-parent. */
  cgroupParent: string;
}

export const POD_SHARE_DEFAULT = ['net', 'ipc', 'uts'];
const SHAREABLE = ['net', 'ipc', 'uts'];

export function podsDir(root: string): string {
  return join(root, 'pods');
}

export function podNsName(name: string): string {
  return `pod.${name}`;
}

export function parseShare(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of list) if (!SHAREABLE.includes(t)) throw new HuskError('usage', `invalid value "${v}" for --share: ${t} cannot be shared (net, ipc, uts)`);
  if (list.length === 0) throw new HuskError('usage', `invalid value "${v}" for --share: name at least one of net, ipc, uts`);
  return [...new Set(list)];
}

export function readPod(root: string, name: string): PodRecord {
  try {
    return JSON.parse(readFileSync(join(podsDir(root), `${name}.json`), 'utf8')) as PodRecord;
  } catch {
    throw new HuskError('invalid-value', `no such pod: ${name}`, { hint: 'See husk pod ls.' });
  }
}

export function podNames(root: string): string[] {
  try {
    return readdirSync(podsDir(root)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

export function newPodRecord(name: string, share: string[]): PodRecord {
  checkNsName(name);
  const parent = process.env.HUSK_CGROUP_PARENT || 'husk';
  return { name, created: new Date().toISOString(), share, nsName: podNsName(name), cgroupParent: `${parent}/pod-${name}` };
}

export function writePod(root: string, pod: PodRecord): void {
  mkdirSync(podsDir(root), { recursive: true, mode: 0o700 });
  const tmp = join(podsDir(root), `.${pod.name}.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(pod), { mode: 0o600 });
  renameSync(tmp, join(podsDir(root), `${pod.name}.json`));
}

export function removePodRecord(root: string, name: string): void {
  rmSync(join(podsDir(root), `${name}.json`), { force: true });
}
