// Security flags of run, create and plan: --security-opt seccomp=FILE|unconfined and
// no-new-privileges[=true|false], --cap-add and --cap-drop (repeatable, ALL too), --privileged.
// The profile is read in ts/runtime/prepare.ts; every name is judged by the policy core.
import { HuskError } from '../errors.js';
import type { FlagSpec } from './flag-spec.js';

export interface SecurityFlags {
  /** `unconfined`, or a profile file; absent: husk's default (docker's profile). */
  seccomp?: string;
  /** --security-opt no-new-privileges (husk sets no_new_privs on every container anyway). */
  noNewPrivileges: boolean;
  /** As typed, in order (`SYS_ADMIN`, `CAP_NET_ADMIN`, `ALL`). */
  capAdd: string[];
  capDrop: string[];
  /** Every capability husk holds, no seccomp filter, no no_new_privs, /sys writable, no masked paths. */
  privileged: boolean;
}

export function defaultSecurityFlags(): SecurityFlags {
  return { noNewPrivileges: false, capAdd: [], capDrop: [], privileged: false };
}

function securityOpt(f: SecurityFlags, v: string): void {
  // docker takes `key=value` and, for old scripts, `key:value`.
  const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(v);
  const key = m?.[1];
  const value = m?.[2];
  if (key === 'seccomp' && value !== undefined && value !== '') {
    f.seccomp = value;
    return;
  }
  if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false')) {
    f.noNewPrivileges = value !== 'false';
    return;
  }
  throw new HuskError('usage', `invalid --security-opt "${v}": expected seccomp=FILE|unconfined or no-new-privileges[=true|false]`);
}

export const SECURITY_FLAGS: FlagSpec[] = [
  { names: ['--security-opt'], kind: 'value', apply: (f, v) => securityOpt(f.security, v) },
  { names: ['--cap-add'], kind: 'value', apply: (f, v) => f.security.capAdd.push(v) },
  { names: ['--cap-drop'], kind: 'value', apply: (f, v) => f.security.capDrop.push(v) },
  { names: ['--privileged'], kind: 'bool', apply: (f) => (f.security.privileged = true) },
];
