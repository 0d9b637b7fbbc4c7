// The container's capabilities and privilege (item CAPABILITIES 0x0307; docs/core-abi.md
// "Capabilities"): docker's default set changed by --cap-add and --cap-drop as docker changes
// it (moby's caps.TweakCapabilities: ALL in --cap-add starts from every capability, ALL in
// --cap-drop from none, then the drops, then the adds), or with --privileged every capability
// husk itself holds. A capability husk's own bounding set lacks cannot be given: refused by name.

import { Failure, invalid, malformed } from "../abi";
import { Fields, STR_MAX } from "../codec";
import { ALL_CAPS, capabilityBit, capabilityName } from "../seccomp/caps";
import { DEFAULT_CAPS } from "./exec";

export const REQ_CAPABILITIES: u32 = 0x0307;
/** CAPABILITIES flags: bit 0 --privileged. */
export const CAPS_PRIVILEGED: u64 = 1;

export class SecurityRequest {
  given: bool = false;
  privileged: bool = false;
  /** husk's own bounding set (CapBnd): what --privileged and ALL can give. */
  bounding: u64 = ALL_CAPS;
  add: string[] = [];
  drop: string[] = [];
}

export function isSecurityItem(type: u32): bool {
  return type == REQ_CAPABILITIES;
}

export function decodeSecurityItem(ptr: usize, len: i32, index: i32, req: SecurityRequest): Failure | null {
  const f = Fields.ofFrame(ptr, len, index, "CAPABILITIES");
  if (req.given) return malformed(f.context + ": given twice");
  req.given = true;
  const flags = f.u64("flags");
  req.bounding = f.u64("bounding");
  req.add = f.strs("add", STR_MAX);
  req.drop = f.strs("drop", STR_MAX);
  if (!f.finish()) return f.failure;
  if ((flags & ~CAPS_PRIVILEGED) != 0) return malformed(f.context + ": flags: unknown bits 0x" + flags.toString(16));
  req.privileged = flags == CAPS_PRIVILEGED;
  return null;
}

/** The capability set, or why it cannot be (`failure`). */
export class Capabilities {
  failure: Failure | null = null;
  caps: u64 = DEFAULT_CAPS;
}

function bits(names: string[], flag: string, out: Capabilities): u64 {
  let set: u64 = 0;
  for (let i = 0; i < names.length; i++) {
    if (names[i].toUpperCase() == "ALL") continue;
    const bit = capabilityBit(names[i]);
    if (bit < 0) {
      if (out.failure === null) out.failure = invalid(flag + ": unknown capability \"" + names[i] + "\"");
      continue;
    }
    set |= <u64>1 << <u64>bit;
  }
  return set;
}

function hasAll(names: string[]): bool {
  for (let i = 0; i < names.length; i++) if (names[i].toUpperCase() == "ALL") return true;
  return false;
}

export function containerCapabilities(req: SecurityRequest): Capabilities {
  const out = new Capabilities();
  if (!req.given) return out;
  const own = req.bounding & ALL_CAPS;
  if (req.privileged) {
    out.caps = own;
    return out;
  }
  const add = bits(req.add, "cap-add", out);
  const drop = bits(req.drop, "cap-drop", out);
  if (out.failure !== null) return out;
  let caps = hasAll(req.add) ? own : DEFAULT_CAPS;
  caps = hasAll(req.drop) ? 0 : caps & ~drop;
  caps |= add;
  // Only what was asked for is checked: the default set is what husk always gives.
  const missing = add & ~own;
  if (missing != 0) {
    let bit = 0;
    while (((missing >> <u64>bit) & 1) == 0) bit++;
    out.failure = invalid("cap-add: " + capabilityName(bit) + ": husk does not hold it here (its capability bounding set lacks it), so no container it starts can");
    return out;
  }
  out.caps = caps;
  return out;
}
