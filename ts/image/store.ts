// The image store: content-addressed blobs, layers unpacked once, image records and tags.
//
//   <storage>/blobs/sha256/ab/<hex>     blobs as fetched (compressed layers, manifests, configs)
//   <storage>/layers/<hex>/diff/        one unpacked layer (an overlay lower dir)
//   <storage>/layers/<hex>/layer.json   { diffId, digest, mediaType, size, entries, link }
//   <storage>/l/<short>                 -> ../layers/<hex>/diff (short lowerdir names)
//   <storage>/images/<config-hex>.json  one record per image (ImageFile)
//   <storage>/refs.json                 { "docker.io/library/alpine:latest": "sha256:<config>" }
//   <storage>/containers/<id>/          upper, work, image.json of containers that outlive their run
//   <storage>/tmp/                      temp entries named "<pid>-<starttime>-..." of their writer
//   <storage>/lock                      the store lock (store-lock.ts)
//
// Everything appears by rename: a blob only after its digest matched, a layer only whole.
// Blobs and layers are written without the lock (two writers of one blob write the same
// bytes); what must be consistent (refs, records, GC) changes under it. A writer first
// "holds" the digests it is about to use (tmp/<owner>-hold, under the lock), so a GC running
// meanwhile keeps them even before any image record names them. Counting is not stored: GC
// computes what is used from the image records, the containers' records and the live holds,
// and frees exactly the rest.
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  closeSync, createReadStream, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync,
  readSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompressor, sniffCompression } from './compression.js';
import { HuskError } from '../errors.js';
import { checkDigest, hexOf, isDigest, shortId } from './digest.js';
import { parseReference } from './reference.js';
import { StoreLock, ownerAlive, ownerOfName, ownerToken } from './store-lock.js';
import { removeTree } from './rootless-layers.js';

/** What unpacks one layer (ts/image/unpack.ts's unpackLayer; tests may pass another). */
export type Unpacker = (
  src: Readable | string,
  dest: string,
  opts?: { compression?: 'auto' | 'gzip' | 'zstd' | 'none'; expectDigest?: string; maxBytes?: number; userxattr?: boolean; label?: string; onBytes?: (n: number) => void },
) => Promise<{ digest: string; diffId: string; size: number; entries: number }>;

/** An OCI image config (the fields husk reads; the rest is kept as it came). */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  author?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
    [k: string]: unknown;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
  [k: string]: unknown;
}

export interface LayerRecord {
  diffId: string;
  /** The blob it was unpacked from (its compressed digest). */
  digest?: string;
  mediaType?: string;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  entries: number;
  /** Its name under l/ (short lowerdir paths for mount(2)). */
  link: string;
}

/** images/<config-hex>.json */
export interface ImageFile {
  id: string;
  manifestDigest: string;
  manifestMediaType: string;
  configDigest: string;
  /** diffIds, bottom → top */
  layers: string[];
  /** compressed layer digests, bottom → top (the manifest's) */
  blobs: string[];
  created?: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ImageRecord extends ImageFile {
  repoTags: string[];
  config: ImageConfig;
  /** <storage>/layers/<hex>/diff, bottom → top */
  layerDirs: string[];
}

/** Container writable layers' record: which image (and layers) it stands on. */
interface ContainerFile {
  image?: string;
  layers: string[];
}

export const DEFAULT_STORAGE = '/var/lib/husk';

/** The unpacker says "layer LABEL: ...": "x.tar: image ab12: layer 3" reads "layer 3 of x.tar: image ab12". */
function unpackerLabel(label: string): string {
  const m = /^(.*): layer (\d+)$/.exec(label);
  return m ? `${m[2]} of ${m[1]}` : label.replace(/^layer /, '');
}


/** --storage DIR, else $HUSK_STORAGE, else /var/lib/husk (~/.local/share/husk for a non-root user). */
export function storageRoot(flag?: string): string {
  if (flag) return flag;
  if (process.env.HUSK_STORAGE) return process.env.HUSK_STORAGE;
  if (process.getuid?.() !== 0) return join(process.env.XDG_DATA_HOME || join(homedir(), '.local/share'), 'husk');
  return DEFAULT_STORAGE;
}

/** JSON files the store reads back (records, refs) are its own, but bounded all the same. */
const RECORD_BYTES_MAX = 16 << 20;
const DIRS = ['blobs/sha256', 'layers', 'l', 'images', 'containers', 'tmp'];

function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    if (statSync(path).size > RECORD_BYTES_MAX) throw new HuskError('image', `${path} is larger than ${RECORD_BYTES_MAX} bytes: not a husk record`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HuskError('image', `${path} is not valid JSON: the image store is damaged`);
  }
}

/** temp + fsync + rename: the file appears whole or not at all. */
function writeFileAtomic(path: string, tmp: string, data: string | Uint8Array): void {
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Bytes a tree takes (files' sizes, links' own), without following links. */
export function treeBytes(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    total += st.isDirectory() ? 0 : st.size;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      return; // A rootless layer's directory of a subordinate id: the user cannot list it.
    }
    for (const n of names) walk(join(p, n));
  };
  walk(path);
  return total;
}

export class Store {
  readonly root: string;
  private readonly owner: string;
  private readonly lock: StoreLock;
  private readonly held = new Set<string>();
  private readonly unpacker?: Unpacker;

  private constructor(root: string, unpacker?: Unpacker) {
    this.root = root;
    this.owner = ownerToken();
    this.lock = new StoreLock(join(root, 'lock'), join(root, 'tmp'), this.owner);
    this.unpacker = unpacker;
  }

  /** The store at `root` (storageRoot() by default), its directories made 0700. */
  static open(opts: { root?: string; unpacker?: Unpacker } = {}): Store {
    const root = storageRoot(opts.root);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    for (const d of DIRS) mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
    return new Store(root, opts.unpacker);
  }

  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.lock.with(fn);
  }

  /** A fresh temp path under tmp/, named for this process (swept once it is dead). */
  tmpPath(kind: string): string {
    return join(this.root, 'tmp', `${this.owner}-${kind}-${randomBytes(6).toString('hex')}`);
  }

  // ---- blobs ------------------------------------------------------------------------------

  blobPath(digest: string): string {
    const hex = hexOf(checkDigest(digest, 'blob'));
    return join(this.root, 'blobs/sha256', hex.slice(0, 2), hex);
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /**
   * Stores a blob: written to tmp/, hashed while written, renamed into place only if its
   * digest (and size) match `expect`. A stream whose blob is already stored is not read (it is
   * destroyed). Larger than `expect.size` stops at once.
   */
  async putBlob(src: Readable | Uint8Array, expect: { digest?: string; size?: number; label?: string } = {}): Promise<{ digest: string; size: number }> {
    const what = expect.label ?? expect.digest ?? 'blob';
    if (expect.digest !== undefined) {
      checkDigest(expect.digest, what);
      await this.hold([expect.digest]);
      if (this.hasBlob(expect.digest)) {
        if (!(src instanceof Uint8Array)) src.destroy();
        return { digest: expect.digest, size: statSync(this.blobPath(expect.digest)).size };
      }
    }
    const tmp = this.tmpPath('blob');
    const hash = createHash('sha256');
    let size = 0;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = src instanceof Uint8Array ? [src] : src;
      for await (const chunk of chunks) {
        size += chunk.length;
        if (expect.size !== undefined && size > expect.size) {
          if (!(src instanceof Uint8Array)) src.destroy();
          throw new HuskError('image', `${what}: more than the ${expect.size} bytes its descriptor says`);
        }
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
      }
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    const digest = `sha256:${hash.digest('hex')}`;
    try {
      if (expect.size !== undefined && size !== expect.size) throw new HuskError('image', `${what}: ${size} bytes, but its descriptor says ${expect.size}`);
      if (expect.digest !== undefined && digest !== expect.digest) throw new HuskError('image', `${what}: blob ${expect.digest} does not match its digest (the content is ${digest})`);
      if (expect.digest === undefined) await this.hold([digest]);
      this.adoptBlobFile(tmp, digest);
    } finally {
      rmSync(tmp, { force: true });
    }
    return { digest, size };
  }

  /**
   * Moves a temp file (under this store's tmp/) whose sha256 the caller computed while
   * writing it into place as the blob `digest`. The caller holds the digest.
   */
  adoptBlobFile(tmp: string, digest: string): void {
    const path = this.blobPath(digest);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    renameSync(tmp, path);
  }

  readBlob(digest: string, max = RECORD_BYTES_MAX): Buffer {
    const path = this.blobPath(digest);
    const st = statSync(path);
    if (st.size > max) throw new HuskError('image', `blob ${digest} is ${st.size} bytes, more than ${max}`);
    return readFileSync(path);
  }

  // ---- holds: digests a live writer is about to use ----------------------------------------

  private holdPath(): string {
    return join(this.root, 'tmp', `${this.owner}-hold`);
  }

  /** Keeps blobs and layers (by digest or diffId) from GC until release() or this process ends. */
  async hold(digests: string[]): Promise<void> {
    const fresh = [...new Set(digests)].filter((d) => !this.held.has(d));
    if (fresh.length === 0) return;
    for (const d of fresh) checkDigest(d, 'held digest');
    await this.withLock(() => {
      writeFileSync(this.holdPath(), fresh.map((d) => `${d}\n`).join(''), { flag: 'a', mode: 0o600 });
    });
    for (const d of fresh) this.held.add(d);
  }

  /** Drops this process's holds (what its image records name stays, of course). */
  async release(): Promise<void> {
    if (this.held.size === 0) return;
    await this.withLock(() => rmSync(this.holdPath(), { force: true }));
    this.held.clear();
  }

  // ---- layers ----------------------------------------------------------------------------

  layerDir(diffId: string): string {
    return join(this.root, 'layers', hexOf(checkDigest(diffId, 'layer')), 'diff');
  }

  layerRecord(diffId: string): LayerRecord | undefined {
    return readJson<LayerRecord>(join(this.root, 'layers', hexOf(checkDigest(diffId, 'layer')), 'layer.json'));
  }

  /** `l/<short>`, relative to the store root: the layer's short lowerdir name. */
  layerLink(diffId: string): string {
    const rec = this.layerRecord(diffId);
    if (!rec) throw new HuskError('image', `layer ${diffId} is not in the store`);
    return join('l', rec.link);
  }

  /**
   * The layer unpacked from blob `blobDigest`, unpacking it if no layer with `opts.diffId` is
   * there yet: into tmp/, then renamed whole to layers/<diffId>. A diffId other than the one
   * expected (the config's) is an error naming the layer.
   */
  async ensureLayer(blobDigest: string, mediaType: string, opts: { diffId?: string; label?: string; maxBytes?: number; onBytes?: (n: number) => void } = {}): Promise<LayerRecord> {
    const label = opts.label ?? `layer ${blobDigest}`;
    await this.hold(opts.diffId ? [blobDigest, opts.diffId] : [blobDigest]);
    if (opts.diffId) {
      const have = this.layerRecord(opts.diffId);
      // Another blob of a layer we have (recompressed, or a docker-archive's plain tar): it is
      // kept for save and push, so it must hold that layer too.
      if (have && have.digest !== blobDigest && this.hasBlob(blobDigest)) await this.checkDiffId(blobDigest, opts.diffId, label, opts.maxBytes);
      if (have) return have;
    }
    if (!this.hasBlob(blobDigest)) throw new HuskError('image', `${label}: blob ${blobDigest} is not in the store`);
    const unpack = this.unpacker ?? (await import('./unpack.js')).unpackLayer;
    const work = this.tmpPath('layer');
    mkdirSync(work, { mode: 0o700 });
    try {
      // The blob's path, not a stream of it: the unpacker's file path reads it with no
      // event-loop turn per chunk, reuses one buffer, and lets zstd read it itself.
      const got = await unpack(this.blobPath(blobDigest), join(work, 'diff'), { compression: 'auto', expectDigest: blobDigest, maxBytes: opts.maxBytes, label: unpackerLabel(label), onBytes: opts.onBytes });
      if (opts.diffId && got.diffId !== opts.diffId) {
        throw new HuskError('image', `${label}: its content is ${got.diffId}, but the image config says ${opts.diffId}`);
      }
      await this.hold([got.diffId]);
      const rec: LayerRecord = { diffId: got.diffId, digest: blobDigest, mediaType, size: got.size, entries: got.entries, link: '' };
      const final = join(this.root, 'layers', hexOf(got.diffId));
      const existing = this.layerRecord(got.diffId);
      if (existing) return existing;
      rec.link = this.makeLink(got.diffId);
      writeFileSync(join(work, 'layer.json'), JSON.stringify(rec), { mode: 0o600 });
      try {
        renameSync(work, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // another writer put the same layer there first: theirs stands
        return this.layerRecord(got.diffId) ?? rec;
      }
      return rec;
    } finally {
      removeTree(work);
    }
  }

  /** The blob, decompressed as its first bytes say, must hash to `diffId`. */
  private async checkDiffId(blobDigest: string, diffId: string, label: string, maxBytes = 32 * 2 ** 30): Promise<void> {
    const path = this.blobPath(blobDigest);
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
    const hash = createHash('sha256');
    let size = 0;
    const d = decompressor(sniffCompression(head));
    d.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) d.destroy(new HuskError('image', `${label}: unpacks to more than ${maxBytes} bytes, the limit (a decompression bomb?)`));
      hash.update(c);
    });
    try {
      await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), d);
    } catch (err) {
      if (err instanceof HuskError) throw err;
      throw new HuskError('image', `${label}: blob ${blobDigest} cannot be decompressed (${(err as Error).message})`, { cause: err });
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== diffId) throw new HuskError('image', `${label}: its content is ${got}, but the image config says ${diffId}`);
  }

  /** l/<name>: the first 12 hex digits of the diffId, longer if another layer has those. */
  private makeLink(diffId: string): string {
    const hex = hexOf(diffId);
    const target = `../layers/${hex}/diff`;
    for (let n = 12; n <= 64; n += 4) {
      const name = hex.slice(0, n);
      const path = join(this.root, 'l', name);
      try {
        symlinkSync(target, path);
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (readlinkSync(path) === target) return name;
      }
    }
    throw new HuskError('internal', `no short name left for layer ${diffId}`);
  }

  // ---- images and refs -----------------------------------------------------------------------

  private readRefs(): Record<string, string> {
    return readJson<Record<string, string>>(join(this.root, 'refs.json')) ?? {};
  }

  private writeRefs(refs: Record<string, string>): void {
    const sorted = Object.fromEntries(Object.entries(refs).sort(([a], [b]) => a.localeCompare(b)));
    writeFileAtomic(join(this.root, 'refs.json'), this.tmpPath('refs'), JSON.stringify(sorted, null, 2));
  }

  private imageFiles(): ImageFile[] {
    const dir = join(this.root, 'images');
    return readdirSync(dir)
      .filter((n) => /^[a-f0-9]{64}\.json$/.test(n))
      .flatMap((n) => {
        const f = readJson<ImageFile>(join(dir, n));
        return f ? [f] : [];
      });
  }

  private imageFile(id: string): ImageFile | undefined {
    return readJson<ImageFile>(join(this.root, 'images', `${hexOf(id)}.json`));
  }

  private record(file: ImageFile, refs: Record<string, string>): ImageRecord {
    const config = JSON.parse(this.readBlob(file.configDigest).toString('utf8')) as ImageConfig;
    const repoTags = Object.entries(refs)
      .filter(([, id]) => id === file.id)
      .map(([ref]) => ref)
      .sort();
    return { ...file, repoTags, config, layerDirs: file.layers.map((l) => this.layerDir(l)) };
  }

  /**
   * Records an image whose blobs and layers are stored: the manifest and config (bytes as
   * they came, or objects to serialise) are stored as blobs, the record written, and `tags`
   * (references) pointed at it, taken from any image that had them.
   */
  async putImage(
    img: { manifest: Uint8Array | object; manifestMediaType?: string; config: Uint8Array | object; platform?: ImageFile['platform'] },
    tags: string[],
  ): Promise<ImageRecord> {
    const bytes = (x: Uint8Array | object) => (x instanceof Uint8Array ? x : Buffer.from(JSON.stringify(x)));
    const manifestBytes = bytes(img.manifest);
    const configBytes = bytes(img.config);
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as { mediaType?: string; layers?: { digest: string }[] };
    const config = JSON.parse(Buffer.from(configBytes).toString('utf8')) as ImageConfig;
    const { digest: manifestDigest } = await this.putBlob(manifestBytes);
    const { digest: configDigest } = await this.putBlob(configBytes);
    const layers = config.rootfs.diff_ids.map((d) => checkDigest(d, 'config rootfs.diff_ids'));
    const blobs = (manifest.layers ?? []).map((l) => checkDigest(l.digest, 'manifest layer'));
    if (blobs.length !== layers.length) throw new HuskError('image', `the manifest names ${blobs.length} layers but the config ${layers.length}`);
    const fullTags = tags.map((t) => parseReference(t).full);
    return this.withLock(() => {
      let size = 0;
      for (const [i, diffId] of layers.entries()) {
        const rec = this.layerRecord(diffId);
        if (!rec) throw new HuskError('image', `layer ${i + 1} (${diffId}) is not unpacked in the store`);
        if (!this.hasBlob(blobs[i])) throw new HuskError('image', `layer ${i + 1}: blob ${blobs[i]} is not in the store`);
        size += rec.size;
      }
      const file: ImageFile = {
        id: configDigest,
        manifestDigest,
        manifestMediaType: img.manifestMediaType ?? manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
        configDigest,
        layers,
        blobs,
        created: typeof config.created === 'string' ? config.created : undefined,
        size,
        platform: img.platform ?? { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
      };
      writeFileAtomic(join(this.root, 'images', `${hexOf(configDigest)}.json`), this.tmpPath('image'), JSON.stringify(file));
      const refs = this.readRefs();
      for (const t of fullTags) refs[t] = configDigest;
      if (fullTags.length) this.writeRefs(refs);
      return this.record(file, refs);
    });
  }

  /** name[:tag], name@digest, a full or short id (sha256: optional), a manifest digest. */
  resolveImage(refOrId: string): ImageRecord | undefined {
    const refs = this.readRefs();
    const files = this.imageFiles();
    const byId = (id: string) => files.find((f) => f.id === id);
    let ref;
    try {
      ref = parseReference(refOrId);
    } catch {
      ref = undefined;
    }
    if (ref && refs[ref.full]) {
      const f = byId(refs[ref.full]);
      if (f) return this.record(f, refs);
    }
    if (ref?.digest) {
      const f = files.find((x) => x.manifestDigest === ref.digest);
      if (f) return this.record(f, refs);
    }
    const m = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(refOrId);
    if (m) {
      const matches = files.filter((f) => hexOf(f.id).startsWith(m[1]) || (refOrId.startsWith('sha256:') && f.manifestDigest === refOrId));
      if (matches.length > 1) throw new HuskError('image', `image id prefix "${refOrId}" is ambiguous: it matches ${matches.length} images`);
      if (matches.length === 1) return this.record(matches[0], refs);
    }
    return undefined;
  }

  /** resolveImage, or a HuskError naming what was asked for. */
  getImage(refOrId: string): ImageRecord {
    const img = this.resolveImage(refOrId);
    if (!img) throw new HuskError('image', `no such image: ${refOrId}`);
    return img;
  }

  listImages(): ImageRecord[] {
    const refs = this.readRefs();
    return this.imageFiles()
      .map((f) => this.record(f, refs))
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  }

  async tag(src: string, ref: string): Promise<string> {
    const full = parseReference(ref).full;
    return this.withLock(() => {
      const img = this.getImage(src);
      const refs = this.readRefs();
      refs[full] = img.id;
      this.writeRefs(refs);
      return full;
    });
  }

  async untag(ref: string): Promise<void> {
    const full = parseReference(ref).full;
    await this.withLock(() => {
      const refs = this.readRefs();
      if (!(full in refs)) throw new HuskError('image', `no such image: ${ref}`);
      delete refs[full];
      this.writeRefs(refs);
    });
  }

  /** Ids of the images containers stand on, with the containers. */
  private containerFiles(): Map<string, ContainerFile> {
    const dir = join(this.root, 'containers');
    const out = new Map<string, ContainerFile>();
    for (const id of readdirSync(dir)) {
      const f = readJson<ContainerFile>(join(dir, id, 'image.json'));
      out.set(id, f ?? { layers: [] });
    }
    return out;
  }

  /**
   * docker's rmi: a name untags it (and deletes the image once it has no name left); an id
   * deletes the image, refused when several names point at it or a container uses it,
   * unless forced. What nothing else uses is freed at once.
   */
  async removeImage(refOrId: string, force: boolean): Promise<{ untagged: string[]; deleted: string[] }> {
    return this.withLock(() => {
      const refs = this.readRefs();
      const img = this.resolveImage(refOrId);
      if (!img) throw new HuskError('image', `no such image: ${refOrId}`);
      let asRef: string | undefined;
      try {
        const r = parseReference(refOrId);
        if (refs[r.full] === img.id) asRef = r.full;
      } catch {
        // an id
      }
      const users = [...this.containerFiles()].filter(([, c]) => c.image === img.id).map(([id]) => id);
      const untagged: string[] = [];
      if (asRef !== undefined && img.repoTags.length > 1) {
        delete refs[asRef];
        this.writeRefs(refs);
        return { untagged: [asRef], deleted: [] };
      }
      if (asRef === undefined && img.repoTags.length > 1 && !force) {
        throw new HuskError('image', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
      }
      if (users.length && !force) {
        throw new HuskError('image', `conflict: unable to delete ${asRef ?? shortId(img.id)} (must be forced) - image is being used by container ${users[0].slice(0, 12)}`);
      }
      for (const t of img.repoTags) {
        delete refs[t];
        untagged.push(t);
      }
      if (untagged.length) this.writeRefs(refs);
      rmSync(join(this.root, 'images', `${hexOf(img.id)}.json`), { force: true });
      const freed = this.collect();
      return { untagged, deleted: [img.id, ...freed.layerIds] };
    });
  }

  /** Frees every blob and layer that no image, container or live writer uses. */
  async gc(): Promise<{ blobs: number; layers: number; bytes: number }> {
    return this.withLock(() => {
      const r = this.collect();
      return { blobs: r.blobs, layers: r.layerIds.length, bytes: r.bytes };
    });
  }

  /** What is in use: by images, containers and live writers' holds. */
  private inUse(): { blobs: Set<string>; layers: Set<string>; held: Set<string> } {
    const blobs = new Set<string>();
    const layers = new Set<string>();
    for (const f of this.imageFiles()) {
      blobs.add(f.manifestDigest);
      blobs.add(f.configDigest);
      for (const b of f.blobs) blobs.add(b);
      for (const l of f.layers) layers.add(l);
    }
    for (const [, c] of this.containerFiles()) {
      for (const l of c.layers) layers.add(l);
      if (c.image) {
        const f = this.imageFile(c.image);
        for (const l of f?.layers ?? []) layers.add(l);
      }
    }
    const held = new Set<string>();
    for (const name of readdirSync(join(this.root, 'tmp'))) {
      const owner = ownerOfName(name);
      if (!name.endsWith('-hold') || owner === undefined || !ownerAlive(owner)) continue;
      for (const d of readFileSync(join(this.root, 'tmp', name), 'utf8').split('\n')) if (isDigest(d)) held.add(d);
    }
    for (const d of held) {
      blobs.add(d);
      layers.add(d);
    }
    return { blobs, layers, held };
  }

  /** Under the lock: sweep dead writers' temp entries, then free what is unused. */
  private collect(): { blobs: number; layerIds: string[]; bytes: number } {
    this.sweepLocked();
    const use = this.inUse();
    let bytes = 0;
    let blobCount = 0;
    const blobRoot = join(this.root, 'blobs/sha256');
    for (const fan of readdirSync(blobRoot)) {
      for (const hex of readdirSync(join(blobRoot, fan))) {
        if (use.blobs.has(`sha256:${hex}`)) continue;
        const p = join(blobRoot, fan, hex);
        bytes += lstatSync(p).size;
        rmSync(p, { force: true });
        blobCount++;
      }
    }
    const layerIds: string[] = [];
    const layerRoot = join(this.root, 'layers');
    for (const hex of readdirSync(layerRoot)) {
      const diffId = `sha256:${hex}`;
      if (use.layers.has(diffId)) continue;
      const rec = readJson<LayerRecord>(join(layerRoot, hex, 'layer.json'));
      if (rec?.digest && use.held.has(rec.digest)) continue; // being unpacked for a live writer
      bytes += treeBytes(join(layerRoot, hex));
      // Renamed away first: layers/<hex> is whole or absent, never half-deleted.
      const aside = this.tmpPath('deleting');
      renameSync(join(layerRoot, hex), aside);
      if (rec?.link) rmSync(join(this.root, 'l', rec.link), { force: true });
      removeTree(aside);
      layerIds.push(diffId);
    }
    return { blobs: blobCount, layerIds, bytes };
  }

  /** Removes temp entries of writers that are no longer running. */
  async sweep(): Promise<number> {
    return this.withLock(() => this.sweepLocked());
  }

  private sweepLocked(): number {
    let n = 0;
    const tmp = join(this.root, 'tmp');
    for (const name of readdirSync(tmp)) {
      const owner = ownerOfName(name);
      if (owner === this.owner || (owner !== undefined && ownerAlive(owner))) continue;
      removeTree(join(tmp, name));
      n++;
    }
    return n;
  }

  // ---- containers' writable layers -----------------------------------------------------------

  /** <storage>/containers/<id>/{upper,work}, made 0700; `image` records what it stands on. */
  containerLayer(id: string, opts: { image?: ImageRecord } = {}): { upper: string; work: string } {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(id)) throw new HuskError('invalid-value', `invalid container id "${id}"`);
    const dir = join(this.root, 'containers', id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    mkdirSync(upper, { recursive: true, mode: 0o755 });
    mkdirSync(work, { recursive: true, mode: 0o700 });
    if (opts.image) {
      const f: ContainerFile = { image: opts.image.id, layers: opts.image.layers };
      writeFileAtomic(join(dir, 'image.json'), join(dir, '.image.json.tmp'), JSON.stringify(f));
    }
    return { upper, work };
  }

  removeContainerLayer(id: string): void {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(id)) return;
    const dir = join(this.root, 'containers', id);
    if (!existsSync(dir)) return;
    const aside = this.tmpPath('deleting');
    renameSync(dir, aside);
    removeTree(aside);
  }

  /** Ids of containers with a writable layer here, and the image each stands on. */
  containers(): { id: string; image?: string; layers: string[] }[] {
    return [...this.containerFiles()].map(([id, f]) => ({ id, ...f }));
  }

  /** The refs (full name → image id), for listings. */
  refs(): Record<string, string> {
    return this.readRefs();
  }

  /** Every stored blob: digest and bytes. */
  blobs(): { digest: string; size: number }[] {
    const blobRoot = join(this.root, 'blobs/sha256');
    return readdirSync(blobRoot).flatMap((fan) =>
      readdirSync(join(blobRoot, fan)).map((hex) => ({ digest: `sha256:${hex}`, size: lstatSync(join(blobRoot, fan, hex)).size })),
    );
  }

  /** Every unpacked layer's record. */
  layers(): LayerRecord[] {
    return readdirSync(join(this.root, 'layers')).flatMap((hex) => {
      const r = readJson<LayerRecord>(join(this.root, 'layers', hex, 'layer.json'));
      return r ? [r] : [];
    });
  }

  /** Removes a temp path of this process (a failed writer's leftovers), quietly. */
  discard(path: string): void {
    removeTree(path);
  }
}

/** Whether `path` (a temp entry's name) belongs to a dead writer: for tests and `system df`. */
export function isStale(name: string): boolean {
  const o = ownerOfName(name);
  return o !== undefined && !ownerAlive(o);
}
