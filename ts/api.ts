// The TypeScript API: `import { Husk } from 'husk'`. A warm orchestrator: the policy core is
// loaded once and each container costs a plan build and a launcher spawn.
import { defaultRunFlags } from './cli/args.js';
import type { RunFlags } from './cli/args.js';
import { HuskError } from './errors.js';
import { prepare } from './runtime/container.js';
import { launch } from './runtime/launcher.js';
import type { LaunchOptions } from './runtime/launcher.js';
import { statusOf } from './runtime/outcome.js';
import { ensureRoot, liveRecords, processStart, removeRecord, writeRecord } from './runtime/state.js';
import type { ContainerRecord } from './runtime/state.js';
import { decodePlan } from './protocol/plan.js';
import { describePlan } from './protocol/describe.js';

export { HuskError } from './errors.js';

type NsMode = 'private' | 'host';

export interface ContainerOptions {
  /** A built-in image (`host`); or give `rootfs`. */
  image?: string;
  rootfs?: string;
  rootfsRw?: boolean;
  command: string[];
  env?: Record<string, string> | string[];
  hostname?: string;
  workdir?: string;
  /** `UID[:GID]` or a name from the image's /etc/passwd. */
  user?: string;
  network?: 'none' | 'host';
  pid?: NsMode;
  ipc?: NsMode;
  uts?: NsMode;
  userns?: { mode: 'host' } | { mode: 'auto'; size?: number };
  timeOffsets?: { monotonic?: number; boottime?: number };
  /** stdio of the container: inherited from this process (default), or ignored. */
  stdio?: 'inherit' | 'ignore' | LaunchOptions['stdio'];
  /** Kill the container if this process dies (default true). */
  dieWithParent?: boolean;
}

export interface RunResult {
  /** As husk run's: N for exit N, 128+S for signal S. */
  exitCode: number;
  /** The container process's pid on the host, while it ran. */
  pid?: number;
}

export interface HuskOptions {
  /** State directory (default /run/husk). */
  root?: string;
}

function toFlags(o: ContainerOptions): RunFlags {
  const f = defaultRunFlags();
  if (!Array.isArray(o.command) || o.command.length === 0) throw new HuskError('usage', 'command: needs at least one element');
  f.argv = [...o.command];
  if (o.rootfs !== undefined) {
    f.rootfs = o.rootfs;
    f.rootfsRw = o.rootfsRw ?? false;
  } else f.image = o.image ?? 'host';
  f.env = Array.isArray(o.env) ? [...o.env] : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
  f.hostname = o.hostname;
  f.workdir = o.workdir;
  f.user = o.user;
  f.net = o.network === 'host' ? 'host' : 'private';
  f.pid = o.pid ?? 'private';
  f.ipc = o.ipc ?? 'private';
  f.uts = o.uts ?? 'private';
  f.userns = o.userns ?? { mode: 'host' };
  if (o.timeOffsets) {
    f.timens = true;
    f.timeOffsets = { ...o.timeOffsets };
  }
  return f;
}

export class Husk {
  readonly root: string;
  private rootReady = false;

  constructor(opts: HuskOptions = {}) {
    this.root = opts.root ?? '/run/husk';
  }

  /** The plan `run` would execute, encoded (what `husk plan --save` writes). */
  plan(o: ContainerOptions): Uint8Array {
    return prepare(toFlags(o), { root: this.root, usedRanges: [], dieWithParent: o.dieWithParent ?? true }).plan;
  }

  /** The plan in words, one op a line (what `husk plan` prints). */
  describe(o: ContainerOptions): string {
    return describePlan(decodePlan(this.plan(o)));
  }

  /** Runs a container to its end. Rejects with a HuskError when it could not run. */
  async run(o: ContainerOptions): Promise<RunResult> {
    const flags = toFlags(o);
    if (!this.rootReady) {
      ensureRoot(this.root);
      this.rootReady = true;
    }
    const used = flags.userns.mode === 'auto' ? liveRecords(this.root).flatMap((r) => (r.userns ? [r.userns] : [])) : [];
    const prepared = prepare(flags, { root: this.root, usedRanges: used, dieWithParent: o.dieWithParent ?? true });
    let record: ContainerRecord | undefined;
    if (prepared.userns) {
      record = { id: prepared.id, created: new Date().toISOString(), userns: prepared.userns };
      writeRecord(this.root, record);
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
      return { exitCode: statusOf(outcome, flags.argv[0]), pid: outcome.pid };
    } finally {
      if (record) removeRecord(this.root, record.id);
    }
  }
}
