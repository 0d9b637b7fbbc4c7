// Reads one file out of a rootfs (or an image) that a stranger wrote. Three rules
// (docs/architecture.md "Untrusted input"):
// - the path resolves inside the root: symlinks, absolute or relative, resolve as if the
//   rootfs were `/`. Where a path lands is the core's decision (its path verdicts, the same
//   securejoin rules that judge image layers); this file only gathers the facts the core
//   needs (which components are symlinks, and their targets) and asks again until the
//   answer no longer crosses a symlink;
// - the file is a regular one: opened without following a last symlink and without blocking
//   (a FIFO would otherwise hang husk), then checked with fstat on the open fd;
// - it has a size limit.
// After the open, the kernel's own name of the fd must be the resolved path under the root:
// a rootfs changed while husk walked it cannot swap in a path that leads out.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { HuskError } from '../errors.js';
import { ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK, decodeVerdicts, encodePathRequest, pathVerdictsRaw, type KnownLink } from '../core/pathsafe.js';
import { CoreError } from '../core/build-plan.js';
import { errnoText } from '../runtime/outcome.js';

/** The largest file husk reads out of a rootfs (passwd and group files are far smaller). */
export const ROOTFS_FILE_MAX = 1 << 20;

/** As many symlinks followed inside each other as the core follows in one path. */
const SYMLINKS_MAX = 40;

const decoder = new TextDecoder();

/** A process's root seen through procfs: `/proc/PID/root`. */
const PROC_ROOT = /^\/proc\/\d+\/root$/;

function refuse(path: string, why: string): never {
  throw new HuskError('rootfs', `cannot read /${path} of the rootfs: ${why}`);
}

/**
 * Where a symlink at `at` pointing to `target` lands (clean parts; [] is the root), following
 * the symlinks found so far; 'loop' when the core follows more than it allows.
 */
function landing(at: string, target: string, links: Map<string, string>): string[] | 'loop' {
  const known: KnownLink[] = [];
  for (const [p, t] of links) known.push({ path: p, target: t });
  const answer = pathVerdictsRaw(encodePathRequest(0, [{ kind: ITEM_SYMLINK, name: at, target }], known));
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  const [v] = decodeVerdicts(answer.bytes);
  if (v.verdict === VERDICT_LOOP) return 'loop';
  if (v.verdict !== VERDICT_OK) throw new CoreError(1, v.reason);
  return v.target === '.' ? [] : v.target.split('/');
}

/** lstat, or undefined when nothing is there (ENOENT, ENOTDIR); other errors throw. */
export function lstatOrMissing(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Symlinks one read may find in all (bounds the work a hostile rootfs can cause). */
const LINKS_MAX = 256;

/** Where a read ended: the landing's clean parts and the lstat of its last component. */
interface Landed {
  parts: string[];
  stat: Stats;
}

/** The prefixes of a symlink target, component by component ("/a/../b": "/a", "/a/..", "/a/../b"). */
function prefixesOf(target: string): string[] {
  const lead = target.startsWith('/') ? '/' : '';
  const parts = target.split('/').filter((c) => c !== '');
  if (parts.length === 0) return [lead || '.'];
  return parts.map((_, i) => lead + parts.slice(0, i + 1).join('/'));
}

/**
 * A root's tree as the resolution sees it: a directory (DirTree), or a stack of image layers
 * (ts/image/merged.ts). `rel` is a clean relative path ('' is the root).
 */
export interface RootTree {
  /** The entry at `rel`, not following a last symlink; undefined when it is missing. */
  lstat(rel: string): Stats | undefined;
  readlink(rel: string): string;
  /** The host path to open for `rel` (an entry lstat found). */
  hostPath(rel: string): string;
  /** Whether `link` (/proc/self/fd/N of the opened file) names `rel`; absent: it is hostPath(rel). */
  names?(link: string, rel: string): boolean;
}

/** A plain directory as a RootTree. */
export class DirTree implements RootTree {
  constructor(readonly root: string) {}

  lstat(rel: string): Stats | undefined {
    return rel === '' ? lstatSync(this.root) : lstatOrMissing(this.hostPath(rel));
  }

  readlink(rel: string): string {
    return readlinkSync(this.hostPath(rel));
  }

  hostPath(rel: string): string {
    if (rel === '') return this.root;
    return this.root === '/' ? `/${rel}` : `${this.root}/${rel}`;
  }

  names(link: string, rel: string): boolean {
    // Through a process's root (/proc/PID/root) the kernel names the file from that root's
    // mount, which husk's root may not reach: only the path inside it can be compared.
    return PROC_ROOT.test(this.root) ? link.endsWith(`/${rel}`) : link === this.hostPath(rel);
  }
}

/**
 * What is at a landing: its last component's lstat, the path of a symlink met on the way, or
 * undefined when a component is missing or a non-directory stands in the middle.
 */
function inspect(root: RootTree, parts: string[], seen: Map<string, Stats | undefined>): Stats | { link: string } | undefined {
  let stat = seen.get('');
  if (stat === undefined) seen.set('', (stat = root.lstat('')));
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    if (!seen.has(rel)) seen.set(rel, root.lstat(rel));
    stat = seen.get(rel);
    if (stat === undefined) return undefined;
    if (stat.isSymbolicLink()) return { link: rel };
    if (i < parts.length && !stat.isDirectory()) return undefined;
  }
  return stat;
}

/**
 * Where `target`, as a symlink at `at` would point, lands under the root; undefined when a
 * component on the way does not exist. The core decides where each prefix of the target lands
 * over the symlinks found so far (it takes `..` after a name it does not know as a plain
 * directory, so every prefix is asked: each state the resolution passes through gets
 * lstat'd). A symlink met on the way has its own target followed first, so the table never
 * holds a link whose way on is unknown (a loop the core reports is a real one); then it joins
 * the table and the prefixes are asked again. `depth` counts links followed inside each other.
 */
function follow(root: RootTree, at: string, target: string, links: Map<string, string>, seen: Map<string, Stats | undefined>, depth: number): Landed | undefined | 'loop' {
  if (depth > SYMLINKS_MAX) return 'loop';
  const prefixes = prefixesOf(target);
  rounds: for (;;) {
    for (let k = 0; k < prefixes.length; k++) {
      const parts = landing(at, prefixes[k], links);
      if (parts === 'loop') return 'loop';
      const found = inspect(root, parts, seen);
      if (found === undefined) return undefined;
      if ('link' in found) {
        if (links.size >= LINKS_MAX) return 'loop';
        const to = root.readlink(found.link);
        const sub = follow(root, found.link, to, links, seen, depth + 1);
        if (sub === undefined || sub === 'loop') return sub;
        links.set(found.link, to);
        continue rounds;
      }
      if (k === prefixes.length - 1) return { parts, stat: found };
      if (!found.isDirectory()) return undefined; // "file/..": the kernel says ENOTDIR
    }
  }
}

/**
 * Where `path` lands inside the root, every symlink on the way (the last one too) resolved
 * as if the root were `/`: its clean relative path and its lstat; undefined when it does not
 * exist; 'loop' for too many levels of symlinks.
 */
export function resolveInTree(root: RootTree, path: string): { rel: string; stat: Stats } | undefined | 'loop' {
  // As a symlink at the path itself pointing to "/path" would: from the root, the last
  // component followed too.
  const clean = path.split('/').filter((c) => c !== '' && c !== '.').join('/');
  if (clean === '') return { rel: '', stat: root.lstat('')! };
  const landed = follow(root, clean, `/${clean}`, new Map(), new Map(), 0);
  if (landed === undefined || landed === 'loop') return landed;
  return { rel: landed.parts.join('/'), stat: landed.stat };
}

/** The resolved path (relative to the root) of the regular file `path`, or undefined. */
function resolveInRoot(root: RootTree, path: string): string | undefined {
  const landed = resolveInTree(root, path);
  if (landed === undefined) return undefined;
  if (landed === 'loop') refuse(path, 'too many levels of symbolic links');
  if (!landed.stat.isFile()) refuse(path, `it is ${kindOf(landed.stat)}, not a regular file`);
  return landed.rel;
}

/**
 * The bytes of `path` (e.g. "etc/passwd") under `rootDir`, or undefined when it does not
 * exist there. Throws a HuskError ('rootfs') for anything but a regular file of at most
 * `limit` bytes.
 */
export function readRootfsFile(rootDir: string | RootTree, path: string, limit = ROOTFS_FILE_MAX): Buffer | undefined {
  try {
    // A process's root seen through procfs (`husk exec -u NAME`: /proc/PID/root) is a magic
    // link into its mount namespace: used as is, since realpath would name a host path.
    return readInRoot(typeof rootDir === 'string' ? new DirTree(PROC_ROOT.test(rootDir) ? rootDir : realpathSync(rootDir)) : rootDir, path, limit);
  } catch (err) {
    if (err instanceof HuskError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (typeof e.errno !== 'number') throw err;
    refuse(path, errnoText(-e.errno).toLowerCase());
  }
}

function readInRoot(root: RootTree, path: string, limit: number): Buffer | undefined {
  const resolved = resolveInRoot(root, path);
  if (resolved === undefined) return undefined;
  const full = root.hostPath(resolved);
  let fd: number;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') refuse(path, 'it changed into a symbolic link while husk read it');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) refuse(path, `it is ${kindOf(st)}, not a regular file`);
    if (st.size > limit) refuse(path, tooLarge(limit));
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    if (!(root.names?.(link, resolved) ?? link === full)) refuse(path, 'it moved while husk read it');
    return readAtMost(fd, path, limit);
  } finally {
    closeSync(fd);
  }
}

/** Reads to the end, refusing past `limit` bytes (fstat's size may change under us). */
function readAtMost(fd: number, path: string, limit: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.min(limit, 64 << 10) + 1);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    total += n;
    if (total > limit) refuse(path, tooLarge(limit));
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): string {
  return `larger than ${limit % (1 << 20) === 0 ? `${limit >> 20} MiB` : `${limit} bytes`}`;
}
