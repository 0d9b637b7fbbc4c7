// Resource flags of run and plan (--memory, --cpus, --pids-limit, --cgroup-parent, ...).
import type { FlagSpec } from './flag-spec.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ResourceFlags {}

export function defaultResourceFlags(): ResourceFlags {
  return {};
}

export const RESOURCE_FLAGS: FlagSpec[] = [];
