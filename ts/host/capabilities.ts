// husk's own capability bounding set (/proc/self/status CapBnd): what `--privileged` and
// `--cap-add ALL` can give a container (a host may drop some from root's).
import { readFileSync } from 'node:fs';

export function ownBoundingSet(): bigint {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}
