// Namespaces: the time namespace made before CLONE (its offsets can only be written before a
// process enters it), the CLONE flags, the id maps of a user namespace, and the ops that need
// a new UTS or network namespace.

import { PlanWriter } from "./encode";
import { PlanRequest } from "./request";
import { CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS } from "./linux";

/**
 * With a time offset: `unshare(CLONE_NEWTIME)` in the launcher, then its offsets for the
 * children's namespace (/proc/self/timens_offsets holds them until the first child enters).
 */
export function timeNamespaceOps(plan: PlanWriter, req: PlanRequest): void {
  if (!req.hasTimeOffset) return;
  plan.unshare(CLONE_NEWTIME);
  let text = "";
  if (req.hasMonotonic) text += "monotonic " + req.monotonic.toString() + " 0\n";
  if (req.hasBoottime) text += "boottime " + req.boottime.toString() + " 0\n";
  plan.writeFile("/proc/self/timens_offsets", text);
}

export function cloneFlags(req: PlanRequest): u64 {
  let flags = CLONE_NEWNS | req.namespaces;
  if (req.userns) flags |= CLONE_NEWUSER;
  return flags;
}

/**
 * Parent ops of a user namespace: container ids 0..size-1 are host ids hostStart.. . setgroups
 * stays `allow` (the file's default), as with rootful podman and docker userns-remap: the map
 * was written by a privileged parent, and USER calls setgroups([]) in the container.
 */
export function userNamespaceOps(plan: PlanWriter, req: PlanRequest, hostStart: u64): void {
  if (!req.userns) return;
  const line = "0 " + hostStart.toString() + " " + req.usernsSize.toString() + "\n";
  plan.uidMap(line);
  plan.gidMap(line);
}

/**
 * The first container op in a new user namespace: the process still has the host's ids, which
 * the namespace does not map (files it makes would fail with EOVERFLOW); it becomes root of
 * the namespace (host id hostStart) before it mounts anything.
 */
export function rootInUserNamespaceOps(plan: PlanWriter, req: PlanRequest): void {
  if (!req.userns) return;
  plan.user(0, 0, new Array<u64>());
}

/** After PIVOT_ROOT: the host name (a new UTS namespace only) and `lo` (a new net namespace). */
export function hostOps(plan: PlanWriter, req: PlanRequest): void {
  if ((req.namespaces & CLONE_NEWUTS) != 0 && req.hasHostname) plan.sethostname(req.hostname);
  if ((req.namespaces & CLONE_NEWNET) != 0) plan.loopbackUp();
}
