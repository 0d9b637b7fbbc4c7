// Address leases of a network: one file per address, `<root>/networks/NAME.leases/A.B.C.D`
// (and on a dual-stack network one more per IPv6 address, which names the IPv4 one it goes with),
// made by one link(2) of a file already written, so of many husk commands that picked the
// same address exactly one gets it (the others ask the core again with it taken). A lease
// holds the container's id and the husk process that took it; it is live while that
// container's record exists and has not finished, or while that process lives (between the
// lease and the record). Anything else is stale: the next command that looks reclaims it,
// with the nft elements of the ports it published.
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containersDir, processStart, tempName } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';
import { etcDir, networksDir } from './paths.js';
import { runNft, runUnpublish } from './nft.js';
import { releasePort } from './ports.js';
import { recordsFile } from './dns.js';

export interface Lease {
  id: string;
  pid: number;
  start?: string;
  /**
   * The core's control plan (hex) that deletes the container's port elements, for when its
   * monitor (which deletes them as the container ends) was killed; an older husk's nft script.
   */
  unpublish?: string;
  /** The host ports it claimed (ports.ts), given back with the lease. */
  ports?: string[];
  /** The container's line of the network's records (names served by husk-dns). */
  dns?: string;
  /** A network connected later (`network connect`): the container's /etc files are not this lease's. */
  connected?: boolean;
  /** On a dual-stack network: the container's IPv6 address, whose own lease goes with this one. */
  address6?: string;
  /** An IPv6 address's lease: the IPv4 address whose lease holds everything else (ports, names, files). */
  of?: string;
}

export function leaseDir(root: string, network: string): string {
  return join(networksDir(root), `${network}.leases`);
}

/** The lease of `address` on `network`, as stored now. */
export function readLease(root: string, network: string, address: string): Lease | undefined {
  return readJson<Lease>(join(leaseDir(root, network), address));
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function isLiveLease(root: string, lease: Lease | undefined): boolean {
  if (lease === undefined) return false; // being written: link(2) makes a lease whole or absent
  const rec = readJson<ContainerRecord>(join(containersDir(root), `${lease.id}.json`));
  if (rec !== undefined) return rec.finished === undefined;
  return lease.start !== undefined && processStart(lease.pid) === lease.start;
}

/** The addresses held on `network`; stale leases are reclaimed on the way. */
export function usedAddresses(root: string, network: string): string[] {
  const dir = leaseDir(root, network);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const used: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const lease = readJson<Lease>(join(dir, name));
    if (isLiveLease(root, lease)) used.push(name);
    else if (lease !== undefined) releaseLease(root, network, name, lease);
  }
  return used;
}

/** Takes `address` for the container `id`: false when another command holds it. */
export function claimLease(root: string, network: string, address: string, lease: Lease): boolean {
  const dir = leaseDir(root, network);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, tempName(address));
  writeFileSync(tmp, JSON.stringify(lease), { mode: 0o600 });
  try {
    linkSync(tmp, join(dir, address));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuiet(tmp);
  }
}

/** Adds the ports' claims and unpublish plan to a lease this process holds. */
export function noteUnpublish(root: string, network: string, address: string, lease: Lease): void {
  const dir = leaseDir(root, network);
  const tmp = join(dir, tempName(address));
  writeFileSync(tmp, JSON.stringify(lease), { mode: 0o600 });
  // rename(2) replaces the lease whole: it is never absent in between.
  renameSync(tmp, join(dir, address));
}

/**
 * Gives the address back, once: the lease is renamed aside first (one rename wins) and checked
 * to be the one meant, so a lease another container took since is never removed (it is put
 * back); then the ports are unpublished and the container's /etc files removed.
 */
export function releaseLease(root: string, network: string, address: string, lease?: Lease): void {
  const dir = leaseDir(root, network);
  const path = join(dir, address);
  const aside = join(dir, tempName(address, 'stale'));
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // released already
    throw err;
  }
  const held = readJson<Lease>(aside);
  if (held === undefined || (lease !== undefined && held.id !== lease.id)) {
    // Another container's lease, taken after the one meant was released: put it back.
    try {
      linkSync(aside, path);
    } catch {
      // a third command took the address meanwhile; this lease's holder finds it gone
    }
    unlinkQuiet(aside);
    return;
  }
  if (held.of !== undefined) {
    unlinkQuiet(aside); // an IPv6 address: the rest is its IPv4 lease's
    return;
  }
  if (held.unpublish) {
    if (/^[0-9a-f]+$/.test(held.unpublish)) runUnpublish(held.unpublish);
    else runNft(held.unpublish, { quiet: true });
  }
  // Only once the elements are gone: a port claimed again must not be deleted by this release.
  for (const port of held.ports ?? []) releasePort(root, port, { network, address, id: held.id });
  // A stopped container keeps its files for `husk start` (restart.ts); they go with its record.
  if (!held.connected && !existsSync(join(containersDir(root), `${held.id}.json`))) removeEtcFiles(etcDir(root, held.id));
  unlinkQuiet(aside);
  if (held.address6 !== undefined) releaseLease(root, network, held.address6, { id: held.id, pid: held.pid });
  if (held.dns) refreshRecords(root, network);
}

/** The records lines of the network's live leases, in address order. */
function liveRecords(root: string, network: string): string {
  const dir = leaseDir(root, network);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return '';
  }
  const lines: string[] = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    const lease = readJson<Lease>(join(dir, name));
    if (lease?.dns && isLiveLease(root, lease)) lines.push(lease.dns);
  }
  return lines.join('');
}

/**
 * Writes the network's records from its leases as they are now (none: the file goes, and
 * husk-dns stops). Each command that changes a lease writes after its change, and writes
 * again while the leases differ from what it wrote, so the last write is never a stale one.
 * Returns whether any container has names.
 */
export function refreshRecords(root: string, network: string): boolean {
  const path = recordsFile(root, network);
  for (let attempt = 0; attempt < 100; attempt++) {
    const text = liveRecords(root, network);
    if (text === '') unlinkQuiet(path);
    else {
      const tmp = join(networksDir(root), tempName(`${network}.dns`));
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, path);
    }
    if (liveRecords(root, network) === text) return text !== '';
  }
  return true;
}

/**
 * Its monitor ended by its own end (status.zig), which deleted the ports' elements: the lease
 * need not have them deleted again, and its release runs no launcher.
 */
export function forgetUnpublish(root: string, rec: ContainerRecord): void {
  const n = rec.network;
  if (n === undefined) return;
  const lease = readLease(root, n.name, n.address);
  if (lease === undefined || lease.id !== rec.id || lease.unpublish === undefined) return;
  noteUnpublish(root, n.name, n.address, { ...lease, unpublish: undefined });
}

/** A container's record is going: the address it leased goes with it. */
export function releaseOf(root: string, rec: ContainerRecord): void {
  for (const n of [...(rec.network ? [rec.network] : []), ...(rec.networks ?? [])]) {
    const lease = readJson<Lease>(join(leaseDir(root, n.name), n.address));
    if (lease !== undefined && lease.id === rec.id) releaseLease(root, n.name, n.address, lease);
  }
  removeEtcFiles(etcDir(root, rec.id));
}

/**
 * Removes a container's /etc files and their directory (flat: the core names only files).
 * Not rmSync's recursive form: its first use in a process loads Node's rimraf and tries rmdir
 * before reading the directory, about 1.3 ms of a networked run's end (bench/network.mjs).
 */
function removeEtcFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    for (const name of names) unlinkSync(`${dir}/${name}`);
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true }); // something unexpected in it: the general way
  }
}
