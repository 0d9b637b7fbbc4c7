// husk run: one container in the foreground (its exit status becomes husk's), or with -d in
// the background (husk prints its id and leaves the launcher to monitor it).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GlobalFlags, RunFlags } from './args.js';
import { HuskError } from '../errors.js';
import { launch } from '../runtime/launcher.js';
import type { LaunchOutcome } from '../runtime/launcher.js';
import { BUILTIN_IMAGES, prepare } from '../runtime/prepare.js';
import type { RunImage } from '../runtime/image-run.js';
import { statusOf } from '../runtime/outcome.js';
import { containerPid, ensureRoot, isLive, processStart, removeRecord, writeRecord } from '../runtime/state.js';
import { cgroupEvidence, oomMessage } from '../cgroup/evidence.js';
import { printUsernsNote, usedRanges } from '../runtime/userns.js';
import { applyDefaultNetwork } from '../network/default.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function runCommand(global: GlobalFlags, flags: RunFlags): Promise<number> {
  const started = process.hrtime.bigint();
  // The image first: a name the store lacks is refused before any state directory is made.
  const image = await storeImage(global, flags);
  ensureRoot(global.root);
  // Without --network, root's container joins the default network (network/default.ts).
  await applyDefaultNetwork(global.root, flags);
  // What an earlier crash left goes first (cgroups included); the live records tell which id
  // ranges and names are taken.
  const { sweep } = await import('../runtime/records.js');
  const { cgroupHost } = await import('../cgroup/host.js');
  const records = await sweep(global.root, cgroupHost);
  // A first look at the name, before any work; claimName looks again under its lock.
  const { claimName, holderOf, nameInUse } = await import('../runtime/names.js');
  const name = flags.lifecycle.name;
  const taken = name !== undefined ? holderOf(records, name) : undefined;
  if (name !== undefined && taken) throw nameInUse(name, taken);
  // Ranges held by live containers and by pinned user namespaces (a joined one has its maps).
  const used = flags.userns.mode !== 'host' && flags.userns.mode !== 'ns' ? [...usedRanges(records.filter(isLive)), ...(await import('../runtime/ns-store.js')).pinnedRanges(global.root)] : [];
  if (flags.lifecycle.detach) return runDetached(global, flags, used, image);
  // -t: the monitor holds the pty; husk attaches to it (docs/protocol.md "The attach socket").
  if (flags.stdio.tty) return runDetached(global, flags, used, image, true);

  const network = flags.network !== undefined ? await (await import('../network/store.js')).networkForRun(global.root, flags.network) : undefined;
  const prepared = prepare(flags, { root: global.root, usedRanges: used, dieWithParent: true, image, network });
  if (prepared.request.userns) printUsernsNote(prepared.summary);
  const { processFacts, recordOf } = await import('../runtime/create.js');
  // What exec needs from a foreground container too (`husk exec` from another shell).
  const record = { ...recordOf(prepared, flags, image), process: processFacts(prepared, flags) };
  // An id range (or a name) is reserved before the launcher starts; the rest is written once
  // it exists. Not fsynced: this record lives no longer than its launcher (state.ts writeRecord).
  if (record.userns || record.hostRanges?.length || record.name !== undefined) {
    await claimName(global.root, record, () => writeRecord(global.root, record, { durable: false }));
  }
  let outcome: LaunchOutcome | undefined;
  const seen: { pid?: number; innerPid?: number } = {};
  try {
    outcome = await launch(prepared.plan, {
      forwardSignals: FORWARDED,
      onSpawn: (pid) => {
        record.launcherPid = pid;
        record.launcherStart = processStart(pid);
        writeRecord(global.root, record, { durable: false });
      },
      // The container's pid, so `ps` shows it running and `exec`/`enter` can join it.
      onEvent: (ev) => {
        if (ev.kind === 'pid') seen.pid = ev.pid;
        else if (ev.kind === 'inner-pid') seen.innerPid = ev.pid;
        else return;
        const container = containerPid(seen, record.launcherPid);
        if (container === undefined) return;
        record.pid = container.pid;
        record.pidStart = container.pidStart;
        record.started = new Date().toISOString();
        writeRecord(global.root, record, { durable: false });
      },
    });
    if (flags.trace) {
      const { formatTrace } = await import('../runtime/trace.js');
      process.stderr.write(formatTrace(prepared.plan, outcome, started));
    }
    reportOom(outcome);
    return statusOf(outcome, record.argv?.[0] ?? flags.argv[0]);
  } finally {
    // The monitor deleted its ports' elements as it ended, unless it was killed.
    const monitorEnded = outcome !== undefined && !(outcome.exit.how === 'failed' && outcome.error?.index === -1);
    if (monitorEnded && record.network?.ports?.length) (await import('../network/leases.js')).forgetUnpublish(global.root, record);
    removeRecord(global.root, record.id);
    // The address goes with the container, even when its record was never written.
    if (record.network !== undefined) (await import('../network/leases.js')).releaseOf(global.root, record);
    // A launcher that was killed could not remove the container's cgroups: do it now.
    if (record.cgroups?.length && outcome?.exit.how === 'failed' && outcome.error?.index === -1) {
      const { cgroupHost } = await import('../cgroup/host.js');
      const host = await cgroupHost();
      await host.remove(host.dirsOf(record.cgroups));
    }
  }
}

/** The image from the store `husk run IMAGE` names (undefined for host and --rootfs). */
export async function storeImage(global: GlobalFlags, flags: RunFlags): Promise<RunImage | undefined> {
  if (flags.rootfs !== undefined || flags.image === undefined || (BUILTIN_IMAGES as readonly string[]).includes(flags.image)) return undefined;
  const { Store, storageRoot } = await import('../image/store.js');
  const { runImage } = await import('../runtime/image-run.js');
  // Absolute: the layers' paths go into the plan, and the record keeps the store's.
  const root = resolve(storageRoot(global.storage));
  // No store yet: nothing to find, and a lookup must not create one (a typo would leave
  // /var/lib/husk behind).
  if (!existsSync(root)) {
    throw new HuskError('image', `unable to find image "${flags.image}": no such image in ${root}`, {
      hint: `Pull it (husk pull ${flags.image}) or load it (husk load -i FILE) first; husk images lists what is stored.`,
    });
  }
  return runImage(Store.open({ root }), flags);
}

function reportOom(outcome: LaunchOutcome): void {
  if (outcome.cgroupFiles.length === 0) return;
  const ev = cgroupEvidence(outcome.cgroupFiles);
  const message = oomMessage(ev, outcome.exit.how === 'signaled' && outcome.exit.value === 9);
  if (message) process.stderr.write(`husk: ${message}\n`);
}

/**
 * run -d, and run -t in the foreground (`attached`): the container is a detached one whose
 * monitor waits for husk to attach before it starts; husk stays attached until it ends (then
 * its exit status is husk's, and it is removed) or the detach keys leave it running. Made as
 * `husk create` makes one (runtime/create.ts), started as `husk start` starts it.
 */
async function runDetached(global: GlobalFlags, flags: RunFlags, used: { start: number; size: number }[], image: RunImage | undefined, attached = false): Promise<number> {
  const { createContainer } = await import('../runtime/create.js');
  const { startSaved } = await import('../runtime/start.js');
  const { attachPath, eventsPath, removeContainerState } = await import('../runtime/records.js');
  const { withContainerLock } = await import('../runtime/lock.js');
  const { monitorStdio } = await import('../runtime/monitor-stdio.js');
  const record = await createContainer(global.root, flags, used, {
    image,
    context: (id) => monitorStdio(global.root, id, flags.stdio, attached),
    record: { tty: flags.stdio.tty || undefined, stdinOpen: flags.stdio.interactive || undefined },
  });
  const id = record.id;
  let start;
  let session: Promise<'ended' | 'detached'> | undefined;
  try {
    start = await withContainerLock(global.root, id, () =>
      startSaved(global.root, record, () => {
        if (attached) session = attachSession(attachPath(global.root, id), flags);
      }),
    );
  } catch (err) {
    removeContainerState(global.root, id);
    throw err;
  }
  if (start.ended?.error) {
    // It never ran: nothing to keep. The error reads as a foreground run's would.
    removeContainerState(global.root, id);
    statusOf(start.ended, record.argv?.[0] ?? flags.argv[0]);
  }
  if (session === undefined) {
    process.stdout.write(`${id}\n`);
    return 0;
  }
  // While attached, signals sent to husk go to the container, as a foreground run's do (the
  // window size goes by RESIZE instead). The launcher is our own child and alive until the
  // session ends, so its pid names it.
  const launcherPid = start.launcherPid;
  const proxies = FORWARDED.filter((s) => s !== 'SIGWINCH').map((sig) => {
    const handler = () => {
      try {
        process.kill(launcherPid, sig);
      } catch {
        // gone already: its end is on its way
      }
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  let how: 'ended' | 'detached';
  try {
    how = await session;
  } finally {
    for (const [sig, handler] of proxies) process.off(sig, handler);
  }
  if (how === 'detached') return 0; // It runs on, as a -d container.
  const { outcomeOf } = await import('../runtime/detach.js');
  const { outcome, exited } = outcomeOf(eventsPath(global.root, id));
  if (!exited) {
    // The monitor went without its EXIT (killed): the record stays, for the next husk to
    // show and sweep, as for a -d container.
    const { lostLauncher } = await import('../runtime/event-fold.js');
    lostLauncher(outcome, 'the container\'s monitor ended without reporting (killed?)');
    return statusOf(outcome, record.argv?.[0] ?? flags.argv[0]);
  }
  try {
    reportOom(outcome);
    return statusOf(outcome, record.argv?.[0] ?? flags.argv[0]);
  } finally {
    removeContainerState(global.root, id);
  }
}

async function attachSession(path: string, flags: RunFlags): Promise<'ended' | 'detached'> {
  const { attach } = await import('../runtime/attach-client.js');
  const { parseDetachKeys } = await import('./flags-stdio.js');
  const keys = flags.stdio.detachKeys !== undefined ? parseDetachKeys(flags.stdio.detachKeys) : undefined;
  return attach(path, { stdin: flags.stdio.interactive, tty: flags.stdio.tty, detachKeys: keys, connectMs: 30_000 });
}
