// buildPlan: request frames in, plan frames out (docs/core-abi.md "buildPlan").
//
// Order: [UNSHARE time, WRITE_FILE offsets] CLONE [UID_MAP GID_MAP USER 0:0] private mounts, stage,
// image, SET_ROOT, proc, dev, sys, tmp, masks, workdir, PIVOT_ROOT, SETHOSTNAME, LOOPBACK_UP,
// CAPS, USER, CHDIR, NO_NEW_PRIVS, CLOSE_FDS, EXEC.

import { answer, badLength, fail, inputPointer, invalid } from "../abi";
import { AUTO_BASE, AUTO_END, pickAutoRange } from "../idmap/auto";
import { devOps } from "./dev";
import { PlanWriter } from "./encode";
import { processOps } from "./exec";
import { maskOps, procOps, sysOps } from "./masks";
import { cloneFlags, hostOps, rootInUserNamespaceOps, timeNamespaceOps, userNamespaceOps } from "./namespaces";
import { decodeRequest, PlanRequest, validateRequest } from "./request";
import { pivotOps, rootfsOps, tmpOps } from "./rootfs";

export function buildPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new PlanRequest();
  let failure = decodeRequest(ptr, len, req);
  if (failure === null) failure = validateRequest(req);
  if (failure !== null) return fail(failure);

  let hostStart: u64 = 0;
  if (req.userns) {
    const picked = pickAutoRange(req.used, req.usernsSize);
    if (picked < 0) {
      return fail(invalid("userns: no free range of " + req.usernsSize.toString() + " ids between " +
        AUTO_BASE.toString() + " and " + AUTO_END.toString()));
    }
    hostStart = <u64>picked;
  }

  const plan = new PlanWriter();
  plan.hello(req.options);
  timeNamespaceOps(plan, req);
  plan.clone(cloneFlags(req));
  userNamespaceOps(plan, req, hostStart);
  rootInUserNamespaceOps(plan, req);
  rootfsOps(plan, req);
  procOps(plan);
  devOps(plan, req);
  sysOps(plan, req);
  tmpOps(plan);
  maskOps(plan);
  pivotOps(plan, req);
  hostOps(plan, req);
  processOps(plan, req);
  plan.end();
  if (!plan.ok) return fail(invalid(plan.failure));
  return answer(plan.w.buf, plan.w.len);
}
