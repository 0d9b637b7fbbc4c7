// `husk network connect|disconnect NETWORK CONTAINER` on a running container: one more network
// joined live (a veth whose peer the launcher makes in the container's network namespace, an
// address leased, its names in the network's records) or left (the veth deleted, the address
// and names given back). Done under the container's lock; the record lists the networks
// connected this way (`networks`), and each goes with the container (leases.ts releaseOf).
import { HuskError } from '../errors.js';
import { networkConnect, networkDisconnectPlan } from '../core/network.js';
import { runPlanOrThrow } from '../runtime/control.js';
import { withContainerLock } from '../runtime/lock.js';
import { findContainer, readRecords } from '../runtime/records.js';
import { processStart, readRecord, writeRecord } from '../runtime/state.js';
import type { ContainerRecord, NetworkAttachment } from '../runtime/state.js';
import { netFacts } from './attach.js';
import { ensureResponder } from './dns.js';
import { claimLease, refreshRecords, releaseLease } from './leases.js';
import { networkForRun, readNetwork } from './store.js';
import type { NetworkRecord } from './store.js';

/** Every network the container is on: the one it was run on, then those connected since. */
export function attachments(rec: ContainerRecord): NetworkAttachment[] {
  return [...(rec.network ? [{ ...rec.network, peer: rec.network.peer ?? 'eth0' }] : []), ...(rec.networks ?? [])];
}

function label(rec: ContainerRecord): string {
  return rec.name ?? rec.id.slice(0, 12);
}

function running(rec: ContainerRecord): boolean {
  return rec.finished === undefined && rec.pid !== undefined && rec.pidStart !== undefined && processStart(rec.pid) === rec.pidStart;
}

export async function connectContainer(root: string, network: string, ref: string, opts: { ip?: string; aliases: readonly string[] }): Promise<void> {
  const net = await networkForRun(root, network);
  const id = findContainer(readRecords(root), ref).id;
  await withContainerLock(root, id, async () => {
    const rec = readRecord(root, id);
    if (rec === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
    if (!running(rec)) throw new HuskError('invalid-value', `cannot connect container ${label(rec)} to network ${network}: it is not running`);
    await join(root, rec, net, opts);
  });
}

/**
 * Joins the running container (its lock held) to `net`: the core's address (`ip`, else the
 * lowest free; `prefer`: that one while it is free), leased as at run; the record lists it.
 */
async function join(root: string, rec: ContainerRecord, net: NetworkRecord, opts: { ip?: string; prefer?: string; aliases: readonly string[] }): Promise<void> {
  const network = net.name;
  const on = attachments(rec);
  // IPv4 only: NET_CONNECT adds one address (docs/networks.md "IPv6": not yet on connect).
  const facts = netFacts(root, net, rec.id, { ip: opts.ip, names: { name: rec.name ?? '', aliases: opts.aliases }, ipv4Only: true });
  if (opts.ip === undefined && opts.prefer !== undefined && !facts.used.includes(opts.prefer)) facts.ip = opts.prefer;
  const ask = () => networkConnect({ attach: facts, id: rec.id, pid: rec.pid!, startTime: rec.pidStart!, links: on.map((a) => a.peer), networks: on.map((a) => a.name) });
  let answer = ask();
  const owner = { id: rec.id, pid: process.pid, start: processStart(process.pid), connected: true };
  // The address the core chose is leased, as at run (ts/network/attach.ts claimAddress).
  for (let attempt = 0; !claimLease(root, network, answer.chosen.address, { ...owner, dns: answer.dns?.record }); attempt++) {
    if (opts.ip !== undefined) throw new HuskError('invalid-value', `ip ${opts.ip}: already in use on network ${network}`);
    if (attempt === 1024) throw new HuskError('host', `network ${network}: could not take an address after 1024 tries`);
    facts.used = [...facts.used, answer.chosen.address];
    facts.ip = undefined; // the preferred one was taken meanwhile
    answer = ask();
  }
  const c = answer.chosen;
  try {
    await runPlanOrThrow(answer.plan, `network connect ${network} ${label(rec)}`, 'host');
    // In the record before the names are served: a lease is live while its record says so.
    const typed = { aliases: opts.aliases.length > 0 ? [...opts.aliases] : undefined, ip: opts.ip };
    rec.networks = [...(rec.networks ?? []), { name: c.network, address: c.address, prefix: c.prefix, mac: c.mac, gateway: c.gateway, veth: c.veth, peer: c.peer, ...typed }];
    writeRecord(root, rec);
    if (answer.dns) {
      refreshRecords(root, network);
      ensureResponder(root, network, answer.dns);
    }
  } catch (err) {
    releaseLease(root, network, c.address, owner);
    throw err;
  }
}

/**
 * At `husk start` (restart.ts), once the container runs: the networks it was connected to are
 * joined again in their order (so each gets its ethN back), with their aliases, at their
 * address while it is free (else a new one; one typed with --ip must be free). One that cannot
 * be joined is said in a line and left out; the container runs on.
 */
export async function rejoinNetworks(root: string, rec: ContainerRecord, list: readonly NetworkAttachment[]): Promise<void> {
  for (const a of list) {
    try {
      const net = readNetwork(root, a.name);
      if (net === undefined) throw new HuskError('invalid-value', `network ${a.name} no longer exists`);
      if (!running(rec)) throw new HuskError('invalid-value', 'it is not running');
      await join(root, rec, net, { ip: a.ip, prefer: a.address, aliases: a.aliases ?? [] });
    } catch (err) {
      process.stderr.write(`husk: container ${label(rec)} was not connected to network ${a.name} again: ${(err as Error).message}\n`);
    }
  }
}

export async function disconnectContainer(root: string, network: string, ref: string): Promise<void> {
  const id = findContainer(readRecords(root), ref).id;
  await withContainerLock(root, id, async () => {
    const rec = readRecord(root, id);
    if (rec === undefined) throw new HuskError('invalid-value', `no such container: ${ref}`);
    const entry = attachments(rec).find((a) => a.name === network);
    if (entry === undefined) throw new HuskError('invalid-value', `container ${label(rec)} is not connected to network ${network}`);
    // A stopped container's link went with its namespace; a running one's is deleted now.
    if (running(rec)) await runPlanOrThrow(networkDisconnectPlan(entry.veth), `network disconnect ${network} ${label(rec)}`, 'host');
    if (rec.network?.name === network) rec.network = undefined;
    rec.networks = (rec.networks ?? []).filter((a) => a.name !== network);
    if (rec.networks.length === 0) rec.networks = undefined;
    writeRecord(root, rec);
    releaseLease(root, network, entry.address, { id: rec.id, pid: process.pid });
  });
}
