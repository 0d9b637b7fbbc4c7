// What Node cannot do to an image layer — device nodes and FIFOs (overlay whiteouts are char
// devices 0/0), xattrs (security.capability, trusted/user.overlay.opaque) — done by the
// launcher as an fs plan the core builds (ts/core/fs.ts; docs/protocol.md "Fs plans"). Every
// path is resolved inside `root` by the launcher (openat2 RESOLVE_IN_ROOT, the last component
// never followed), so a symlink in a layer cannot send a write outside it.
import { isAbsolute } from 'node:path';
import { HuskError } from '../errors.js';
import { fsPlan, type FsEntry as AnyFsEntry } from '../core/fs.js';
import type { LauncherEvent } from '../protocol/events.js';
import { launch } from './launcher.js';
import { errnoName, errnoText } from './outcome.js';

export type FsOp =
  | { op: 'mknod'; path: string; mode: number; rdev: number } // whiteouts (0/0), devices, fifos
  | { op: 'setxattr'; path: string; name: string; value: Uint8Array }; // security.capability, overlay opaque

/** The entries of a plan run here (the write stream has its own runner: ts/image/write-stream.ts). */
type FsEntry = Exclude<AnyFsEntry, { op: 'write-stream' } | { op: 'userns' } | { op: 'remove-tree' } | { op: 'overlay-probe' }>;

export interface Xattr {
  name: string;
  value: Uint8Array;
}

/** S_IFCHR, S_IFBLK, S_IFIFO: the file types `mknod` makes (with permission bits 0–07777). */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** Linux's dev_t of a device (glibc's makedev; what fs.Stats.rdev gives), for `mknod`. */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8 | (minor & 0xff) | ((minor & 0xfff00) << 12)) >>> 0;
}

/** A plan holds 1024 ops (FS_ROOT + entries) and 4 MiB: batches stay well inside both. */
const BATCH_ENTRIES = 1000;
const BATCH_BYTES = 3 << 20;

/**
 * Applies `ops` in `root` (an absolute host directory), in order: one launcher run per batch
 * of up to 1000. Throws a HuskError naming the entry and the errno (`mknod ROOT/etc/x: EEXIST
 * (file exists)`); entries before the failed one stay applied.
 */
export async function applyFsOps(root: string, ops: readonly FsOp[]): Promise<void> {
  checkRoot(root);
  for (const batch of batches(ops)) await runBatch(root, batch);
}

/**
 * The xattrs of each path in `root` (its last component not followed: a symlink's own), as
 * the kernel lists them. Values over 4 KiB are an error (ERANGE), as is a missing path.
 */
export async function readXattrs(root: string, paths: readonly string[]): Promise<Map<string, Xattr[]>> {
  checkRoot(root);
  const out = new Map<string, Xattr[]>();
  for (const path of paths) out.set(path, []);
  const entries: FsEntry[] = paths.map((path) => ({ op: 'read-xattrs', path }));
  for (const batch of batches(entries)) {
    await runBatch(root, batch, (ev) => {
      // Op 0 is FS_ROOT; op i + 1 is the batch's entry i (ts/core/fs.ts).
      const entry = batch[ev.index - 1];
      if (entry === undefined) throw new HuskError('protocol', `XATTR event for op ${ev.index}, which reads no xattrs`);
      out.get(entry.path)!.push({ name: ev.name, value: new Uint8Array(Buffer.from(ev.value, 'hex')) });
    });
  }
  return out;
}

function checkRoot(root: string): void {
  if (!isAbsolute(root)) throw new HuskError('internal', `internal error: fs ops need an absolute root, not ${JSON.stringify(root)}`);
}

function* batches<T extends FsEntry | FsOp>(entries: readonly T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = 64 + Buffer.byteLength(e.path) + (e.op === 'setxattr' ? e.name.length + 2 * e.value.length : 0);
    if (batch.length > 0 && (batch.length === BATCH_ENTRIES || bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

type XattrEvent = Extract<LauncherEvent, { kind: 'xattr' }>;

async function runBatch(root: string, batch: readonly (FsEntry | FsOp)[], onXattr?: (ev: XattrEvent) => void): Promise<void> {
  const plan = fsPlan(root, batch);
  let failure: Extract<LauncherEvent, { kind: 'error' }> | undefined;
  let bad: Error | undefined;
  const outcome = await launch(plan, {
    stdio: 'ignore',
    onEvent: (ev) => {
      if (ev.kind === 'error') failure ??= ev;
      else if (ev.kind === 'xattr' && onXattr) {
        try {
          onXattr(ev);
        } catch (err) {
          bad ??= err as Error;
        }
      }
    },
  });
  if (bad) throw bad;
  if (failure === undefined && outcome.exit.how === 'exited' && outcome.exit.value === 0) return;
  throw fsError(root, batch, failure);
}

/** `mknod /layer/etc/x: EEXIST (file exists)`, naming the entry as the caller gave it. */
function fsError(root: string, batch: readonly (FsEntry | FsOp)[], ev: Extract<LauncherEvent, { kind: 'error' }> | undefined): HuskError {
  if (ev === undefined) return new HuskError('launcher', `fs ops in ${root}: the launcher failed without saying why`);
  const why = ev.errno ? `${errnoName(ev.errno)} (${errnoText(ev.errno).toLowerCase()})` : ev.message;
  const entry = ev.index >= 1 ? batch[ev.index - 1] : undefined;
  if (entry === undefined) {
    return new HuskError('host', `${ev.index === 0 ? `open layer directory ${root}` : ev.message}: ${why}`);
  }
  const full = `${root.replace(/\/+$/, '')}/${entry.path.replace(/^\/+/, '')}`;
  const what = entry.op === 'mknod' ? 'mknod' : entry.op === 'setxattr' ? `set xattr ${entry.name} on` : 'read xattrs of';
  return new HuskError('host', `${what} ${full}: ${why}`);
}
