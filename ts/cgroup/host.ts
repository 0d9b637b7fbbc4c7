// What husk does with a container's cgroups once they exist: list its processes and threads,
// freeze and thaw it, read its usage, kill it, remove its directories. One interface
// (CgroupHost) with v1, v2 and hybrid behind it, chosen once from the host's layout
// (detect.ts); the launcher made the directories, the core decided where.
//
// A container's cgroups are a list of directories, one per hierarchy (CgroupDir): on v1 one
// per controller hierarchy, on v2 one, on hybrid both kinds.
import { readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { CgroupFacts, Layout } from './detect.js';

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
  /** Thaw, kill, remove children depth first, rmdir; returns the directories left. */
  remove(dirs: readonly CgroupDir[]): Promise<string[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function write(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
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

  abstract isFrozen(dirs: readonly CgroupDir[]): boolean;
  abstract freeze(dirs: readonly CgroupDir[]): Promise<void>;
  abstract thaw(dirs: readonly CgroupDir[]): Promise<void>;

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

  /** SIGKILL every process listed, until none is left (100 rounds, 10 ms apart). */
  protected async killBySignal(dirs: readonly CgroupDir[]): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const pids = this.processes(dirs);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await sleep(10);
    }
  }

  async kill(dirs: readonly CgroupDir[]): Promise<void> {
    await this.thaw(dirs);
    const v2 = dirs.find((d) => d.version === 2);
    if (v2 && write(join(v2.path, 'cgroup.kill'), '1')) {
      for (let round = 0; round < 100 && this.processes(dirs).length > 0; round++) await sleep(10);
    }
    await this.killBySignal(dirs);
  }

  async remove(dirs: readonly CgroupDir[]): Promise<string[]> {
    const present = dirs.filter((d) => read(join(d.path, 'cgroup.procs')) !== undefined);
    if (present.length === 0) return [];
    await this.kill(present);
    const left: string[] = [];
    for (const d of present) {
      for (const path of subtree(d.path)) {
        let removed = false;
        for (let attempt = 0; attempt < 100 && !removed; attempt++) {
          try {
            rmdirSync(path);
            removed = true;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') removed = true;
            else if (code === 'EBUSY') await sleep(10);
            else break;
          }
        }
        if (!removed) left.push(path);
      }
    }
    return left;
  }
}

/** Waits until `done()` or `ms` passed; true if done. */
async function until(done: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** v1 freezer: freezer.state FROZEN / THAWED; FREEZING until every task stopped. */
async function v1Freeze(dir: CgroupDir, state: 'FROZEN' | 'THAWED'): Promise<void> {
  const file = join(dir.path, 'freezer.state');
  writeFileSync(file, state);
  if (!(await until(() => read(file)?.trim() === state))) throw new Error(`${file} did not reach ${state} within 5 s`);
}

/** v2: cgroup.freeze 1 / 0, done when cgroup.events says `frozen 1` / `frozen 0`. */
async function v2Freeze(dir: CgroupDir, frozen: 0 | 1): Promise<void> {
  writeFileSync(join(dir.path, 'cgroup.freeze'), String(frozen));
  const events = join(dir.path, 'cgroup.events');
  if (!(await until(() => keyedValues(read(events)).get('frozen') === frozen))) throw new Error(`${events} did not say frozen ${frozen} within 5 s`);
}

function v1Frozen(dir: CgroupDir): boolean {
  const state = read(join(dir.path, 'freezer.state'))?.trim();
  return state === 'FROZEN' || state === 'FREEZING';
}

function v2Frozen(dir: CgroupDir): boolean {
  return read(join(dir.path, 'cgroup.freeze'))?.trim() === '1';
}

/** Pure v1: every controller its own hierarchy (or co-mounted), the freezer controller. */
export class V1Cgroups extends BaseCgroups {
  readonly layout: Layout = 'v1';

  protected primary(dirs: readonly CgroupDir[]): CgroupDir | undefined {
    return this.dirWith(dirs, 'pids') ?? this.dirWith(dirs, 'memory') ?? dirs.find((d) => d.version === 1) ?? dirs[0];
  }

  protected freezer(dirs: readonly CgroupDir[]): CgroupDir | undefined {
    return dirs.find((d) => d.version === 1 && d.controllers.includes('freezer'));
  }

  isFrozen(dirs: readonly CgroupDir[]): boolean {
    const f = this.freezer(dirs);
    return f ? v1Frozen(f) : false;
  }

  async freeze(dirs: readonly CgroupDir[]): Promise<void> {
    const f = this.freezer(dirs);
    if (!f) throw new Error('this host has no freezer controller');
    await v1Freeze(f, 'FROZEN');
  }

  async thaw(dirs: readonly CgroupDir[]): Promise<void> {
    const f = this.freezer(dirs);
    if (f && read(join(f.path, 'freezer.state')) !== undefined) await v1Freeze(f, 'THAWED');
  }
}

/** Pure v2: one directory; cgroup.freeze, cgroup.kill, cgroup.threads. */
export class V2Cgroups extends BaseCgroups {
  readonly layout: Layout = 'v2';

  protected primary(dirs: readonly CgroupDir[]): CgroupDir | undefined {
    return dirs.find((d) => d.version === 2);
  }

  isFrozen(dirs: readonly CgroupDir[]): boolean {
    const d = this.primary(dirs);
    return d ? v2Frozen(d) : false;
  }

  async freeze(dirs: readonly CgroupDir[]): Promise<void> {
    const d = this.primary(dirs);
    if (!d) throw new Error('the container has no cgroup v2 directory');
    await v2Freeze(d, 1);
  }

  async thaw(dirs: readonly CgroupDir[]): Promise<void> {
    const d = this.primary(dirs);
    if (d && read(join(d.path, 'cgroup.freeze')) !== undefined) await v2Freeze(d, 0);
  }
}

/**
 * Hybrid: the controllers are v1 (so the v1 freezer, as runc does), and the cgroup2 mount
 * gives cgroup.kill; a controller moved to v2 is read from there (dirWith looks in both).
 */
export class HybridCgroups extends V1Cgroups {
  readonly layout: Layout = 'hybrid';

  isFrozen(dirs: readonly CgroupDir[]): boolean {
    if (this.freezer(dirs)) return super.isFrozen(dirs);
    const v2 = dirs.find((d) => d.version === 2);
    return v2 ? v2Frozen(v2) : false;
  }

  async freeze(dirs: readonly CgroupDir[]): Promise<void> {
    if (this.freezer(dirs)) return super.freeze(dirs);
    const v2 = dirs.find((d) => d.version === 2);
    if (!v2) throw new Error('this host has no freezer');
    await v2Freeze(v2, 1);
  }

  async thaw(dirs: readonly CgroupDir[]): Promise<void> {
    if (this.freezer(dirs)) return super.thaw(dirs);
    const v2 = dirs.find((d) => d.version === 2);
    if (v2 && read(join(v2.path, 'cgroup.freeze')) !== undefined) await v2Freeze(v2, 0);
  }
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
