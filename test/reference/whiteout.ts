// Plain TypeScript reference of assembly/whiteout/: OCI layer whiteouts ↔ overlayfs
// (docs/policy-core.md "Whiteouts"). Strings are byte strings (one char code per byte).

import type { Answer } from './cgroup.js';
import type { Action, Classified, LayerEntry, OutEntry, UpperEntry } from '../../ts/core/types.js';
import { ACTION_CLEAR, ACTION_DELETE, ACTION_EXTRACT, ACTION_MKNOD, ACTION_SET_XATTR, OPAQUE_NAME, WHITEOUT_PREFIX } from '../../ts/core/types.js';
import { compareLayerParts, compareLayerPaths } from '../../ts/core/whiteout.js';

export type { Action, Classified, LayerEntry, OutEntry, UpperEntry };
export { ACTION_CLEAR, ACTION_DELETE, ACTION_EXTRACT, ACTION_MKNOD, ACTION_SET_XATTR, OPAQUE_NAME, WHITEOUT_PREFIX, compareLayerParts, compareLayerPaths };

export const TYPE_REGULAR = 1;
export const TYPE_DIRECTORY = 2;
export const TYPE_SYMLINK = 3;
export const TYPE_HARDLINK = 4;
export const TYPE_CHAR = 5;
export const TYPE_BLOCK = 6;
export const TYPE_FIFO = 7;
export const TYPE_SOCKET = 8;

export const CLASS_PLAIN = 1;
export const CLASS_WHITEOUT = 2;
export const CLASS_OPAQUE = 3;
export const CLASS_INVALID = 4;
export const CLASS_SKIP = 5;


export const KIND_PLAIN = 1;
export const KIND_WHITEOUT = 2;
export const KIND_OPAQUE = 3;

export const META_PREFIX = '.wh..wh.';
export const XATTR_TRUSTED = 'trusted.overlay.opaque';
export const XATTR_USER = 'user.overlay.opaque';

/** Lexically clean a path against a root: components, or null when `..` leaves the root. */
export function cleanParts(path: string): string[] | null {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

export function joinParts(parts: string[]): string {
  return parts.length === 0 ? '.' : parts.join('/');
}

function invalid(index: number, reason: string): Classified {
  return { index, kind: CLASS_INVALID, path: '', reason };
}

export function classifyEntry(index: number, e: LayerEntry): Classified {
  const parts = cleanParts(e.path);
  if (parts === null) return invalid(index, 'escapes the root');
  if (parts.length > 0 && parts[0].startsWith(META_PREFIX) && !(parts.length === 1 && parts[0] === OPAQUE_NAME)) {
    return { index, kind: CLASS_SKIP, path: '', reason: '' };
  }
  for (let i = 0; i + 1 < parts.length; i++) {
    if (parts[i].startsWith(WHITEOUT_PREFIX)) return invalid(index, `directory ${parts[i]} has a whiteout name`);
  }
  if (parts.length === 0) {
    if (e.type !== TYPE_DIRECTORY) return invalid(index, 'the root of a layer must be a directory');
    return { index, kind: CLASS_PLAIN, path: '.', reason: '' };
  }
  const base = parts[parts.length - 1];
  const parent = parts.slice(0, -1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { index, kind: CLASS_PLAIN, path: joinParts(parts), reason: '' };
  if (e.type !== TYPE_REGULAR) return invalid(index, 'a whiteout must be a regular file');
  if (e.size !== 0n) return invalid(index, 'a whiteout must be empty');
  if (base === OPAQUE_NAME) return { index, kind: CLASS_OPAQUE, path: joinParts(parent), reason: '' };
  if (base.startsWith(META_PREFIX)) return invalid(index, `unknown whiteout meta name ${base}`);
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') return invalid(index, `whiteout names "${name}"`);
  return { index, kind: CLASS_WHITEOUT, path: joinParts([...parent, name]), reason: '' };
}

function checkType(e: LayerEntry, index: number, max: number): string | null {
  if (!Number.isInteger(e.type) || e.type < 1 || e.type > max) return `entry ${index}: type ${e.type} unknown`;
  return null;
}

export function classify(base: number, entries: LayerEntry[]): Answer<Classified[]> {
  const out: Classified[] = [];
  for (let i = 0; i < entries.length; i++) {
    const bad = checkType(entries[i], base + i, TYPE_FIFO);
    if (bad !== null) return { status: 1, reason: bad };
    out.push(classifyEntry(base + i, entries[i]));
  }
  return { status: 0, value: out };
}

function refusal(c: Classified, e: LayerEntry): { status: 2; reason: string } {
  return { status: 2, reason: `entry ${c.index} (${e.path}): ${c.reason}` };
}

/** Every classified entry, or the first invalid one as a refusal. */
function classifyAll(base: number, entries: LayerEntry[]): Answer<Classified[]> {
  const all = classify(base, entries);
  if (all.status !== 0) return all;
  for (let i = 0; i < all.value.length; i++) {
    if (all.value[i].kind === CLASS_INVALID) return refusal(all.value[i], entries[i]);
  }
  return all;
}

function addAncestors(dirs: Set<string>, path: string): void {
  let end = path.lastIndexOf('/');
  while (end > 0) {
    const dir = path.slice(0, end);
    if (dirs.has(dir)) return;
    dirs.add(dir);
    end = path.lastIndexOf('/', end - 1);
  }
}

/** The overlay actions that make an upper dir from this layer (docs/policy-core.md). */
export function toOverlay(base: number, entries: LayerEntry[], userxattr: boolean): Answer<Action[]> {
  const all = classifyAll(base, entries);
  if (all.status !== 0) return all;
  const classes = all.value;
  const dirs = new Set<string>();
  const files = new Set<string>();
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (c.kind === CLASS_SKIP) continue;
    if (c.kind === CLASS_PLAIN) {
      if (entries[i].type === TYPE_CHAR && entries[i].rdev === 0n) {
        return refusal({ ...c, reason: 'a character device 0:0 reads as a whiteout on overlayfs' }, entries[i]);
      }
      if (entries[i].type === TYPE_DIRECTORY) dirs.add(c.path);
      else files.add(c.path);
      addAncestors(dirs, c.path);
    } else if (c.kind === CLASS_OPAQUE) {
      if (c.path !== '.') dirs.add(c.path);
      addAncestors(dirs, c.path);
    } else {
      addAncestors(dirs, c.path);
    }
  }
  const xattr = userxattr ? XATTR_USER : XATTR_TRUSTED;
  const out: Action[] = [];
  const opaque: Action[] = [];
  const opaqueSeen = new Set<string>();
  const markOpaque = (index: number, path: string) => {
    if (opaqueSeen.has(path)) return;
    opaqueSeen.add(path);
    opaque.push({ index, kind: ACTION_SET_XATTR, path, detail: xattr });
  };
  for (const c of classes) {
    if (c.kind === CLASS_PLAIN) out.push({ index: c.index, kind: ACTION_EXTRACT, path: c.path, detail: '' });
    else if (c.kind === CLASS_OPAQUE) markOpaque(c.index, c.path);
    else if (c.kind === CLASS_WHITEOUT) {
      if (dirs.has(c.path)) markOpaque(c.index, c.path);
      else if (!files.has(c.path)) out.push({ index: c.index, kind: ACTION_MKNOD, path: c.path, detail: '' });
    }
  }
  return { status: 0, value: out.concat(opaque) };
}

/** Flatten mode: this layer's deletions (lower layers only) first, then its entries. */
export function flatten(base: number, entries: LayerEntry[]): Answer<Action[]> {
  const all = classifyAll(base, entries);
  if (all.status !== 0) return all;
  const clears: Action[] = [];
  const deletes: Action[] = [];
  const extracts: Action[] = [];
  const cleared = new Set<string>();
  for (const c of all.value) {
    if (c.kind === CLASS_OPAQUE) {
      if (!cleared.has(c.path)) clears.push({ index: c.index, kind: ACTION_CLEAR, path: c.path, detail: '' });
      cleared.add(c.path);
    } else if (c.kind === CLASS_WHITEOUT) deletes.push({ index: c.index, kind: ACTION_DELETE, path: c.path, detail: '' });
    else if (c.kind === CLASS_PLAIN) extracts.push({ index: c.index, kind: ACTION_EXTRACT, path: c.path, detail: '' });
  }
  return { status: 0, value: clears.concat(deletes, extracts) };
}

/** An upper-dir listing → the entries of an OCI layer, in layer order. */
export function fromOverlay(base: number, entries: UpperEntry[], userxattr: boolean): Answer<OutEntry[]> {
  const marker = (userxattr ? XATTR_USER : XATTR_TRUSTED) + '=y';
  for (let i = 0; i < entries.length; i++) {
    const t = entries[i].type;
    if (!Number.isInteger(t) || t < 1 || t > TYPE_SOCKET) return { status: 1, reason: `entry ${base + i}: type ${t} unknown` };
  }
  const out: OutEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const index = base + i;
    const parts = cleanParts(e.path);
    if (parts === null) return { status: 2, reason: `entry ${index} (${e.path}): escapes the root` };
    const path = joinParts(parts);
    if (seen.has(path)) return { status: 1, reason: `entry ${index} (${e.path}): listed twice` };
    seen.add(path);
    if (e.type === TYPE_SOCKET) continue;
    if (parts.length === 0) {
      if (e.type !== TYPE_DIRECTORY) return { status: 2, reason: `entry ${index} (${e.path}): the root must be a directory` };
      if (e.xattrs.includes(marker)) out.push({ index, kind: KIND_OPAQUE, path: OPAQUE_NAME });
      continue;
    }
    const name = parts[parts.length - 1];
    if (name.startsWith(WHITEOUT_PREFIX)) {
      return { status: 2, reason: `entry ${index} (${e.path}): a name starting with .wh. cannot be stored in a layer` };
    }
    if (e.type === TYPE_CHAR && e.rdev === 0n) {
      out.push({ index, kind: KIND_WHITEOUT, path: joinParts([...parts.slice(0, -1), WHITEOUT_PREFIX + name]) });
      continue;
    }
    out.push({ index, kind: KIND_PLAIN, path });
    if (e.type === TYPE_DIRECTORY && e.xattrs.includes(marker)) {
      out.push({ index, kind: KIND_OPAQUE, path: `${path}/${OPAQUE_NAME}` });
    }
  }
  const keyed = out.map((o) => ({ o, parts: o.path.split('/') }));
  keyed.sort((x, y) => compareLayerParts(x.parts, y.parts));
  return { status: 0, value: keyed.map((k) => k.o) };
}
