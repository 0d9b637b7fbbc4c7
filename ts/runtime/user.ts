// -u/--user: numbers pass through; names are looked up in the image's /etc/passwd and
// /etc/group, as docker does (never the host's, unless the image is the host).
import { HuskError } from '../errors.js';
import { readRootfsFile } from '../host/rootfs-file.js';
import type { RootTree } from '../host/rootfs-file.js';

/** The facts for the core (ts/core/build-plan.ts PlanRequest.user): it picks the gid. */
export interface UserIds {
  uid: number;
  /** The group as typed (-u U:G), by number or through the image's /etc/group. */
  gid?: number;
  /** The user's own group, from its passwd entry, when it has one. */
  primaryGid?: number;
}

const ID_MAX = 0xfffffffe; // (u32)-1 is "no id" to the kernel

/** The rows of a passwd or group file, resolved inside the rootfs; none when it is missing. */
function readTable(rootDir: string | RootTree, file: string): string[][] {
  const bytes = readRootfsFile(rootDir, file);
  if (bytes === undefined) return [];
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function parseId(what: string, v: string): number | undefined {
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  if (n > ID_MAX) throw new HuskError('invalid-value', `invalid ${what} "${v}" in --user: above ${ID_MAX}`);
  return n;
}

export function resolveUser(spec: string, rootDir: string | RootTree): UserIds {
  const [userPart, groupPart, ...more] = spec.split(':');
  if (userPart === '' || more.length > 0 || groupPart === '') throw new HuskError('usage', `invalid value "${spec}" for --user: expected UID[:GID] or NAME[:GROUP]`);
  let uid = parseId('uid', userPart);
  let gid: number | undefined;
  let primaryGid: number | undefined;
  if (uid === undefined) {
    const row = readTable(rootDir, 'etc/passwd').find((r) => r[0] === userPart);
    if (!row) throw new HuskError('invalid-value', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = Number(row[2]);
    primaryGid = Number(row[3]);
  } else {
    const row = readTable(rootDir, 'etc/passwd').find((r) => r[2] === userPart);
    if (row) primaryGid = Number(row[3]);
  }
  if (groupPart !== undefined) {
    const n = parseId('gid', groupPart);
    if (n !== undefined) gid = n;
    else {
      const row = readTable(rootDir, 'etc/group').find((r) => r[0] === groupPart);
      if (!row) throw new HuskError('invalid-value', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid, primaryGid };
}

/** --group-add: numbers pass through; names are looked up in the image's /etc/group (docker's). */
export function resolveGroups(specs: readonly string[], rootDir: string | RootTree): number[] {
  if (specs.length === 0) return [];
  let table: string[][] | undefined;
  return specs.map((g) => {
    if (/^\d+$/.test(g)) {
      const n = Number(g);
      if (n > ID_MAX) throw new HuskError('invalid-value', `invalid group "${g}" in --group-add: above ${ID_MAX}`);
      return n;
    }
    table ??= readTable(rootDir, 'etc/group');
    const row = table.find((r) => r[0] === g);
    if (!row) throw new HuskError('invalid-value', `unable to find group ${g}: no matching entries in group file`);
    return Number(row[2]);
  });
}
