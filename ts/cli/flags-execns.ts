// run's flags that join namespaces that exist: `--net|--ipc|--uts|--pid ns:NAME` (a pinned
// namespace, husk ns create), `... container:OTHER` (another container's) and `--pod NAME`.
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export type JoinType = 'net' | 'ipc' | 'uts' | 'pid';

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

export const EXECNS_RUN_FLAGS: FlagSpec[] = [
  {
    names: ['--pod'],
    kind: 'value',
    apply: (f, v) => {
      if (v === '') throw new HuskError('usage', 'flag needs a value: --pod');
      f.pod = v;
    },
  },
];
