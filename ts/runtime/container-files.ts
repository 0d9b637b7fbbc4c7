// Reading and writing a container's files through its layers on disk (container-layer.ts):
// diff (the upper against the image), export (the merged view as a tar), and cp both ways.
//
// Every path inside the container is resolved in the merged view as the container sees it
// (symlinks resolve as if its root were `/`: ts/host/rootfs-file.ts resolveInTree, the
// core's path verdicts), files are opened without following a last symlink and checked
// through /proc/self/fd/N against the path expected, and what cp writes goes into the upper
// component by component (mkdir, never following a symlink), so a symlink an image or a
// container planted (say /x -> /etc/shadow) never reaches the host's files.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeSync, chownSync, fchmodSync, chmodSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { HuskError } from '../errors.js';
import { lstatOrMissing, resolveInTree } from '../host/rootfs-file.js';
import { isWhiteout, isOpaqueXattrs } from '../image/merged.js';
import type { MergedTree } from '../image/merged.js';

/** What these need of a container's layer on disk (runtime/container-layer.ts ContainerLayer has them). */
export interface LayerFiles {
  rec: { id: string; name?: string };
  /** <storage>/containers/<id>/upper */
  upper: string;
  /** The image's layers alone. */
  lowerTree: MergedTree;
  /** The image's layers with the upper on top: what the container sees. */
  tree: MergedTree;
}

type TarHeader = Partial<import('tar-stream').Header> & { name: string };

const join2 = (a: string, b: string) => (a === '' ? b : `${a}/${b}`);

/** Directories of `dir` (relative names), the dir itself first, never following a symlink. */
function dirsUnder(dir: string, rel = ''): string[] {
  const out = [rel];
  for (const e of readdirSync(rel === '' ? dir : `${dir}/${rel}`, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...dirsUnder(dir, join2(rel, e.name)));
  }
  return out;
}

export type Change = { kind: 'A' | 'C' | 'D'; path: string };

/**
 * Mount points the plan makes in the new root when the image lacks them (assembly/plan/
 * rootfs.ts): husk's, not the container's changes, as docker's init layer keeps its own out.
 */
const MOUNT_POINTS = new Set(['proc', 'dev', 'sys', 'tmp']);

/**
 * docker diff: each path of the upper, A (added) or C (changed: it was in the image), D for
 * a whiteout (deleted); an opaque directory deletes whatever the image had under it.
 */
export async function diffUpper(c: LayerFiles): Promise<Change[]> {
  const dirs = dirsUnder(c.upper);
  const { readXattrs } = await import('./fs-ops.js');
  const xattrs = await readXattrs(c.upper, dirs.map((d) => d || '.'));
  const opaque = new Set(dirs.filter((d) => isOpaqueXattrs(xattrs.get(d || '.') ?? [])));
  await c.lowerTree.fetchOpacity(dirs);
  const out: Change[] = [];
  const walk = (rel: string): void => {
    const names = readdirSync(rel === '' ? c.upper : `${c.upper}/${rel}`).sort();
    for (const name of names) {
      const child = join2(rel, name);
      const st = lstatOrMissing(`${c.upper}/${child}`);
      if (st === undefined) continue;
      if (isWhiteout(st)) {
        if (c.lowerTree.lstat(child) !== undefined) out.push({ kind: 'D', path: `/${child}` });
        continue;
      }
      const below = c.lowerTree.lstat(child);
      if (below === undefined && rel === '' && MOUNT_POINTS.has(name) && st.isDirectory() && readdirSync(`${c.upper}/${child}`).length === 0) continue;
      out.push({ kind: below === undefined ? 'A' : 'C', path: `/${child}` });
      if (!st.isDirectory()) continue;
      if (opaque.has(child) && below?.isDirectory()) {
        const mine = new Set(readdirSync(`${c.upper}/${child}`));
        for (const gone of c.lowerTree.list(child).keys()) if (!mine.has(gone)) out.push({ kind: 'D', path: `/${child}/${gone}` });
      }
      walk(child);
    }
  };
  walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file of the merged view opened for reading: its fd, checked to be the entry it names. */
function openEntry(tree: MergedTree, rel: string): { fd: number; stat: Stats } {
  const expected = tree.hostPath(rel);
  const fd = openSync(expected, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new HuskError('invalid-value', `/${rel}: not a regular file`);
    if (readlinkSync(`/proc/self/fd/${fd}`) !== expected) throw new HuskError('invalid-value', `/${rel}: it moved while husk read it`);
    return { fd, stat };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function tarType(st: Stats): 'file' | 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo' | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return undefined; // a socket: tar has no type for it (docker export leaves them out too)
}

/** Writes `size` bytes of `fd` into a tar entry, waiting whenever it says it is full. */
async function pump(fd: number, size: number, entry: import('tar-stream').Pack extends { entry(h: never, cb: never): infer S } ? S : never): Promise<void> {
  const buf = Buffer.allocUnsafe(1 << 20);
  let left = size;
  while (left > 0) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
    if (n === 0) throw new HuskError('invalid-value', 'a file shrank while husk read it');
    left -= n;
    if (!entry.write(Buffer.from(buf.subarray(0, n)))) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(undefined as never);
}

/** docker export: the merged view (whiteouts applied) as one tar, written to `out`. */
export async function exportTree(tree: MergedTree, out: Writable): Promise<void> {
  await tree.fetchAllOpacity();
  const tar = await import('tar-stream');
  const pack = tar.pack();
  const done = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    pack.on('error', reject);
    out.on('finish', resolve);
    out.on('close', resolve);
  });
  pack.pipe(out);
  const add = (header: TarHeader, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  const walk = async (rel: string): Promise<void> => {
    for (const [name, e] of tree.list(rel)) {
      const child = join2(rel, name);
      const st = e.stat;
      const type = tarType(st);
      if (type === undefined) continue;
      const header: TarHeader = { name: type === 'directory' ? `${child}/` : child, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (type === 'symlink') header.linkname = tree.readlink(child);
      if (type === 'character-device' || type === 'block-device') {
        header.devmajor = Math.floor(st.rdev / 256) & 0xfff;
        header.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      }
      if (type === 'file') {
        const { fd, stat } = openEntry(tree, child);
        try {
          header.size = stat.size;
          await new Promise<void>((resolve, reject) => {
            const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
            void pump(fd, stat.size, entry).catch(reject);
          });
        } finally {
          closeSync(fd);
        }
      } else {
        await add(header);
      }
      if (type === 'directory') await walk(child);
    }
  };
  await walk('');
  pack.finalize();
  await done;
}

/** Where `path` (inside the container) is: resolved, the last symlink followed or not. */
async function locate(tree: MergedTree, path: string, followLast: boolean): Promise<{ rel: string; stat: Stats } | undefined> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return tree.settle(() => {
    if (followLast || parts.length === 0) {
      const r = resolveInTree(tree, parts.join('/'));
      if (r === 'loop') throw new HuskError('invalid-value', `${path}: too many levels of symbolic links`);
      return r;
    }
    const parent = resolveInTree(tree, parts.slice(0, -1).join('/'));
    if (parent === 'loop') throw new HuskError('invalid-value', `${path}: too many levels of symbolic links`);
    if (parent === undefined || !parent.stat.isDirectory()) return undefined;
    const name = parts[parts.length - 1];
    if (name === '..') {
      const up = resolveInTree(tree, parts.join('/'));
      return up === 'loop' ? undefined : up;
    }
    const rel = join2(parent.rel, name);
    const stat = tree.lstat(rel);
    return stat === undefined ? undefined : { rel, stat };
  });
}

/** Copies `rel` of the merged view (a file, directory or symlink) to the host path `dest`. */
async function copyOut(tree: MergedTree, rel: string, dest: string, skipped: string[]): Promise<void> {
  const st = tree.lstat(rel);
  if (st === undefined) return;
  if (st.isDirectory()) {
    // Into a directory that is there already, as cp -a (and docker cp) merge.
    if (!lstatOrMissing(dest)?.isDirectory()) mkdirSync(dest, { mode: st.mode & 0o7777 });
    for (const name of tree.list(rel).keys()) await copyOut(tree, join2(rel, name), `${dest}/${name}`, skipped);
    chmodSync(dest, st.mode & 0o7777);
  } else if (st.isSymbolicLink()) {
    symlinkSync(tree.readlink(rel), dest);
  } else if (st.isFile()) {
    const { fd } = openEntry(tree, rel);
    try {
      const outFd = openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, st.mode & 0o7777);
      try {
        copyFd(fd, outFd);
        fchmodSync(outFd, st.mode & 0o7777);
      } finally {
        closeSync(outFd);
      }
    } finally {
      closeSync(fd);
    }
  } else {
    skipped.push(`/${rel}`);
  }
}

function copyFd(from: number, to: number): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = readSync(from, buf, 0, buf.length, null);
    if (n === 0) return;
    let off = 0;
    while (off < n) off += writeSync(to, buf, off, n - off);
  }
}

/**
 * husk cp CONTAINER:SRC DEST. DEST an existing directory: SRC goes inside it under its own
 * name; otherwise DEST is the new name. A symlink SRC is copied as a link unless -L.
 */
export async function copyFromContainer(c: LayerFiles, src: string, dest: string, followLink: boolean): Promise<string[]> {
  await c.tree.fetchAllOpacity();
  const found = await locate(c.tree, src, followLink);
  const label = c.rec.name ?? c.rec.id.slice(0, 12);
  if (found === undefined) throw new HuskError('invalid-value', `could not find the file ${src} in container ${label}`);
  const at = lstatOrMissing(dest);
  const target = at?.isDirectory() ? `${dest}/${found.rel === '' ? basename(src) || 'root' : basename(found.rel)}` : dest;
  if (lstatOrMissing(target)?.isDirectory() && !found.stat.isDirectory()) throw new HuskError('invalid-value', `cannot overwrite directory ${target} with a non-directory`);
  if (lstatOrMissing(target) !== undefined && !found.stat.isDirectory()) unlinkSync(target);
  const skipped: string[] = [];
  await copyOut(c.tree, found.rel, target, skipped);
  return skipped;
}

/**
 * The directory `rel` of the merged view made real in the upper, parent first, each one a
 * copy of what the container sees there (mode and owner); a component of the upper that is
 * not a directory stops it.
 */
function ensureUpperDir(c: LayerFiles, rel: string): void {
  const parts = rel === '' ? [] : rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const path = `${c.upper}/${prefix}`;
    let st = lstatOrMissing(path);
    if (st === undefined) {
      const seen = c.tree.lstat(prefix);
      if (!seen?.isDirectory()) throw new HuskError('invalid-value', `/${prefix}: not a directory in the container`);
      mkdirSync(path, { mode: seen.mode & 0o7777 }); // mkdir(2) never follows a symlink
      chownSync(path, seen.uid, seen.gid);
      chmodSync(path, seen.mode & 0o7777);
      c.tree.madeDir(prefix);
      st = lstatSync(path);
    }
    if (!st.isDirectory()) throw new HuskError('invalid-value', `/${prefix}: not a directory in the container's writable layer`);
  }
}

/** Writes the host entry `src` (file, directory or symlink) at `rel` in the upper. */
function copyIn(c: LayerFiles, src: string, rel: string, follow: boolean, skipped: string[]): void {
  const st = follow ? statSync(src) : lstatSync(src);
  const path = `${c.upper}/${rel}`;
  const there = lstatOrMissing(path);
  const seen = c.tree.lstat(rel);
  if (seen?.isDirectory() && !st.isDirectory()) throw new HuskError('invalid-value', `cannot overwrite directory /${rel} with a non-directory`);
  if (seen !== undefined && !seen.isDirectory() && st.isDirectory()) throw new HuskError('invalid-value', `cannot overwrite non-directory /${rel} with a directory`);
  if (there !== undefined && !there.isDirectory()) unlinkSync(path); // a file, link or whiteout of the upper
  if (st.isDirectory()) {
    if (there === undefined || !there.isDirectory()) {
      mkdirSync(path, { mode: st.mode & 0o7777 });
      c.tree.madeDir(rel);
    }
    if (!lstatSync(path).isDirectory()) throw new HuskError('invalid-value', `/${rel}: not a directory in the container's writable layer`);
    chmodSync(path, st.mode & 0o7777);
    for (const name of readdirSync(src).sort()) copyIn(c, `${src}/${name}`, `${rel}/${name}`, false, skipped);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), path);
  } else if (st.isFile()) {
    const inFd = openSync(src, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW));
    try {
      // O_EXCL|O_NOFOLLOW: a name that appeared since is refused, never followed.
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, st.mode & 0o7777);
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) !== path) throw new HuskError('invalid-value', `/${rel}: the container's writable layer changed while husk wrote it`);
        copyFd(inFd, fd);
        fchmodSync(fd, st.mode & 0o7777);
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(inFd);
    }
  } else {
    skipped.push(src);
  }
}

/**
 * husk cp SRC CONTAINER:DEST. DEST an existing directory (as the container sees it): SRC goes
 * inside it under its own name; otherwise DEST names the new entry, in an existing directory.
 */
export async function copyToContainer(c: LayerFiles, src: string, dest: string, followLink: boolean): Promise<string[]> {
  if (lstatOrMissing(src) === undefined) throw new HuskError('invalid-value', `could not find the file ${src} on the host`);
  await c.tree.fetchAllOpacity();
  const found = await locate(c.tree, dest, true);
  const label = c.rec.name ?? c.rec.id.slice(0, 12);
  let rel: string;
  if (found?.stat.isDirectory()) {
    rel = join2(found.rel, basename(src.replace(/\/+$/, '')) || 'root');
  } else if (found !== undefined) {
    rel = found.rel;
  } else {
    const parts = dest.split('/').filter((p) => p !== '' && p !== '.');
    const name = parts.pop();
    const parent = await locate(c.tree, parts.join('/'), true);
    if (name === undefined || name === '..' || parent === undefined || !parent.stat.isDirectory()) {
      throw new HuskError('invalid-value', `could not find the directory of ${dest} in container ${label}`);
    }
    rel = join2(parent.rel, name);
  }
  const parentRel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
  ensureUpperDir(c, parentRel);
  const skipped: string[] = [];
  copyIn(c, src, rel, followLink, skipped);
  return skipped;
}
