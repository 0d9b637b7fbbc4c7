// husk attach: joins a running container's stdio through its monitor's socket (docs/protocol.md
// "The attach socket"): its output on ours, our stdin to it when it keeps stdin open (-i),
// and with a pty our terminal raw, its size followed, ctrl-p ctrl-q to detach. Returns the
// container's exit status once it ends, 0 on detach.
import type { MonitorCommand } from './args-monitor.js';
import { HuskError } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { attachPath, exitCode, findContainer, readStatusFile, statusFilePath, statusOfRecord, sweep } from '../runtime/records.js';
import { attach } from '../runtime/attach-client.js';
import { parseDetachKeys } from './flags-stdio.js';

type AttachCommand = Extract<MonitorCommand, { name: 'attach' }>;

export async function attachCommand(cmd: AttachCommand): Promise<number> {
  const host = await cgroupHost();
  const records = await sweep(cmd.global.root, async () => host);
  const rec = findContainer(records, cmd.target);
  const status = statusOfRecord(rec, host);
  const who = rec.name ?? rec.id.slice(0, 12);
  if (status !== 'running' && status !== 'paused') throw new HuskError('invalid-value', `cannot attach to container ${who}: it is not running`);
  if (!rec.detached) throw new HuskError('invalid-value', `cannot attach to container ${who}: its output goes to the terminal that ran it`);
  const keys = cmd.detachKeys !== undefined ? parseDetachKeys(cmd.detachKeys) : undefined;
  if (rec.tty && rec.stdinOpen && !cmd.noStdin && !process.stdin.isTTY) {
    throw new HuskError('invalid-value', 'the input device is not a TTY', { hint: 'Use --no-stdin to only watch the output.' });
  }
  const how = await attach(attachPath(cmd.global.root, rec.id), { stdin: rec.stdinOpen === true && !cmd.noStdin, tty: rec.tty === true, detachKeys: keys });
  if (how === 'detached') return 0;
  const ended = readStatusFile(statusFilePath(cmd.global.root, rec.id));
  if (!ended?.exit) throw new HuskError('launcher', `container ${who}: its monitor ended without leaving its exit status (killed?)`);
  return exitCode(ended.exit);
}
