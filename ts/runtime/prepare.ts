// One container's run, shared by the CLI and the API: flags → request → core → plan →
// launcher → outcome. Everything that can fail before the launcher starts fails here, with
// nothing made yet.
import { overlayInUserns } from './overlay-probe.js';
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { readSeccompProfile } from './seccomp-profile.js';
import { ownBoundingSet } from '../host/capabilities.js';
import type { SeccompChoice } from '../core/seccomp.js';
import type { RunFlags } from '../cli/args.js';
import { HuskError } from '../errors.js';
import { hostRootEntries } from '../host/facts.js';
import { buildPlanAnswer } from '../core/build-plan.js';
import type { IdRange, PlanRequest, PlanSummary } from '../core/build-plan.js';
import { hostCgroupFacts } from '../cgroup/detect.js';
import type { CgroupFacts } from '../cgroup/detect.js';
import { planCgroup } from '../cgroup/request-facts.js';
import type { FileProbe } from '../cgroup/request-facts.js';
import { collectEnv } from './env.js';
import { resolveJoins } from './joins.js';
import { readPod } from './pods.js';
import { resolveGroups, resolveUser } from './user.js';
import { usernsFacts } from './userns.js';
import type { RunImage } from './image-run.js';
import { claimAddress, netFacts } from '../network/attach.js';
import { usermodeFacts } from '../network/usermode.js';
import type { NetworkRecord } from '../network/store.js';
import { hostDevNodes } from '../host/dev-nodes.js';

export const BUILTIN_IMAGES = ['host'] as const;

export interface Prepared {
  id: string;
  request: PlanRequest;
  plan: Uint8Array;
  /** What the core chose (docs/core-abi.md "The summary"). */
  readonly summary: PlanSummary;
  /** With a user namespace: the first uid line's host range (--userns auto: the one picked). */
  readonly userns?: IdRange;
  /** Every host id range the container's maps use (its state record keeps them for --userns auto). */
  readonly hostRanges?: IdRange[];
  /** The container's own cgroup directories, one per hierarchy (from the summary). */
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
      const n = readSync(fd, idPool, 0, idPool.length, null);
      // The kernel never gives less for 256 bytes: a host where it does is broken, not husk.
      if (n !== idPool.length) throw new HuskError('host', `read /dev/urandom: a short read (${n} of ${idPool.length} bytes)`);
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

export interface PrepareContext {
  root: string;
  usedRanges: { start: number; size: number }[];
  dieWithParent: boolean;
  /** A detached container dies with its monitor (HELLO dies_with_monitor). */
  diesWithMonitor?: boolean;
  id?: string;
  /** The plan stops before EXEC until START (WAIT_START): the API's create(). */
  waitStart?: boolean;
  /** Where the launcher leaves its last events (run -d). */
  statusFile?: string;
  /** Where the monitor logs the container's output (run -d). */
  logFile?: string;
  /** With logFile: a pty, and the attach socket (run -t, -i, -d). */
  tty?: { rows: number; cols: number };
  attach?: { path: string; stdin: boolean; waitClient: boolean };
  /** Force the trace flag (run -d waits for EXEC's OP_TIME to know the command started). */
  trace?: boolean;
  /** Plan for these cgroup facts instead of this host's (`husk plan --host-cgroups`). */
  cgroupFacts?: CgroupFacts;
  /** Keeps the host's cgroup files open between plans (a Husk instance's). */
  probe?: FileProbe;
  /** An image from the store (runtime/image-run.ts), with the container's upper when it has one on disk. */
  image?: RunImage & { upper?: { upper: string; work: string } };
  /** The writable layer on disk, kept after the run (runtime/kept-layer.ts). */
  keepLayer?: { upper: string; work: string };
  /** The network the container joins (ts/network/store.ts networkForRun). */
  network?: NetworkRecord;
  /** Show the plan only (`husk plan`): no address is leased, no file written, no port published. */
  dryRun?: boolean;
}

/** `--security-opt seccomp=`: unconfined, a profile file, or (absent) husk's default. */
function seccompChoice(opt: string | undefined): SeccompChoice | undefined {
  if (opt === undefined) return undefined;
  if (opt === 'unconfined') return { mode: 'unconfined' };
  return { mode: 'profile', profile: readSeccompProfile(opt) };
}

/** --ulimit, --sysctl, --oom-score-adj as typed; --group-add as gids; --tmpfs split at its first ':'. */
function runOptionFacts(f: RunFlags, rootDir: string, ctx: PrepareContext): PlanRequest['runOptions'] {
  const o = f.runOptions;
  if (o.ulimits.length + o.sysctls.length + o.groupAdd.length + o.tmpfs.length === 0 && o.oomScoreAdj === undefined && !o.readOnly) return undefined;
  // A store image's /etc/group lives in its layers: names are looked up only for host and --rootfs yet.
  const named = o.groupAdd.find((g) => !/^\d+$/.test(g));
  if (ctx.image !== undefined && named !== undefined) throw new HuskError('invalid-value', `--group-add ${named}: give a gid with an image from the store (names are looked up for host and --rootfs images only, yet)`);
  const groups = resolveGroups(o.groupAdd, rootDir);
  const tmpfs = o.tmpfs.map((t) => {
    const colon = t.indexOf(':');
    return colon < 0 ? { target: t, options: '' } : { target: t.slice(0, colon), options: t.slice(colon + 1) };
  });
  return { ulimits: o.ulimits, sysctls: o.sysctls, oomScoreAdj: o.oomScoreAdj, groups, tmpfs, readOnly: o.readOnly };
}

/**
 * --device HOST[:CONTAINER][:PERMS] as docker splits it (a last part of r, w, m letters is
 * PERMS); HOST resolved (a /dev/disk/by-id link names its node) and checked to be a character
 * or block device. The core checks the rest (assembly/plan/devices.ts).
 */
function deviceFacts(devices: readonly string[]): PlanRequest['devices'] {
  if (devices.length === 0) return undefined;
  return devices.map((spec) => {
    const parts = spec.split(':');
    let perms = 'rwm';
    if (parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1])) perms = parts.pop()!;
    if (parts.length > 2 || parts[0] === '') throw new HuskError('invalid-value', `--device ${spec}: expected HOST[:CONTAINER][:PERMS]`);
    const host = parts[0];
    let real: string;
    try {
      real = realpathSync(host);
    } catch (err) {
      throw new HuskError('invalid-value', `--device ${spec}: ${host}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such device' : (err as NodeJS.ErrnoException).code}`);
    }
    const st = statSync(real);
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new HuskError('invalid-value', `--device ${spec}: ${host} is not a device`);
    // major/minor as the kernel's new_decode_dev splits st_rdev, for the device cgroup rule.
    const major = ((st.rdev >>> 8) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
    const minor = (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00);
    return { host: real, container: parts[1] ?? host, perms, kind: st.isBlockDevice() ? 'b' : 'c', major, minor };
  });
}

/** The capability flags as typed, with husk's own bounding set; none when no flag is given. */
function capabilityFacts(s: RunFlags['security']): PlanRequest['capabilities'] {
  if (!s.privileged && s.capAdd.length === 0 && s.capDrop.length === 0) return undefined;
  return { privileged: s.privileged, bounding: ownBoundingSet(), add: s.capAdd, drop: s.capDrop };
}

function podResources(f: RunFlags, root: string): RunFlags['resources'] {
  if (f.pod === undefined || f.resources.cgroupParent !== undefined) return f.resources;
  return { ...f.resources, cgroupParent: readPod(root, f.pod).cgroupParent };
}

export function prepare(f: RunFlags, ctx: PrepareContext): Prepared {
  const rootless = (process.geteuid?.() ?? 0) !== 0;
  const usermode = usermodeFacts(f, rootless);
  if (f.publish.length > 0 && ctx.network === undefined && usermode === undefined) throw new HuskError('usage', '--publish needs a network: add --network NAME (husk is the default one)');
  if (f.ip !== undefined && ctx.network === undefined) throw new HuskError('usage', '--ip needs a network: add --network NAME');
  if (f.ip6 !== undefined && ctx.network === undefined) throw new HuskError('usage', '--ip6 needs a network: add --network NAME');
  if (f.networkAliases.length > 0 && ctx.network === undefined) throw new HuskError('usage', '--network-alias needs a user-defined network: add --network NAME');
  for (const [flag, given] of [['--dns', f.dns.length > 0], ['--add-host', f.addHosts.length > 0], ['--mac-address', f.macAddress !== undefined], ['--publish-all', f.publishAll]] as const) {
    if (given && ctx.network === undefined) throw new HuskError('usage', `${flag} needs a network: add --network NAME (husk is the default one)`);
  }
  const id = ctx.id ?? newContainerId();
  let image: PlanRequest['image'];
  let rootDir: string;
  if (f.rootfs !== undefined) {
    rootDir = resolveRootfs(f.rootfs);
    image = { kind: 'rootfs', path: rootDir, readwrite: f.rootfsRw };
  } else if (f.image === 'host') {
    rootDir = '/';
    image = { kind: 'host', hostEntries: hostRootEntries() };
  } else if (ctx.image !== undefined) {
    rootDir = '';
    image = { ...ctx.image.plan, upper: ctx.image.upper };
  } else {
    throw new HuskError('image', `unable to find image "${f.image}": husk knows only the built-in image "host" and --rootfs DIR`);
  }
  // usernsFacts reads the caller and the subordinate files only when a user namespace might
  // be asked for (nothing for a rootful run without the flags). Whether there is one, and the
  // defaults (keep-id's user, the host name, the clocks' offsets), are the core's.
  const userns = usernsFacts(f, undefined, ctx.root);
  // An image stacked in a user namespace: does the kernel allow the overlay there? If not, the
  // core copies it onto the stage instead (overlay-probe.ts, assembly/plan/flatten.ts).
  if (userns !== undefined && (image.kind === 'layers' || (image.kind === 'rootfs' && image.readwrite !== true)) && !overlayInUserns().allowed) {
    image = { ...image, flatten: true };
  }
  const request: PlanRequest = {
    image,
    stage: join(ctx.root, 'stage'),
    share: { pid: f.pid === 'host', net: f.net === 'host', ipc: f.ipc === 'host', uts: f.uts === 'host' },
    id,
    hostname: f.hostname,
    env: collectEnv(f.env, f.envFiles),
    workdir: f.workdir,
    user: f.user === undefined ? undefined : (ctx.image?.user ?? resolveUser(f.user, rootDir)),
    argv: f.argv,
    userns,
    usedRanges: ctx.usedRanges,
    timens: f.timens,
    init: f.lifecycle.init || undefined,
    timeOffsets: f.timens ? f.timeOffsets : undefined,
    trace: f.trace || ctx.trace === true,
    dieWithParent: ctx.dieWithParent,
    diesWithMonitor: ctx.diesWithMonitor,
    waitStart: ctx.waitStart,
    // --pod: its namespaces joined, its cgroup parent (unless --cgroup-parent says otherwise).
    joins: resolveJoins(f, ctx.root),
    cgroup: planCgroup(ctx.cgroupFacts ?? hostCgroupFacts(), podResources(f, ctx.root), {
      id,
      rootless: (process.geteuid?.() ?? 0) !== 0,
      defaultParent: process.env.HUSK_CGROUP_PARENT || undefined,
      probe: ctx.probe,
    }),
    statusFile: ctx.statusFile,
    imageConfig: ctx.image?.config,
    entrypoint: f.entrypoint,
    keepLayer: ctx.keepLayer,
    logFile: ctx.logFile,
    tty: ctx.tty,
    attach: ctx.attach,
    usermode,
    network: ctx.network ? netFacts(ctx.root, ctx.network, id, { ip: f.ip, ip6: f.ip6, ports: f.publish, names: { name: f.lifecycle.name ?? '', aliases: f.networkAliases }, options: { dns: f.dns, addHosts: f.addHosts, mac: f.macAddress ?? '' }, publishAll: f.publishAll }) : undefined,
    seccomp: seccompChoice(f.security.seccomp),
    capabilities: capabilityFacts(f.security),
    runOptions: runOptionFacts(f, rootDir, ctx),
    devices: deviceFacts(f.runOptions.devices),
    hostDevices: f.security.privileged ? hostDevNodes() : undefined,
    kernel: release(),
  };
  // On a network the address the core picks is leased (asked again if another took it).
  const answer = request.network && !ctx.dryRun ? claimAddress(ctx.root, id, request.network, () => buildPlanAnswer(request)) : buildPlanAnswer(request);
  let cgroups: string[] | undefined;
  // What the core chose comes from its summary, decoded only when asked: the CLI keeps the
  // cgroups and ranges in its record, the API's run() does not.
  return {
    id,
    request,
    plan: answer.plan,
    get summary(): PlanSummary {
      return answer.summary;
    },
    // Without user-namespace facts the request cannot ask for one: no summary to decode.
    get userns() {
      return request.userns && answer.summary.userns ? answer.summary.usernsRange : undefined;
    },
    get hostRanges() {
      return request.userns && answer.summary.userns ? answer.summary.hostRanges : undefined;
    },
    get cgroups(): string[] {
      return (cgroups ??= answer.summary.cgroupDirs);
    },
    set cgroups(v: string[]) {
      cgroups = v;
    },
  };
}
