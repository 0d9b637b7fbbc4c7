// Network records under --root (ts/network/paths.ts), written temp + rename, changed only
// under one lock (`networks`, ts/runtime/lock.ts): create asks the core for the bridge,
// subnet and rules (ts/core/network.ts), runs its control plan (the bridge, sysctls) and
// `nft -f -`, then writes the record; rm refuses a network a live container holds, then
// removes the rules, the bridge and the record. The default network `husk` is made by the
// first run that asks for it.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import { networkPlan } from '../core/network.js';
import { newContainerId } from '../runtime/prepare.js';
import { runPlanOrThrow } from '../runtime/control.js';
import { withContainerLock } from '../runtime/lock.js';
import { callerUid } from '../runtime/paths.js';
import { containersDir, tempName } from '../runtime/state.js';
import { leaseDir, usedAddresses } from './leases.js';
import { runNft } from './nft.js';
import { networkFile, networksDir } from './paths.js';
import { recordsFile, responderPid, responderPidFile } from './dns.js';

import { DEFAULT_NETWORK } from './default.js';

export { DEFAULT_NETWORK };

export interface NetworkRecord {
  name: string;
  id: string;
  driver: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  created: string;
  /** A dual-stack network (--ipv6): its IPv6 subnet and gateway. */
  subnet6?: string;
  gateway6?: string;
}

export function readNetwork(root: string, name: string): NetworkRecord | undefined {
  try {
    return JSON.parse(readFileSync(networkFile(root, name), 'utf8')) as NetworkRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HuskError('host', `network ${name}: unreadable record ${networkFile(root, name)}: ${(err as Error).message}`);
  }
}

export function listNetworks(root: string): NetworkRecord[] {
  let names: string[];
  try {
    names = readdirSync(networksDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .map((n) => readNetwork(root, n.slice(0, -5)))
    .filter((r): r is NetworkRecord => r !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `A.B.C.D/N` of every route in /proc/net/route (hex, little-endian), the facts for a free subnet. */
export function hostRoutes(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const ip = (hex: string) => {
      const n = parseInt(hex, 16);
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
    };
    const dest = ip(f[1]);
    const mask = ip(f[7]);
    const prefix = mask.reduce((bits, b) => bits + (b.toString(2).match(/1/g)?.length ?? 0), 0);
    out.push(`${dest.join('.')}/${prefix}`);
  }
  return out;
}

/** `ADDR/N` of every IPv6 route in /proc/net/ipv6_route (32 hex digits, then the prefix in hex); none without IPv6. */
export function hostRoutes6(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/net/ipv6_route', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0].length !== 32) continue;
    out.push(`${f[0].match(/.{4}/g)!.join(':')}/${parseInt(f[1], 16)}`);
  }
  return out;
}

function runPlan(plan: Uint8Array, what: string): Promise<void> {
  return runPlanOrThrow(plan, what, 'host');
}

function writeNetwork(root: string, rec: NetworkRecord): void {
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  const tmp = `${networksDir(root)}/${tempName(`${rec.name}.json`)}`;
  writeFileSync(tmp, JSON.stringify(rec, null, 2), { mode: 0o600 });
  renameSync(tmp, networkFile(root, rec.name));
}

export interface CreateOptions {
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  /** --ipv6, and --subnet / --gateway of IPv6 (the core refuses them without --ipv6). */
  ipv6?: boolean;
  subnet6?: string;
  gateway6?: string;
}

function lock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(containersDir(root), { recursive: true, mode: 0o700 });
  return withContainerLock(root, 'networks', fn);
}

/** `network create`: the record is written last, so a failure leaves nothing behind. */
export async function createNetwork(root: string, name: string, opts: CreateOptions, isDefault = false): Promise<NetworkRecord> {
  return lock(root, () => createLocked(root, name, opts, isDefault));
}

async function createLocked(root: string, name: string, opts: CreateOptions, isDefault: boolean): Promise<NetworkRecord> {
  // A user's husk cannot make a bridge or its rules; without this line a user met the
  // launcher's EPERM and EACCES for each step (before anything was recorded).
  if (callerUid() !== 0) {
    throw new HuskError('invalid-value', `network ${name}: a user cannot make bridged networks: a bridge, its addresses and its nftables rules need root`, {
      hint: 'As a user, publish ports with -p (through pasta), or use --network none.',
    });
  }
  const existing = listNetworks(root);
  if (existing.some((n) => n.name === name)) throw new HuskError('invalid-value', `network with name ${name} already exists`);
  const answer = networkPlan({
    create: {
      name, subnet: opts.subnet, gateway: opts.gateway, internal: opts.internal, isDefault,
      ...(opts.ipv6 || opts.subnet6 !== undefined || opts.gateway6 !== undefined ? { ipv6: { enable: opts.ipv6 === true, subnet: opts.subnet6, gateway: opts.gateway6 } } : {}),
    },
    facts: { taken: existing, routes: hostRoutes(), routes6: opts.ipv6 ? hostRoutes6() : [] },
  });
  const n = answer.network!;
  try {
    await runPlan(answer.plan, `network ${name}: cannot make bridge ${n.bridge}`);
    runNft(answer.nft, { what: `network ${name}: nft` });
  } catch (err) {
    await undo(root, { ...n, id: '', driver: 'bridge', created: '' }, existing.length === 0).catch(() => undefined);
    throw err;
  }
  const rec: NetworkRecord = { name, id: newNetworkId(), driver: 'bridge', bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, internal: n.internal, created: new Date().toISOString(), ...(n.subnet6 !== undefined ? { subnet6: n.subnet6, gateway6: n.gateway6 } : {}) };
  writeNetwork(root, rec);
  return rec;
}

/** 64 hex digits, as a container's id (prepare.ts reads /dev/urandom for both). */
function newNetworkId(): string {
  return newContainerId();
}

/** Removes a network's rules and bridge (what create made), whatever is still there. */
async function undo(root: string, n: NetworkRecord, last: boolean): Promise<void> {
  const answer = networkPlan({ remove: { name: n.name, bridge: n.bridge, subnet: n.subnet, subnet6: n.subnet6, internal: n.internal, last } });
  runNft(answer.nft, { quiet: true });
  await runPlan(answer.plan, `network ${n.name}: cannot remove bridge ${n.bridge}`);
}

/** `network rm`: refused while a live container holds an address on it. */
export async function removeNetwork(root: string, name: string): Promise<void> {
  await lock(root, async () => {
    const rec = readNetwork(root, name);
    if (rec === undefined) throw new HuskError('invalid-value', `network ${name} not found`);
    const used = usedAddresses(root, name);
    if (used.length > 0) throw new HuskError('invalid-value', `network ${name} has active endpoints (${used.length} container${used.length === 1 ? '' : 's'})`, { hint: 'Remove its containers first (husk rm -f).' });
    const others = listNetworks(root).filter((n) => n.name !== name);
    await undo(root, rec, others.length === 0);
    rmSync(leaseDir(root, name), { recursive: true, force: true });
    // No container is left, so no records either. A responder still waiting for them to come
    // back (it lingers 2 s: dns_main.zig) is ended now, by the pid its pidfile names once that
    // pid is checked to be a husk-dns; one killed earlier left only its pidfile.
    rmSync(recordsFile(root, name), { force: true });
    const responder = responderPid(root, name);
    if (responder !== undefined) {
      try {
        process.kill(responder, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(responderPidFile(root, name), { force: true });
    rmSync(networkFile(root, name), { force: true });
  });
}

/** The network `husk plan` shows a container on: the record, or the default one as it would be made. */
export function networkForPlan(root: string, name: string): NetworkRecord {
  const rec = readNetwork(root, name);
  if (rec !== undefined) return rec;
  if (name !== DEFAULT_NETWORK) throw new HuskError('invalid-value', `network ${name} not found`, { hint: 'See husk network ls; make it with husk network create.' });
  const n = networkPlan({ create: { name, isDefault: true }, facts: { taken: listNetworks(root), routes: hostRoutes() } }).network!;
  return { ...n, id: '', driver: 'bridge', created: '' };
}

/** The network a run names, made first when it is the default one and does not exist yet. */
export async function networkForRun(root: string, name: string): Promise<NetworkRecord> {
  const rec = readNetwork(root, name);
  if (rec !== undefined) {
    if (!existsSync(`/sys/class/net/${rec.bridge}`)) {
      throw new HuskError('invalid-value', `network ${name}: its bridge ${rec.bridge} is gone`, { hint: `Remove and create it again: husk network rm ${name}.` });
    }
    return rec;
  }
  if (name !== DEFAULT_NETWORK) throw new HuskError('invalid-value', `network ${name} not found`, { hint: 'See husk network ls; make it with husk network create.' });
  return lock(root, async () => readNetwork(root, name) ?? createLocked(root, name, {}, true));
}
