// fsPlan: a batch of entries Node cannot make (devices, whiteouts, xattrs) in one root → an
// fs plan for the launcher (docs/core-abi.md "fsPlan", docs/protocol.md "Fs plans"). The core
// checks every path (pathsafe: no `..`, the root itself only for xattrs) and cleans it; the
// plan holds FS_ROOT, then exactly one op per entry, in order (so op index i + 1 is entry i).
import { HuskError } from '../errors.js';
import { FrameWriter, STR_MAX } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

export const FS_REQUEST = {
  ROOT: 0x0142, MKNOD: 0x0143, SETXATTR: 0x0144, READ_XATTRS: 0x0145, WRITE_STREAM: 0x0147, USERNS: 0x0361, REMOVE_TREE: 0x0362, OVERLAY_PROBE: 0x0331,
} as const;

export type FsEntry =
  | { op: 'mknod'; path: string; mode: number; rdev: number }
  | { op: 'setxattr'; path: string; name: string; value: Uint8Array }
  | { op: 'read-xattrs'; path: string }
  /** The last entry: records of a layer's files follow the plan (ts/image/write-stream.ts). */
  | { op: 'write-stream' }
  /**
   * Right after the root: the rest runs in a new user namespace whose maps newuidmap and
   * newgidmap write with these arguments (idmapCompute's, ts/image/rootless-layers.ts).
   */
  | { op: 'userns'; newuidmap: string; uidArgs: string[]; newgidmap: string; gidArgs: string[] }
  /** A tree removed, the path itself included (not followed). */
  | { op: 'remove-tree'; path: string }
  /** May this process mount an overlayfs with userxattr in a user namespace of its own? */
  | { op: 'overlay-probe' };

/** The request frames of docs/core-abi.md "fsPlan" (exported for tests). */
export function encodeFsRequest(root: string, entries: readonly FsEntry[]): Uint8Array {
  const w = new FrameWriter();
  w.begin(FS_REQUEST.ROOT).str(root).end();
  for (const e of entries) {
    if (e.op === 'mknod') w.begin(FS_REQUEST.MKNOD).str(e.path).u64(e.mode).u64(e.rdev).end();
    else if (e.op === 'setxattr') {
      // The value travels as hex in a `str`: half of STR_MAX is all a frame can carry.
      if (e.value.length > STR_MAX / 2) {
        throw new HuskError('invalid-value', `xattr ${e.name} on ${e.path}: a value of ${e.value.length} bytes (at most ${STR_MAX / 2})`);
      }
      w.begin(FS_REQUEST.SETXATTR).str(e.path).str(e.name).str(Buffer.from(e.value).toString('hex')).end();
    }
    else if (e.op === 'read-xattrs') w.begin(FS_REQUEST.READ_XATTRS).str(e.path).end();
    else if (e.op === 'userns') w.begin(FS_REQUEST.USERNS).str(e.newuidmap).strs(e.uidArgs).str(e.newgidmap).strs(e.gidArgs).end();
    else if (e.op === 'remove-tree') w.begin(FS_REQUEST.REMOVE_TREE).str(e.path).end();
    else if (e.op === 'overlay-probe') w.begin(FS_REQUEST.OVERLAY_PROBE).end();
    else w.begin(FS_REQUEST.WRITE_STREAM).end();
  }
  return w.take();
}

/**
 * The fs plan for `entries` in `root` (an absolute host path). Throws CoreError: status 2
 * names a refused entry (`mknod a/../b: has a '..' component`).
 */
export function fsPlan(root: string, entries: readonly FsEntry[]): Uint8Array {
  const answer = call('fsPlan', encodeFsRequest(root, entries));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return answer.bytes;
}
