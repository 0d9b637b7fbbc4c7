// A container that outlives its command (`husk create`, `husk run -d`): an id, a state
// directory, its writable layer on disk (runtime/kept-layer.ts), its plan saved for every
// later `husk start`, and its record, written under its name's lock. Nothing runs yet.
import { mkdirSync, renameSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFlags } from '../cli/args.js';
import type { SeccompChoice } from '../core/seccomp.js';
import type { NetChosen } from '../core/build-plan.js';
import { newContainerId, prepare } from './prepare.js';
import type { PrepareContext, Prepared } from './prepare.js';
import { keptLayerPaths, makeKeptLayer } from './kept-layer.js';
import { logPath, removeContainerState, stateDir, statusFilePath } from './records.js';
import { claimName } from './names.js';
import { processStart, tempName, writeRecord } from './state.js';
import type { ContainerRecord } from './state.js';
import type { RunImage } from './image-run.js';
import { printUsernsNote } from './userns.js';

/** The plan every `husk start` of the container runs (the same cgroups, layer and status file). */
export function planPath(root: string, id: string): string {
  return join(stateDir(root, id), 'plan');
}

export function readSavedPlan(root: string, id: string): Uint8Array {
  return readFileSync(planPath(root, id));
}

export function savePlan(root: string, id: string, plan: Uint8Array): void {
  const tmp = join(stateDir(root, id), tempName('plan'));
  writeFileSync(tmp, plan, { mode: 0o600 });
  renameSync(tmp, planPath(root, id));
}

/** What the record of a container keeps of its flags and the core's summary. */
export function recordOf(prepared: Prepared, flags: RunFlags, image?: RunImage): ContainerRecord {
  const s = image ? prepared.summary : undefined;
  return {
    id: prepared.id,
    created: new Date().toISOString(),
    ownerPid: process.pid,
    ownerStart: processStart(process.pid),
    name: flags.lifecycle.name,
    image: flags.rootfs ?? flags.image,
    argv: s?.command ?? flags.argv,
    imageId: image?.record.id,
    exposedPorts: s?.exposedPorts,
    userns: prepared.userns,
    hostRanges: prepared.hostRanges,
    cgroups: prepared.cgroups,
    limits: flags.resources.limits.length ? flags.resources.limits : undefined,
    network: networkOf(prepared, flags),
    usermode: usermodeOf(prepared),
    init: flags.lifecycle.init || undefined,
  };
}

/**
 * What `husk exec` takes from the container (ts/runtime/exec.ts): the image's Env, WorkingDir
 * and User under the flags, as docker's Config.
 */
export function processFacts(prepared: Prepared, flags: RunFlags): ContainerRecord['process'] {
  const config = prepared.request.imageConfig;
  const imageUser = config?.user !== undefined && 'uid' in config.user ? config.user : undefined;
  const u = prepared.request.user ?? imageUser;
  const num = (n: bigint | number | undefined) => (n === undefined ? undefined : Number(n));
  const user = u === undefined ? undefined : { uid: Number(u.uid), gid: num(u.gid), primaryGid: num(u.primaryGid) };
  const env = [...(config?.env ?? []), ...(prepared.request.env ?? [])];
  const caps = prepared.request.capabilities;
  return {
    env,
    workdir: flags.workdir ?? config?.workdir,
    user,
    hostname: prepared.summary.hostname,
    capabilities: caps === undefined ? undefined : { privileged: caps.privileged, add: [...caps.add], drop: [...caps.drop] },
    seccomp: storableSeccomp(prepared.request.seccomp),
  };
}

/** What the core chose on the network, as the record keeps it (the lease is the address's). */
function networkOf(prepared: Prepared, flags: RunFlags): ContainerRecord['network'] {
  const n = prepared.request.network ? prepared.summary.net : undefined;
  return n === undefined ? undefined : networkRecordOf(n);
}

/** The record's network from what the core chose (also for a start that got a new address). */
export function networkRecordOf(n: NetChosen): NonNullable<ContainerRecord['network']> {
  return { name: n.network, address: n.address, prefix: n.prefix, mac: n.mac, gateway: n.gateway, veth: n.veth, ports: n.published, address6: n.address6, prefix6: n.prefix6, gateway6: n.gateway6, dns: n.dns?.record, dnsUpstreams: n.dns?.upstreams, unpublish: n.ports?.unpublish };
}

/** What pasta forwards, as the request gave it (the core refuses a port it would not forward). */
function usermodeOf(prepared: Prepared): ContainerRecord['usermode'] {
  const u = prepared.request.usermode;
  return u === undefined ? undefined : { program: u.program, ports: u.ports.map((p) => ({ ...p })) };
}

/**
 * Makes the container and writes its record (Created: `neverStarted`); throws, leaving
 * nothing, when the flags, the core or the name refuse it.
 */
export interface CreateExtras {
  /** More of the plan's context, given the new id (run -t: the pty and the attach socket). */
  context?: (id: string) => Partial<PrepareContext>;
  /** More of the record (run -t: tty, stdinOpen). */
  record?: Partial<ContainerRecord>;
  /** An image from the store (`husk run IMAGE`): its writable layer lives in the store, on disk. */
  image?: RunImage;
}

export async function createContainer(root: string, flags: RunFlags, used: { start: number; size: number }[], extras: CreateExtras = {}): Promise<ContainerRecord> {
  const id = newContainerId();
  const network = flags.network !== undefined ? await (await import('../network/store.js')).networkForRun(root, flags.network) : undefined;
  mkdirSync(stateDir(root, id), { recursive: true, mode: 0o700 });
  try {
    // A store image's writable layer is the store's containers/<id> (diff, commit, export and cp
    // read it there; the launcher idmaps it in a user namespace); host and --rootfs keep theirs
    // under <root>/layers (runtime/kept-layer.ts).
    const image = extras.image;
    const upper = image?.store.containerLayer(id, { image: image.record });
    if (!image) makeKeptLayer(root, id);
    const prepared = prepare(flags, { ...extras.context?.(id), root, usedRanges: used, dieWithParent: false, diesWithMonitor: true, id, statusFile: statusFilePath(root, id), logFile: logPath(root, id), trace: true, network, ...(image ? { image: { ...image, upper } } : { keepLayer: keptLayerPaths(root, id) }) });
    // A user namespace's root writes the upper: it owns the layer (mapped root's host id).
    if (prepared.userns && !image) makeKeptLayer(root, id, prepared.userns.start);
    if (prepared.request.userns) printUsernsNote(prepared.summary);
    savePlan(root, id, prepared.plan);
    // On a network: what a later start needs to ask the core for another address.
    if (prepared.request.network) (await import('../network/replan.js')).saveReplan(root, id, prepared.request);
    const stop = prepared.summary.stopSignal;
    const record: ContainerRecord = {
      ...recordOf(prepared, flags, image),
      layerStorage: image?.store.root,
      name: flags.lifecycle.name ?? id.slice(0, 12),
      detached: true,
      autoRemove: flags.lifecycle.autoRemove || undefined,
      neverStarted: true,
      stopSignal: stop && stop.name !== 'SIGTERM' ? stop.name : undefined,
      ...extras.record,
    };
    record.process = processFacts(prepared, flags);
    if (flags.pod !== undefined) record.pod = flags.pod;
    await claimName(root, record, () => writeRecord(root, record));
    return record;
  } catch (err) {
    removeContainerState(root, id);
    extras.image?.store.removeContainerLayer(id);
    throw err;
  }
}

/** The seccomp choice as JSON keeps it: a value over 2^53 (a bigint) as its decimal string. */
function storableSeccomp(choice: SeccompChoice | undefined): SeccompChoice | undefined {
  if (choice === undefined) return undefined;
  return JSON.parse(JSON.stringify(choice, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as SeccompChoice;
}
