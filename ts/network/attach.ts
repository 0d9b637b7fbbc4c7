// A container on a network, for prepare(): the facts the core needs (the network's record,
// the addresses others lease, the host's resolvers, -p) and, once the core chose an address,
// its lease (taken by link(2); another command's address is asked again, not shared), its
// host ports (claimed as leases are: ports.ts) and the container's /etc files. The ports'
// nft elements are the launcher's (NFT_ELEMENTS in the plan, deleted by the monitor).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import type { NetAttach, NetChosen, PlanAnswer } from '../core/build-plan.js';
import { processStart } from '../runtime/state.js';
import { readRecords } from '../runtime/records.js';
import type { PublishedPort } from '../runtime/state.js';
import { claimLease, isLiveLease, noteUnpublish, readLease, recordsWith, refreshRecords, releaseLease, scanLeases } from './leases.js';
import { claimName, claimPort, releasePort } from './ports.js';
import type { PortClaim, PublishedKey } from './ports.js';
import { ensureResponder } from './dns.js';
import type { Lease, LeaseScan } from './leases.js';
import { etcDir } from './paths.js';
import type { NetworkRecord } from './store.js';

/** The host's resolvers and search domains (/etc/resolv.conf), for the container's. */
function hostResolv(): { nameservers: string[]; search: string[] } {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // no resolver configured: the container gets none either
  }
  const nameservers: string[] = [];
  let search: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1] && /^\d+\.\d+\.\d+\.\d+$/.test(f[1])) nameservers.push(f[1]);
    if (f[0] === 'search') search = f.slice(1);
  }
  return { nameservers, search };
}

/**
 * For -P: the host ports in use — listening TCP sockets and bound UDP ones of this network
 * namespace (/proc/net/{tcp,tcp6,udp,udp6}), and those other containers published.
 */
export function busyPorts(root: string): number[] {
  const busy = new Set<number>();
  for (const file of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6, say
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      if (file.startsWith('tcp') && f[3] !== '0A') continue; // LISTEN
      busy.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  for (const rec of readRecords(root)) for (const p of rec.finished === undefined ? (rec.network?.ports ?? []) : []) busy.add(p.hostPort);
  return [...busy].sort((a, b) => a - b);
}

/** The look at the leases each NetAttach's `used` came from, for claimAddress's records. */
const scans = new WeakMap<NetAttach, LeaseScan>();

export function netFacts(root: string, net: NetworkRecord, id: string, opts: { ip?: string; ip6?: string; ports?: readonly PublishedPort[]; names?: NetAttach['names']; options?: NetAttach['options']; publishAll?: boolean; ipv4Only?: boolean }): NetAttach {
  const resolv = hostResolv();
  // One lease directory holds both families' addresses (an IPv6 one has a colon).
  const scan = scanLeases(root, net.name);
  const leased = scan.used;
  const six = net.subnet6 !== undefined && opts.ipv4Only !== true;
  const facts: NetAttach = {
    name: net.name,
    bridge: net.bridge,
    subnet: net.subnet,
    gateway: net.gateway,
    internal: net.internal,
    used: leased.filter((a) => !a.includes(':')),
    ...(six ? { subnet6: net.subnet6, gateway6: net.gateway6, used6: leased.filter((a) => a.includes(':')) } : {}),
    ip6: opts.ip6,
    ip: opts.ip,
    filesDir: etcDir(root, id),
    nameservers: resolv.nameservers,
    search: resolv.search,
    ports: opts.ports,
    names: opts.names,
    options: opts.options,
    busyPorts: opts.publishAll ? busyPorts(root) : undefined,
  };
  scans.set(facts, scan);
  return facts;
}

/**
 * Takes the address the core chose; when another command took it first, asks the core again
 * with it taken. Then claims the host ports it publishes (a -P port another start took at the
 * same instant is asked again as busy; a -p port taken fails by name) and writes the /etc
 * files. The ports' nft elements are added by the launcher (NFT_ELEMENTS, in the plan).
 */
export function claimAddress(root: string, id: string, facts: NetAttach, build: () => PlanAnswer): PlanAnswer {
  const owner: Lease = { id, pid: process.pid, start: processStart(process.pid) };
  for (let attempt = 0; ; attempt++) {
    if (attempt === 1024) throw new HuskError('host', `network ${facts.name}: could not take an address and ports after 1024 tries`);
    const answer = build();
    const chosen = answer.summary.net!;
    const lease: Lease = { ...owner, dns: chosen.dns?.record, address6: chosen.address6 };
    if (!claimLease(root, facts.name, chosen.address, lease)) {
      if (facts.ip !== undefined) throw new HuskError('invalid-value', `ip ${facts.ip}: already in use on network ${facts.name}`);
      facts.used = [...facts.used, chosen.address];
      continue;
    }
    // A dual-stack network: the IPv6 address is leased the same way, after the IPv4 one (whose release gives both back).
    if (chosen.address6 !== undefined && !claimLease(root, facts.name, chosen.address6, { ...owner, of: chosen.address })) {
      releaseLease(root, facts.name, chosen.address, { ...lease, address6: undefined });
      if (facts.ip6 !== undefined) throw new HuskError('invalid-value', `ip6 ${facts.ip6}: already in use on network ${facts.name}`);
      facts.used6 = [...(facts.used6 ?? []), chosen.address6];
      continue;
    }
    const taken = claimPorts(root, facts, chosen, lease);
    if (taken !== undefined) {
      releaseLease(root, facts.name, chosen.address, lease);
      const named = (facts.ports ?? []).some((p) => claimName(p) === claimName(taken));
      if (named || facts.busyPorts === undefined) throw alreadyAllocated(taken);
      facts.busyPorts = [...facts.busyPorts, taken.hostPort]; // -P: chosen by another start meanwhile
      continue;
    }
    try {
      const dir = etcDir(root, id);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      for (const f of chosen.files) writeFileSync(`${dir}/${f.name}`, f.content, { mode: 0o644 });
      // Names: this container's line joins the records, and a responder serves them.
      if (chosen.dns) {
        // What the scan for the core saw, with this line: read again only if the leases changed since.
        const scan = scans.get(facts);
        refreshRecords(root, facts.name, scan && recordsWith(scan, { [chosen.address]: chosen.dns.record, ...(chosen.address6 !== undefined ? { [chosen.address6]: '' } : {}) }));
        ensureResponder(root, facts.name, chosen.dns);
      }
    } catch (err) {
      releaseLease(root, facts.name, chosen.address, { ...lease, ports: lease.ports });
      rmSync(etcDir(root, id), { recursive: true, force: true });
      throw err;
    }
    return answer;
  }
}

function alreadyAllocated(p: { hostIp: string; hostPort: number; proto: string }): HuskError {
  const where = p.hostIp === '' || p.hostIp === '0.0.0.0' ? '0.0.0.0' : p.hostIp;
  return new HuskError('invalid-value', `publish: host port ${where}:${p.hostPort}/${p.proto} is already allocated`, { hint: 'See husk port CONTAINER for who holds it, or choose another.' });
}

/**
 * Claims each published port (ports.ts) and records the claims and the unpublish plan in the
 * lease; returns the first port another container holds (the ones claimed are given back).
 */
function claimPorts(root: string, facts: NetAttach, chosen: NetChosen, lease: Lease): PublishedKey | undefined {
  if (!chosen.published?.length) return undefined;
  const owner = { network: facts.name, address: chosen.address, id: lease.id };
  const claimed: string[] = [];
  for (const p of chosen.published) {
    const name = claimName(p);
    if (!claimPort(root, name, owner, (c) => reclaimPort(root, name, c))) {
      for (const n of claimed) releasePort(root, n, owner);
      return p;
    }
    claimed.push(name);
  }
  lease.ports = claimed;
  lease.unpublish = chosen.ports?.unpublish;
  noteUnpublish(root, facts.name, chosen.address, lease);
  return undefined;
}

/**
 * A claim found on a port: false while its container's lease lives. A dead holder's whole
 * lease is given back (its elements deleted first, then its ports), never the claim alone,
 * so its unpublish can never delete a newer container's element of the same port.
 */
function reclaimPort(root: string, name: string, c: PortClaim): boolean {
  const lease = readLease(root, c.network, c.address);
  if (lease !== undefined && lease.id === c.id) {
    if (isLiveLease(root, lease)) return false;
    releaseLease(root, c.network, c.address, lease);
  } else {
    releasePort(root, name, c); // its lease is gone, or the address is another's now
  }
  return true;
}
