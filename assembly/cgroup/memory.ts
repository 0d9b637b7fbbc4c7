// memory: limit, swap and reservation (runc libcontainer/cgroups/fs/memory.go, fs2/memory.go).

import { Host, Resources, Write } from "./resources";

/** v1: a fresh cgroup's limit is max, so runc writes memsw first only when it is -1. */
export function memoryV1(host: Host, r: Resources, out: Write[]): void {
  const swap = host.swapAccounting ? r.swap : 0;
  if (r.memory != 0 && swap == -1) {
    out.push(new Write("memory", "memory.memsw.limit_in_bytes", "-1"));
    out.push(new Write("memory", "memory.limit_in_bytes", r.memory.toString()));
  } else {
    if (r.memory != 0) out.push(new Write("memory", "memory.limit_in_bytes", r.memory.toString()));
    if (swap != 0) out.push(new Write("memory", "memory.memsw.limit_in_bytes", swap.toString()));
  }
  if (r.reservation != 0) out.push(new Write("memory", "memory.soft_limit_in_bytes", r.reservation.toString()));
}

/** v2: memory.swap.max holds swap alone (runc's ConvertMemorySwapToCgroupV2Value). */
export function memoryV2(host: Host, r: Resources, out: Write[]): void {
  if (host.swapAccounting && r.swap != 0) {
    out.push(new Write("memory", "memory.swap.max", r.swap == -1 ? "max" : (r.swap - r.memory).toString()));
  }
  if (r.memory != 0) out.push(new Write("memory", "memory.max", r.memory.toString()));
  if (r.reservation != 0) out.push(new Write("memory", "memory.low", r.reservation.toString()));
}
