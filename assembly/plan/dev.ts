// /dev, as docker makes it: a small tmpfs with the host's harmless character devices bound in,
// a private devpts instance, the usual symlinks, /dev/shm and (with a new IPC namespace)
// /dev/mqueue. Paths are relative to the new root (after SET_ROOT).

import { PlanWriter } from "./encode";
import { PlanRequest } from "./request";
import { BIND_CREATE, CLONE_NEWIPC, MS_NODEV, MS_NOEXEC, MS_NOSUID } from "./linux";

/** The host nodes every container gets (docker's defaults; ./host-devices.ts skips them). */
export const DEFAULT_DEV_NODES: string[] = ["null", "zero", "full", "random", "urandom", "tty"];

export function devOps(plan: PlanWriter, req: PlanRequest): void {
  plan.mount("tmpfs", "dev", "tmpfs", MS_NOSUID, "mode=755,size=65536k");
  for (let i = 0; i < DEFAULT_DEV_NODES.length; i++) {
    plan.bind("/dev/" + DEFAULT_DEV_NODES[i], "dev/" + DEFAULT_DEV_NODES[i], BIND_CREATE);
  }
  plan.mkdir("dev/pts", 0o755);
  // gid 5 (tty) is only known to exist without a user namespace.
  const ptsData = req.userns ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5";
  plan.mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, ptsData);
  plan.symlink("pts/ptmx", "dev/ptmx");
  plan.symlink("/proc/self/fd", "dev/fd");
  plan.symlink("/proc/self/fd/0", "dev/stdin");
  plan.symlink("/proc/self/fd/1", "dev/stdout");
  plan.symlink("/proc/self/fd/2", "dev/stderr");
  plan.mkdir("dev/shm", 0o755);
  plan.mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  if ((req.namespaces & CLONE_NEWIPC) != 0) {
    plan.mkdir("dev/mqueue", 0o755);
    plan.mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  }
}
