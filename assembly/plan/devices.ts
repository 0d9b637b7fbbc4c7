// `husk run --device HOST[:CONTAINER][:PERMS]` (docker's flag; item 0x032f, docs/core-abi.md
// "buildPlan"): the host's device node (ts/ resolved it and checked it is one) bound into the
// container's /dev tmpfs at CONTAINER (default: the host path), after the default devices.
// husk run sets up no device cgroup, and a device node opens for writing even on a read-only
// mount (may_open skips the read-only check for devices): PERMS other than rwm cannot be
// enforced, so they are refused rather than ignored.

import { Failure, invalid } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { PlanWriter } from "./encode";
import { BIND_CREATE } from "./linux";
import { insideRoot } from "./oci-mounts";

export const REQ_RUN_DEVICE: u32 = 0x032f;
const DEVICES_MAX: i32 = 64;

export class RunDevice {
  constructor(public host: string, public container: string, public perms: string) {}
}

export function decodeRunDevice(f: Fields, out: RunDevice[]): Failure | null {
  const host = f.str("host", PATH_MAX);
  const container = f.str("container", PATH_MAX);
  const perms = f.str("perms", 8);
  if (out.length == DEVICES_MAX) return invalid("device: more than 64 devices");
  out.push(new RunDevice(host, container, perms));
  return null;
}

export function checkRunDevices(devices: RunDevice[]): Failure | null {
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    const what = "device " + d.host;
    if (d.host.length == 0 || d.host.charCodeAt(0) != 0x2f) return invalid(what + ": not an absolute host path");
    const inside = insideRoot(d.container);
    if (d.container.length == 0 || d.container.charCodeAt(0) != 0x2f || inside === null || inside == "") return invalid(what + ": \"" + d.container + "\" is not an absolute path inside the container");
    if (d.perms.length == 0) return invalid(what + ": no permissions (r, w, m)");
    for (let k = 0; k < d.perms.length; k++) {
      const c = d.perms.charAt(k);
      if (c != "r" && c != "w" && c != "m") return invalid(what + ": \"" + d.perms + "\" is not a set of r, w, m");
    }
    if (d.perms.indexOf("r") < 0 || d.perms.indexOf("w") < 0 || d.perms.indexOf("m") < 0) {
      return invalid(what + ": permissions \"" + d.perms + "\" cannot be enforced: husk run sets up no device cgroup (only rwm)");
    }
  }
  return null;
}

export function runDeviceOps(plan: PlanWriter, devices: RunDevice[]): void {
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    plan.bind(d.host, <string>insideRoot(d.container), BIND_CREATE);
  }
}
