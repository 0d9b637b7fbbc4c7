// cgroupEnforcement: which resource flag this host can enforce, where, and for whom
// (docs/core-abi.md "cgroupEnforcement"; `husk info` shows it). The flag → controller table
// is the cgroup module's (resources.ts), the same one buildPlan routes the writes by.

import { answer, badLength, fail, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { controllerOfFlag, FLAG_NAMES, v2Name } from "./resources";

/** One hierarchy of the host (the same fields as buildPlan's CGROUP_HIERARCHY). */
export const EN_HIERARCHY: u32 = 0x0121;
export const EN_FLAG: u16 = 0x01b0;
const HIERARCHIES_MAX: i32 = 64;

class Place {
  constructor(public version: u64, public mountpoint: string) {}
}

/** Where `controller` can be used: a v1 hierarchy holding it wins over the v2 one. */
function placeOf(versions: u64[], mounts: string[], controllers: string[][], controller: string): Place | null {
  let found: Place | null = null;
  for (let i = 0; i < versions.length; i++) {
    if (!controllers[i].includes(controller)) continue;
    if (found === null || versions[i] == 1) found = new Place(versions[i], mounts[i]);
  }
  return found;
}

export function cgroupEnforcement(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const versions = new Array<u64>();
  const mounts = new Array<string>();
  const controllers = new Array<string[]>();
  while (frames.next()) {
    if (frames.type != EN_HIERARCHY) return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    if (versions.length == HIERARCHIES_MAX) return fail(malformed(frameContext(frames.index) + ": more than 64 hierarchies"));
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    const version = f.u64("version");
    const mountpoint = f.str("mountpoint", PATH_MAX);
    const list = f.strs("controllers", STR_MAX);
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
    if (version != 1 && version != 2) return fail(malformed(frameContext(frames.index) + ": version: unknown value " + version.toString()));
    versions.push(version);
    mounts.push(mountpoint);
    controllers.push(list);
  }
  if (frames.failure !== null) return fail(frames.failure!);

  const w = new Writer(1 << 20);
  for (let i = 0; i < FLAG_NAMES.length; i++) {
    const v1 = controllerOfFlag(FLAG_NAMES[i]);
    const v2 = v2Name(v1);
    const atV1 = placeOf(versions, mounts, controllers, v1);
    const atV2 = placeOf(versions, mounts, controllers, v2);
    const at = atV1 !== null && atV1.version == 1 ? atV1 : atV2 !== null && atV2.version == 2 ? atV2 : null;
    w.begin(EN_FLAG, "flag");
    w.str("flag", FLAG_NAMES[i], STR_MAX);
    if (at === null) {
      w.str("controller", v2, STR_MAX);
      w.u64(0);
      w.str("mountpoint", "", PATH_MAX);
      w.u64(0);
      w.u64(0);
      w.str("why", "no " + (v1 == v2 ? v1 : v1 + " (v1) or " + v2 + " (v2)") + " controller on this host", STR_MAX);
    } else {
      const name = at.version == 1 ? v1 : v2;
      w.str("controller", name, STR_MAX);
      w.u64(at.version);
      w.str("mountpoint", at.mountpoint, PATH_MAX);
      w.u64(1);
      w.u64(at.version == 2 ? 1 : 0);
      w.str("why", at.version == 1 ? name + " is a cgroup v1 controller, which cannot be delegated to a user" : "", STR_MAX);
    }
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}
