// Which network a `husk run`, `create` or `plan` without `--network` gets. As docker's default
// bridge: root's container joins the default network `husk` (bridge husk0, made on first use),
// but only when it makes a network namespace of its own. A container that joins another's
// (`--net host`, `ns:NAME`, `container:OTHER`, a pod that shares net) has no network of its
// own, as in docker and podman; one in a joined user namespace (`--userns ns:NAME`) cannot have
// a veth made for it (assembly/plan/request.ts). A user's container keeps its own namespace with
// only `lo` (or pasta with `-p`: usermode.ts), as before: a user may make no bridge. The warm
// API (ts/api.ts) never asks: its sandboxes get `lo` only unless told otherwise.
// Kept light: the cold `husk run` path loads this file on every run.
import type { RunFlags } from '../cli/args.js';

export const DEFAULT_NETWORK = 'husk';

export interface DefaultFacts {
  rootless: boolean;
  /** --pod's record shares the net namespace (the container joins it). */
  podSharesNet: boolean;
}

/** The network the flags leave the container on when none was typed, or undefined (lo only). Pure. */
export function defaultNetworkOf(f: Pick<RunFlags, 'networkTyped' | 'network' | 'usermodeNet' | 'net' | 'joins' | 'userns'>, facts: DefaultFacts): string | undefined {
  if (f.networkTyped || f.network !== undefined || f.usermodeNet !== undefined) return undefined;
  if (facts.rootless || facts.podSharesNet) return undefined;
  if (f.net !== 'private' || f.joins.some((j) => j.type === 'net') || f.userns.mode === 'ns') return undefined;
  return DEFAULT_NETWORK;
}

/** Sets `flags.network` to the default one when the flags leave it to husk (run, create, plan). */
export async function applyDefaultNetwork(root: string, f: RunFlags): Promise<void> {
  if (f.networkTyped || f.network !== undefined) return;
  const rootless = (process.geteuid?.() ?? 0) !== 0;
  let podSharesNet = false;
  if (f.pod !== undefined && !rootless) {
    const { readPod } = await import('../runtime/pods.js');
    podSharesNet = readPod(root, f.pod).share.includes('net');
  }
  f.network = defaultNetworkOf(f, { rootless, podSharesNet });
}
