// Flags of `husk run` about the container's stdio, which its monitor holds: -t, -i,
// --detach-keys (docs/protocol.md "The container log", "The attach socket").
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export interface StdioFlags {
  /** -t: a pty whose window follows the caller's terminal. */
  tty: boolean;
  /** -i: stdin stays open (with -d: for a later `husk attach`). */
  interactive: boolean;
  /** --detach-keys as typed, e.g. "ctrl-p,ctrl-q" (the default). */
  detachKeys?: string;
}

export function defaultStdioFlags(): StdioFlags {
  return { tty: false, interactive: false };
}

/** Docker's --detach-keys: comma-separated `ctrl-X` (X a letter, @, [, \, ], ^, _) or single characters. */
export function parseDetachKeys(v: string): number[] {
  const keys = v.split(',').map((k) => {
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (ctrl) return ctrl[1].toUpperCase().charCodeAt(0) & 0x1f;
    if (k.length === 1) return k.charCodeAt(0);
    throw new HuskError('usage', `invalid value "${v}" for --detach-keys: expected keys such as ctrl-p,ctrl-q`);
  });
  if (keys.length === 0) throw new HuskError('usage', `invalid value "${v}" for --detach-keys: expected keys such as ctrl-p,ctrl-q`);
  return keys;
}

export const STDIO_FLAGS: FlagSpec[] = [
  { names: ['--tty', '-t'], kind: 'bool', apply: (f) => (f.stdio.tty = true) },
  { names: ['--interactive', '-i'], kind: 'bool', apply: (f) => (f.stdio.interactive = true) },
  {
    names: ['--detach-keys'],
    kind: 'value',
    apply: (f, v) => {
      parseDetachKeys(v);
      f.stdio.detachKeys = v;
    },
  },
];
