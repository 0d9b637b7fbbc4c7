// User-namespace flags of run and plan: --userns host|auto[:size=N]|keep-id, --uidmap and
// --gidmap (podman's CONTAINER:HOST:SIZE, repeatable; checked by the policy core, which names
// the flag), --subuid-file and --subgid-file (default /etc/subuid, /etc/subgid).
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';
import type { RunFlags } from './args.js';

export interface IdmapFlags {
  /** --uidmap values as typed, in order. */
  uidmap: string[];
  /** --gidmap values as typed, in order. */
  gidmap: string[];
  subuidFile: string;
  subgidFile: string;
}

export function defaultIdmapFlags(): IdmapFlags {
  return { uidmap: [], gidmap: [], subuidFile: '/etc/subuid', subgidFile: '/etc/subgid' };
}

export function parseUserns(v: string): RunFlags['userns'] {
  if (v === 'host' || v === '') return { mode: 'host' };
  if (v === 'keep-id') return { mode: 'keep-id' };
  // A pinned user namespace (husk ns create NAME --user): joined, with its maps.
  if (v.startsWith('ns:')) {
    if (v === 'ns:') throw new HuskError('usage', `invalid value "${v}" for --userns: ns: needs a name`);
    return { mode: 'ns', name: v.slice(3) };
  }
  const m = /^auto(?::size=(\d+))?$/.exec(v);
  if (m) {
    if (m[1] === undefined) return { mode: 'auto' };
    const size = Number(m[1]);
    if (!Number.isSafeInteger(size) || size < 1) throw new HuskError('usage', `invalid value "${v}" for --userns: size must be at least 1`);
    return { mode: 'auto', size };
  }
  throw new HuskError('usage', `invalid value "${v}" for --userns: expected host, auto[:size=N], keep-id or ns:NAME`);
}

function file(flag: string, v: string): string {
  if (v === '') throw new HuskError('usage', `flag needs a value: ${flag}`);
  return v;
}

export const USERNS_FLAGS: FlagSpec[] = [
  { names: ['--userns'], kind: 'value', apply: (f, v) => (f.userns = parseUserns(v)) },
  { names: ['--uidmap'], kind: 'value', apply: (f, v) => f.idmap.uidmap.push(v) },
  { names: ['--gidmap'], kind: 'value', apply: (f, v) => f.idmap.gidmap.push(v) },
  { names: ['--subuid-file'], kind: 'value', apply: (f, v) => (f.idmap.subuidFile = file('--subuid-file', v)) },
  { names: ['--subgid-file'], kind: 'value', apply: (f, v) => (f.idmap.subgidFile = file('--subgid-file', v)) },
];

