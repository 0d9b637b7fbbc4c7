// What the launcher's CGROUP_FILE events (read after the container ended, before its cgroups
// were removed) say: was anything OOM-killed, what was the memory limit, its peak, and how
// often the pids limit refused a fork.
import { keyedValues } from './host.js';

export interface CgroupFile {
  path: string;
  content: string;
}

export interface CgroupEvidence {
  /** Processes the OOM killer killed in the container's memory cgroup. */
  oomKills: number;
  /** Bytes; undefined when unlimited or not reported. */
  memoryLimit?: number;
  memoryPeak?: number;
  /** Times a fork was refused at pids.max. */
  pidsLimitHits?: number;
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export function cgroupEvidence(files: readonly CgroupFile[]): CgroupEvidence {
  const ev: CgroupEvidence = { oomKills: 0 };
  for (const f of files) {
    const text = f.content.trim();
    switch (base(f.path)) {
      case 'memory.oom_control': // v1: oom_kill_disable 0 / under_oom 0 / oom_kill N
      case 'memory.events': // v2: low / high / max / oom / oom_kill N
        ev.oomKills += keyedValues(text).get('oom_kill') ?? 0;
        break;
      case 'memory.limit_in_bytes':
      case 'memory.max': {
        const n = Number(text);
        if (text !== 'max' && Number.isFinite(n) && n < 2 ** 62) ev.memoryLimit = n;
        break;
      }
      case 'memory.max_usage_in_bytes':
      case 'memory.peak':
        if (/^\d+$/.test(text)) ev.memoryPeak = Number(text);
        break;
      case 'pids.events':
        ev.pidsLimitHits = keyedValues(text).get('max') ?? 0;
        break;
    }
  }
  return ev;
}

/** 33554432 → `32MiB`, as docker prints sizes (binary units). */
export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2).replace(/\.?0+$/, '');
  return `${text}${units[i]}`;
}

/** The line husk prints when the container (or a process in it) was OOM-killed. */
export function oomMessage(ev: CgroupEvidence, mainKilled: boolean): string | undefined {
  if (ev.oomKills === 0) return undefined;
  const limit = ev.memoryLimit !== undefined ? ` (memory limit ${bytesText(ev.memoryLimit)})` : '';
  return mainKilled ? `container was OOM-killed${limit}` : `a process in the container was OOM-killed${limit}`;
}
