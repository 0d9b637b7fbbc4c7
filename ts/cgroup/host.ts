// What husk does with a container's cgroups once they exist: list its processes and threads,
// freeze and thaw it, read its usage, kill it, remove its directories. One interface
// (CgroupHost) with v1, v2 and hybrid behind it, chosen once from the host's layout
// (detect.ts); the launcher made the directories, the core decided where. This file only
// reads cgroup files: freezing, killing and removing are control plans (runtime/control.ts)
// that the core makes and the launcher runs.
//
// A container's cgroups are a list of directories, one per hierarchy (CgroupDir): on v1 one
// per controller hierarchy, on v2 one, on hybrid both kinds.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { CgroupFacts, Hierarchy, Layout } from './detect.js';
import { freezeCgroups, killContainer, removeCgroups } from '../runtime/control.js';
import { CoreError } from '../core/build-plan.js';
import { freezerFile } from '../core/control.js';

export interface CgroupDir {
  version: 1 | 2;
  /** v1: the hierarchy's controllers (`name=X` for a named one); v2: the usable controllers. */
  controllers: string[];
  /** Absolute path of the container's own directory. */
  path: string;
}

export interface CgroupStats {
  /** CPU time used, in nanoseconds. */
  cpuNs?: number;
  memory?: { usage: number; limit: number; limited: boolean };
  pids?: { current: number; limit?: number };
  blkio?: { read: number; write: number };
}

export interface CgroupHost {
  readonly layout: Layout;
  /** The host's cgroup mounts: what a control plan's directories must lie below. */
  readonly hierarchies: readonly Hierarchy[];
  /** The hierarchy of each of a container's directories, from their paths. */
  dirsOf(paths: readonly string[]): CgroupDir[];
  /** Process ids (tgids), in the container's cgroup and the ones below it. */
  processes(dirs: readonly CgroupDir[]): number[];
  /** Thread ids: v1 `tasks`, v2 `cgroup.threads`. */
  threads(dirs: readonly CgroupDir[]): number[];
  isFrozen(dirs: readonly CgroupDir[]): boolean;
  /** Freezes every process; resolves once the kernel says all are frozen. */
  freeze(dirs: readonly CgroupDir[]): Promise<void>;
  thaw(dirs: readonly CgroupDir[]): Promise<void>;
  stats(dirs: readonly CgroupDir[]): CgroupStats;
  /** Thaws, then kills every process (cgroup.kill where the kernel has it). */
  kill(dirs: readonly CgroupDir[]): Promise<void>;
  /** rmdir; thaw, kill and children first only where busy; returns the directories left. */
  remove(dirs: readonly CgroupDir[]): Promise<string[]>;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function ids(text: string | undefined): number[] {
  if (!text) return [];
  return text.split('\n').filter(Boolean).map(Number);
}

/** `key value` lines (memory.stat, cpu.stat, memory.events, pids.events). */
export function keyedValues(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** A directory and every cgroup below it, deepest first (at most 8 levels). */
function subtree(path: string, depth = 0): string[] {
  const out: string[] = [];
  if (depth < 8) {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      entries = [];
    }
    for (const e of entries) if (e.isDirectory()) out.push(...subtree(join(path, e.name), depth + 1));
  }
  out.push(path);
  return out;
}

function sum(list: number[]): number {
  return list.reduce((a, b) => a + b, 0);
}

/** Limits at or above 2^62 mean "none" on v1 (the kernel's PAGE_COUNTER_MAX rounded). */
const V1_UNLIMITED = 2 ** 62;

abstract class BaseCgroups implements CgroupHost {
  abstract readonly layout: Layout;

  constructor(protected readonly facts: CgroupFacts) {}

  get hierarchies(): readonly Hierarchy[] {
    return this.facts.hierarchies;
  }

  dirsOf(paths: readonly string[]): CgroupDir[] {
    const out: CgroupDir[] = [];
    for (const path of paths) {
      const h = this.facts.hierarchies
        .filter((x) => path === x.mountpoint || path.startsWith(x.mountpoint.endsWith('/') ? x.mountpoint : `${x.mountpoint}/`))
        .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
      if (h) out.push({ version: h.version, controllers: h.controllers, path });
    }
    return out;
  }

  /** The directory of a v1 controller's hierarchy, or of the v2 one that has it. */
  protected dirWith(dirs: readonly CgroupDir[], v1: string, v2 = v1): CgroupDir | undefined {
    return dirs.find((d) => d.version === 1 && d.controllers.includes(v1)) ?? dirs.find((d) => d.version === 2 && (d.controllers.includes(v2) || v2 === ''));
  }

  /** Where the list of processes is read: any of the container's directories will do. */
  protected abstract primary(dirs: readonly CgroupDir[]): CgroupDir | undefined;

  processes(dirs: readonly CgroupDir[]): number[] {
    const d = this.primary(dirs);
    if (!d) return [];
    return [...new Set(subtree(d.path).flatMap((p) => ids(read(join(p, 'cgroup.procs')))))].sort((a, b) => a - b);
  }

  threads(dirs: readonly CgroupDir[]): number[] {
    const d = this.primary(dirs);
    if (!d) return [];
    const file = d.version === 1 ? 'tasks' : 'cgroup.threads';
    return [...new Set(subtree(d.path).flatMap((p) => ids(read(join(p, file)))))].sort((a, b) => a - b);
  }

  stats(dirs: readonly CgroupDir[]): CgroupStats {
    const s: CgroupStats = {};
    const cpu = this.dirWith(dirs, 'cpuacct', '');
    if (cpu?.version === 1) {
      const ns = read(join(cpu.path, 'cpuacct.usage'));
      if (ns !== undefined) s.cpuNs = Number(ns.trim());
    } else if (cpu) {
      const usec = keyedValues(read(join(cpu.path, 'cpu.stat'))).get('usage_usec');
      if (usec !== undefined) s.cpuNs = usec * 1000;
    }
    const mem = this.dirWith(dirs, 'memory');
    if (mem) {
      const v1 = mem.version === 1;
      const usageText = read(join(mem.path, v1 ? 'memory.usage_in_bytes' : 'memory.current'));
      if (usageText !== undefined) {
        const stat = keyedValues(read(join(mem.path, 'memory.stat')));
        const inactive = (v1 ? stat.get('total_inactive_file') : stat.get('inactive_file')) ?? 0;
        const raw = Number(usageText.trim());
        const usage = raw > inactive ? raw - inactive : raw;
        const limitText = (read(join(mem.path, v1 ? 'memory.limit_in_bytes' : 'memory.max')) ?? 'max').trim();
        const limitValue = limitText === 'max' ? Infinity : Number(limitText);
        const limited = limitValue < V1_UNLIMITED;
        s.memory = { usage, limit: limited ? Math.min(limitValue, totalmem()) : totalmem(), limited };
      }
    }
    const pids = this.dirWith(dirs, 'pids');
    if (pids) {
      const current = read(join(pids.path, 'pids.current'));
      const max = read(join(pids.path, 'pids.max'))?.trim();
      if (current !== undefined) s.pids = { current: Number(current.trim()), limit: max && max !== 'max' ? Number(max) : undefined };
    }
    const io = this.dirWith(dirs, 'blkio', 'io');
    if (io?.version === 1) {
      let readBytes = 0;
      let writeBytes = 0;
      for (const line of (read(join(io.path, 'blkio.throttle.io_service_bytes')) ?? '').split('\n')) {
        const [, op, n] = line.trim().split(/\s+/);
        if (op === 'Read') readBytes += Number(n);
        else if (op === 'Write') writeBytes += Number(n);
      }
      s.blkio = { read: readBytes, write: writeBytes };
    } else if (io) {
      const text = read(join(io.path, 'io.stat'));
      if (text !== undefined) {
        const field = (k: string) => sum([...text.matchAll(new RegExp(`\\b${k}=(\\d+)`, 'g'))].map((m) => Number(m[1])));
        s.blkio = { read: field('rbytes'), write: field('wbytes') };
      }
    }
    return s;
  }

  /** Which file says so is the core's choice (the directory it freezes); this only reads it. */
  isFrozen(dirs: readonly CgroupDir[]): boolean {
    let where;
    try {
      where = freezerFile(this.facts.hierarchies, dirs.map((d) => d.path));
    } catch (err) {
      // A record naming a directory outside the cgroup mounts: nothing of it is read.
      if (err instanceof CoreError && err.status === 2) return false;
      throw err;
    }
    if (where === undefined) return false;
    const state = read(where.path)?.trim();
    return state !== undefined && where.frozen.includes(state);
  }

  async freeze(dirs: readonly CgroupDir[]): Promise<void> {
    await freezeCgroups(this.facts.hierarchies, dirs.map((d) => d.path), true);
  }

  async thaw(dirs: readonly CgroupDir[]): Promise<void> {
    await freezeCgroups(this.facts.hierarchies, dirs.map((d) => d.path), false);
  }

  async kill(dirs: readonly CgroupDir[]): Promise<void> {
    await killContainer(this.facts.hierarchies, dirs.map((d) => d.path));
  }

  async remove(dirs: readonly CgroupDir[]): Promise<string[]> {
    const present = dirs.filter((d) => existsSync(d.path));
    if (present.length === 0) return [];
    const failed = await removeCgroups(this.facts.hierarchies, present.map((d) => d.path));
    // What is left is what exists now: every directory below the ones that failed too.
    return failed.length === 0 ? [] : present.flatMap((d) => subtree(d.path)).filter((p) => existsSync(p));
  }
}


/** Pure v1: every controller its own hierarchy (or co-mounted), the freezer controller. */
export class V1Cgroups extends BaseCgroups {
  readonly layout: Layout = 'v1';

  protected primary(dirs: readonly CgroupDir[]): CgroupDir | undefined {
    return this.dirWith(dirs, 'pids') ?? this.dirWith(dirs, 'memory') ?? dirs.find((d) => d.version === 1) ?? dirs[0];
  }
}

/** Pure v2: one directory; cgroup.freeze, cgroup.kill, cgroup.threads. */
export class V2Cgroups extends BaseCgroups {
  readonly layout: Layout = 'v2';

  protected primary(dirs: readonly CgroupDir[]): CgroupDir | undefined {
    return dirs.find((d) => d.version === 2);
  }
}

/**
 * Hybrid: the controllers are v1 (so the v1 freezer, as runc does), and the cgroup2 mount
 * gives cgroup.kill; a controller moved to v2 is read from there (dirWith looks in both).
 */
export class HybridCgroups extends V1Cgroups {
  readonly layout: Layout = 'hybrid';
}

/** The host's implementation, from its layout. */
export function cgroupHostFor(facts: CgroupFacts): CgroupHost {
  switch (facts.layout) {
    case 'v2':
      return new V2Cgroups(facts);
    case 'hybrid':
      return new HybridCgroups(facts);
    default:
      return new V1Cgroups(facts);
  }
}

let cached: CgroupHost | undefined;

export async function cgroupHost(): Promise<CgroupHost> {
  if (!cached) {
    const { hostCgroupFacts } = await import('./detect.js');
    cached = cgroupHostFor(hostCgroupFacts());
  }
  return cached;
}
