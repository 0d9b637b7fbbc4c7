// `husk-runc update`: new cgroup limits for a container that exists, from `--resources
// FILE|-` (a linux.resources object, as runc reads it) or runc's flags (--memory,
// --cpu-quota, --pids-limit…). The core turns them into the writes of the container's own
// cgroup (v1, v2 or hybrid: assembly/plan/oci-update.ts); a control plan's launcher writes
// them. A value the kernel refuses fails with the file named.
import { readFileSync } from 'node:fs';
import { CoreError } from '../core/build-plan.js';
import { RuncError } from './args.js';
import type { RuncCommand } from './args.js';
import { cgroupOf } from './create.js';
import { mustRead, statusOf } from './state.js';

type UpdateCommand = Extract<RuncCommand, { name: 'update' }>;

const RESOURCES_MAX = 1 << 20;

/** runc's flag → the linux.resources field it sets, and how its value reads. */
const FLAG_FIELDS: Record<string, [string, string, 'bytes' | 'int' | 'text']> = {
  memory: ['memory', 'limit', 'bytes'],
  'memory-reservation': ['memory', 'reservation', 'bytes'],
  'memory-swap': ['memory', 'swap', 'bytes'],
  'cpu-shares': ['cpu', 'shares', 'int'],
  'cpu-quota': ['cpu', 'quota', 'int'],
  'cpu-period': ['cpu', 'period', 'int'],
  'cpuset-cpus': ['cpu', 'cpus', 'text'],
  'cpuset-mems': ['cpu', 'mems', 'text'],
  'pids-limit': ['pids', 'limit', 'int'],
  'blkio-weight': ['blockIO', 'weight', 'int'],
};

/** runc's RAMInBytes: `512m`, `1g`, `1024` (bytes), `-1`. */
function bytes(flag: string, text: string): number {
  const m = /^(-1|\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (m === null) throw new RuncError(`update: --${flag} ${text}: not a size (e.g. 512m, 1g)`);
  if (m[1] === '-1') return -1;
  const units = ['', 'k', 'm', 'g', 't', 'p'];
  return Math.floor(Number(m[1]) * 1024 ** units.indexOf(m[2].toLowerCase()));
}

function fromFlags(flags: Record<string, string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [flag, value] of Object.entries(flags)) {
    const [group, field, kind] = FLAG_FIELDS[flag];
    let v: unknown = value;
    if (kind === 'bytes') v = bytes(flag, value);
    else if (kind === 'int') {
      if (!/^-?\d+$/.test(value)) throw new RuncError(`update: --${flag} ${value}: not a whole number`);
      v = Number(value);
    }
    (out[group] ??= {})[field] = v;
  }
  return out;
}

function readResources(path: string): unknown {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (err) {
    throw new RuncError(`update: --resources ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.length > RESOURCES_MAX) throw new RuncError(`update: --resources ${path}: larger than 1 MiB`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RuncError(`update: --resources ${path}: not JSON: ${(err as Error).message}`);
  }
}

export async function updateCommand(root: string, cmd: UpdateCommand): Promise<number> {
  const st = mustRead(root, cmd.id);
  if (statusOf(root, st) === 'stopped') throw new RuncError(`container ${cmd.id} is not running`);
  const resources = cmd.resources !== undefined ? readResources(cmd.resources) : fromFlags(cmd.flags);
  if (st.cgroupParent === undefined || st.cgroupName === undefined) throw new RuncError(`update: container ${cmd.id} was created without a cgroup husk-runc can update`);
  const { ociUpdate } = await import('../core/oci-plan.js');
  let plan: Uint8Array | undefined;
  try {
    plan = ociUpdate(resources, await cgroupOf(st.cgroupParent, st.cgroupName));
  } catch (err) {
    if (err instanceof CoreError) throw new RuncError(err.message);
    throw err;
  }
  if (plan === undefined) return 0;
  const { runPlanOrThrow } = await import('../runtime/control.js');
  try {
    await runPlanOrThrow(plan, 'update', 'launcher');
  } catch (err) {
    throw new RuncError((err as Error).message);
  }
  return 0;
}
