// One container's run, shared by the CLI and the API: flags → request → core → plan →
// launcher → outcome. Everything that can fail before the launcher starts fails here, with
// nothing made yet.
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFlags } from '../cli/args.js';
import { HuskError } from '../errors.js';
import { hostImageDirs } from '../host/facts.js';
import { buildPlan } from '../core/plan.js';
import type { PlanRequest } from '../core/plan.js';
import { describePlanBytes } from '../core/describe.js';
import { CLONE_FLAG } from '../protocol/ops.js';
import { FRAME_PAYLOAD_MAX, FieldReader, readFrameAt } from '../protocol/frames.js';
import { hostCgroupFacts } from '../cgroup/detect.js';
import type { CgroupFacts } from '../cgroup/detect.js';
import { planCgroup } from '../cgroup/plan.js';
import type { FileProbe } from '../cgroup/plan.js';
import { collectEnv } from './env.js';
import { resolveUser } from './user.js';
import { wantsUserns } from '../cli/flags-userns.js';
import { hostRangesOf, keepIdUser, usernsSpec } from './userns.js';

export const BUILTIN_IMAGES = ['host'] as const;

export interface Prepared {
  id: string;
  request: PlanRequest;
  plan: Uint8Array;
  userns?: { start: number; size: number };
  /** Every host id range the container's maps use (its state record keeps them for --userns auto). */
  hostRanges?: { start: number; size: number }[];
  /** The container's own cgroup directories (the plan's owned CGROUP_MKDIRs), one per hierarchy. */
  cgroups: string[];
}


/**
 * Random bytes for ids, read from /dev/urandom 256 at a time (a read of up to 256 bytes is
 * never short): loading node:crypto costs a cold start ~2 ms, and a warm API would otherwise
 * pay an open, a read and a close per container.
 */
const idPool = Buffer.alloc(256);
let idPoolAt = idPool.length;

/** 32 random bytes in hex, read from /dev/urandom. */
export function newContainerId(): string {
  if (idPoolAt + 32 > idPool.length) {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, idPool, 0, idPool.length, null) !== idPool.length) throw new Error('short read from /dev/urandom');
    } finally {
      closeSync(fd);
    }
    idPoolAt = 0;
  }
  const id = idPool.toString('hex', idPoolAt, idPoolAt + 32);
  idPoolAt += 32;
  return id;
}

function resolveRootfs(dir: string): string {
  let real: string;
  try {
    // The native realpath(3): one call instead of an lstat per component from JS.
    real = realpathSync.native(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HuskError('rootfs', `rootfs ${dir}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
  }
  if (!statSync(real).isDirectory()) throw new HuskError('rootfs', `rootfs ${dir}: not a directory`);
  return real;
}

export function namespaceFlags(f: RunFlags): bigint {
  let ns = CLONE_FLAG.NEWNS | CLONE_FLAG.NEWCGROUP;
  if (f.pid === 'private') ns |= CLONE_FLAG.NEWPID;
  if (f.net === 'private') ns |= CLONE_FLAG.NEWNET;
  if (f.ipc === 'private') ns |= CLONE_FLAG.NEWIPC;
  if (f.uts === 'private') ns |= CLONE_FLAG.NEWUTS;
  if (wantsUserns(f)) ns |= CLONE_FLAG.NEWUSER;
  return ns;
}

export interface PrepareContext {
  root: string;
  usedRanges: { start: number; size: number }[];
  dieWithParent: boolean;
  id?: string;
  /** The plan stops before EXEC until START (WAIT_START): the API's create(). */
  waitStart?: boolean;
  /** Where the launcher leaves its last events (run -d). */
  statusFile?: string;
  /** Force the trace flag (run -d waits for EXEC's OP_TIME to know the command started). */
  trace?: boolean;
  /** Plan for these cgroup facts instead of this host's (`husk plan --host-cgroups`). */
  cgroupFacts?: CgroupFacts;
  /** Keeps the host's cgroup files open between plans (a Husk instance's). */
  probe?: FileProbe;
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
  // keepIdUser and usernsSpec look the caller up (a passwd read) when not given one: only
  // ask them when they need it.
  const user = f.user === undefined ? (f.userns.mode === 'keep-id' ? keepIdUser(f) : undefined) : resolveUser(f.user, rootDir);
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
    userns: wantsUserns(f) ? usernsSpec(f) : undefined,
    usedRanges: ctx.usedRanges,
    timeOffsets,
    trace: f.trace || ctx.trace === true,
    dieWithParent: ctx.dieWithParent,
    waitStart: ctx.waitStart,
    cgroup: planCgroup(ctx.cgroupFacts ?? hostCgroupFacts(), f.resources, {
      id,
      rootless: (process.geteuid?.() ?? 0) !== 0,
      defaultParent: process.env.HUSK_CGROUP_PARENT || undefined,
      probe: ctx.probe,
    }),
    statusFile: ctx.statusFile,
  };
  const plan = buildPlan(request);
  let cgroups: string[] | undefined;
  return {
    id,
    request,
    plan,
    userns: request.userns ? autoRangeOf(plan) : undefined,
    hostRanges: request.userns ? hostRangesOf(plan) : undefined,
    // Read from the plan when asked: the CLI keeps them in its record, the API's run() does not.
    get cgroups(): string[] {
      return (cgroups ??= request.cgroup ? ownedCgroups(plan) : []);
    },
    set cgroups(v: string[]) {
      cgroups = v;
    },
  };
}

const CGROUP_MKDIR = 0x0040;

/** The paths of the plan's CGROUP_MKDIRs without the `shared` flag: the container's own. */
export function ownedCgroups(plan: Uint8Array): string[] {
  const out: string[] = [];
  // Walks the headers only (a plan is ~100 frames; a few are CGROUP_MKDIRs): readFrameAt
  // checks each header as it did, without an object per frame.
  const view = new DataView(plan.buffer, plan.byteOffset, plan.byteLength);
  let at = 0;
  while (plan.length - at >= 8) {
    if (view.getUint16(at + 4, true) !== CGROUP_MKDIR) {
      const length = view.getUint32(at, true);
      if (length > FRAME_PAYLOAD_MAX || view.getUint16(at + 6, true) !== 0) readFrameAt(plan, at); // throws as it always did
      const next = at + 8 + length;
      if (next > plan.length) break;
      at = next;
      continue;
    }
    const f = readFrameAt(plan, at);
    if (f === null) break;
    at = f.next;
    const r = new FieldReader(f.frame.payload);
    const path = r.str();
    if ((r.u64() & 1n) === 0n) out.push(path);
  }
  return out;
}

/**
 * The host range the core chose for --userns auto, read back from the plan's uid map (only
 * then: decoding a plan is not free on the cold path).
 */
function autoRangeOf(plan: Uint8Array): { start: number; size: number } | undefined {
  const op = describePlanBytes(plan).ops.find((o) => o.name === 'UID_MAP');
  if (!op) return undefined;
  const [, start, size] = String(op.args.text).trim().split(/\s+/).map(Number);
  return { start, size };
}
