// `husk run --privileged` (item 0x0337, docs/core-abi.md "buildPlan"): the host's device nodes
// in the container's /dev, as docker gives a privileged container. ts/ lists every character
// and block node under the host's /dev (a fact); the core decides which go in and binds each
// (BIND's create bit, the path --device uses) after the default devices and before --device.
//
// Left out, as docker's (containerd's HostDevices, runc's device setup) leaves them out:
// whatever lives under a directory named pts, shm, fd, mqueue, .lxc, .lxd-mounts or .udev
// (the container has its own devpts, shm and mqueue; the others are other tools' state), a
// node named console (the container's console is its own: the pty with -t, else none), ptmx
// (the container's is its devpts's, a symlink), the default devices already bound (null,
// zero, full, random, urandom, tty) and any path a --device names (that flag wins, as in
// docker). There is no device cgroup with --privileged (devices.ts), so nothing else changes.

import { Failure, invalid } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { DEFAULT_DEV_NODES } from "./dev";
import { RunDevice } from "./devices";
import { PlanWriter } from "./encode";
import { BIND_CREATE } from "./linux";
import { insideRoot } from "./oci-mounts";

export const REQ_HOST_DEVICE: u32 = 0x0337;
const HOST_DEVICES_MAX: i32 = 4096;
const SKIPPED_DIRS: string[] = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
const SKIPPED_NAMES: string[] = ["console", "ptmx"];

/** A host node: its path below the host's /dev (e.g. `loop0`, `input/event0`) and its type. */
export class HostDevice {
  constructor(public path: string, public kind: string) {}
}

export function decodeHostDevice(f: Fields, out: HostDevice[]): Failure | null {
  const path = f.str("path", PATH_MAX - 5);
  const kind = f.str("kind", 1);
  if (out.length == HOST_DEVICES_MAX) return invalid("--privileged: more than 4096 device nodes under the host's /dev");
  out.push(new HostDevice(path, kind));
  return null;
}

/** A path below /dev: relative, no empty, `.` or `..` component. */
function checkPath(path: string): bool {
  if (path.length == 0 || path.charCodeAt(0) == 0x2f) return false;
  const parts = path.split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == "." || p == "..") return false;
  }
  return true;
}

export function checkHostDevices(devices: HostDevice[], privileged: bool): Failure | null {
  if (devices.length > 0 && !privileged) return invalid("host devices: given without --privileged");
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    if (!checkPath(d.path)) return invalid("host device \"" + d.path + "\": not a path below /dev");
    if (d.kind != "c" && d.kind != "b") return invalid("host device /dev/" + d.path + ": not a character or block device");
  }
  return null;
}

/** Whether docker leaves this host node out of a privileged container (see the top). */
function skipped(path: string, runDevices: RunDevice[]): bool {
  const parts = path.split("/");
  for (let i = 0; i < parts.length - 1; i++) if (SKIPPED_DIRS.includes(parts[i])) return true;
  const name = parts[parts.length - 1];
  if (SKIPPED_NAMES.includes(name)) return true;
  if (parts.length == 1 && DEFAULT_DEV_NODES.includes(name)) return true;
  const inside = "dev/" + path;
  for (let i = 0; i < runDevices.length; i++) {
    const target = insideRoot(runDevices[i].container);
    if (target !== null && target == inside) return true;
  }
  return false;
}

export function hostDeviceOps(plan: PlanWriter, devices: HostDevice[], runDevices: RunDevice[]): void {
  const made = new Set<string>();
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    if (skipped(d.path, runDevices)) continue;
    const slash = d.path.lastIndexOf("/");
    if (slash > 0) {
      const parent = "dev/" + d.path.substring(0, slash);
      if (!made.has(parent)) {
        plan.mkdir(parent, 0o755);
        made.add(parent);
      }
    }
    plan.bind("/dev/" + d.path, "dev/" + d.path, BIND_CREATE);
  }
}
