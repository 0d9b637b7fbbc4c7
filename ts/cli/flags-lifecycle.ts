// Flags of `husk run` about the container's life rather than its making: -d, --name, --rm.
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export interface LifecycleFlags {
  /** -d: start in the background, print the id, leave the launcher as the monitor. */
  detach: boolean;
  name?: string;
  /** --rm: with -d, the record goes once the container has exited (foreground: always). */
  autoRemove: boolean;
  /** --init: husk's init runs as pid 1, reaping orphans and forwarding signals to the command. */
  init: boolean;
}

export function defaultLifecycleFlags(): LifecycleFlags {
  return { detach: false, autoRemove: false, init: false };
}

/** Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export function checkName(v: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v) || v.length > 128) {
    throw new HuskError('usage', `invalid container name "${v}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most 128)`);
  }
  return v;
}

export const LIFECYCLE_FLAGS: FlagSpec[] = [
  { names: ['--detach', '-d'], kind: 'bool', apply: (f) => (f.lifecycle.detach = true) },
  { names: ['--name'], kind: 'value', apply: (f, v) => (f.lifecycle.name = checkName(v)) },
  { names: ['--rm'], kind: 'bool', apply: (f) => (f.lifecycle.autoRemove = true) },
  { names: ['--init'], kind: 'bool', apply: (f) => (f.lifecycle.init = true) },
];
