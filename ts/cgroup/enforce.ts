// What each resource flag needs from the host, and whether this host can give it.
import type { CgroupFacts } from './detect.js';

export interface FlagSupport {
  flag: string;
  /** The controller the flag needs, by cgroup version (v1 blkio is v2 io). */
  controller: { v1: string; v2: string };
}

export const RESOURCE_FLAGS: FlagSupport[] = [
  { flag: '--memory', controller: { v1: 'memory', v2: 'memory' } },
  { flag: '--memory-swap', controller: { v1: 'memory', v2: 'memory' } },
  { flag: '--memory-reservation', controller: { v1: 'memory', v2: 'memory' } },
  { flag: '--cpus', controller: { v1: 'cpu', v2: 'cpu' } },
  { flag: '--cpu-shares', controller: { v1: 'cpu', v2: 'cpu' } },
  { flag: '--cpu-quota', controller: { v1: 'cpu', v2: 'cpu' } },
  { flag: '--cpu-period', controller: { v1: 'cpu', v2: 'cpu' } },
  { flag: '--cpuset-cpus', controller: { v1: 'cpuset', v2: 'cpuset' } },
  { flag: '--cpuset-mems', controller: { v1: 'cpuset', v2: 'cpuset' } },
  { flag: '--pids-limit', controller: { v1: 'pids', v2: 'pids' } },
  { flag: '--blkio-weight', controller: { v1: 'blkio', v2: 'io' } },
  { flag: '--device-read-bps', controller: { v1: 'blkio', v2: 'io' } },
  { flag: '--device-write-bps', controller: { v1: 'blkio', v2: 'io' } },
  { flag: '--device-read-iops', controller: { v1: 'blkio', v2: 'io' } },
  { flag: '--device-write-iops', controller: { v1: 'blkio', v2: 'io' } },
];

export interface Enforcement {
  flag: string;
  controller: string;
  version?: 1 | 2;
  mountpoint?: string;
  rootful: boolean;
  /** Rootless limits need a v2 controller delegated to the user; v1 cannot be delegated. */
  rootless: boolean;
  why?: string;
}

export function enforcement(facts: CgroupFacts): Enforcement[] {
  return RESOURCE_FLAGS.map(({ flag, controller }) => {
    const v1 = facts.controllers[controller.v1];
    const v2 = facts.controllers[controller.v2];
    const where = v1?.version === 1 ? v1 : v2?.version === 2 ? v2 : undefined;
    if (!where) return { flag, controller: controller.v2, rootful: false, rootless: false, why: `no ${controller.v1 === controller.v2 ? controller.v1 : `${controller.v1} (v1) or ${controller.v2} (v2)`} controller on this host` };
    const name = where.version === 1 ? controller.v1 : controller.v2;
    return {
      flag,
      controller: name,
      version: where.version,
      mountpoint: where.mountpoint,
      rootful: true,
      rootless: where.version === 2,
      why: where.version === 1 ? `${name} is a cgroup v1 controller, which cannot be delegated to a user` : undefined,
    };
  });
}
