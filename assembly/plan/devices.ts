// `husk run --device HOST[:CONTAINER][:PERMS]` (docker's flag; item 0x032f, docs/core-abi.md
// "buildPlan"): the host's device node (ts/ resolved it and checked it is one) bound into the
// container's /dev tmpfs at CONTAINER (default: the host path), after the default devices,
// and allowed by the container's device cgroup (deviceCgroupRules below). PERMS other than
// rwm are refused rather than ignored: a rootless container has no device cgroup to enforce
// them (a device node opens for writing even on a read-only mount).
//
// The device cgroup is docker's protection against a container that keeps CAP_MKNOD: it may
// make any node (`c *:* m`, `b *:* m`) but open only the harmless ones and those --device
// names. Without it a container's root could mknod the host's disk and read it.

import { Failure, invalid } from "../abi";
import { Write } from "../cgroup/resources";
import { Fields, PATH_MAX } from "../codec";
import { ACC_ALL, DEV_ALL, DEV_ANY, DeviceRule, devicesProgram, parseRuleLine } from "../cgroup/devices";
import { CgroupRequest, deviceCgroupKind, v1DevicesAt } from "./cgroup";
import { PlanWriter } from "./encode";
import { BIND_CREATE } from "./linux";
import { insideRoot } from "./oci-mounts";

export const REQ_RUN_DEVICE: u32 = 0x032f;
const DEVICES_MAX: i32 = 64;

export class RunDevice {
  constructor(public host: string, public container: string, public perms: string, public kind: string, public major: u64, public minor: u64) {}
}

/** runc's devices every container may use (specconv AllowedDevices), as docker's default. */
export const DEFAULT_DEVICE_RULES: string[] = [
  "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
];
const MINOR_MAX: u64 = 0xfffff;
const MAJOR_MAX: u64 = 0xfff;

export function decodeRunDevice(f: Fields, out: RunDevice[]): Failure | null {
  const host = f.str("host", PATH_MAX);
  const container = f.str("container", PATH_MAX);
  const perms = f.str("perms", 8);
  const kind = f.str("kind", 1);
  const major = f.u64("major");
  const minor = f.u64("minor");
  if (out.length == DEVICES_MAX) return invalid("device: more than 64 devices");
  out.push(new RunDevice(host, container, perms, kind, major, minor));
  return null;
}

export function checkRunDevices(devices: RunDevice[]): Failure | null {
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    const what = "device " + d.host;
    if (d.host.length == 0 || d.host.charCodeAt(0) != 0x2f) return invalid(what + ": not an absolute host path");
    const inside = insideRoot(d.container);
    if (d.container.length == 0 || d.container.charCodeAt(0) != 0x2f || inside === null || inside == "") return invalid(what + ": \"" + d.container + "\" is not an absolute path inside the container");
    if (d.kind != "c" && d.kind != "b") return invalid(what + ": not a character or block device");
    if (d.major > MAJOR_MAX || d.minor > MINOR_MAX) return invalid(what + ": device number " + d.major.toString() + ":" + d.minor.toString() + " out of range");
    if (d.perms.length == 0) return invalid(what + ": no permissions (r, w, m)");
    for (let k = 0; k < d.perms.length; k++) {
      const c = d.perms.charAt(k);
      if (c != "r" && c != "w" && c != "m") return invalid(what + ": \"" + d.perms + "\" is not a set of r, w, m");
    }
    if (d.perms.indexOf("r") < 0 || d.perms.indexOf("w") < 0 || d.perms.indexOf("m") < 0) {
      return invalid(what + ": permissions \"" + d.perms + "\" cannot be enforced on every host (only rwm)");
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

/**
 * The container's device cgroup: deny all, then docker's defaults, then each --device. On a
 * v1 devices controller as devices.deny/devices.allow writes; without one, on the container's
 * cgroup v2 directory as a BPF program (CGROUP_DEVICES) that means the same. Not for
 * --privileged (every device, as docker) nor without a cgroup for it (rootless).
 */
export function deviceCgroupRules(cg: CgroupRequest, devices: RunDevice[], privileged: bool): Failure | null {
  if (privileged) return null;
  const kind = deviceCgroupKind(cg);
  const lines = new Array<string>();
  for (let i = 0; i < DEFAULT_DEVICE_RULES.length; i++) lines.push(DEFAULT_DEVICE_RULES[i]);
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    lines.push(d.kind + " " + d.major.toString() + ":" + d.minor.toString() + " rwm");
  }
  if (kind == "v1") {
    const writes = cg.writes[v1DevicesAt(cg)];
    writes.push(new Write("devices", "devices.deny", "a"));
    for (let i = 0; i < lines.length; i++) writes.push(new Write("devices", "devices.allow", lines[i]));
  } else if (kind == "v2") {
    const rules = new Array<DeviceRule>();
    rules.push(new DeviceRule(false, DEV_ALL, DEV_ANY, DEV_ANY, ACC_ALL));
    for (let i = 0; i < lines.length; i++) rules.push(parseRuleLine(true, lines[i]));
    return devicesProgram(rules, "device", cg.devicesProgram);
  }
  return null;
}
