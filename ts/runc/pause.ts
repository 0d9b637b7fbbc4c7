// `husk-runc pause` and `resume`: freeze and thaw every process of a container (v1
// freezer.state, v2 cgroup.freeze) through a control plan (ts/runtime/control.ts), returning
// once the kernel says so. `state` then says "paused" (the freezer file chosen at create).
import { RuncError } from './args.js';
import { mustRead, statusOf } from './state.js';

export async function pauseCommand(root: string, id: string, pause: boolean): Promise<number> {
  const st = mustRead(root, id);
  const status = statusOf(root, st);
  if (pause && status === 'paused') throw new RuncError('container already paused');
  if (pause && status !== 'running' && status !== 'created') throw new RuncError(`container not running or created: ${status}`);
  if (!pause && status !== 'paused') throw new RuncError('container not paused');
  if (st.cgroupDirs.length === 0) throw new RuncError(`cannot ${pause ? 'pause' : 'resume'} container ${id}: it has no cgroup`);
  const { cgroupHost } = await import('../cgroup/host.js');
  const { freezeCgroups } = await import('../runtime/control.js');
  try {
    await freezeCgroups((await cgroupHost()).hierarchies, st.cgroupDirs, pause, `${pause ? 'pause' : 'resume'} container ${id}`);
  } catch (err) {
    throw new RuncError((err as Error).message);
  }
  return 0;
}
