// A container on a network, for prepare(): the facts the core needs (the network's record,
// the addresses others lease, the host's resolvers, -p) and, once the core chose an address,
// its lease (taken by link(2); another command's address is asked again, not shared), the
// container's /etc files and its published ports (nft elements; a taken port gives the
// address back and fails with one line).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import type { NetAttach, PlanAnswer } from '../core/build-plan.js';
import { processStart } from '../runtime/state.js';
import { readRecords } from '../runtime/records.js';
import type { PublishedPort } from '../runtime/state.js';
import { claimLease, noteUnpublish, refreshRecords, releaseLease, usedAddresses } from './leases.js';
import { ensureResponder } from './dns.js';
import type { Lease } from './leases.js';
import { runNft } from './nft.js';
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
function busyPorts(root: string): number[] {
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

export function netFacts(root: string, net: NetworkRecord, id: string, opts: { ip?: string; ports?: readonly PublishedPort[]; names?: NetAttach['names']; options?: NetAttach['options']; publishAll?: boolean }): NetAttach {
  const resolv = hostResolv();
  return {
    name: net.name,
    bridge: net.bridge,
    subnet: net.subnet,
    gateway: net.gateway,
    internal: net.internal,
    used: usedAddresses(root, net.name),
    ip: opts.ip,
    filesDir: etcDir(root, id),
    nameservers: resolv.nameservers,
    search: resolv.search,
    ports: opts.ports,
    names: opts.names,
    options: opts.options,
    busyPorts: opts.publishAll ? busyPorts(root) : undefined,
  };
}

/**
 * Takes the address the core chose; when another command took it first, asks the core again
 * with it taken. Then writes the /etc files and publishes the ports.
 */
export function claimAddress(root: string, id: string, facts: NetAttach, build: () => PlanAnswer): PlanAnswer {
  const owner: Lease = { id, pid: process.pid, start: processStart(process.pid) };
  let answer = build();
  for (let attempt = 0; ; attempt++) {
    const chosen = answer.summary.net!;
    if (claimLease(root, facts.name, chosen.address, { ...owner, dns: chosen.dns?.record })) break;
    if (facts.ip !== undefined) throw new HuskError('invalid-value', `ip ${facts.ip}: already in use on network ${facts.name}`);
    if (attempt === 1024) throw new HuskError('host', `network ${facts.name}: could not take an address after 1024 tries`);
    facts.used = [...facts.used, chosen.address];
    answer = build();
  }
  const chosen = answer.summary.net!;
  const lease: Lease = { ...owner, dns: chosen.dns?.record };
  try {
    const dir = etcDir(root, id);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const f of chosen.files) writeFileSync(`${dir}/${f.name}`, f.content, { mode: 0o644 });
    if (chosen.ports) {
      runNft(chosen.ports.add, { what: 'publish' });
      noteUnpublish(root, facts.name, chosen.address, { ...lease, unpublish: chosen.ports.remove });
    }
    // Names: this container's line joins the records, and a responder serves them.
    if (chosen.dns) {
      refreshRecords(root, facts.name);
      ensureResponder(root, facts.name, chosen.dns);
    }
  } catch (err) {
    releaseLease(root, facts.name, chosen.address, lease);
    rmSync(etcDir(root, id), { recursive: true, force: true });
    const message = (err as Error).message;
    if (/File exists/.test(message)) throw new HuskError('invalid-value', 'publish: a host port asked for is already allocated', { hint: 'See husk port CONTAINER for who holds it, or choose another.' });
    throw err;
  }
  return answer;
}
