// buildPlan: request frames in; out, the summary (./summary.ts) then the plan frames
// (docs/core-abi.md "buildPlan").
//
// Order: [STATUS_FILE, cgroup dirs, limits, reports, INTO] [LOG] [UNSHARE time, WRITE_FILE offsets]
// CLONE [UID_MAP [SETGROUPS] GID_MAP IDMAP_TREE…] [CGROUP_JOIN…] [UNSHARE cgroup] [SETNS_FILE time] [USER 0:0] private mounts, stage,
// image, SET_ROOT, proc, dev, sys, [cgroups at sys/fs/cgroup], tmp, masks, workdir,
// PIVOT_ROOT, SETHOSTNAME, LOOPBACK_UP, CAPS, USER, CHDIR, NO_NEW_PRIVS, CLOSE_FDS, EXEC.

import { answer, badLength, fail, inputPointer, invalid } from "../abi";
import { checkPlanMaps, computeIdmap, IdmapResult } from "../idmap/compute";
import { cgroupJoinOps, cgroupLauncherOps, cgroupMountOps, unshareCgroupAfterJoin } from "./cgroup";
import { devOps } from "./dev";
import { runDeviceOps } from "./devices";
import { hostDeviceOps } from "./host-devices";
import { PlanWriter } from "./encode";
import { CLONE_NEWCGROUP, CLONE_NEWPID } from "./linux";
import { processOps } from "./exec";
import { PTY_PTMX } from "./stdio";
import { maskOps, procOps, sysOps } from "./masks";
import { cloneFlags, hostOps, idmappedSources, rootInUserNamespaceOps, timeNamespaceOps, userNamespaceOps } from "./namespaces";
import { HostDir, IMAGE_HOST, applyDefaults, applyImageConfig, decideNamespaces, decodeRequest, OPTION_DIES_WITH_MONITOR, PlanRequest, validateRequest } from "./request";
import { pivotOps, rootfsOps, tmpOps } from "./rootfs";
import { stdioLauncherOps } from "./stdio";
import { writeSummary } from "./summary";
import { joinContainerOps, joinOps, joinsUser } from "./joins";
import { netContainerOps, netFileOps, netPortsOp, netVethOp } from "../net/attach";
import { usermodeOps } from "../net/usermode";
import { readOnlyRootOps, sysctlOps, tmpfsOps } from "./run-options";

export function buildPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new PlanRequest();
  let failure = decodeRequest(ptr, len, req);
  if (failure === null) {
    decideNamespaces(req);
    applyDefaults(req);
    failure = applyImageConfig(req);
    if (failure === null) failure = validateRequest(req);
  }
  if (failure !== null) return fail(failure);

  const maps = new IdmapResult();
  failure = computeIdmap(req.idmap, maps);
  if (failure === null && req.userns) failure = checkPlanMaps(maps, req.idmap, req.uid, req.gid, idmappedSources(req).length);
  if (failure !== null) return fail(failure);

  const plan = new PlanWriter();
  writeSummary(plan.w, req, maps);
  // Bits 0-1 are HELLO's flags, bit 4 its bit 2; bit 2 is WAIT_START (exec.ts).
  plan.hello((req.options & 3) | ((req.options & OPTION_DIES_WITH_MONITOR) != 0 ? 4 : 0));
  cgroupLauncherOps(plan, req.cgroup);
  stdioLauncherOps(plan, req.stdio);
  timeNamespaceOps(plan, req);
  joinOps(plan, req.joins);
  // v1 and hybrid: the cgroup namespace is made by the container process once it is in its
  // cgroups (CGROUP_JOIN, its first ops), so that its root is the container's own cgroup.
  // The joins come before USER: the process is still host root for the tasks files then.
  if (joinsUser(req.joins)) {
    // `--userns ns:NAME`: nothing new at CLONE (it would belong to the host's user namespace);
    // the process joins its cgroups as host root, enters the user namespace, then makes the
    // rest, which are that namespace's own; a new pid namespace takes its children only, so
    // it forks (PID_FORK: the child is pid 1, the parent husk's init), as runc's nsexec does.
    plan.clone(0);
    cgroupJoinOps(plan, req.cgroup);
    joinContainerOps(plan, req.joins);
    plan.unshare(cloneFlags(req));
    if ((cloneFlags(req) & CLONE_NEWPID) != 0) plan.pidFork();
  } else {
    const cgroupAfter = unshareCgroupAfterJoin(req.cgroup, cloneFlags(req), CLONE_NEWCGROUP);
    plan.clone(cgroupAfter ? cloneFlags(req) & ~CLONE_NEWCGROUP : cloneFlags(req));
    userNamespaceOps(plan, req, maps);
    netVethOp(plan, req.net, req.id);
    netPortsOp(plan, req.net);
    usermodeOps(plan, req.usermode);
    cgroupJoinOps(plan, req.cgroup);
    if (cgroupAfter) plan.unshare(CLONE_NEWCGROUP);
    joinContainerOps(plan, req.joins);
  }
  rootInUserNamespaceOps(plan, req);
  rootfsOps(plan, req);
  procOps(plan);
  sysctlOps(plan, req.runOptions);
  devOps(plan, req);
  hostDeviceOps(plan, req.hostDevices, req.devices);
  runDeviceOps(plan, req.devices);
  sysOps(plan, req);
  cgroupMountOps(plan, req.cgroup, cloneFlags(req), CLONE_NEWCGROUP);
  tmpOps(plan);
  tmpfsOps(plan, req.runOptions);
  maskOps(plan, req);
  netFileOps(plan, req.net);
  pivotOps(plan, req);
  // -t: the pty is made in the container's own devpts, so `tty` names /dev/pts/0 inside.
  if (req.stdio.hasTty) plan.pty(PTY_PTMX);
  readOnlyRootOps(plan, req.runOptions, req.imageKind == IMAGE_HOST ? req.hostDirs : new Array<HostDir>());
  hostOps(plan, req);
  netContainerOps(plan, req.net);
  processOps(plan, req);
  plan.end();
  if (!plan.ok) return fail(invalid(plan.failure));
  return answer(plan.w.buf, plan.w.len);
}
