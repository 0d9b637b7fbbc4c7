// Host ports a container published, claimed under --root as address leases are: one file per
// port, `<root>/networks/ports/[HOSTIP.]PROTO.PORT`, made by one link(2), holding the owner's
// network and address. Of two starts that chose one port at the same instant (-P picks the
// lowest free one) exactly one gets it; the other asks the core again with it busy, or, for
// a port the user named, fails by name. A claim is held while its owner's lease is (the
// lease lists it, and releasing the lease releases it), so a port is never taken while the
// elements of the container that had it may still be in the table.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tempName } from '../runtime/state.js';
import { networksDir } from './paths.js';

export interface PortClaim {
  network: string;
  address: string;
  id: string;
}

export interface PublishedKey {
  hostIp: string;
  hostPort: number;
  proto: string;
}

function portsDir(root: string): string {
  return `${networksDir(root)}/ports`;
}

/** The claim's file name: the nft key of the port (`tcp.8080`, `127.0.0.1.udp.53`). */
export function claimName(p: PublishedKey): string {
  const any = p.hostIp === '' || p.hostIp === '0.0.0.0';
  return `${any ? '' : `${p.hostIp}.`}${p.proto}.${p.hostPort}`;
}

function readClaim(path: string): PortClaim | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PortClaim;
  } catch {
    return undefined;
  }
}

/**
 * Claims `name` for `owner`. `stale(claim)` says whether a claim found there is dead (its
 * lease gone); a dead one is renamed aside, checked to be the one seen, and replaced.
 */
export function claimPort(root: string, name: string, owner: PortClaim, stale: (c: PortClaim) => boolean): boolean {
  const dir = portsDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}/${tempName(name)}`;
  writeFileSync(tmp, JSON.stringify(owner), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, `${dir}/${name}`);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = readClaim(`${dir}/${name}`);
      if (held === undefined || !stale(held)) return false;
      releasePort(root, name, held);
    }
    return false;
  } finally {
    unlinkQuiet(tmp);
  }
}

/** Gives the port back if `owner` still holds it (a claim another took since stays). */
export function releasePort(root: string, name: string, owner: PortClaim): void {
  const dir = portsDir(root);
  const aside = `${dir}/${tempName(name, 'stale')}`;
  try {
    renameSync(`${dir}/${name}`, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const held = readClaim(aside);
  if (held !== undefined && (held.id !== owner.id || held.address !== owner.address || held.network !== owner.network)) {
    try {
      linkSync(aside, `${dir}/${name}`); // another's: put back
    } catch {
      // a third command claimed it meanwhile
    }
  }
  unlinkQuiet(aside);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
