// Whether this kernel lets a user namespace mount an overlayfs with userxattr, as a rootless
// container's OVERLAY does: asked of the kernel (an fs plan of one OVERLAY_PROBE, docs/protocol.md),
// never guessed from its version. Where it refuses, a run copies its image onto the stage
// instead (the flatten fallback, assembly/plan/flatten.ts). Asked once per run that may have
// a user namespace and stacks an image (a static launcher, a fork and two detached mounts:
// 13.8 ms wall per probe on the loaded 2-core build VM, most of it Node's spawnSync); nothing
// is kept, so nothing is left. HUSK_OVERLAY_FLATTEN=1 takes the
// fallback without asking (tests, and a kernel whose overlay mounts but misbehaves).
import { spawnSync } from 'node:child_process';
import { fsPlan } from '../core/fs.js';
import { HuskError } from '../errors.js';
import { EventStream, type LauncherEvent } from '../protocol/events.js';
import { launcherPath } from './paths.js';
import { errnoName } from './outcome.js';

export interface OverlayAnswer {
  allowed: boolean;
  /** Why not: the refused call's errno name, or `HUSK_OVERLAY_FLATTEN=1`. */
  why?: string;
}

export function overlayInUserns(): OverlayAnswer {
  if (process.env.HUSK_OVERLAY_FLATTEN === '1') return { allowed: false, why: 'HUSK_OVERLAY_FLATTEN=1' };
  const plan = fsPlan('/', [{ op: 'overlay-probe' }]);
  // Synchronous: the run's request is built synchronously, and the probe takes milliseconds.
  const r = spawnSync(launcherPath(), ['--plan-fd', '0', '--event-fd', '1'], { input: plan, stdio: ['pipe', 'pipe', 'ignore'] });
  if (r.error) throw new HuskError('launcher', `probing overlayfs in a user namespace: ${r.error.message}`);
  let events: LauncherEvent[] = [];
  try {
    events = new EventStream().push(r.stdout);
  } catch {
    // Judged by the exit status below.
  }
  if (r.status === 0) return { allowed: true };
  const failed = events.find((e): e is Extract<LauncherEvent, { kind: 'error' }> => e.kind === 'error');
  // Op 1 is OVERLAY_PROBE (op 0 opens `/`).
  if (failed === undefined || failed.index !== 1) {
    throw new HuskError('launcher', `probing overlayfs in a user namespace: the launcher failed (${failed?.message ?? `status ${r.status}`})`);
  }
  return { allowed: false, why: failed.errno ? errnoName(failed.errno) : failed.message };
}
