// One container's run, shared by the CLI and the API: flags → request → core → plan →
// launcher → outcome. Everything that can fail before the launcher starts fails here, with
// nothing made yet.
import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFlags } from '../cli/args.js';
import { HuskError } from '../errors.js';
import { hostImageDirs } from '../host/facts.js';
import { buildPlan } from '../core/plan.js';
import type { PlanRequest } from '../core/plan.js';
import { decodePlan } from '../protocol/plan.js';
import { collectEnv } from './env.js';
import { resolveUser } from './user.js';

export const BUILTIN_IMAGES = ['host'] as const;

export interface Prepared {
  id: string;
  request: PlanRequest;
  plan: Uint8Array;
  userns?: { start: number; size: number };
}

const CLONE = {
  NEWNS: 0x00020000n,
  NEWCGROUP: 0x02000000n,
  NEWUTS: 0x04000000n,
  NEWIPC: 0x08000000n,
  NEWUSER: 0x10000000n,
  NEWPID: 0x20000000n,
  NEWNET: 0x40000000n,
} as const;

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

function resolveRootfs(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HuskError('rootfs', `rootfs ${dir}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
  }
  if (!statSync(real).isDirectory()) throw new HuskError('rootfs', `rootfs ${dir}: not a directory`);
  return real;
}

export function namespaceFlags(f: RunFlags): bigint {
  let ns = CLONE.NEWNS | CLONE.NEWCGROUP;
  if (f.pid === 'private') ns |= CLONE.NEWPID;
  if (f.net === 'private') ns |= CLONE.NEWNET;
  if (f.ipc === 'private') ns |= CLONE.NEWIPC;
  if (f.uts === 'private') ns |= CLONE.NEWUTS;
  if (f.userns.mode !== 'host') ns |= CLONE.NEWUSER;
  return ns;
}

export interface PrepareContext {
  root: string;
  usedRanges: { start: number; size: number }[];
  dieWithParent: boolean;
  id?: string;
}

export function prepare(f: RunFlags, ctx: PrepareContext): Prepared {
  const id = ctx.id ?? newContainerId();
  let image: PlanRequest['image'];
  let rootDir: string;
  if (f.rootfs !== undefined) {
    rootDir = resolveRootfs(f.rootfs);
    image = { kind: 'rootfs', path: rootDir, readwrite: f.rootfsRw };
  } else if (f.image === 'host') {
    rootDir = '/';
    image = { kind: 'host', hostDirs: hostImageDirs() };
  } else {
    throw new HuskError('image', `unable to find image "${f.image}": husk knows only the built-in image "host" and --rootfs DIR`);
  }
  const user = f.user === undefined ? undefined : resolveUser(f.user, rootDir);
  const timeOffsets = f.timens ? { monotonic: f.timeOffsets.monotonic ?? 0, boottime: f.timeOffsets.boottime ?? 0 } : undefined;
  const request: PlanRequest = {
    image,
    stage: join(ctx.root, 'stage'),
    namespaces: namespaceFlags(f),
    hostname: f.uts === 'private' ? (f.hostname ?? id.slice(0, 12)) : f.hostname,
    env: collectEnv(f.env, f.envFiles),
    workdir: f.workdir,
    user,
    argv: f.argv,
    userns: f.userns.mode === 'auto' ? { mode: 'auto', size: f.userns.size ?? 0 } : undefined,
    usedRanges: ctx.usedRanges,
    timeOffsets,
    trace: f.trace,
    dieWithParent: ctx.dieWithParent,
  };
  const plan = buildPlan(request);
  return { id, request, plan, userns: request.userns ? autoRangeOf(plan) : undefined };
}

/**
 * The host range the core chose for --userns auto, read back from the plan's uid map (only
 * then: decoding a plan is not free on the cold path).
 */
function autoRangeOf(plan: Uint8Array): { start: number; size: number } | undefined {
  const op = decodePlan(plan).ops.find((o) => o.name === 'UID_MAP');
  if (!op) return undefined;
  const [, start, size] = String(op.args.text).trim().split(/\s+/).map(Number);
  return { start, size };
}
