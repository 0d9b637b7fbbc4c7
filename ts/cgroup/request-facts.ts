// The host facts the core needs to decide a container's cgroups (PlanCgroup): the
// hierarchies, the CPUs and memory nodes, what a new v1 cpuset directory must be given, the
// delegated subtree of a rootless user, and the resource flags with device paths resolved.
// Everything here is I/O; every decision is the core's (assembly/plan/cgroup.ts).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { HuskError } from '../errors.js';
import type { PlanCgroup } from '../core/build-plan.js';
import type { ResourceFlags, ResourceLimit } from '../cli/flags-resources.js';
import { DEVICE_FLAGS } from '../cli/flags-resources.js';
import type { CgroupFacts } from './detect.js';

/** The parent of every container's cgroup when --cgroup-parent is not given. */
export const DEFAULT_PARENT = 'husk';

/** HOST flags of the core (docs/policy-core.md): BFQ weight files; no swap accounting. */
const HOST_BFQ = 1;
const HOST_NO_SWAP = 2;

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/**
 * Reads small sysfs/cgroupfs files through fds kept open, from offset 0 each time (pread):
 * one syscall per read instead of open, fstat, read, close. A file that cannot be opened is
 * not kept (it may appear later); a kept fd that fails to read (its cgroup was removed) is
 * closed and the path opened again. The contents are read every time: they may change.
 */
export class FileProbe {
  static readonly KEPT_MAX = 64;
  private readonly fds = new Map<string, number>();
  private readonly buffer = Buffer.allocUnsafe(64 * 1024);

  /** The file's content, trimmed, or `fallback` when it cannot be read. */
  read(path: string, fallback: string): string {
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd = this.fds.get(path);
      const kept = fd !== undefined;
      if (fd === undefined) {
        try {
          fd = openSync(path, 'r');
        } catch {
          return fallback;
        }
        // Bounded: many cgroup parents (each its cpuset files) start the set afresh.
        if (this.fds.size >= FileProbe.KEPT_MAX) this.close();
        this.fds.set(path, fd);
      }
      try {
        const n = readSync(fd, this.buffer, 0, this.buffer.length, 0);
        if (n === this.buffer.length) return readOr(path, fallback);
        return this.buffer.toString('utf8', 0, n).trim();
      } catch {
        this.fds.delete(path);
        try {
          closeSync(fd);
        } catch {
          // Already gone.
        }
        if (!kept) return fallback;
      }
    }
    return fallback;
  }

  /** Closes every fd kept. */
  close(): void {
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // Already gone.
      }
    }
    this.fds.clear();
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** How many ids a kernel list (`0-3,8`) holds. */
export function countList(list: string): number {
  let n = 0;
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

/**
 * MAJOR:MINOR of a block device (st_rdev as glibc's major()/minor() split it).
 * `stat` is a parameter so tests can give fake devices.
 */
export function deviceNumbers(path: string, stat: (p: string) => Stats = statSync): string {
  let st: Stats;
  try {
    st = stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HuskError('invalid-value', `${path}: ${code === 'ENOENT' ? 'no such device' : code}`);
  }
  if (!st.isBlockDevice()) throw new HuskError('invalid-value', `${path}: not a block device`);
  const rdev = BigInt(st.rdev);
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The limits as the core takes them: device paths replaced by their numbers. */
export function resolveLimits(limits: readonly ResourceLimit[], stat?: (p: string) => Stats): ResourceLimit[] {
  return limits.map((l) => {
    if (!DEVICE_FLAGS.has(l.name)) return l;
    const colon = l.value.lastIndexOf(':');
    const path = l.value.slice(0, colon);
    try {
      return { name: l.name, value: `${deviceNumbers(path, stat)}:${l.value.slice(colon + 1)}` };
    } catch (err) {
      throw new HuskError('invalid-value', `--${l.name}: ${(err as Error).message}`);
    }
  });
}

/**
 * The cgroup a rootless user may manage: the highest ancestor of its own cgroup (from
 * /proc/self/cgroup's `0::` line) that it owns, as systemd delegates user@UID.service.
 * Relative to the cgroup2 mount; undefined when the user owns none.
 */
export function delegatedCgroup(mountpoint: string, selfCgroup: string, uid: number, stat: (p: string) => { uid: number } = statSync): string | undefined {
  const line = selfCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (!line) return undefined;
  let rel = line.slice(3).replace(/^\/+/, '').replace(/\/+$/, '');
  let found: string | undefined;
  while (rel !== '' && rel !== '.') {
    let owner: number;
    try {
      owner = stat(join(mountpoint, rel, 'cgroup.subtree_control')).uid;
    } catch {
      break;
    }
    if (owner !== uid) break;
    found = rel;
    rel = dirname(rel);
  }
  return found;
}

/** cpuset.cpus / cpuset.mems of the deepest existing, non-empty directory along `parent`. */
export function inheritedCpuset(mountpoint: string, parent: string, read: (p: string) => string = (p) => readOr(p, '')): { cpus: string; mems: string } {
  const parts = parent.split('/');
  let best = { cpus: read(join(mountpoint, 'cpuset.cpus')), mems: read(join(mountpoint, 'cpuset.mems')) };
  for (let i = 1; i <= parts.length; i++) {
    const dir = join(mountpoint, ...parts.slice(0, i));
    const cpus = read(join(dir, 'cpuset.cpus'));
    const mems = read(join(dir, 'cpuset.mems'));
    if (!cpus || !mems) break;
    best = { cpus, mems };
  }
  return best;
}

export interface CgroupPlanOptions {
  id: string;
  rootless: boolean;
  /** HUSK_CGROUP_PARENT: the default parent (the test suites use their own). */
  defaultParent?: string;
  /** /proc/self/cgroup, for a rootless user's delegated subtree. */
  selfCgroup?: () => string;
  /** Keeps the host files open between plans (a Husk instance's); without it each is read whole. */
  probe?: FileProbe;
}

/**
 * The facts of the container's cgroups for the core. Whether it gets any (no cgroup
 * filesystem; rootless with nothing delegated) and which limits are refused is the core's
 * decision (assembly/plan/cgroup.ts withoutCgroups).
 */
export function planCgroup(facts: CgroupFacts, flags: ResourceFlags, opts: CgroupPlanOptions): PlanCgroup {
  const limits = resolveLimits(flags.limits);
  let parent = flags.cgroupParent ?? opts.defaultParent ?? DEFAULT_PARENT;
  let delegate: string | undefined;
  let notDelegated = false;
  let hierarchies = facts.hierarchies.map((h) => ({ version: h.version, mountpoint: h.mountpoint, controllers: h.controllers }));
  if (opts.rootless) {
    const v2 = facts.unified;
    const self = opts.selfCgroup?.() ?? readOr('/proc/self/cgroup', '');
    delegate = v2 ? delegatedCgroup(v2.mountpoint, self, process.geteuid?.() ?? 0) : undefined;
    if (v2 && delegate !== undefined) {
      parent = `${delegate}/${parent}`;
      const controllers = readOr(join(v2.mountpoint, delegate, 'cgroup.controllers'), '').split(/\s+/).filter(Boolean);
      hierarchies = hierarchies.map((h) => (h.version === 2 ? { ...h, controllers } : h));
    } else notDelegated = true;
  }
  let flagsBits = 0;
  const blkio = facts.controllers.blkio ?? facts.controllers.io;
  if (blkio && exists(join(blkio.mountpoint, blkio.version === 1 ? 'blkio.bfq.weight' : `${parent}/io.bfq.weight`))) flagsBits |= HOST_BFQ;
  const memory = facts.controllers.memory;
  if (memory?.version === 1 && !exists(join(memory.mountpoint, 'memory.memsw.limit_in_bytes'))) flagsBits |= HOST_NO_SWAP;
  const cpuset = facts.hierarchies.find((h) => h.version === 1 && h.controllers.includes('cpuset'));
  const probe = opts.probe;
  const read = probe ? (p: string, fallback: string) => probe.read(p, fallback) : readOr;
  const inherited = cpuset && !opts.rootless ? inheritedCpuset(cpuset.mountpoint, parent, (p) => read(p, '')) : { cpus: '', mems: '' };
  const online = read('/sys/devices/system/cpu/online', '0');
  const nodes = read('/sys/devices/system/node/online', '0');
  return {
    parent,
    name: opts.id,
    rootless: opts.rootless,
    delegate,
    notDelegated,
    hierarchies,
    limits,
    host: { cpus: Math.max(1, countList(online)), mems: Math.max(1, countList(nodes)), flags: flagsBits, cpusetCpus: inherited.cpus, cpusetMems: inherited.mems },
  };
}
