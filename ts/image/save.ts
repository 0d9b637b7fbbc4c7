// `husk save`: images out of the store as a docker-archive (manifest.json, configs and
// uncompressed layer tars under blobs/sha256/, which docker, podman and skopeo load), an
// oci-archive (an OCI image layout in a tar: the blobs exactly as stored) or an oci-dir (the
// same layout as a directory). Layers a docker-archive needs uncompressed are decompressed
// through a temp file and checked against their diffId before they are written.
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { HuskError } from '../errors.js';
import { decompressor, sniffCompression } from './compression.js';
import { hexOf, shortId } from './digest.js';
import { MT } from './image-json.js';
import type { Progress } from './progress.js';
import type { ImageRecord, Store } from './store.js';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir';

export interface SaveItem {
  image: ImageRecord;
  /** full references to write for it (none: saved by id) */
  tags: string[];
}

interface Sink {
  file(name: string, data: Buffer): Promise<void>;
  /** a file from disk, `size` bytes */
  copy(name: string, path: string, size: number, onBytes: (n: number) => void): Promise<void>;
  done(): Promise<void>;
}

/** Entries of a tar, in order, with fixed times and owners (the same images save the same bytes). */
function tarSink(out: Writable): Sink {
  const p: Pack = tarPack();
  const piping = pipeline(p, out);
  const dirs = new Set<string>();
  const header = (name: string, size: number) => ({ name, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' });
  const ensureDirs = async (name: string) => {
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      await new Promise<void>((res, rej) => p.entry({ name: `${d}/`, type: 'directory', mode: 0o755, mtime: new Date(0), uid: 0, gid: 0 }, (e) => (e ? rej(e) : res())));
    }
  };
  return {
    async file(name, data) {
      await ensureDirs(name);
      await new Promise<void>((res, rej) => p.entry(header(name, data.length), data, (e) => (e ? rej(e) : res())));
    },
    async copy(name, path, size, onBytes) {
      await ensureDirs(name);
      await new Promise<void>((res, rej) => {
        const sink = p.entry(header(name, size), (e) => (e ? rej(e) : res()));
        const src = createReadStream(path, { highWaterMark: 1 << 20 });
        src.on('data', (c) => onBytes(c.length));
        src.on('error', rej);
        src.pipe(sink as unknown as NodeJS.WritableStream);
      });
    },
    async done() {
      p.finalize();
      await piping;
    },
  };
}

/** The layout as files under `dir` (made here; it must not exist or be empty). */
function dirSink(dir: string): Sink {
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) throw new HuskError('usage', `${dir} exists and is not an empty directory`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const put = (name: string) => {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
    return path;
  };
  return {
    async file(name, data) {
      const fd = openSync(put(name), 'wx', 0o644);
      try {
        writeSync(fd, data);
      } finally {
        closeSync(fd);
      }
    },
    async copy(name, path, size, onBytes) {
      copyFileSync(path, put(name));
      onBytes(size);
    },
    async done() {},
  };
}

/** A layer blob as an uncompressed tar: the blob itself, or a temp file decompressed from it. */
async function plainLayer(store: Store, blob: string, diffId: string, label: string): Promise<{ path: string; size: number; temp: boolean }> {
  const path = store.blobPath(blob);
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  try {
    readSyncAll(fd, head);
  } finally {
    closeSync(fd);
  }
  const kind = sniffCompression(head);
  if (kind === 'none') return { path, size: statSync(path).size, temp: false };
  const tmp = store.tmpPath('save');
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(tmp, { mode: 0o600 });
  const d = decompressor(kind);
  d.on('data', (c: Buffer) => {
    hash.update(c);
    size += c.length;
  });
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), d, out);
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== diffId) {
    store.discard(tmp);
    throw new HuskError('image', `${label}: the stored blob ${blob} unpacks to ${got}, not ${diffId}: the store is damaged`);
  }
  return { path: tmp, size, temp: true };
}

function readSyncAll(fd: number, buf: Buffer): number {
  return readSync(fd, buf, 0, buf.length, 0);
}

async function writeDockerArchive(store: Store, items: SaveItem[], sink: Sink, progress: Progress): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  for (const { image, tags } of items) {
    const cfgName = `blobs/sha256/${hexOf(image.configDigest)}`;
    if (!written.has(cfgName)) {
      await sink.file(cfgName, store.readBlob(image.configDigest));
      written.add(cfgName);
    }
    const layers: string[] = [];
    for (const [i, diffId] of image.layers.entries()) {
      const name = `blobs/sha256/${hexOf(diffId)}`;
      layers.push(name);
      if (written.has(name)) continue;
      const label = `image ${shortId(image.id)}: layer ${i + 1}`;
      const plain = await plainLayer(store, image.blobs[i], diffId, label);
      const task = progress.task(diffId, `Writing layer ${shortId(diffId)}`, plain.size);
      try {
        await sink.copy(name, plain.path, plain.size, (n) => task.add(n));
      } finally {
        if (plain.temp) store.discard(plain.path);
      }
      task.done('Written');
      written.add(name);
    }
    // Full names: podman reads a short one as localhost/NAME, docker reads either.
    manifest.push({ Config: cfgName, RepoTags: tags.length ? tags : null, Layers: layers });
  }
  await sink.file('manifest.json', Buffer.from(JSON.stringify(manifest)));
}

async function writeOciLayout(store: Store, items: SaveItem[], sink: Sink, progress: Progress): Promise<void> {
  await sink.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const written = new Set<string>();
  const put = async (digest: string, label?: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const path = store.blobPath(digest);
    const size = statSync(path).size;
    const task = label ? progress.task(digest, label, size) : undefined;
    await sink.copy(`blobs/sha256/${hexOf(digest)}`, path, size, (n) => task?.add(n));
    task?.done('Written');
  };
  const manifests: object[] = [];
  for (const { image, tags } of items) {
    for (const b of image.blobs) await put(b, `Writing blob ${shortId(b)}`);
    await put(image.configDigest);
    await put(image.manifestDigest);
    const desc = { mediaType: image.manifestMediaType || MT.ociManifest, digest: image.manifestDigest, size: statSync(store.blobPath(image.manifestDigest)).size };
    if (tags.length === 0) manifests.push(desc);
    for (const t of tags) manifests.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': t } });
  }
  await sink.file('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests })));
}

/** Writes `items` in `format` to `out` (a stream for the archives, a directory for oci-dir). */
export async function saveImages(store: Store, items: SaveItem[], format: SaveFormat, out: Writable | string, progress: Progress): Promise<void> {
  const sink = typeof out === 'string' ? dirSink(out) : tarSink(out);
  if (format === 'docker-archive') await writeDockerArchive(store, items, sink, progress);
  else await writeOciLayout(store, items, sink, progress);
  await sink.done();
}
