// `husk start` of a stopped container on a network: its saved plan holds its address, its
// /etc files' paths and its ports' elements, so the address is leased to it again before the
// launcher runs (and its ports claimed, its names served). A stopped container's lease is
// stale and may have been given back meanwhile; if another container took the address (or,
// on a dual-stack network, its IPv6 one) since, the core is asked for new ones (replan.ts) and
// the new plan runs, as docker gives a new address; an address typed with --ip or --ip6 is
// refused by name instead, never shared. Networks joined with `network connect` are joined
// again once the container runs (connect.ts rejoinNetworks: their veths went with the old
// namespace), with their aliases, at the same address while it is free.
import { HuskError } from '../errors.js';
import { processStart } from '../runtime/state.js';
import type { ContainerRecord, NetworkAttachment } from '../runtime/state.js';
import { ensureResponder } from './dns.js';
import { claimLease, isLiveLease, noteUnpublish, readLease, refreshRecords, releaseLease } from './leases.js';
import type { Lease } from './leases.js';
import { claimName, claimPort, releasePort } from './ports.js';
import { readNetwork } from './store.js';

export interface StartNetworks {
  /** A new plan when the container got another address: saved and run instead of the old one. */
  plan?: Uint8Array;
  /** Serves its names; called once its record is live. */
  serve: () => void;
  /** Networks connected with `network connect`, to join again once it runs. */
  rejoin: NetworkAttachment[];
}

type RecordNetwork = NonNullable<ContainerRecord['network']>;

/** Leases its address (both, on a dual-stack network) again, or new ones; says what to run and what to join once it runs. */
export async function leaseForStart(root: string, rec: ContainerRecord): Promise<StartNetworks> {
  const label = rec.name ?? rec.id.slice(0, 12);
  const rejoin = rec.networks ?? [];
  for (const c of rejoin) {
    // docker refuses to start a container whose network was removed, too.
    if (readNetwork(root, c.name) === undefined) {
      throw new HuskError('invalid-value', `cannot start container ${label}: network ${c.name} it was connected to no longer exists`, { hint: `Disconnect it first: husk network disconnect ${c.name} ${label}.` });
    }
  }
  for (const c of rejoin) {
    const held = readLease(root, c.name, c.address);
    if (held?.id === rec.id) releaseLease(root, c.name, c.address, held);
  }
  rec.networks = undefined;
  const n = rec.network;
  if (n === undefined) return { serve: () => undefined, rejoin };
  const serve = leaseForStart4(root, rec, n, label);
  if (serve === undefined) return { ...(await newAddress(root, rec, label, n.address)), rejoin };
  if (n.address6 === undefined) return { serve, rejoin };
  const held = readLease(root, n.name, n.address6);
  if (held?.id === rec.id) return { serve, rejoin };
  const othersNow = held !== undefined && isLiveLease(root, held);
  if (held !== undefined && !othersNow) releaseLease(root, n.name, n.address6, held);
  if (othersNow || !claimLease(root, n.name, n.address6, { id: rec.id, pid: process.pid, start: processStart(process.pid), of: n.address })) {
    // Its IPv4 address goes back with its ports; both are asked for again.
    releaseLease(root, n.name, n.address, { id: rec.id, pid: process.pid });
    return { ...(await newAddress(root, rec, label, n.address6)), rejoin };
  }
  return { serve, rejoin };
}

/** Its IPv4 address again, with its ports; undefined when another container holds the address now. */
function leaseForStart4(root: string, rec: ContainerRecord, n: RecordNetwork, label: string): (() => void) | undefined {
  const serve = () => {
    if (n.dns === undefined) return;
    refreshRecords(root, n.name);
    ensureResponder(root, n.name, { listen: n.gateway, upstreams: n.dnsUpstreams ?? [] });
  };
  const held = readLease(root, n.name, n.address);
  // Still its own (stale since it stopped): the new record makes it live again.
  if (held?.id === rec.id) return serve;
  const othersNow = held !== undefined && isLiveLease(root, held);
  if (held !== undefined && !othersNow) releaseLease(root, n.name, n.address, held);
  const lease: Lease = { id: rec.id, pid: process.pid, start: processStart(process.pid), dns: n.dns, address6: n.address6 };
  if (othersNow || !claimLease(root, n.name, n.address, lease)) return undefined;
  const owner = { network: n.name, address: n.address, id: rec.id };
  const claimed: string[] = [];
  for (const p of n.ports ?? []) {
    if (!claimPort(root, claimName(p), owner, () => false)) {
      for (const c of claimed) releasePort(root, c, owner);
      releaseLease(root, n.name, n.address, lease);
      throw new HuskError('invalid-value', `cannot start container ${label}: host port ${p.hostPort}/${p.proto} it publishes is allocated to another container since it stopped`, { hint: 'Stop that one, or remove this one and run it again with another port.' });
    }
    claimed.push(claimName(p));
  }
  if (claimed.length > 0) noteUnpublish(root, n.name, n.address, { ...lease, ports: claimed, unpublish: n.unpublish });
  return serve;
}

/** `address` is another's now: new ones from the core (replan.ts), unless typed with --ip/--ip6. */
async function newAddress(root: string, rec: ContainerRecord, label: string, address: string): Promise<Omit<StartNetworks, 'rejoin'>> {
  const n = rec.network!;
  const { canReplan, replanAddress } = await import('./replan.js');
  const can = canReplan(root, rec);
  if (can !== true) {
    // Its --ip, or a container made by a husk that kept no request to ask again with.
    const hint = can === 'ip' ? 'Stop the container that holds it, or remove this one and run it again with another --ip.' : 'Remove it (husk rm) and run it again: it gets a free address.';
    throw new HuskError('invalid-value', `cannot start container ${label}: its address ${address} on network ${n.name} was given to another container since it stopped`, { hint });
  }
  const { plan, chosen } = await replanAddress(root, rec);
  const { networkRecordOf } = await import('../runtime/create.js');
  rec.network = networkRecordOf(chosen);
  // Served again once its record is live: until then its record says finished, and a
  // finished container's lease is left out of the records.
  const dns = chosen.dns;
  const serve = () => {
    if (dns === undefined) return;
    refreshRecords(root, chosen.network);
    ensureResponder(root, chosen.network, dns);
  };
  return { plan, serve };
}
