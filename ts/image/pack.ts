// packLayer: a directory → a layer tar, deterministic (the same tree gives the same bytes:
// names in layer order, numeric owners only, no atime/ctime, no user or group names), with
// its diffId computed as it is written. With fromOverlayUpper the directory is an overlay
// upper: its whiteouts (char 0/0) and opaque directories become `.wh.` entries, by the core
// (ts/core/whiteout.ts overlayToLayer), and overlayfs's own xattrs are never written.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import type { Writable } from 'node:stream';
import { HuskError } from '../errors.js';
import { overlayToLayer } from '../core/whiteout.js';
import type { UpperEntry } from '../core/types.js';
import { readXattrs } from '../runtime/fs-ops.js';
import { T_BLOCK, T_CHAR, T_DIR, T_FIFO, T_FILE, T_HARDLINK, T_SYMLINK } from './tar-header.js';
import { END, headerOf, padding, type WriteEntry } from './tar-writer.js';

export interface PackOptions {
  fromOverlayUpper?: boolean;
  /** The upper's opaque xattr is user.overlay.opaque (overlay mounted with userxattr). */
  userxattr?: boolean;
}

interface Found {
  /** Relative path, binary string. */
  path: string;
  st: Stats;
  xattrs: Map<string, string>;
}

const ASCII = /^[\x00-\x7f]*$/;
const CHUNK = 1 << 20;

function fsPath(root: string, rel: string): string | Buffer {
  const full = rel === '' ? root : `${root}/${rel}`;
  return ASCII.test(full) ? full : Buffer.from(full, 'latin1');
}

/** Every entry under `root` (not the root itself), a directory before its contents, by bytes. */
function walk(root: string): Found[] {
  const out: Found[] = [];
  const visit = (rel: string) => {
    const names = readdirSync(fsPath(root, rel), { encoding: 'buffer' }).sort(Buffer.compare);
    for (const n of names) {
      const path = rel === '' ? n.toString('latin1') : `${rel}/${n.toString('latin1')}`;
      const st = lstatSync(fsPath(root, path));
      out.push({ path, st, xattrs: new Map() });
      if (st.isDirectory()) visit(path);
    }
  };
  visit('');
  return out;
}

function typeOf(st: Stats): number {
  if (st.isFile()) return 1;
  if (st.isDirectory()) return 2;
  if (st.isSymbolicLink()) return 3;
  if (st.isCharacterDevice()) return 5;
  if (st.isBlockDevice()) return 6;
  if (st.isFIFO()) return 7;
  return 8; // socket
}

const major = (rdev: number) => (rdev >> 8) & 0xfff;
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
const isOverlayXattr = (name: string) => name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');

export async function packLayer(dir: string, out: Writable, opts: PackOptions = {}): Promise<{ diffId: string; size: number }> {
  const root = dir.replace(/\/+$/, '') || '/';
  const found = walk(root);
  await readAllXattrs(root, found);
  const hash = createHash('sha256');
  let size = 0;
  const write = async (b: Buffer) => {
    hash.update(b);
    size += b.length;
    if (!out.write(b)) await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        out.off('drain', done);
        out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      out.on('drain', done);
      out.on('error', done);
    });
  };
  const links = new Map<string, string>();
  const entries = opts.fromOverlayUpper ? fromUpper(found, opts.userxattr ?? false) : found.map((f) => ({ f, kind: 1, path: f.path }));
  for (const { f, kind, path } of entries) {
    if (kind === 2 || kind === 3) {
      // A whiteout (from a char 0/0) or an opaque marker (from its directory): an empty file
      // with the metadata of what it came from, as docker writes them.
      await write(headerOf({ name: path, type: T_FILE, mode: f.st.mode & 0o777, uid: f.st.uid, gid: f.st.gid, mtime: seconds(f.st) }));
      continue;
    }
    const e = entryOf(root, f, links);
    if (e === null) continue;
    await write(headerOf(e));
    if (e.type === T_FILE && e.size) await copyFile(root, f, e.size, write);
  }
  await write(END);
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

/** The upper's entries in layer order, whiteouts and opaque markers as the core names them. */
function fromUpper(found: Found[], userxattr: boolean): { f: Found; kind: number; path: string }[] {
  const upper: UpperEntry[] = found.map((f) => ({
    path: f.path,
    type: typeOf(f.st),
    rdev: BigInt(f.st.rdev),
    // The core reads only the opaque markers (others, like origin, are binary file handles).
    xattrs: [...f.xattrs].filter(([n]) => /^(trusted|user)\.overlay\.opaque$/.test(n)).map(([n, v]) => `${n}=${v.replace(/\0+$/, '')}`),
  }));
  for (const f of found) {
    // A renamed directory (redirect) or a metadata-only copy has no layer form.
    for (const name of f.xattrs.keys()) {
      if (/^(trusted|user)\.overlay\.(redirect|metacopy)$/.test(name)) {
        throw new HuskError('image', `cannot make a layer of ${JSON.stringify(f.path)}: overlayfs marked it ${name.split('.').pop()} (mount the overlay with redirect_dir=off and metacopy=off)`);
      }
    }
  }
  let out;
  try {
    out = overlayToLayer(upper, userxattr);
  } catch (e) {
    throw new HuskError('image', `cannot make a layer of this directory: ${(e as Error).message}`, { cause: e });
  }
  return out.map((o) => ({ f: found[o.index], kind: o.kind, path: o.path }));
}

async function readAllXattrs(root: string, found: Found[]): Promise<void> {
  // Symlinks carry no user xattrs; names that are not UTF-8 cannot cross to the launcher.
  const want = found.filter((f) => !f.st.isSymbolicLink() && Buffer.from(Buffer.from(f.path, 'latin1').toString('utf8'), 'utf8').toString('latin1') === f.path);
  if (want.length === 0) return;
  const byUtf8 = new Map(want.map((f) => [Buffer.from(f.path, 'latin1').toString('utf8'), f]));
  const got = await readXattrs(root, [...byUtf8.keys()]);
  for (const [path, attrs] of got) {
    const f = byUtf8.get(path)!;
    for (const a of attrs) f.xattrs.set(a.name, Buffer.from(a.value).toString('latin1'));
  }
}

function seconds(st: Stats): number {
  return Math.floor(st.mtimeMs / 1000);
}

/** The tar entry of a found file; a second name of an inode is a hardlink to the first. */
function entryOf(root: string, f: Found, links: Map<string, string>): WriteEntry | null {
  const st = f.st;
  const xattrs = new Map([...f.xattrs].filter(([n]) => !isOverlayXattr(n)));
  const base: WriteEntry = { name: f.path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: seconds(st), xattrs };
  if (st.isDirectory()) return { ...base, name: `${f.path}/`, type: T_DIR };
  if (st.isSymbolicLink()) return { ...base, type: T_SYMLINK, linkname: readlinkSync(fsPath(root, f.path), { encoding: 'buffer' }).toString('latin1') };
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) return { ...base, type: T_HARDLINK, linkname: first };
      links.set(key, f.path);
    }
    return { ...base, type: T_FILE, size: st.size };
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { ...base, type: st.isCharacterDevice() ? T_CHAR : T_BLOCK, devmajor: major(st.rdev), devminor: minor(st.rdev) };
  }
  if (st.isFIFO()) return { ...base, type: T_FIFO };
  return null; // a socket: no tar form (docker skips them too)
}

/** Exactly `size` bytes of the file; one that changed size while packing is an error. */
async function copyFile(root: string, f: Found, size: number, write: (b: Buffer) => Promise<void>): Promise<void> {
  const fd = openSync(fsPath(root, f.path), 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw new HuskError('image', `cannot make a layer: ${JSON.stringify(f.path)} shrank while it was read`);
      left -= n;
      await write(n === buf.length ? buf : buf.subarray(0, n));
    }
    await write(padding(size));
  } finally {
    closeSync(fd);
  }
}
