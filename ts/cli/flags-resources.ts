// Resource flags of run and plan (--memory, --cpus, --pids-limit, --cgroup-parent, ...).
// Values are kept as the user typed them: the policy core parses and checks them (so the
// reason names the flag the same way on every path), and ts/runtime resolves device paths
// of the --device-*-bps/iops flags to MAJOR:MINOR before the core sees them.
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export interface ResourceLimit {
  /** The docker flag without `--`: memory, cpus, device-read-bps, ... */
  name: string;
  /** As typed; device flags: `PATH:RATE` (PATH resolved to MAJ:MIN later). */
  value: string;
}

export interface ResourceFlags {
  /** In the order given (the core refuses a non-device flag given twice). */
  limits: ResourceLimit[];
  /** --cgroup-parent: relative to each hierarchy's mount (a leading `/` is dropped). */
  cgroupParent?: string;
}

export function defaultResourceFlags(): ResourceFlags {
  return { limits: [] };
}

/** Docker's resource flags that husk enforces through cgroups, without `--`. */
export const LIMIT_FLAGS = [
  'memory',
  'memory-swap',
  'memory-reservation',
  'cpus',
  'cpu-shares',
  'cpu-quota',
  'cpu-period',
  'cpuset-cpus',
  'cpuset-mems',
  'pids-limit',
  'blkio-weight',
  'device-read-bps',
  'device-write-bps',
  'device-read-iops',
  'device-write-iops',
] as const;

export const DEVICE_FLAGS: ReadonlySet<string> = new Set(['device-read-bps', 'device-write-bps', 'device-read-iops', 'device-write-iops']);

/** Short forms docker has: -m for --memory, -c for --cpu-shares. */
const SHORT: Record<string, string> = { memory: '-m', 'cpu-shares': '-c' };

function limitSpec(name: string): FlagSpec {
  const names = [`--${name}`];
  if (SHORT[name]) names.push(SHORT[name]);
  return {
    names,
    kind: 'value',
    apply: (f, v) => {
      if (DEVICE_FLAGS.has(name) && v.lastIndexOf(':') <= 0) {
        throw new HuskError('usage', `invalid value "${v}" for --${name}: expected DEVICE_PATH:RATE, e.g. /dev/sda:1mb`);
      }
      f.resources.limits.push({ name, value: v });
    },
  };
}

/** `/a/b/` → `a/b`; the core checks what is left (no empty, `.` or `..` component). */
export function normalizeCgroupParent(v: string): string {
  const trimmed = v.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') throw new HuskError('usage', `invalid value "${v}" for --cgroup-parent: needs a cgroup name, e.g. husk or my.slice/husk`);
  return trimmed;
}

export const RESOURCE_FLAGS: FlagSpec[] = [
  ...LIMIT_FLAGS.map(limitSpec),
  { names: ['--cgroup-parent'], kind: 'value', apply: (f, v) => (f.resources.cgroupParent = normalizeCgroupParent(v)) },
];
