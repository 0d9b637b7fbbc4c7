// The policy core's exports (docs/core-abi.md). Every entry point is `name(len: u32): i32`.

export { inputBuffer, outPtr, outLen } from "./abi";
export { buildPlan } from "./plan/build";

// ---- Other modules' entry points: append `export { name } from "./module";` lines below. ----
export { cgroupWrites } from "./cgroup/entry";
export { whiteoutClassify, whiteoutToOverlay, whiteoutFlatten, whiteoutFromOverlay } from "./whiteout/entry";
export { pathVerdicts } from "./pathsafe/entry";
export { idmapCompute, idmapTranslate } from "./idmap/entry";
export { controlPlan } from "./plan/control";
// A plan read back for people (`husk plan`, `--trace`): assembly/plan/describe.ts.
export { describePlan } from "./plan/describe";
export { cgroupEnforcement } from "./cgroup/enforce";
export { cgroupLimitValues } from "./cgroup/values";
// joinPlan: a process in namespaces that exist (`husk exec`, `husk enter`): assembly/plan/join.ts.
export { joinPlan } from "./plan/join";
// Files Node cannot make (devices, whiteouts, xattrs) as an fs plan: assembly/plan/fs.ts.
export { fsPlan } from "./plan/fs";
// pinPlan: make and pin namespaces, or unpin them (`husk ns`, `husk pod`): assembly/plan/pin.ts.
export { pinPlan } from "./plan/pin";
// networkPlan: a network's bridge, subnet, rules (`husk network create`, `rm`): assembly/net/network.ts.
export { networkPlan } from "./net/network";
// networkConnect: a running container joins or leaves one more network (`husk network connect|disconnect`).
export { networkConnect } from "./net/connect";
// seccompCompile: a seccomp profile (OCI linux.seccomp, docker's format) to BPF: assembly/seccomp/.
export { seccompCompile } from "./seccomp/entry";
// ociPlan: an OCI bundle's config.json as a plan (husk-runc): assembly/plan/oci.ts.
export { ociPlan, ociFeatures } from "./plan/oci";
// ociUpdate: `husk-runc update`, new limits for a container's cgroups: assembly/plan/oci-update.ts.
export { ociUpdate } from "./plan/oci-update";
// devicesProgram: device rules to a cgroup v2 BPF device program: assembly/cgroup/devices.ts.
export { devicesProgramEntry as devicesProgram } from "./cgroup/devices-entry";
// tarUnpack: a layer's tar, chunk by chunk, into write stream records (the common layer; anything else: BAIL).
export { tarUnpack } from "./tar/unpack";
