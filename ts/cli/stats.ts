// husk stats: cpu %, memory usage and limit, block io and pids of running containers, read
// from their cgroups. A table that refreshes (on a terminal: in place), --no-stream for one
// reading, --format json for one JSON object a line (docker's fields, plus raw numbers).
import type { LifecycleCommand } from './args-lifecycle.js';
import { bytesText } from '../cgroup/evidence.js';
import { cgroupHost } from '../cgroup/host.js';
import type { CgroupHost, CgroupStats } from '../cgroup/host.js';
import { findContainer, statusOfRecord, sweep } from '../runtime/records.js';
import type { ContainerRecord } from '../runtime/state.js';
import { formatTable } from './ps.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StatsRow {
  id: string;
  name: string;
  /** Percent of one CPU (200% = two CPUs busy), over the last interval. */
  cpuPercent: number;
  stats: CgroupStats;
}

function sample(host: CgroupHost, recs: ContainerRecord[]): Map<string, { at: bigint; stats: CgroupStats }> {
  const out = new Map<string, { at: bigint; stats: CgroupStats }>();
  for (const rec of recs) out.set(rec.id, { at: process.hrtime.bigint(), stats: host.stats(host.dirsOf(rec.cgroups ?? [])) });
  return out;
}

export function rowsOf(recs: ContainerRecord[], before: ReturnType<typeof sample>, after: ReturnType<typeof sample>): StatsRow[] {
  return recs.flatMap((rec) => {
    const a = before.get(rec.id);
    const b = after.get(rec.id);
    if (!a || !b) return [];
    const wall = Number(b.at - a.at);
    const cpu = a.stats.cpuNs !== undefined && b.stats.cpuNs !== undefined && wall > 0 ? ((b.stats.cpuNs - a.stats.cpuNs) / wall) * 100 : 0;
    return [{ id: rec.id, name: rec.name ?? rec.id.slice(0, 12), cpuPercent: Math.max(0, cpu), stats: b.stats }];
  });
}

function dockerFields(r: StatsRow): Record<string, unknown> {
  const m = r.stats.memory;
  const memPerc = m && m.limit > 0 ? (m.usage / m.limit) * 100 : 0;
  const io = r.stats.blkio;
  return {
    BlockIO: io ? `${bytesText(io.read)} / ${bytesText(io.write)}` : '--',
    CPUPerc: `${r.cpuPercent.toFixed(2)}%`,
    Container: r.id.slice(0, 12),
    ID: r.id.slice(0, 12),
    MemPerc: `${memPerc.toFixed(2)}%`,
    MemUsage: m ? `${bytesText(m.usage)} / ${bytesText(m.limit)}` : '--',
    Name: r.name,
    NetIO: '--',
    PIDs: String(r.stats.pids?.current ?? 0),
  };
}

export function statsTable(rows: StatsRow[]): string {
  const table = [['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'BLOCK I/O', 'PIDS']];
  for (const r of rows) {
    const d = dockerFields(r);
    table.push([d.ID, d.Name, d.CPUPerc, d.MemUsage, d.MemPerc, d.BlockIO, d.PIDs].map(String));
  }
  return formatTable(table);
}

export function statsJson(r: StatsRow): string {
  const s = r.stats;
  return JSON.stringify({
    ...dockerFields(r),
    Raw: {
      cpuPercent: r.cpuPercent,
      cpuNs: s.cpuNs ?? null,
      memoryUsage: s.memory?.usage ?? null,
      memoryLimit: s.memory?.limited ? s.memory.limit : null,
      pids: s.pids?.current ?? null,
      pidsLimit: s.pids?.limit ?? null,
      blkioRead: s.blkio?.read ?? null,
      blkioWrite: s.blkio?.write ?? null,
    },
  });
}

export async function statsCommand(cmd: Extract<LifecycleCommand, { name: 'stats' }>): Promise<number> {
  const host = await cgroupHost();
  const pick = async (): Promise<ContainerRecord[]> => {
    const records = await sweep(cmd.global.root, cgroupHost);
    const chosen = cmd.targets.length ? cmd.targets.map((t) => findContainer(records, t)) : records;
    return chosen.filter((r) => statusOfRecord(r, host) !== 'exited' && r.cgroups?.length);
  };
  let recs = await pick();
  const interval = cmd.stream ? 1000 : 500;
  let before = sample(host, recs);
  let stop = false;
  const onInt = () => (stop = true);
  process.on('SIGINT', onInt);
  try {
    for (;;) {
      await sleep(interval);
      const after = sample(host, recs);
      const rows = rowsOf(recs, before, after);
      if (cmd.format === 'json') process.stdout.write(rows.map((r) => statsJson(r) + '\n').join(''));
      else if (cmd.stream && process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${statsTable(rows)}`);
      else process.stdout.write(statsTable(rows));
      if (!cmd.stream || stop) return 0;
      if (cmd.targets.length === 0) {
        recs = await pick();
        before = sample(host, recs);
      } else before = after;
    }
  } finally {
    process.off('SIGINT', onInt);
  }
}
