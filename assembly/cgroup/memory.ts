// memory: --memory, --memory-swap and --memory-reservation, whole: the values as typed,
// docker's checks and defaults, and the files they become (runc libcontainer/cgroups/fs/
// memory.go, fs2/memory.go). The one file that knows what these flags mean.

import { Outcome, parseSize } from "./parse";
import { Host, Resources, Write } from "./resources";

export const MEMORY_MIN: i64 = 6 * 1024 * 1024;
export const MEMORY_MAX: i64 = 1 << 62;

/** One memory flag as typed (`which`: 0 memory, 1 memory-swap, 2 memory-reservation). */
export function readMemoryFlag(out: Outcome, which: i32, name: string, value: string, r: Resources): void {
  if (which == 0) {
    r.memory = parseSize(out, name, value);
    if (!out.ok) return;
    if (r.memory != 0 && r.memory < MEMORY_MIN) out.refuse("memory: Minimum memory limit allowed is 6MB");
    else if (r.memory > MEMORY_MAX) out.refuse("memory: larger than 4 EiB");
  } else if (which == 1) {
    r.swap = value == "-1" ? -1 : parseSize(out, name, value);
  } else {
    r.reservation = parseSize(out, name, value);
    if (out.ok && r.reservation != 0 && r.reservation < MEMORY_MIN) {
      out.refuse("memory-reservation: Minimum memory reservation allowed is 6MB");
    }
  }
}

/** Docker's checks across the memory flags, in its order (before the CPU ones). */
export function checkMemory(out: Outcome, r: Resources): void {
  if (r.memory > 0 && r.swap > 0 && r.swap < r.memory) {
    out.refuse("memory-swap: Minimum memoryswap limit should be larger than memory limit, see usage");
  } else if (r.memory == 0 && r.swap > 0) {
    out.refuse("memory-swap: You should always set the Memory limit when using Memoryswap limit, see usage");
  } else if (r.memory > 0 && r.reservation > 0 && r.reservation > r.memory) {
    out.refuse("memory-reservation: Minimum memory limit can not be less than memory reservation limit, see usage");
  }
}

/** Docker's default: swap twice the memory when only --memory is given. */
export function memoryDefaults(r: Resources): void {
  if (r.memory > 0 && r.swap == 0) r.swap = r.memory * 2;
}

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
