// `husk load`: images from a docker-archive (what docker save and podman save write) or an OCI
// image layout (a directory, or a tar of one: oci-archive). Every image of the archive is
// read and checked first (its JSON, its blobs' digests and sizes, its layer count), then its
// blobs are stored, its layers unpacked once each, and its record and tags written. A failure
// anywhere leaves the store as it was: what this load added and nothing uses is collected.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { HuskError } from '../errors.js';
import { DirSource, TarSource, openBlobStream, type ArchiveBlob, type ArchiveSource } from './archive.js';
import { layerMediaType, sniffCompression } from './compression.js';
import { hexOf, shortId } from './digest.js';
import {
  MT, checkArchiveManifest, checkConfig, checkIndex, checkManifest, isIndexType, isManifestType,
  type Descriptor,
} from './image-json.js';
import type { Progress } from './progress.js';
import { parseReference } from './reference.js';
import type { ImageConfig, Store } from './store.js';

export interface LoadedImage {
  id: string;
  /** full references */
  tags: string[];
}

interface LayerPlan {
  blob: ArchiveBlob;
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
}

interface ImagePlan {
  what: string;
  tags: string[];
  /** the manifest as it came (OCI layout); a docker-archive's is made once its blobs are known */
  manifestBytes?: Buffer;
  manifestMediaType: string;
  configBytes: Buffer;
  config: ImageConfig;
  configDigest: string;
  layers: LayerPlan[];
  notes: string[];
}

/** The platform husk runs: linux and this machine's architecture, in OCI's words. */
function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** The first bytes of a file (to tell a layer's compression). */
function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(8);
    const n = readSync(fd, b, 0, 8, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** A blob of the archive, checked against its descriptor when the archive already hashed it. */
function blobOf(src: ArchiveSource, d: Descriptor, what: string): ArchiveBlob {
  const b = src.blob(`blobs/sha256/${hexOf(d.digest)}`, what);
  if (b.size !== d.size) throw new HuskError('image', `${what}: blob ${d.digest} is ${b.size} bytes, but its descriptor says ${d.size}`);
  if (b.digest !== undefined && b.digest !== d.digest) throw new HuskError('image', `${what}: blob ${d.digest} does not match its digest (the content is ${b.digest})`);
  return b;
}

/** A JSON blob (manifest, config, index) by descriptor, its bytes checked by digest. */
function jsonBlob(src: ArchiveSource, d: Descriptor, what: string): { value: unknown; bytes: Buffer } {
  blobOf(src, d, what);
  const r = src.readJson(`blobs/sha256/${hexOf(d.digest)}`, what);
  const got = `sha256:${createHash('sha256').update(r.bytes).digest('hex')}`;
  if (got !== d.digest) throw new HuskError('image', `${what}: blob ${d.digest} does not match its digest (the content is ${got})`);
  return r;
}


function layersOf(config: ImageConfig, count: number, what: string): string[] {
  const ids = config.rootfs.diff_ids;
  if (ids.length !== count) throw new HuskError('image', `${what}: the manifest lists ${count} layers but the config's rootfs has ${ids.length}`);
  return ids;
}

function tagsFrom(annotations: Record<string, string> | undefined, notes: string[]): string[] {
  const name = annotations?.['io.containerd.image.name'] ?? annotations?.['org.opencontainers.image.ref.name'];
  if (name === undefined) return [];
  if (!name.includes(':') && !name.includes('/')) {
    notes.push(`the layout names an image only by the tag "${name}" (no repository): it is loaded without a name; name it with husk tag`);
    return [];
  }
  try {
    return [parseReference(name).full];
  } catch (err) {
    notes.push(`the name "${name.slice(0, 100)}" in the layout is not a valid reference (${(err as Error).message}): the image is loaded without it`);
    return [];
  }
}

// ---- docker-archive ---------------------------------------------------------------------

function planDockerArchive(src: ArchiveSource): ImagePlan[] {
  const what = src.label;
  const entries = checkArchiveManifest(src.readJson('manifest.json', `${what}: manifest.json`).value, what);
  return entries.map((e, i) => {
    const at = `${what}: image ${i + 1}`;
    const cfgBlob = src.blob(e.Config, `${at}: Config`);
    const { value, bytes } = src.readJson(e.Config, `${at}: config ${e.Config}`);
    const config = checkConfig(value, at);
    const diffIds = layersOf(config, e.Layers.length, at);
    const tags = e.RepoTags.map((t) => {
      try {
        return parseReference(t).full;
      } catch (err) {
        throw new HuskError('image', `${at}: RepoTags: ${(err as Error).message}`);
      }
    });
    const layers = e.Layers.map((p, j) => {
      const blob = src.blob(p, `${at}: layer ${j + 1}`);
      const compression = sniffCompression(head(blob.path));
      if (compression === 'bzip2' || compression === 'xz') throw new HuskError('image', `${at}: layer ${j + 1} is ${compression}-compressed (husk unpacks gzip, zstd or plain tar layers)`);
      return { blob, digest: blob.digest!, size: blob.size, mediaType: layerMediaType(compression), diffId: diffIds[j] };
    });
    return { what: at, tags, manifestMediaType: MT.ociManifest, configBytes: bytes, config, configDigest: cfgBlob.digest!, layers, notes: [] };
  });
}

// ---- OCI image layout --------------------------------------------------------------------

function pickPlatform(ds: Descriptor[], what: string): Descriptor {
  const host = hostPlatform();
  const fit = ds.filter((d) => isManifestType(d.mediaType) && (d.platform === undefined || (d.platform.os === host.os && d.platform.architecture === host.architecture)));
  if (fit.length === 0) {
    const have = ds.map((d) => `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`).join(', ');
    throw new HuskError('image', `${what}: no image for ${host.os}/${host.architecture} in the index (it has ${have || 'none'})`);
  }
  return fit[0];
}

function planOciManifest(src: ArchiveSource, d: Descriptor, tags: string[], notes: string[], what: string): ImagePlan {
  const { value, bytes } = jsonBlob(src, d, `${what}: manifest ${d.digest}`);
  const m = checkManifest(value, `${what}: manifest ${shortId(d.digest)}`);
  const at = `${what}: image ${shortId(m.config.digest)}`;
  const cfg = jsonBlob(src, m.config, `${at}: config`);
  const config = checkConfig(cfg.value, at);
  const diffIds = layersOf(config, m.layers.length, at);
  const layers = m.layers.map((l, j) => ({ blob: blobOf(src, l, `${at}: layer ${j + 1}`), digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[j] }));
  return { what: at, tags, manifestBytes: bytes, manifestMediaType: m.mediaType ?? d.mediaType ?? MT.ociManifest, configBytes: cfg.bytes, config, configDigest: m.config.digest, layers, notes };
}

function planOciLayout(src: ArchiveSource): ImagePlan[] {
  const what = src.label;
  if (src.has('oci-layout')) {
    const v = src.readJson('oci-layout', `${what}: oci-layout`, 4096).value as { imageLayoutVersion?: unknown };
    if (typeof v?.imageLayoutVersion !== 'string' || !v.imageLayoutVersion.startsWith('1.')) {
      throw new HuskError('image', `${what}: oci-layout says imageLayoutVersion ${JSON.stringify(v?.imageLayoutVersion)?.slice(0, 20)} (husk reads 1.x)`);
    }
  }
  const top = checkIndex(src.readJson('index.json', `${what}: index.json`).value, `${what}: index.json`);
  if (top.length === 0) throw new HuskError('image', `${what}: index.json lists no image`);
  const plans = new Map<string, ImagePlan>();
  for (const [i, d0] of top.entries()) {
    const notes: string[] = [];
    const tags = tagsFrom(d0.annotations, notes);
    let d = d0;
    // An index inside the index (a multi-platform image): this machine's platform, two levels at most.
    for (let depth = 0; isIndexType(d.mediaType); depth++) {
      if (depth >= 2) throw new HuskError('image', `${what}: indexes nested more than twice`);
      const inner = jsonBlob(src, d, `${what}: index ${shortId(d.digest)}`);
      d = pickPlatform(checkIndex(inner.value, `${what}: index ${shortId(d.digest)}`), what);
    }
    if (!isManifestType(d.mediaType) && d.mediaType !== '') throw new HuskError('image', `${what}: index.json manifests[${i}] has media type ${JSON.stringify(d.mediaType).slice(0, 100)}, which is not an image`);
    const plan = planOciManifest(src, d, tags, notes, what);
    const same = plans.get(plan.configDigest);
    if (same) same.tags.push(...tags.filter((t) => !same.tags.includes(t)));
    else plans.set(plan.configDigest, plan);
  }
  return [...plans.values()];
}

// ---- storing --------------------------------------------------------------------------------

async function storeBlob(store: Store, b: ArchiveBlob, digest: string, size: number, what: string): Promise<void> {
  if (b.digest !== undefined) {
    // hashed while read from the tar: renamed into place (a second use finds it stored)
    await store.hold([digest]);
    if (!store.hasBlob(digest)) {
      try {
        store.adoptBlobFile(b.path, digest);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !store.hasBlob(digest)) throw err;
      }
    }
    return;
  }
  await store.putBlob(openBlobStream(b.path), { digest, size, label: what });
}

async function storeImage(store: Store, plan: ImagePlan, progress: Progress): Promise<LoadedImage> {
  await store.hold([plan.configDigest, ...plan.layers.flatMap((l) => [l.digest, l.diffId])]);
  for (const [j, l] of plan.layers.entries()) {
    const label = `${plan.what}: layer ${j + 1}`;
    const task = progress.task(l.diffId, `Loading layer ${shortId(l.diffId)}`, l.size);
    const had = store.layerRecord(l.diffId) !== undefined;
    // The blob is kept even when the layer is unpacked already: the manifest names it (save, push).
    await storeBlob(store, l.blob, l.digest, l.size, label);
    // (a layer we have is checked against this blob, not unpacked again)
    await store.ensureLayer(l.digest, l.mediaType, { diffId: l.diffId, label, onBytes: (n) => task.add(n) });
    task.done(had ? 'Already exists' : 'Loaded');
  }
  const manifest =
    plan.manifestBytes ??
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: plan.configDigest, size: plan.configBytes.length },
        layers: plan.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    );
  const rec = await store.putImage({ manifest, manifestMediaType: plan.manifestMediaType, config: plan.configBytes }, plan.tags);
  return { id: rec.id, tags: plan.tags };
}

/**
 * Loads every image of an archive (`path`: a file or an OCI layout directory; or `stream`).
 * On failure nothing this load added stays in the store.
 */
export async function loadImages(store: Store, input: { path?: string; stream?: Readable }, progress: Progress): Promise<LoadedImage[]> {
  const label = input.path ?? 'stdin';
  let tmpDir: string | undefined;
  try {
    let src: ArchiveSource;
    if (input.path !== undefined && statSync(input.path).isDirectory()) {
      src = new DirSource(input.path);
      if (!src.has('index.json')) throw new HuskError('image', `${label}: a directory to load must be an OCI image layout (it has no index.json)`);
    } else {
      const stream = input.stream ?? createReadStream(input.path!, { highWaterMark: 1 << 20 });
      tmpDir = store.tmpPath('archive');
      const total = input.path !== undefined ? statSync(input.path).size : undefined;
      const task = progress.task('archive', 'Reading archive', total);
      src = await TarSource.read(stream, tmpDir, label, (n) => task.add(n));
      task.done('Read');
    }
    let plans: ImagePlan[];
    if (src.has('manifest.json')) plans = planDockerArchive(src);
    else if (src.has('index.json')) plans = planOciLayout(src);
    else throw new HuskError('image', `${label}: not an image archive: it has neither manifest.json (docker-archive) nor index.json (OCI layout)`);
    for (const p of plans) for (const n of p.notes) progress.note(`note: ${n}`);
    const loaded: LoadedImage[] = [];
    for (const p of plans) loaded.push(await storeImage(store, p, progress));
    await store.release();
    return loaded;
  } catch (err) {
    await cleanUp(store);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).path === input.path) {
      throw new HuskError('image', `${label}: no such file or directory`);
    }
    throw err;
  } finally {
    if (tmpDir) store.discard(tmpDir);
  }
}

/** After a failed load: this process's holds dropped and what nothing uses collected. */
async function cleanUp(store: Store): Promise<void> {
  try {
    await store.release();
    await store.gc();
  } catch {
    // the error that got us here is the one to report
  }
}
