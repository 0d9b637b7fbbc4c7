// husk pull: reference → manifest (an index picks the platform) → config → layers into the
// store, each blob verified by digest before it is renamed into place, each layer unpacked
// once, then the image and its tag. Blobs the store has are not fetched again, so a pull that
// was interrupted picks up where it stopped. When the registry sends something wrong (a bad
// digest, a layer that is not what the config says), what this pull added is taken away.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { HuskError } from '../../errors.js';
import { familiarName, parseReference, referenceTarget, registryHost } from '../reference.js';
import type { Reference } from '../reference.js';
import { RegistryClient } from './client.js';
import type { Credentials } from './credentials.js';
import { fetchManifest, fetchSmallBlob, openBlob, sha256Of } from './fetch.js';
import type { FetchedManifest } from './fetch.js';
import { NetworkError, networkReason } from './http.js';
import { MAX_CONFIG_BYTES, hostPlatform, parseManifest, selectPlatform, showPlatform } from './manifest.js';
import type { Descriptor, ImageManifest, Platform } from './manifest.js';

/** Layers fetched at once (docker's max-concurrent-downloads default). */
const PARALLEL_DOWNLOADS = 3;

export type PullEvent =
  | { type: 'resolved'; ref: string; manifestDigest: string; platform: string; layers: Descriptor[] }
  | { type: 'layer'; digest: string; status: 'exists' | 'downloading' | 'downloaded' | 'extracting' | 'complete'; current: number; total: number }
  | { type: 'done'; ref: string; id: string; digest: string; fetched: number; bytes: number };

/** What pull needs of the store (ts/image/store.ts's Store). */
export interface PullStore {
  readonly root: string;
  hasBlob(digest: string): boolean;
  blobPath(digest: string): string;
  readBlob(digest: string, max?: number): Buffer;
  putBlob(src: Readable | Uint8Array, expect?: { digest?: string; size?: number; label?: string }): Promise<{ digest: string; size: number }>;
  ensureLayer(blobDigest: string, mediaType: string, opts?: { diffId?: string; label?: string }): Promise<{ diffId: string; link: string }>;
  layerRecord(diffId: string): { diffId: string } | undefined;
  layerDir(diffId: string): string;
  putImage(img: { manifest: Uint8Array; manifestMediaType?: string; config: Uint8Array; platform?: { os?: string; architecture?: string; variant?: string } }, tags: string[]): Promise<{ id: string }>;
  withLock<T>(fn: () => Promise<T> | T): Promise<T>;
  release(): Promise<void>;
  /** Removes temp entries of dead writers (an earlier pull that was killed). */
  sweep(): Promise<number>;
}

export interface PullOptions {
  tlsVerify: boolean;
  /** Explicit --platform (else the host's). */
  platform?: Platform;
  credentials?: (registry: string) => Credentials | undefined;
  onEvent?: (e: PullEvent) => void;
  idleMs?: number;
}

export interface PullResult {
  ref: Reference;
  id: string;
  manifestDigest: string;
  /** Blobs fetched from the registry (0: everything was in the store). */
  fetched: number;
  bytes: number;
}

interface ImageConfigJson {
  os?: unknown;
  architecture?: unknown;
  rootfs?: { diff_ids?: unknown };
  [k: string]: unknown;
}

/** The image config, checked: one diff_id per layer, each a sha256 digest. */
function parseConfig(bytes: Buffer, layers: number, what: string): ImageConfigJson {
  let config: ImageConfigJson;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new HuskError('registry', `${what}: the image config is not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new HuskError('registry', `${what}: the image config is not a JSON object`);
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw new HuskError('registry', `${what}: the image config has no rootfs.diff_ids`);
  if (ids.length !== layers) throw new HuskError('registry', `${what}: the image config lists ${ids.length} layers, the manifest ${layers}`);
  for (const id of ids) if (typeof id !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(id)) throw new HuskError('registry', `${what}: the image config has a diff_id that is not a sha256 digest`);
  return config;
}

/** Reaches the reference's registry; when nothing answers, the error says what was tried. */
async function connect(ref: Reference, text: string, opts: PullOptions): Promise<RegistryClient> {
  try {
    return await RegistryClient.connect(ref.registry, { tlsVerify: opts.tlsVerify, credentials: opts.credentials?.(ref.registry), idleMs: opts.idleMs });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    const resolved = text === ref.full ? '' : ` (as ${ref.full})`;
    throw new HuskError('registry', `cannot pull ${text}${resolved}: ${registryHost(ref.registry)} does not answer: ${networkReason(err.cause)}`, {
      hint: ref.registry === 'docker.io' && !text.startsWith('docker.io/') ? 'A short name means docker.io; name another registry in full (HOST[:PORT]/NAME[:TAG]).' : undefined,
      cause: err,
    });
  }
}

/** The image manifest for the platform: the reference's own, or its index's entry. */
async function resolveManifest(client: RegistryClient, ref: Reference, what: string, opts: PullOptions): Promise<{ top: FetchedManifest; fetched: FetchedManifest; manifest: ImageManifest; platform: Platform }> {
  const platform = opts.platform ?? hostPlatform();
  const top = await fetchManifest(client, ref.repository, referenceTarget(ref), what);
  let fetched = top;
  let parsed = parseManifest(top.bytes, top.contentType, what);
  for (let depth = 0; parsed.kind === 'index'; depth++) {
    if (depth === 2) throw new HuskError('registry', `${what}: indexes nested deeper than 2`);
    const entry = selectPlatform(parsed, platform, what);
    fetched = await fetchManifest(client, ref.repository, entry.digest, `${what} (${showPlatform(platform)})`, entry);
    parsed = parseManifest(fetched.bytes, fetched.contentType ?? entry.mediaType, what);
  }
  return { top, fetched, manifest: parsed, platform };
}

export async function pullImage(store: PullStore, text: string, opts: PullOptions): Promise<PullResult> {
  const ref = parseReference(text);
  const what = familiarName(ref.full);
  const emit = opts.onEvent ?? (() => undefined);
  await store.sweep();
  const client = await connect(ref, text, opts);
  const added: string[] = [];
  const unpacked: string[] = [];
  try {
    const { fetched, manifest, platform } = await resolveManifest(client, ref, what, opts);
    emit({ type: 'resolved', ref: ref.full, manifestDigest: fetched.digest, platform: showPlatform(platform), layers: manifest.layers });
    const configBytes = store.hasBlob(manifest.config.digest)
      ? readStoredBlob(store, manifest.config.digest)
      : await fetchSmallBlob(client, ref.repository, manifest.config, MAX_CONFIG_BYTES, `${what}: the image config`);
    const config = parseConfig(configBytes, manifest.layers.length, what);
    if (opts.platform && (config.os !== platform.os || config.architecture !== platform.architecture)) {
      throw new HuskError('registry', `${what} is for ${config.os}/${config.architecture}, not the ${showPlatform(platform)} asked for`);
    }
    // Each layer is unpacked as soon as its blob is in, while the others still download.
    const diffIds = config.rootfs!.diff_ids as string[];
    let bytes = 0;
    const downloads = new Map<string, Promise<void>>();
    const download = (layer: Descriptor): Promise<void> => {
      let p = downloads.get(layer.digest);
      if (!p) {
        p = (async () => {
          const total = layer.size;
          if (store.hasBlob(layer.digest)) {
            emit({ type: 'layer', digest: layer.digest, status: 'exists', current: total, total });
            return;
          }
          emit({ type: 'layer', digest: layer.digest, status: 'downloading', current: 0, total });
          const label = `${what}: layer ${layer.digest}`;
          const stream = await openBlob(client, ref.repository, layer, label, (n) => emit({ type: 'layer', digest: layer.digest, status: 'downloading', current: n, total }));
          await store.putBlob(stream, { digest: layer.digest, size: layer.size, label: what });
          added.push(layer.digest);
          bytes += layer.size;
          emit({ type: 'layer', digest: layer.digest, status: 'downloaded', current: total, total });
        })();
        downloads.set(layer.digest, p);
      }
      return p;
    };
    await inParallel(manifest.layers.map((l, i) => ({ l, i })), PARALLEL_DOWNLOADS, async ({ l, i }) => {
      await download(l);
      emit({ type: 'layer', digest: l.digest, status: 'extracting', current: l.size, total: l.size });
      const existed = store.layerRecord(diffIds[i]) !== undefined;
      await store.ensureLayer(l.digest, l.mediaType, { diffId: diffIds[i], label: `${what}: layer ${i + 1} (${l.digest})` });
      if (!existed) unpacked.push(diffIds[i]);
      emit({ type: 'layer', digest: l.digest, status: 'complete', current: l.size, total: l.size });
    });
    const record = await store.putImage(
      { manifest: fetched.bytes, manifestMediaType: manifest.mediaType, config: configBytes, platform: { os: String(config.os ?? platform.os), architecture: String(config.architecture ?? platform.architecture), ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) } },
      ref.tag !== undefined ? [`${ref.name}:${ref.tag}`] : [],
    );
    const id = record.id;
    emit({ type: 'done', ref: ref.full, id, digest: fetched.digest, fetched: added.length, bytes });
    return { ref, id, manifestDigest: fetched.digest, fetched: added.length, bytes };
  } catch (err) {
    // A connection that dropped keeps what was verified (the next pull resumes from it); a
    // registry that sent wrong content leaves nothing of this pull behind.
    if (!(err instanceof NetworkError)) await forget(store, added, unpacked);
    throw err;
  } finally {
    client.close();
    await store.release();
  }
}

function readStoredBlob(store: PullStore, digest: string): Buffer {
  const bytes = store.readBlob(digest, MAX_CONFIG_BYTES);
  if (sha256Of(bytes) !== digest) throw new HuskError('image', `the store's blob ${digest} does not match its digest: the store is damaged`);
  return bytes;
}

/** Removes the blobs and layers this pull stored (under the store lock): a failed pull keeps nothing. */
async function forget(store: PullStore, digests: string[], layers: string[]): Promise<void> {
  if (digests.length === 0 && layers.length === 0) return;
  await store.withLock(() => {
    for (const d of digests) rmSync(store.blobPath(d), { force: true });
    for (const id of layers) {
      const dir = dirname(store.layerDir(id));
      const link = store.layerRecord(id) as { link?: string } | undefined;
      if (link?.link) rmSync(join(store.root, 'l', link.link), { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops new starts and is thrown once all running ones end. */
async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
