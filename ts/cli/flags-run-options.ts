// docker's --ulimit, --sysctl, --oom-score-adj, --group-add, --tmpfs, --read-only and --device, kept as typed (repeatable
// ones in order); the policy core reads and checks them (assembly/plan/run-options.ts).
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export interface RunOptionFlags {
  ulimits: string[];
  sysctls: string[];
  oomScoreAdj?: number;
  /** Group names (looked up in the image's /etc/group) or numbers. */
  groupAdd: string[];
  /** PATH[:OPTIONS] */
  tmpfs: string[];
  readOnly: boolean;
  /** --device HOST[:CONTAINER][:PERMS], as typed. */
  devices: string[];
}

export function defaultRunOptionFlags(): RunOptionFlags {
  return { ulimits: [], sysctls: [], groupAdd: [], tmpfs: [], readOnly: false, devices: [] };
}

function oomScoreAdj(v: string): number {
  if (!/^-?\d{1,5}$/.test(v)) throw new HuskError('usage', `invalid value "${v}" for --oom-score-adj: expected a whole number from -1000 to 1000`);
  return Number(v);
}

export const RUN_OPTION_FLAGS: FlagSpec[] = [
  { names: ['--ulimit'], kind: 'value', apply: (f, v) => f.runOptions.ulimits.push(v) },
  { names: ['--sysctl'], kind: 'value', apply: (f, v) => f.runOptions.sysctls.push(v) },
  { names: ['--oom-score-adj'], kind: 'value', apply: (f, v) => (f.runOptions.oomScoreAdj = oomScoreAdj(v)) },
  { names: ['--group-add'], kind: 'value', apply: (f, v) => f.runOptions.groupAdd.push(v) },
  { names: ['--tmpfs'], kind: 'value', apply: (f, v) => f.runOptions.tmpfs.push(v) },
  { names: ['--read-only'], kind: 'bool', apply: (f) => (f.runOptions.readOnly = true) },
  { names: ['--device'], kind: 'value', apply: (f, v) => f.runOptions.devices.push(v) },
];
