// husk push: an image of the store to a registry, as the distribution spec's upload flow says:
// each blob the registry lacks (HEAD) is uploaded (POST for a session, then one PUT with the
// whole blob, or PATCHes of chunks and a closing PUT for a large one), then the manifest, byte
// for byte as stored, so the image keeps its digest.
import { createReadStream, statSync } from 'node:fs';
import { HuskError } from '../../errors.js';
import { familiarName, parseReference, registryHost } from '../reference.js';
import type { Reference } from '../reference.js';
import { RegistryClient } from './client.js';
import type { Credentials } from './credentials.js';
import { sha256Of } from './fetch.js';
import { NetworkError, discard, networkReason, showUrl } from './http.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import type { Descriptor } from './manifest.js';

/** Blobs up to this size go in one PUT; larger ones in PATCHes of this size. */
export const DEFAULT_CHUNK_BYTES = 64 << 20;
const PARALLEL_UPLOADS = 3;

export interface PushStore {
  resolveImage(refOrId: string): { id: string; manifestDigest: string; manifestMediaType: string } | undefined;
  hasBlob(digest: string): boolean;
  blobPath(digest: string): string;
  readBlob(digest: string, max?: number): Buffer;
}

export type PushEvent =
  | { type: 'preparing'; repository: string; blobs: Descriptor[] }
  | { type: 'blob'; digest: string; status: 'exists' | 'uploading' | 'pushed'; current: number; total: number }
  | { type: 'done'; ref: string; digest: string; size: number };

export interface PushOptions {
  tlsVerify: boolean;
  credentials?: (registry: string) => Credentials | undefined;
  onEvent?: (e: PushEvent) => void;
  /** PATCH chunk size (blobs up to it go in one PUT). */
  chunkBytes?: number;
  idleMs?: number;
}

export interface PushResult {
  ref: Reference;
  digest: string;
  size: number;
  /** Blobs sent (the others the registry had). */
  uploaded: number;
}

/** The upload URL a registry gave (Location may be relative), with `params` added to its query. */
function uploadUrl(location: string | undefined, base: URL, params: Record<string, string> = {}): URL {
  if (!location) throw new HuskError('registry', `${base.host}: an upload answer has no Location`);
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw new HuskError('registry', `${base.host}: the upload Location "${location.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HuskError('registry', `${base.host}: the upload Location is a ${url.protocol} URL`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

async function uploadBlob(client: RegistryClient, repo: string, store: PushStore, desc: Descriptor, chunk: number, onBytes: (n: number) => void): Promise<void> {
  const path = store.blobPath(desc.digest);
  const what = `upload of ${desc.digest}`;
  let res = await client.request(repo, 'pull,push', `${repo}/blobs/uploads/`, { method: 'POST', body: new Uint8Array(0) });
  if (res.status !== 202) throw await client.failure(res, what, repo);
  discard(res);
  let location = res.headers.location;
  let sent = 0;
  const stream = (start: number, end: number) => () => {
    const s = createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 });
    s.on('data', (c) => onBytes((sent += c.length)));
    return s;
  };
  if (desc.size > chunk) {
    for (let start = 0; start < desc.size; start += chunk) {
      const end = Math.min(start + chunk, desc.size);
      res = await client.request(repo, 'pull,push', uploadUrl(location, client.base), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}` },
        body: stream(start, end),
        bodyLength: end - start,
      });
      if (res.status !== 202) throw await client.failure(res, `${what} (bytes ${start}-${end - 1})`, repo);
      discard(res);
      location = res.headers.location;
    }
    res = await client.request(repo, 'pull,push', uploadUrl(location, client.base, { digest: desc.digest }), { method: 'PUT', body: new Uint8Array(0) });
  } else {
    res = await client.request(repo, 'pull,push', uploadUrl(location, client.base, { digest: desc.digest }), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: stream(0, desc.size),
      bodyLength: desc.size,
    });
  }
  if (res.status !== 201) throw await client.failure(res, what, repo);
  discard(res);
  const got = res.headers['docker-content-digest'];
  if (typeof got === 'string' && got !== desc.digest) throw new HuskError('registry', `${what}: the registry stored it as ${got}`);
}

export async function pushImage(store: PushStore, source: string, destination: string | undefined, opts: PushOptions): Promise<PushResult> {
  const image = store.resolveImage(source);
  if (!image) throw new HuskError('image', `no such image: ${source}`);
  const ref = parseReference(destination ?? source);
  if (ref.digest !== undefined) throw new HuskError('usage', `cannot push to a digest (${ref.full}): name a tag`);
  const tag = ref.tag ?? 'latest';
  const what = familiarName(ref.full);
  const manifestBytes = store.readBlob(image.manifestDigest, MAX_MANIFEST_BYTES);
  const manifest = parseManifest(manifestBytes, image.manifestMediaType, what);
  if (manifest.kind !== 'manifest') throw new HuskError('image', `${source}: its stored manifest is an index, not an image`);
  const blobs = [...manifest.layers, manifest.config].filter((d, i, all) => all.findIndex((x) => x.digest === d.digest) === i);
  for (const b of blobs) {
    if (!store.hasBlob(b.digest)) throw new HuskError('image', `${source}: blob ${b.digest} is not in the store`);
    if (statSync(store.blobPath(b.digest)).size !== b.size) throw new HuskError('image', `${source}: blob ${b.digest} in the store is not ${b.size} bytes`);
  }
  const emit = opts.onEvent ?? (() => undefined);
  emit({ type: 'preparing', repository: `${ref.registry}/${ref.repository}`, blobs });
  let client: RegistryClient;
  try {
    client = await RegistryClient.connect(ref.registry, { tlsVerify: opts.tlsVerify, credentials: opts.credentials?.(ref.registry), idleMs: opts.idleMs });
  } catch (err) {
    if (err instanceof NetworkError) throw new HuskError('registry', `cannot push ${what}: ${registryHost(ref.registry)} does not answer: ${networkReason(err.cause)}`, { cause: err });
    throw err;
  }
  try {
    const repo = ref.repository;
    let uploaded = 0;
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < blobs.length) {
        const b = blobs[next++];
        try {
          const head = await client.request(repo, 'pull,push', `${repo}/blobs/${b.digest}`, { method: 'HEAD' });
          discard(head);
          if (head.status === 200) {
            emit({ type: 'blob', digest: b.digest, status: 'exists', current: b.size, total: b.size });
            continue;
          }
          if (head.status !== 404) throw await client.failure(head, `${what}: HEAD of ${b.digest}`, repo);
          emit({ type: 'blob', digest: b.digest, status: 'uploading', current: 0, total: b.size });
          await uploadBlob(client, repo, store, b, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, (n) => emit({ type: 'blob', digest: b.digest, status: 'uploading', current: n, total: b.size }));
          uploaded++;
          emit({ type: 'blob', digest: b.digest, status: 'pushed', current: b.size, total: b.size });
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, blobs.length) }, worker));
    if (failure !== undefined) throw failure;
    const res = await client.request(repo, 'pull,push', `${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: manifestBytes,
    });
    if (res.status !== 201 && res.status !== 200) throw await client.failure(res, `${what}: the manifest`, repo);
    discard(res);
    const digest = sha256Of(manifestBytes);
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed !== digest) throw new HuskError('registry', `${what}: ${showUrl(res.url)} stored the manifest as ${claimed}, not ${digest}`);
    emit({ type: 'done', ref: `${ref.name}:${tag}`, digest, size: manifestBytes.length });
    return { ref, digest, size: manifestBytes.length, uploaded };
  } finally {
    client.close();
  }
}
