// pids: pids.max on v1 and v2; a limit ≤ 0 is unlimited ("max").

import { Resources, Write } from "./resources";

export function pids(r: Resources, out: Write[]): void {
  if (r.hasPids) out.push(new Write("pids", "pids.max", r.pids > 0 ? r.pids.toString() : "max"));
}
