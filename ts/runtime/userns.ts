// The user-namespace part of a run's request: the flags, who runs husk, and the text of the
// subordinate id files (the I/O; the rules are the policy core's, assembly/idmap/). The host
// ranges a container holds come from the core's summary (ts/core/build-plan.ts PlanSummary).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { RunFlags } from '../cli/args.js';
import { wantsUserns } from '../cli/flags-userns.js';
import type { IdmapCaller, IdmapSpec } from '../core/idmap.js';
import { HuskError } from '../errors.js';
import type { ContainerRecord } from './state.js';

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

/**
 * The request's `userns` for the flags, or undefined for the host's user namespace. The
 * subordinate files are read only when the core needs them: a rootless caller, or a rootful
 * auto or keep-id (whose picks avoid every range the files give out).
 */
export function usernsSpec(f: Pick<RunFlags, 'userns' | 'idmap'>, who: IdmapCaller = caller()): IdmapSpec | undefined {
  if (!wantsUserns(f)) return undefined;
  const u = f.userns;
  const mode = u.mode === 'host' ? 'maps' : u.mode;
  const spec: IdmapSpec = {
    mode,
    size: u.mode === 'auto' ? u.size ?? 0 : undefined,
    uidmap: f.idmap.uidmap,
    gidmap: f.idmap.gidmap,
    caller: who,
  };
  if (who.rootless || mode !== 'maps') {
    spec.subuid = readSubidFile('--subuid-file', f.idmap.subuidFile);
    spec.subgid = readSubidFile('--subgid-file', f.idmap.subgidFile);
  }
  return spec;
}

/** The host ranges live containers hold, from their records (for --userns auto). */
export function usedRanges(records: readonly ContainerRecord[]): { start: number; size: number }[] {
  return records.flatMap((r) => r.hostRanges ?? (r.userns ? [r.userns] : []));
}
