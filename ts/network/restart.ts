// `husk start` of a stopped container on a network: its saved plan holds its address, its
// /etc files' paths and its ports' elements, so the address is leased to it again before the
// launcher runs (and its ports claimed, its names served). A stopped container's lease is
// stale and may have been given back meanwhile; if another container took the address since,
// the start is refused by name rather than two containers sharing it. Networks connected with
// `network connect` are not joined again (their veths went with the old namespace): the
// record forgets them.
import { HuskError } from '../errors.js';
import { processStart } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';
import { ensureResponder } from './dns.js';
import { claimLease, isLiveLease, noteUnpublish, readLease, refreshRecords, releaseLease } from './leases.js';
import type { Lease } from './leases.js';
import { claimName, claimPort, releasePort } from './ports.js';

/** Leases its address (both, on a dual-stack network) again; returns what serves its names, to call once its record is live. */
export function leaseForStart(root: string, rec: ContainerRecord): () => void {
  const n = rec.network;
  if (n === undefined) return () => undefined;
  const serve = leaseForStart4(root, rec, n);
  if (n.address6 === undefined) return serve;
  const held = readLease(root, n.name, n.address6);
  if (held?.id === rec.id) return serve;
  if (held !== undefined && isLiveLease(root, held)) {
    releaseLease(root, n.name, n.address, { id: rec.id, pid: process.pid });
    throw taken(rec.name ?? rec.id.slice(0, 12), { name: n.name, address: n.address6 });
  }
  if (held !== undefined) releaseLease(root, n.name, n.address6, held);
  if (!claimLease(root, n.name, n.address6, { id: rec.id, pid: process.pid, start: processStart(process.pid), of: n.address })) {
    releaseLease(root, n.name, n.address, { id: rec.id, pid: process.pid });
    throw taken(rec.name ?? rec.id.slice(0, 12), { name: n.name, address: n.address6 });
  }
  return serve;
}

function leaseForStart4(root: string, rec: ContainerRecord, n: NonNullable<ContainerRecord['network']>): () => void {
  const serve = () => {
    if (n.dns === undefined) return;
    refreshRecords(root, n.name);
    ensureResponder(root, n.name, { listen: n.gateway, upstreams: n.dnsUpstreams ?? [] });
  };
  const label = rec.name ?? rec.id.slice(0, 12);
  for (const c of rec.networks ?? []) {
    const held = readLease(root, c.name, c.address);
    if (held?.id === rec.id) releaseLease(root, c.name, c.address, held);
  }
  rec.networks = undefined;
  const held = readLease(root, n.name, n.address);
  // Still its own (stale since it stopped): the new record makes it live again.
  if (held?.id === rec.id) return serve;
  if (held !== undefined && held.id !== rec.id && isLiveLease(root, held)) throw taken(label, n);
  if (held !== undefined) releaseLease(root, n.name, n.address, held);
  const lease: Lease = { id: rec.id, pid: process.pid, start: processStart(process.pid), dns: n.dns, address6: n.address6 };
  if (!claimLease(root, n.name, n.address, lease)) throw taken(label, n);
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

function taken(label: string, n: { name: string; address: string }): HuskError {
  return new HuskError('invalid-value', `cannot start container ${label}: its address ${n.address} on network ${n.name} was given to another container since it stopped`, { hint: 'Remove it (husk rm) and run it again: it gets a free address.' });
}
