// The shape of one command-line flag: its names, whether it takes a value, and what it sets.
import type { RunFlags } from './args.js';

export interface PlanExtra {
  save?: string;
  format?: 'text' | 'json';
  /** Show the plan for a host of this cgroup layout instead of this host's. */
  hostCgroups?: 'v1' | 'v2' | 'hybrid';
}

export interface FlagSpec {
  names: string[];
  kind: 'bool' | 'value';
  apply: (f: RunFlags, v: string, extra: PlanExtra) => void;
}
