// The user-namespace part of a run's request: the flags as typed, who runs husk, and the text
// of the subordinate id files (the I/O). Whether the container gets a user namespace, and
// with which maps, is the policy core's decision (assembly/idmap/request.ts decideMode,
// compute.ts); ts/ learns it from the core's summary (ts/core/build-plan.ts PlanSummary.userns).
import { accessSync, constants, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { RunFlags } from '../cli/args.js';
import type { IdmapCaller, UsernsFacts } from '../core/idmap.js';
import { HuskError } from '../errors.js';
import type { ContainerRecord } from './state.js';
import { nsNames, pinnedIdmap } from './ns-store.js';

/** A subordinate id file larger than this is refused (a 10k-line file is about 250 KiB). */
export const SUBID_FILE_MAX = 2 << 20;

export function caller(): IdmapCaller {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  let name = '';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry: subordinate ranges can still be owned by the uid in decimal.
  }
  return { rootless: uid !== 0, uid, gid, name };
}

/** Where Debian's uidmap package (and every distribution's shadow) installs the helpers. */
const HELPER_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

/** The first executable `name` in HELPER_DIRS, or '' (not installed). Not $PATH: the helper is setuid. */
function findHelper(name: string): string {
  for (const dir of HELPER_DIRS) {
    const path = `${dir}/${name}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return '';
}

/** Where newuidmap and newgidmap are (HUSK_NEWUIDMAP / HUSK_NEWGIDMAP override; '' = none). */
export function idmapHelpers(): { newuidmap: string; newgidmap: string } {
  return {
    newuidmap: process.env.HUSK_NEWUIDMAP ?? findHelper('newuidmap'),
    newgidmap: process.env.HUSK_NEWGIDMAP ?? findHelper('newgidmap'),
  };
}

/** The text of a subordinate id file; a missing file has no ranges. */
export function readSubidFile(flag: string, path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '';
    throw new HuskError('invalid-value', `${flag}: cannot read ${path}: ${code}`, { cause: err });
  }
  if (bytes.length > SUBID_FILE_MAX) throw new HuskError('invalid-value', `${flag}: ${path} is larger than ${SUBID_FILE_MAX} bytes`);
  return bytes.toString('utf8');
}

/** Whether any of --userns (other than its default, host), --uidmap or --gidmap was given. */
export function usernsFlagsGiven(f: Pick<RunFlags, 'userns' | 'idmap'>): boolean {
  return f.userns.mode !== 'host' || f.idmap.uidmap.length > 0 || f.idmap.gidmap.length > 0;
}

/**
 * The request's user-namespace facts, or undefined when no user namespace can be asked for
 * (a rootful caller without the flags: nothing is looked up or read, and the core makes
 * none). A fact-gathering rule, not a policy: whenever a user namespace might be needed (a
 * flag given, or a rootless caller) the caller and both subordinate files go along with the
 * flags as typed, and the core decides what they mean.
 */
export function usernsFacts(f: Pick<RunFlags, 'userns' | 'idmap'>, who?: IdmapCaller, root?: string): UsernsFacts | undefined {
  const rootless = who?.rootless ?? (process.geteuid?.() ?? 0) !== 0;
  if (!rootless && !usernsFlagsGiven(f)) return undefined;
  const u = f.userns;
  if (u.mode === 'ns') return joinedUsernsFacts(u.name, f, who, root);
  return {
    mode: u.mode,
    size: u.mode === 'auto' ? u.size ?? 0 : undefined,
    uidmap: f.idmap.uidmap,
    gidmap: f.idmap.gidmap,
    caller: who ?? caller(),
    subuid: readSubidFile('--subuid-file', f.idmap.subuidFile),
    subgid: readSubidFile('--subgid-file', f.idmap.subgidFile),
    helpers: rootless ? idmapHelpers() : undefined,
  };
}

/**
 * `--userns ns:NAME`: the pinned namespace's maps, as --uidmap/--gidmap would give them, so
 * the core checks and uses them (the user's id, the summary's ranges) as for any map; the
 * namespace itself is joined (runtime/joins.ts), not made.
 */
function joinedUsernsFacts(name: string, f: Pick<RunFlags, 'idmap'>, who: IdmapCaller | undefined, root: string | undefined): UsernsFacts {
  if (f.idmap.uidmap.length > 0 || f.idmap.gidmap.length > 0) throw new HuskError('usage', `--userns ns:${name}: --uidmap and --gidmap cannot be given; the namespace has its maps`);
  const maps = root === undefined ? undefined : pinnedIdmap(root, name);
  if (maps === undefined) throw new HuskError('invalid-value', `--userns ns:${name}: ${root !== undefined && nsNames(root).includes(name) ? `namespace ${name} has no user namespace` : `no such namespace: ${name}`}`, { hint: 'See husk ns ls; husk ns create NAME --user makes one.' });
  const text = (l: { inside: number; outside: number; count: number }) => `${l.inside}:${l.outside}:${l.count}`;
  return { mode: 'host', uidmap: maps.uid.map(text), gidmap: maps.gid.map(text), caller: who ?? caller(), subuid: '', subgid: '' };
}

/** The host ranges live containers hold, from their records (for --userns auto). */
export function usedRanges(records: readonly ContainerRecord[]): { start: number; size: number }[] {
  return records.flatMap((r) => r.hostRanges ?? (r.userns ? [r.userns] : []));
}

/**
 * The core's note on a rootless single-id map (what it limits, how to get more ids), one
 * line on stderr as podman warns: for the CLI's run and create, not for the API.
 */
export function printUsernsNote(summary: { usernsNote?: string }): void {
  if (summary.usernsNote) process.stderr.write(`husk: note: ${summary.usernsNote}\n`);
}
