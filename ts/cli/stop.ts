// husk stop [-t SECS] and husk restart [-t SECS]: the stop signal, then SIGKILL after the
// timeout (default 10 s; runtime/stop.ts); restart then starts it again with the same
// writable layer (runtime/start.ts). Stopping a container that is not running does nothing.
import type { StartStopCommand } from './args-lifecycle.js';
import { eachContainer } from './each-container.js';
import { startTarget } from './start.js';
import { statusOfRecord } from '../runtime/records.js';
import { stopContainer } from '../runtime/stop.js';

const DEFAULT_TIMEOUT_S = 10;

export async function stopCommand(cmd: Extract<StartStopCommand, { name: 'stop' | 'restart' }>): Promise<number> {
  const timeout = cmd.timeout ?? DEFAULT_TIMEOUT_S;
  return eachContainer(cmd.global.root, cmd.targets, async (rec, t) => {
    let now = rec;
    const status = statusOfRecord(rec, t.host);
    if (status === 'running' || status === 'paused') {
      const stopped = await stopContainer(t.root, rec, t.host, timeout);
      if (stopped === undefined) {
        if (cmd.name === 'stop') return; // --rm: gone with its end
        now = rec; // restart of a --rm container: docker refuses it too, below
      } else now = stopped;
    }
    if (cmd.name === 'restart') await startTarget(t.root, now, t.ref);
  });
}
