// ociUpdate: `husk-runc update`'s new linux.resources for a container that exists, as a
// control plan (docs/core-abi.md "ociUpdate", docs/protocol.md "Control plans"). The request
// is ociPlan's: OCI_RESOURCE items (0x0320) and the cgroup items (0x0120, 0x0121, 0x0123)
// naming the container's cgroup (its parent and name, as at create); the answer is HELLO,
// one CGROUP_SET per file the cgroup module writes for those limits (v1, v2 or hybrid, in
// the module's order), END. Nothing to write: 0 bytes.
//
// Only what update can change is accepted: device rules are the container's from create
// (runc's update has no flag for them either); a field the cgroup module does not know is
// refused by name, as at create.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { FrameReader, Fields, PATH_MAX, STR_MAX, Writer } from "../codec";
import { checkCgroupShape, CgroupRequest, containerDir, decodeCgroupFrame, isCgroupItem, REQ_CGROUP, validateCgroup } from "./cgroup";
import { Write } from "../cgroup/resources";
import { HELLO_MAGIC, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "./encode";
import { ociLimits } from "./oci";
import { OciPair, REQ_OCI_DEVICE_RULE, REQ_OCI_RESOURCE } from "./oci-request";

/** The control op that writes one file of an existing cgroup directory (protocol.md). */
const T_CGROUP_SET: u16 = 0x00a5;
const RESOURCES_MAX: i32 = 64;

export function ociUpdate(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const cg = new CgroupRequest();
  const resources = new Array<OciPair>();
  let failure = decode(ptr, len, cg, resources);
  if (failure === null) failure = checkCgroupShape(cg);
  if (failure === null && !cg.present) failure = invalid("update: this container has no cgroup to update");
  if (failure === null) failure = ociLimits(resources, cg, true);
  if (failure === null) {
    const problem = validateCgroup(cg);
    if (problem !== null) failure = invalid("linux.resources: " + problem.reason);
  }
  if (failure !== null) return fail(failure);
  const w = new Writer(PLAN_MAX);
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
  let ops = 0;
  for (let i = 0; i < cg.used.length; i++) {
    const dir = containerDir(cg, cg.used[i]);
    const writes = cg.writes[i];
    // v1 refuses a memory limit over the current memory+swap limit and the reverse, so from
    // any old pair to any new one: memory+swap unlimited first, then the module's order.
    if (cg.used[i].version == 1 && hasFile(writes, "memory.memsw.limit_in_bytes") && hasFile(writes, "memory.limit_in_bytes")) {
      w.begin(T_CGROUP_SET, "cgroup-set");
      w.str("path", dir + "/memory.memsw.limit_in_bytes", PATH_MAX);
      w.str("value", "-1", STR_MAX);
      w.end();
    }
    for (let k = 0; k < writes.length; k++) {
      w.begin(T_CGROUP_SET, "cgroup-set");
      w.str("path", dir + "/" + writes[k].file, PATH_MAX);
      w.str("value", writes[k].value, STR_MAX);
      w.end();
      ops++;
    }
  }
  if (ops == 0) return answer(w.buf, 0);
  w.begin(T_END, "end");
  w.end();
  if (!w.ok) return fail(invalid("update: " + (w.failure !== null ? <string>w.failure : "the plan does not fit")));
  return answer(w.buf, w.len);
}

function hasFile(writes: Write[], file: string): bool {
  for (let i = 0; i < writes.length; i++) if (writes[i].file == file) return true;
  return false;
}

function decode(ptr: usize, len: i32, cg: CgroupRequest, resources: OciPair[]): Failure | null {
  const r = new FrameReader(ptr, len);
  while (r.next()) {
    const type = <u32>r.type;
    if (type == REQ_CGROUP || isCgroupItem(type)) {
      const failure = decodeCgroupFrame(type, r.payload, r.payloadLength, r.index, cg);
      if (failure !== null) return failure;
      continue;
    }
    if (type == REQ_OCI_DEVICE_RULE) return invalid("linux.resources.devices: update cannot change a container's device rules (they are set at create)");
    if (type != REQ_OCI_RESOURCE) return malformed(r.where() + ": unknown type 0x" + type.toString(16));
    if (resources.length == RESOURCES_MAX) return malformed(r.where() + ": more than 64 OCI_RESOURCE items");
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "OCI_RESOURCE");
    resources.push(new OciPair(f.str("name", 256), f.str("value", STR_MAX)));
    if (!f.finish()) return f.failure;
  }
  return r.failure;
}
