// The TypeScript API: `import { Husk } from 'husk'`. A warm orchestrator: the policy core is
// loaded once and each container costs a plan build and a launcher spawn.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultRunFlags } from './cli/args.js';
import { LIMIT_FLAGS, normalizeCgroupParent } from './cli/flags-resources.js';
import { cgroupEvidence } from './cgroup/evidence.js';
import { FileProbe } from './cgroup/request-facts.js';
import type { RunFlags } from './cli/args.js';
import { HuskError } from './errors.js';
import { prepare } from './runtime/prepare.js';
import { defaultRoot } from './runtime/paths.js';
import { launch } from './runtime/launcher.js';
import type { LaunchOptions } from './runtime/launcher.js';
import { statusOf } from './runtime/outcome.js';
import { ensureRoot, liveRecords, processStart, removeRecord, writeRecord } from './runtime/state.js';
import type { ContainerRecord } from './runtime/state.js';
import { usedRanges } from './runtime/userns.js';
import { describePlanBytes } from './core/describe.js';
import { LauncherServer } from './runtime/server.js';
import { Sandbox } from './runtime/sandbox.js';
import { describePlan } from './protocol/describe.js';
import type { NetworkRecord } from './network/store.js';
import type { Prepared } from './runtime/prepare.js';

import type { RunImage } from './runtime/image-run.js';

export { HuskError } from './errors.js';

/** Changes whenever an image is tagged, loaded or removed: refs.json's and images/'s mtimes. */
function storeStamp(root: string): number {
  let stamp = 0;
  for (const p of ['refs.json', 'images']) {
    try {
      stamp += statSync(`${root}/${p}`).mtimeMs;
    } catch {
      // not there yet
    }
  }
  return stamp;
}
export { Sandbox } from './runtime/sandbox.js';
export type { SandboxResult } from './runtime/sandbox.js';

type NsMode = 'private' | 'host';

export interface ContainerOptions {
  /**
   * A built-in image (`host`), or an image in the store (name[:tag], id or prefix): its
   * layers, its config (Entrypoint, Cmd, Env, WorkingDir, User) as `husk run IMAGE` uses them.
   * Or give `rootfs`.
   */
  image?: string;
  /** With a store image: replaces its Entrypoint ('' clears it). */
  entrypoint?: string;
  rootfs?: string;
  rootfsRw?: boolean;
  /** The command (with a store image: the arguments after IMAGE; may be empty to run its Cmd). */
  command: string[];
  env?: Record<string, string> | string[];
  hostname?: string;
  workdir?: string;
  /** `UID[:GID]` or a name from the image's /etc/passwd. */
  user?: string;
  /**
   * `none` (default: a network namespace with only `lo`; unlike `husk run` as root, the API
   * never joins the default network by itself: its sandboxes start isolated, at the kernel's
   * cost, with no bridge made behind the caller), `host`, or the name of a network, as
   * `husk run --network NAME` (`husk`, also `bridge`/`default`, is the default bridge, made by
   * the first container that asks for it; others come from `husk network create`): the
   * container gets an address there (its lease is this process's until the container ends),
   * `/etc/hosts`, `hostname`, `resolv.conf`, and on a user-defined network its names.
   */
  network?: string;
  /** On a network: the address to take instead of the lowest free one (`--ip`). */
  ip?: string;
  /** On a user-defined network: more names the container answers to (`--network-alias`). */
  networkAliases?: string[];
  pid?: NsMode;
  ipc?: NsMode;
  uts?: NsMode;
  /**
   * The user namespace: the host's (default); `auto`, root inside on a free host range of
   * `size` ids (default 65536); `keep-id`, the caller keeps its ids inside.
   */
  userns?: { mode: 'host' } | { mode: 'auto'; size?: number } | { mode: 'keep-id' };
  /** podman's `CONTAINER:HOST:SIZE` lines (a new user namespace); gidmap defaults to uidmap and vice versa. */
  uidmap?: string[];
  gidmap?: string[];
  /** Subordinate id files (default /etc/subuid, /etc/subgid). */
  subuidFile?: string;
  subgidFile?: string;
  timeOffsets?: { monotonic?: number; boottime?: number };
  // Resource limits: docker's flags in camelCase, values as on the command line
  // (`memory: '64m'`, `cpus: 0.5`, `pidsLimit: 64`, `deviceReadBps: ['/dev/sda:1mb']`).
  memory?: string | number;
  memorySwap?: string | number;
  memoryReservation?: string | number;
  cpus?: string | number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  /** The cgroup the container's own goes under, in every hierarchy (default `husk`). */
  cgroupParent?: string;
  /** stdio of the container: inherited from this process (default), or ignored. */
  stdio?: 'inherit' | 'ignore' | LaunchOptions['stdio'];
  /** Kill the container if this process dies (default true). */
  dieWithParent?: boolean;
  /**
   * Run through the Husk instance's warm launcher server (one fork per container instead of
   * one spawn from Node). Default: when stdio is 'ignore' (the server's stdio is /dev/null).
   */
  server?: boolean;
}

export interface RunResult {
  /** As husk run's: N for exit N, 128+S for signal S. */
  exitCode: number;
  /** The container process's pid on the host, while it ran. */
  pid?: number;
  /** The kernel's OOM killer killed a process of the container (its memory limit). */
  oomKilled?: boolean;
}

export interface HuskOptions {
  /** State directory (default /run/husk). */
  root?: string;
  /** The image store (default $HUSK_STORAGE, else /var/lib/husk). */
  storage?: string;
}

/** Each limit flag with its option name (`memory-swap` → `memorySwap`), worked out once. */
const LIMIT_OPTIONS = LIMIT_FLAGS.map((name) => [name, name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] as const);

function toFlags(o: ContainerOptions): RunFlags {
  const f = defaultRunFlags();
  const storeImage = o.rootfs === undefined && o.image !== undefined && o.image !== 'host';
  if (!Array.isArray(o.command) || (o.command.length === 0 && !storeImage)) throw new HuskError('usage', 'command: needs at least one element');
  f.argv = [...o.command];
  if (o.rootfs !== undefined) {
    f.rootfs = o.rootfs;
    f.rootfsRw = o.rootfsRw ?? false;
  } else f.image = o.image ?? 'host';
  f.entrypoint = o.entrypoint;
  f.env = Array.isArray(o.env) ? [...o.env] : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
  f.hostname = o.hostname;
  f.workdir = o.workdir;
  f.user = o.user;
  f.net = o.network === 'host' ? 'host' : 'private';
  if (o.network !== undefined && o.network !== 'host' && o.network !== 'none') {
    // A network's name; the other --network forms (ns:, container:, pasta) are the CLI's.
    if (o.network === '' || o.network.includes(':') || o.network === 'pasta' || o.network === 'slirp4netns' || o.network === 'private') {
      throw new HuskError('usage', `network: ${JSON.stringify(o.network)} is not a network name (the API takes none, host or a network's name)`);
    }
    f.network = o.network === 'bridge' || o.network === 'default' ? 'husk' : o.network;
  }
  f.ip = o.ip;
  f.networkAliases = [...(o.networkAliases ?? [])];
  f.pid = o.pid ?? 'private';
  f.ipc = o.ipc ?? 'private';
  f.uts = o.uts ?? 'private';
  f.userns = o.userns ?? { mode: 'host' };
  f.idmap.uidmap = [...(o.uidmap ?? [])];
  f.idmap.gidmap = [...(o.gidmap ?? [])];
  if (o.subuidFile !== undefined) f.idmap.subuidFile = o.subuidFile;
  if (o.subgidFile !== undefined) f.idmap.subgidFile = o.subgidFile;
  if (o.timeOffsets) {
    f.timens = true;
    f.timeOffsets = { ...o.timeOffsets };
  }
  for (const [name, option] of LIMIT_OPTIONS) {
    const v = (o as unknown as Record<string, unknown>)[option];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) f.resources.limits.push({ name, value: String(one) });
  }
  if (o.cgroupParent !== undefined) f.resources.cgroupParent = normalizeCgroupParent(o.cgroupParent);
  return f;
}

export class Husk {
  readonly root: string;
  readonly storage?: string;
  /** Store images resolved before, by name and -u (their config and layers), while the store's refs are unchanged. */
  private readonly images = new Map<string, { stamp: number; image: RunImage }>();
  private rootReady = false;
  private launcherServer?: LauncherServer;
  /** ts/network/, loaded by the first container on a network. */
  private networks?: typeof import('./network/store.js');
  private leases?: typeof import('./network/leases.js');
  /** The host's cgroup files, kept open between plans. */
  private readonly probe = new FileProbe();

  constructor(opts: HuskOptions = {}) {
    this.root = opts.root ?? defaultRoot();
    this.storage = opts.storage;
  }

  /** The store image `flags` name (cached while refs.json and images/ are unchanged), or undefined. */
  private async storeImage(flags: RunFlags): Promise<RunImage | undefined> {
    if (flags.rootfs !== undefined || flags.image === undefined || flags.image === 'host') return undefined;
    const { Store, storageRoot } = await import('./image/store.js');
    const store = Store.open({ root: resolve(storageRoot(this.storage)) });
    const stamp = storeStamp(store.root);
    const key = `${flags.image}\0${flags.user ?? ''}`;
    const hit = this.images.get(key);
    if (hit && hit.stamp === stamp) return hit.image;
    const { runImage } = await import('./runtime/image-run.js');
    const image = await runImage(store, flags);
    this.images.set(key, { stamp, image });
    return image;
  }

  /** The plan `run` would execute, encoded (what `husk plan --save` writes). A store image must have been run or planned with planAsync first. */
  plan(o: ContainerOptions): Uint8Array {
    const flags = toFlags(o);
    const cached = this.images.get(`${flags.image}\0${flags.user ?? ''}`)?.image;
    return prepare(flags, { root: this.root, usedRanges: [], dieWithParent: o.dieWithParent ?? true, probe: this.probe, image: cached, ...this.networkForPlan(flags) }).plan;
  }

  /** plan(), resolving a store image first. */
  async planAsync(o: ContainerOptions): Promise<Uint8Array> {
    const flags = toFlags(o);
    const image = await this.storeImage(flags);
    if (flags.network !== undefined && !this.networks) this.networks = await import('./network/store.js');
    return prepare(flags, { root: this.root, usedRanges: [], dieWithParent: o.dieWithParent ?? true, probe: this.probe, image, ...this.networkForPlan(flags) }).plan;
  }

  /** The plan in words, one op a line (what `husk plan` prints). */
  describe(o: ContainerOptions): string {
    return describePlan(describePlanBytes(this.plan(o)));
  }

  /** Runs a container to its end. Rejects with a HuskError when it could not run. */
  async run(o: ContainerOptions): Promise<RunResult> {
    const flags = toFlags(o);
    if (!this.rootReady) {
      ensureRoot(this.root);
      this.rootReady = true;
    }
    const used = flags.userns.mode !== 'host' ? usedRanges(liveRecords(this.root)) : [];
    const image = await this.storeImage(flags);
    const network = await this.networkForRun(flags);
    const prepared = prepare(flags, { root: this.root, usedRanges: used, dieWithParent: o.dieWithParent ?? true, probe: this.probe, image, network });
    const command0 = image ? (prepared.summary.command?.[0] ?? '') : flags.argv[0];
    let record: ContainerRecord | undefined;
    if (prepared.userns) {
      record = { id: prepared.id, created: new Date().toISOString(), userns: prepared.userns, hostRanges: prepared.hostRanges };
      writeRecord(this.root, record);
    }
    if (!record && (o.server ?? o.stdio === 'ignore')) {
      let outcome;
      try {
        outcome = await this.server().run(prepared.plan).done;
      } finally {
        this.releaseNetwork(prepared);
      }
      return { exitCode: statusOf(outcome, command0), pid: outcome.pid, oomKilled: cgroupEvidence(outcome.cgroupFiles ?? []).oomKills > 0 };
    }
    try {
      const stdio = o.stdio === undefined || o.stdio === 'inherit' ? 'inherit' : o.stdio;
      const outcome = await launch(prepared.plan, {
        stdio,
        onSpawn: (pid) => {
          if (!record) return;
          record.launcherPid = pid;
          record.launcherStart = processStart(pid);
          writeRecord(this.root, record);
        },
      });
      return { exitCode: statusOf(outcome, command0), pid: outcome.pid, oomKilled: cgroupEvidence(outcome.cgroupFiles ?? []).oomKills > 0 };
    } finally {
      if (record) removeRecord(this.root, record.id);
      this.releaseNetwork(prepared);
    }
  }

  /**
   * Makes a sandbox ahead of time: its plan runs in the warm launcher server up to just
   * before exec, and the promise resolves when it waits there; `start()` then costs one write
   * to a pipe. Its stdio is /dev/null. Rejects with a HuskError, as run() does.
   */
  async create(o: ContainerOptions): Promise<Sandbox> {
    const flags = toFlags(o);
    if (o.stdio !== undefined && o.stdio !== 'ignore') throw new HuskError('usage', "create: a sandbox's stdio is 'ignore' (the launcher server's /dev/null)");
    if (flags.userns.mode !== 'host') throw new HuskError('usage', 'create: a user namespace is not supported for sandboxes made ahead yet; use run()');
    if (!this.rootReady) {
      ensureRoot(this.root);
      this.rootReady = true;
    }
    const image = await this.storeImage(flags);
    const network = await this.networkForRun(flags);
    const prepared = prepare(flags, { root: this.root, usedRanges: [], dieWithParent: o.dieWithParent ?? true, probe: this.probe, waitStart: true, image, network });
    // Its address (made ahead with the rest: the veth is there before start) goes when it ends.
    const onEnd = network ? () => this.releaseNetwork(prepared) : undefined;
    return new Sandbox(this.server(), prepared.id, prepared.plan, image ? (prepared.summary.command?.[0] ?? '') : flags.argv[0], onEnd).created();
  }

  /** The network a container names, made first when it is the default one (as husk run). */
  private async networkForRun(flags: RunFlags): Promise<NetworkRecord | undefined> {
    if (flags.network === undefined) return undefined;
    if (!this.networks) this.networks = await import('./network/store.js');
    if (!this.leases) this.leases = await import('./network/leases.js');
    return this.networks.networkForRun(this.root, flags.network);
  }

  /** plan(): the network as `husk plan` shows it, nothing leased (dryRun). */
  private networkForPlan(flags: RunFlags): { network?: NetworkRecord; dryRun: true } {
    if (flags.network === undefined) return { dryRun: true };
    if (!this.networks) throw new HuskError('usage', 'plan: a network needs planAsync() (or a run) first');
    return { network: this.networks.networkForPlan(this.root, flags.network), dryRun: true };
  }

  /** Gives back the address a container leased (its /etc files and records line go with it). */
  private releaseNetwork(prepared: Prepared): void {
    const n = prepared.request.network ? prepared.summary.net : undefined;
    if (n === undefined || this.leases === undefined) return;
    this.leases.releaseOf(this.root, { id: prepared.id, created: '', network: { name: n.network, address: n.address, prefix: n.prefix, mac: n.mac, gateway: n.gateway, veth: n.veth } });
  }

  /**
   * Ends the warm launcher server: sandboxes not started are killed, running containers go on
   * to their end; resolves when it has exited. The Husk instance can be used again after.
   */
  async close(): Promise<void> {
    this.probe.close();
    await this.launcherServer?.close();
  }

  /** The pid of this instance's warm launcher server, while one runs. */
  get serverPid(): number | undefined {
    return this.launcherServer?.pid;
  }

  private server(): LauncherServer {
    return (this.launcherServer ??= new LauncherServer());
  }
}
