// `husk-runc events [--stats] [--interval D] ID`: the container's resource use as runc's
// events print it, one JSON object a line: `{"type":"stats","id":ID,"data":{cpu, memory,
// pids, blkio}}`. --stats prints one and exits; without it a line every interval until the
// container stops. Read from the container's own cgroup (v1, v2 or hybrid).
import { setTimeout as sleep } from 'node:timers/promises';
import { RuncError } from './args.js';
import type { RuncCommand } from './args.js';
import { mustRead, readState, statusOf } from './state.js';
import type { RuncState } from './state.js';

type EventsCommand = Extract<RuncCommand, { name: 'events' }>;

async function statsOf(st: RuncState): Promise<Record<string, unknown>> {
  const { cgroupHost } = await import('../cgroup/host.js');
  const host = await cgroupHost();
  const s = host.stats(host.dirsOf(st.cgroupDirs));
  const data: Record<string, unknown> = { cpu: { usage: { total: s.cpuNs ?? 0 }, throttling: {} } };
  // runc's memory.usage.limit is the cgroup's limit; unlimited is the kernel's max, as v1 says.
  if (s.memory) data.memory = { usage: { usage: s.memory.usage, limit: s.memory.limited ? s.memory.limit : 9223372036854771712 } };
  if (s.pids) data.pids = { current: s.pids.current, ...(s.pids.limit !== undefined ? { limit: s.pids.limit } : {}) };
  if (s.blkio) data.blkio = { ioServiceBytesRecursive: [{ op: 'Read', value: s.blkio.read }, { op: 'Write', value: s.blkio.write }] };
  return { type: 'stats', id: st.id, data };
}

export async function eventsCommand(root: string, cmd: EventsCommand): Promise<number> {
  const first = mustRead(root, cmd.id);
  if (statusOf(root, first) === 'stopped') throw new RuncError(`container with id ${cmd.id} is not running`);
  for (;;) {
    const st = readState(root, cmd.id);
    if (st === undefined || statusOf(root, st) === 'stopped') return 0;
    process.stdout.write(`${JSON.stringify(await statsOf(st))}\n`);
    if (cmd.stats) return 0;
    await sleep(cmd.intervalMs);
  }
}
