// Shared by the core-*.test.ts suites: typical requests, and the plan's ops in a form that
// reads well in a table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlan } from '../../ts/core/build-plan.js';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import type { Op, Plan } from '../oracle/plan-codec.js';

export const NS = {
  NEWNS: 0x00020000n,
  NEWCGROUP: 0x02000000n,
  NEWUTS: 0x04000000n,
  NEWIPC: 0x08000000n,
  NEWUSER: 0x10000000n,
  NEWPID: 0x20000000n,
  NEWNET: 0x40000000n,
  NEWTIME: 0x00000080n,
} as const;

/** The default set ts/ asks for: pid, mount, uts, ipc, net, cgroup. */
export const DEFAULT_NS = NS.NEWNS | NS.NEWPID | NS.NEWUTS | NS.NEWIPC | NS.NEWNET | NS.NEWCGROUP;

export const STAGE = '/run/husk/containers/abc/stage';

export function rootfsRequest(over: Partial<PlanRequest> = {}): PlanRequest {
  return {
    image: { kind: 'rootfs', path: '/var/lib/husk/rootfs/alpine' },
    stage: STAGE,
    hostname: 'abc123def456',
    argv: ['sh', '-c', 'echo hi'],
    ...over,
  };
}

export function hostRequest(over: Partial<PlanRequest> = {}): PlanRequest {
  return rootfsRequest({
    image: {
      kind: 'host',
      hostDirs: [
        { name: 'usr', kind: 'dir' },
        { name: 'etc', kind: 'dir' },
        { name: 'bin', kind: 'symlink', target: 'usr/bin' },
      ],
    },
    ...over,
  });
}

export function planOf(req: PlanRequest): Plan {
  return decodePlan(buildPlan(req));
}

export function opsOf(req: PlanRequest): Op[] {
  return planOf(req).ops;
}

/** One short line per op: `MOUNT proc proc` — name and its string/number fields. */
export function brief(op: Op): string {
  const parts = [op.name];
  // A BPF program is its length here (seccomp-compile.test.ts runs it).
  if (op.name === 'SECCOMP') return `SECCOMP 0x${(op.args.flags as bigint).toString(16)} (${(op.args.program as bigint[]).length} instructions)`;
  for (const v of Object.values(op.args)) {
    if (Array.isArray(v)) parts.push(`[${v.map(String).join(' ')}]`);
    else if (typeof v === 'bigint') parts.push(`0x${v.toString(16)}`);
    else parts.push(JSON.stringify(v));
  }
  return parts.join(' ');
}

export const find = (ops: Op[], name: string): Op[] => ops.filter((o) => o.name === name);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

function isStale(): boolean {
  let built: number;
  try {
    built = statSync(join(ROOT, 'build/core.wasm')).mtimeMs;
  } catch {
    return true;
  }
  return Math.max(newestSource(join(ROOT, 'assembly')), statSync(join(ROOT, 'asconfig.json')).mtimeMs) > built;
}

/**
 * Rebuilds build/core.wasm (`npm run build:core`) when it is missing or older than assembly/,
 * one test worker at a time; throws asc's output when the build fails.
 */
export function expectCoreBuilt(): void {
  if (!isStale()) return;
  const lock = join(ROOT, 'build/.core-build.lock');
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} held for 2 minutes: remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (!isStale()) return;
    // Built aside and renamed, so a worker that skips the lock never reads half a file.
    const asc = join(ROOT, 'node_modules/.bin/asc');
    const tmp = `build/.core-${process.pid}`;
    const args = ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release', '--outFile', `${tmp}.wasm`, '--textFile', `${tmp}.wat`];
    const r = spawnSync(asc, args, { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build:core failed:\n${r.stdout}${r.stderr}`);
    renameSync(join(ROOT, `${tmp}.wat`), join(ROOT, 'build/core.wat'));
    renameSync(join(ROOT, `${tmp}.wasm`), join(ROOT, 'build/core.wasm'));
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
