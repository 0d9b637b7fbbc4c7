// run's flags that join namespaces that exist: `--net|--ipc|--uts|--pid ns:NAME` (a pinned
// namespace, husk ns create), `... container:OTHER` (another container's) and `--pod NAME`.
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export type JoinType = 'net' | 'ipc' | 'uts' | 'pid' | 'time';

export interface JoinFlag {
  type: JoinType;
  kind: 'ns' | 'container';
  ref: string;
}

/**
 * `ns:NAME` or `container:OTHER` for a namespace flag: records the join and returns
 * 'private' (the core makes no new namespace of a joined type); anything else: undefined.
 */
export function joinMode(f: { joins: JoinFlag[] }, type: JoinType, v: string): 'private' | undefined {
  const m = /^(ns|container):(.*)$/.exec(v);
  if (!m) return undefined;
  if (m[2] === '') throw new HuskError('usage', `invalid value "${v}" for --${type}: ${m[1]}: needs a name`);
  if (f.joins.some((j) => j.type === type)) throw new HuskError('usage', `--${type} given twice`);
  f.joins.push({ type, kind: m[1] as 'ns' | 'container', ref: m[2] });
  return 'private';
}

/** `--time-offset monotonic=SECS,boottime=SECS` (run's, and ns create's), into `into`. */
export function parseTimeOffsets(v: string, into: { monotonic?: number; boottime?: number }): void {
  for (const part of v.split(',')) {
    const m = /^(monotonic|boottime)=(-?\d+)$/.exec(part.trim());
    if (!m) throw new HuskError('usage', `invalid value "${part}" for --time-offset: expected monotonic=SECS or boottime=SECS`);
    const secs = Number(m[2]);
    if (!Number.isSafeInteger(secs)) throw new HuskError('usage', `invalid value "${part}" for --time-offset: seconds out of range`);
    into[m[1] as 'monotonic' | 'boottime'] = secs;
  }
}
export const EXECNS_RUN_FLAGS: FlagSpec[] = [
  {
    // A pinned time namespace (husk ns create NAME --time [--time-offset ...]); --timens and
    // --time-offset make a new one instead.
    names: ['--time'],
    kind: 'value',
    apply: (f, v) => {
      if (!v.startsWith('ns:')) throw new HuskError('usage', `invalid value "${v}" for --time: expected ns:NAME (a time namespace of husk ns create; --timens makes a new one)`);
      joinMode(f, 'time', v);
    },
  },
  {
    names: ['--pod'],
    kind: 'value',
    apply: (f, v) => {
      if (v === '') throw new HuskError('usage', 'flag needs a value: --pod');
      f.pod = v;
    },
  },
];
