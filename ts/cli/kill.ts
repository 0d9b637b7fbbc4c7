// husk kill [-s SIGNAL] CONTAINER...: a signal (default KILL) to the container's process, as
// docker's kill; the name is read by the core (`KILL`, `SIGTERM`, `9`, `RTMIN+3`). Sent by a
// control plan through a pidfd checked against the recorded start time: a recycled pid is
// never hit.
import type { StartStopCommand } from './args-lifecycle.js';
import { HuskError } from '../errors.js';
import { eachContainer, label } from './each-container.js';
import { statusOfRecord } from '../runtime/records.js';
import { signalProcess } from '../runtime/control.js';
import { processOf } from '../runtime/stop.js';

export async function killCommand(cmd: Extract<StartStopCommand, { name: 'kill' }>): Promise<number> {
  return eachContainer(cmd.global.root, cmd.targets, async (rec, t) => {
    const status = statusOfRecord(rec, t.host);
    const proc = processOf(rec);
    if ((status !== 'running' && status !== 'paused') || proc === undefined) throw new HuskError('invalid-value', `cannot kill container ${label(rec)}: it is not running`);
    const sent = await signalProcess(proc.pid, proc.startTime, cmd.signal);
    if (sent === 'gone') throw new HuskError('invalid-value', `cannot kill container ${label(rec)}: it is not running`);
  });
}
