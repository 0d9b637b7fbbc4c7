// cpuset: the lists as given (already checked against the host), cpus then mems.

import { Resources, Write } from "./resources";

/** Same files and order on v1 and v2 (runc fs/cpuset.go, fs2/cpuset.go). */
export function cpuset(r: Resources, out: Write[]): void {
  if (r.cpusetCpus.length > 0) out.push(new Write("cpuset", "cpuset.cpus", r.cpusetCpus));
  if (r.cpusetMems.length > 0) out.push(new Write("cpuset", "cpuset.mems", r.cpusetMems));
}
