// The merged view of a stack of layer directories (bottom → top), as overlayfs shows it: the
// topmost entry of a name wins; a whiteout (a 0/0 character device) hides the name below it;
// a directory merges with the directories below it unless it is opaque (the xattr
// trusted.overlay.opaque or user.overlay.opaque is "y"); a non-directory hides everything
// below. Used to read files of an image without mounting it (the -u user's /etc/passwd),
// and by diff, export and cp, which read a container's upper over its image's layers.
//
// Node cannot read xattrs: opacity comes from the launcher (readXattrs), asked in batches for
// the directories a lookup passes through and cached. A lookup that meets a directory whose
// opacity is not known yet throws NeedXattrs; `settle` fetches them and runs it again.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { relative } from 'node:path';
import type { RootTree } from '../host/rootfs-file.js';
import { lstatOrMissing } from '../host/rootfs-file.js';

export type XattrReader = (root: string, paths: readonly string[]) => Promise<Map<string, { name: string; value: Uint8Array }[]>>;

const OPAQUE_NAMES = new Set(['trusted.overlay.opaque', 'user.overlay.opaque']);

/** A whiteout: a character device 0/0 (overlayfs's form; the store keeps layers in it). */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaqueXattrs(xattrs: readonly { name: string; value: Uint8Array }[]): boolean {
  return xattrs.some((x) => OPAQUE_NAMES.has(x.name) && x.value.length === 1 && x.value[0] === 0x79);
}

class NeedXattrs extends Error {
  constructor(readonly rel: string) {
    super(`opacity of ${rel} not known yet`);
  }
}

/** The longest directory that holds every one of `dirs`. */
function commonParent(dirs: readonly string[]): string {
  if (dirs.length === 0) return '/';
  let parts = dirs[0].split('/');
  for (const d of dirs.slice(1)) {
    const p = d.split('/');
    let i = 0;
    while (i < parts.length && i < p.length && parts[i] === p[i]) i++;
    parts = parts.slice(0, i);
  }
  // A layer dir itself is not its own parent: the root of xattr reads must hold the layer.
  if (dirs.length === 1) parts = parts.slice(0, -1);
  return parts.join('/') || '/';
}

export interface MergedEntry {
  /** Index of the layer the entry comes from (0 = bottom). */
  layer: number;
  stat: Stats;
}

export class MergedTree implements RootTree {
  /** `${layer}\0${rel}` → opaque, for directories asked so far. */
  private readonly opaque = new Map<string, boolean>();
  private readonly base: string;

  readonly layers: readonly string[];

  /** `layers`: absolute directories, bottom → top (an upper last). */
  constructor(
    layers: readonly string[],
    private readonly readXattrs: XattrReader,
  ) {
    // Real paths: a file read is checked against the kernel's name of its fd.
    this.layers = layers.map((l) => realpathSync.native(l));
    this.base = commonParent(this.layers);
  }

  private path(layer: number, rel: string): string {
    return rel === '' ? this.layers[layer] : `${this.layers[layer]}/${rel}`;
  }

  private isOpaque(layer: number, rel: string): boolean {
    const v = this.opaque.get(`${layer}\0${rel}`);
    if (v === undefined) throw new NeedXattrs(rel);
    return v;
  }

  /** Learns the opacity of `rels`' directories in every layer (one launcher run per 1000). */
  async fetchOpacity(rels: Iterable<string>): Promise<void> {
    const asks: { key: string; path: string }[] = [];
    for (const rel of rels) {
      for (let l = 0; l < this.layers.length; l++) {
        const key = `${l}\0${rel}`;
        if (this.opaque.has(key)) continue;
        const st = lstatOrMissing(this.path(l, rel));
        if (!st?.isDirectory()) {
          this.opaque.set(key, false);
          continue;
        }
        asks.push({ key, path: relative(this.base, this.path(l, rel)) || '.' });
      }
    }
    if (asks.length === 0) return;
    const got = await this.readXattrs(this.base, asks.map((a) => a.path));
    for (const a of asks) this.opaque.set(a.key, isOpaqueXattrs(got.get(a.path) ?? []));
  }

  /** A directory husk just made in the top layer (cp's): a fresh one is never opaque. */
  madeDir(rel: string): void {
    this.opaque.set(`${this.layers.length - 1}\0${rel}`, false);
  }

  /** Every directory of every layer, so a whole-tree walk needs no more launcher runs. */
  async fetchAllOpacity(): Promise<void> {
    const dirs = new Set<string>(['']);
    const walk = (layer: number, rel: string): void => {
      for (const e of readdirSync(this.path(layer, rel), { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        dirs.add(r);
        walk(layer, r);
      }
    };
    for (let l = 0; l < this.layers.length; l++) walk(l, '');
    await this.fetchOpacity(dirs);
  }

  /**
   * Runs `fn` (which looks things up in this tree) until no lookup lacks an opacity: each
   * miss fetches the directory and its parents in every layer, then `fn` runs again.
   */
  async settle<T>(fn: () => T): Promise<T> {
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!(err instanceof NeedXattrs)) throw err;
        const parts = err.rel === '' ? [] : err.rel.split('/');
        const rels = [''];
        for (let i = 1; i <= parts.length; i++) rels.push(parts.slice(0, i).join('/'));
        await this.fetchOpacity(rels);
      }
    }
  }

  /** The layers (top first) whose root shows: down to the first opaque root. */
  private rootLayers(): number[] {
    const out: number[] = [];
    for (let l = this.layers.length - 1; l >= 0; l--) {
      out.push(l);
      if (this.isOpaque(l, '')) break;
    }
    return out;
  }

  /**
   * The entry `rel` names in the merged view, and the layers (top first) whose directories
   * merge there when it is a directory; undefined when it is missing or whited out.
   */
  private find(rel: string): { entry: MergedEntry; dirs: number[] } | undefined {
    let candidates = this.rootLayers();
    if (candidates.length === 0) return undefined;
    if (rel === '') return { entry: { layer: candidates[0], stat: lstatSync(this.layers[candidates[0]]) }, dirs: candidates };
    const parts = rel.split('/');
    let found: MergedEntry | undefined;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const next: number[] = [];
      found = undefined;
      for (const l of candidates) {
        const st = lstatOrMissing(this.path(l, prefix));
        if (st === undefined) continue;
        if (isWhiteout(st)) break;
        if (!st.isDirectory()) {
          // A file hides what is below; under a directory of a higher layer it is hidden itself.
          if (found === undefined) {
            found = { layer: l, stat: st };
            next.push(l);
          }
          break;
        }
        if (found === undefined) found = { layer: l, stat: st };
        next.push(l);
        if (this.isOpaque(l, prefix)) break;
      }
      if (found === undefined) return undefined;
      if (i < parts.length && !found.stat.isDirectory()) return undefined;
      candidates = next;
    }
    return { entry: found!, dirs: found!.stat.isDirectory() ? candidates : [] };
  }

  entry(rel: string): MergedEntry | undefined {
    return this.find(rel)?.entry;
  }

  lstat(rel: string): Stats | undefined {
    return this.find(rel)?.entry.stat;
  }

  readlink(rel: string): string {
    const e = this.find(rel);
    if (e === undefined) throw Object.assign(new Error(`readlink ${rel}: no such file`), { code: 'ENOENT' });
    return readlinkSync(this.path(e.entry.layer, rel));
  }

  hostPath(rel: string): string {
    const e = this.find(rel);
    return this.path(e === undefined ? this.layers.length - 1 : e.entry.layer, rel);
  }

  /** The names in directory `rel` of the merged view, sorted, each with its entry. */
  list(rel: string): Map<string, MergedEntry> {
    const f = this.find(rel);
    const out = new Map<string, MergedEntry>();
    if (f === undefined || !f.entry.stat.isDirectory()) return out;
    const hidden = new Set<string>();
    for (const l of f.dirs) {
      for (const name of readdirSync(this.path(l, rel)).sort()) {
        if (out.has(name) || hidden.has(name)) continue;
        const child = rel === '' ? name : `${rel}/${name}`;
        const st = lstatOrMissing(this.path(l, child));
        if (st === undefined) continue;
        if (isWhiteout(st)) {
          hidden.add(name);
          continue;
        }
        // A directory that an upper one merges with shows once, as the topmost.
        out.set(name, { layer: l, stat: st });
        if (!st.isDirectory()) hidden.add(name);
      }
    }
    // A name hidden by a non-directory of an upper layer: drop lower directories of it.
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
