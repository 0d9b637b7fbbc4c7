// Address leases of a network: one file per address, `<root>/networks/NAME.leases/A.B.C.D`
// (and on a dual-stack network one more per IPv6 address, which names the IPv4 one it goes with),
// made by one link(2) of a file already written, so of many husk commands that picked the
// same address exactly one gets it (the others ask the core again with it taken). A lease
// holds the container's id and the husk process that took it; it is live while that
// container's record exists and has not finished, or while that process lives (between the
// lease and the record). Anything else is stale: the next command that looks reclaims it,
// with the nft elements of the ports it published.
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
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
  return `${networksDir(root)}/${network}.leases`;
}

/** The lease of `address` on `network`, as stored now. */
export function readLease(root: string, network: string, address: string): Lease | undefined {
  return readJson<Lease>(`${leaseDir(root, network)}/${address}`);
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
  const rec = readJson<ContainerRecord>(`${containersDir(root)}/${lease.id}.json`);
  if (rec !== undefined) return rec.finished === undefined;
  return lease.start !== undefined && processStart(lease.pid) === lease.start;
}

/**
 * What one look at a network's leases saw: the addresses held (live leases) and their
 * records lines in address order, so the records can be written after a claim without
 * reading every lease again (refreshRecords).
 */
export interface LeaseScan {
  used: string[];
  /** Each lease file left after the scan (the live ones and any it could not read), with its line. */
  records: Map<string, string>;
}

/** The addresses held on `network`; stale leases are reclaimed on the way. */
export function usedAddresses(root: string, network: string): string[] {
  return scanLeases(root, network).used;
}

/** usedAddresses, with what the records need. */
export function scanLeases(root: string, network: string): LeaseScan {
  const dir = leaseDir(root, network);
  const scan: LeaseScan = { used: [], records: new Map() };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    throw err;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const lease = readJson<Lease>(`${dir}/${name}`);
    if (isLiveLease(root, lease)) {
      scan.used.push(name);
      scan.records.set(name, lease!.dns ?? '');
    } else if (lease !== undefined) releaseLease(root, network, name, lease);
    else scan.records.set(name, ''); // unreadable: a lease file still (until given back), no line
  }
  return scan;
}

/** Takes `address` for the container `id`: false when another command holds it. */
export function claimLease(root: string, network: string, address: string, lease: Lease): boolean {
  const dir = leaseDir(root, network);
  const tmp = `${dir}/${tempName(address)}`;
  const text = JSON.stringify(lease);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
  } catch (err) {
    // The network's first lease: its directory is made only now (one syscall less per run).
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600 });
  }
  try {
    linkSync(tmp, `${dir}/${address}`);
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
  const tmp = `${dir}/${tempName(address)}`;
  writeFileSync(tmp, JSON.stringify(lease), { mode: 0o600 });
  // rename(2) replaces the lease whole: it is never absent in between.
  renameSync(tmp, `${dir}/${address}`);
}

/**
 * Gives the address back, once: the lease is renamed aside first (one rename wins) and checked
 * to be the one meant, so a lease another container took since is never removed (it is put
 * back); then the ports are unpublished and the container's /etc files removed.
 */
export function releaseLease(root: string, network: string, address: string, lease?: Lease): void {
  const dir = leaseDir(root, network);
  const path = `${dir}/${address}`;
  const aside = `${dir}/${tempName(address, 'stale')}`;
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
  if (!held.connected && !existsSync(`${containersDir(root)}/${held.id}.json`)) removeEtcFiles(etcDir(root, held.id));
  unlinkQuiet(aside);
  if (held.address6 !== undefined) releaseLease(root, network, held.address6, { id: held.id, pid: held.pid });
  if (held.dns) refreshRecords(root, network);
}

/** The network's lease files now (not the temp files beside them), in address order. */
function leaseNames(root: string, network: string): string[] {
  try {
    return readdirSync(leaseDir(root, network))
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}

/**
 * What the records are written from: the records text of the live leases, and `files`, each
 * lease file with its line whether live or not (`ADDR=LINE`, unreadable ones with none) — what
 * refreshRecords compares to see whether the leases changed.
 */
interface RecordsSource {
  text: string;
  files: string;
}

/** The records of the network's live leases (address order) as they are now. */
function liveRecords(root: string, network: string): RecordsSource {
  const dir = leaseDir(root, network);
  const lines: string[] = [];
  const files: string[] = [];
  for (const name of leaseNames(root, network)) {
    const lease = readJson<Lease>(`${dir}/${name}`);
    files.push(`${name}=${lease?.dns ?? ''}`);
    if (lease?.dns && isLiveLease(root, lease)) lines.push(lease.dns);
  }
  return { text: lines.join(''), files: files.join('\n') };
}

/** The lease files with their lines, as liveRecords lists them, without asking which are live. */
function leaseFiles(root: string, network: string): string {
  const dir = leaseDir(root, network);
  return leaseNames(root, network)
    .map((name) => `${name}=${readJson<Lease>(`${dir}/${name}`)?.dns ?? ''}`)
    .join('\n');
}

/** The records a scan saw (scanLeases) with the new leases' lines (ADDR: LINE): what liveRecords would read now. */
export function recordsWith(scan: LeaseScan, added: Record<string, string>): RecordsSource {
  const all = new Map(scan.records);
  for (const [address, line] of Object.entries(added)) all.set(address, line);
  const names = [...all.keys()].sort();
  return { text: names.map((n) => all.get(n)).join(''), files: names.map((n) => `${n}=${all.get(n)}`).join('\n') };
}

/**
 * Writes the network's records from its leases as they are now (none: the file goes, and
 * husk-dns stops). Each command that changes a lease writes after its change, and writes
 * again while the lease files differ from the ones its text came from, so the last write is
 * never a stale one. Leases change only by link and rename, and a held lease's line never
 * changes, so the files with their lines tell (an address given back and taken by another
 * container meanwhile has another line); which of them are live need not be asked again.
 * `known`: what a scan of this command saw already (recordsWith), instead of reading every
 * lease and its container's record once more. Returns whether any container has names.
 */
export function refreshRecords(root: string, network: string, known?: RecordsSource): boolean {
  const path = recordsFile(root, network);
  let seen = known ?? liveRecords(root, network);
  for (let attempt = 0; attempt < 100; attempt++) {
    const text = seen.text;
    if (text === '') unlinkQuiet(path);
    else {
      const tmp = `${networksDir(root)}/${tempName(`${network}.dns`)}`;
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, path);
    }
    if (leaseFiles(root, network) === seen.files) return text !== '';
    seen = liveRecords(root, network);
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
    const lease = readJson<Lease>(`${leaseDir(root, n.name)}/${n.address}`);
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
