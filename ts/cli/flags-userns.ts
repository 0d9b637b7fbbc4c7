// User-namespace flags of run and plan: --userns (and, with the id-map work, --uidmap,
// --gidmap, --subuid-file, --subgid-file).
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';
import type { RunFlags } from './args.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface IdmapFlags {}

export function defaultIdmapFlags(): IdmapFlags {
  return {};
}

function parseUserns(v: string): RunFlags['userns'] {
  if (v === 'host' || v === '') return { mode: 'host' };
  const m = /^auto(?::size=(\d+))?$/.exec(v);
  if (m) {
    if (m[1] === undefined) return { mode: 'auto' };
    const size = Number(m[1]);
    if (!Number.isSafeInteger(size) || size < 1) throw new HuskError('usage', `invalid value "${v}" for --userns: size must be at least 1`);
    return { mode: 'auto', size };
  }
  throw new HuskError('usage', `invalid value "${v}" for --userns: expected host or auto[:size=N]`);
}

export const USERNS_FLAGS: FlagSpec[] = [{ names: ['--userns'], kind: 'value', apply: (f, v) => (f.userns = parseUserns(v)) }];
