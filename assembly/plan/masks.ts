// /proc and /sys, and the paths docker hides (MASK) or makes read-only (READONLY) in them.
// Paths are relative to the new root (after SET_ROOT).

import { PlanWriter } from "./encode";
import { PlanRequest } from "./request";
import { BIND_READONLY, BIND_RECURSIVE, CLONE_NEWNET, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "./linux";

/** Docker's default masked paths (moby oci/defaults.go), relative. */
export const MASKED_PATHS: string[] = [
  "proc/asound",
  "proc/acpi",
  "proc/kcore",
  "proc/keys",
  "proc/latency_stats",
  "proc/timer_list",
  "proc/timer_stats",
  "proc/sched_debug",
  "proc/scsi",
  "sys/firmware",
  "sys/devices/virtual/powercap",
];

/** Docker's default read-only paths, relative. */
export const READONLY_PATHS: string[] = [
  "proc/bus",
  "proc/fs",
  "proc/irq",
  "proc/sys",
  "proc/sysrq-trigger",
];

export function procOps(plan: PlanWriter): void {
  plan.mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
}

/** A new net namespace gets its own read-only sysfs; otherwise the host's /sys, read-only. */
/** --privileged: /sys writable, as docker's. */
export function sysOps(plan: PlanWriter, req: PlanRequest): void {
  const privileged = req.security.privileged;
  if ((req.namespaces & CLONE_NEWNET) != 0) {
    plan.mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (privileged ? 0 : MS_RDONLY), "");
  } else {
    plan.bind("/sys", "sys", BIND_RECURSIVE | (privileged ? 0 : BIND_READONLY));
  }
}

/** docker's masked and read-only paths; none with --privileged. */
export function maskOps(plan: PlanWriter, req: PlanRequest): void {
  if (req.security.privileged) return;
  for (let i = 0; i < MASKED_PATHS.length; i++) plan.mask(MASKED_PATHS[i]);
  for (let i = 0; i < READONLY_PATHS.length; i++) plan.readOnly(READONLY_PATHS[i]);
}
