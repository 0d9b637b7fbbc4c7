// Reading manifests and blobs from a registry, each checked against its digest: a manifest's
// bytes must hash to the digest asked for (or that the registry claims), a blob streams into
// the store, which renames it into place only when its sha256 and size match.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { HuskError } from '../../errors.js';
import { isSha256Digest } from '../reference.js';
import type { RegistryClient } from './client.js';
import { NetworkError, readBody } from './http.js';
import type { Descriptor } from './manifest.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest.js';

export const sha256Of = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  contentType?: string;
}

/** The manifest or index `target` (a tag or a digest) of `repository`, its digest checked. */
export async function fetchManifest(client: RegistryClient, repository: string, target: string, what: string, expect?: Descriptor): Promise<FetchedManifest> {
  const res = await client.request(repository, 'pull', `${repository}/manifests/${target}`, { headers: { accept: MANIFEST_ACCEPT } });
  if (res.status === 404) {
    const err = await client.failure(res, what, repository);
    throw new HuskError('registry', `manifest for ${what} not found${err.message.includes('(') ? ` ${err.message.slice(err.message.lastIndexOf('('))}` : ''}`);
  }
  if (res.status !== 200) throw await client.failure(res, `manifest for ${what}`, repository);
  if (expect && expect.size > MAX_MANIFEST_BYTES) throw new HuskError('registry', `${what}: its manifest is ${expect.size} bytes (husk reads at most ${MAX_MANIFEST_BYTES})`);
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, `the manifest of ${what}`);
  const digest = sha256Of(bytes);
  const wanted = expect?.digest ?? (isSha256Digest(target) ? target : undefined);
  if (wanted !== undefined && digest !== wanted) {
    throw new HuskError('registry', `${what}: the registry sent a manifest whose digest is ${digest}, not the ${wanted} asked for`);
  }
  if (expect && bytes.length !== expect.size) throw new HuskError('registry', `${what}: the manifest is ${bytes.length} bytes, its index says ${expect.size}`);
  const claimed = res.headers['docker-content-digest'];
  if (typeof claimed === 'string' && isSha256Digest(claimed) && claimed !== digest) {
    throw new HuskError('registry', `${what}: the registry says the manifest's digest is ${claimed}, but its bytes hash to ${digest}`);
  }
  const ct = res.headers['content-type'];
  return { bytes, digest, contentType: typeof ct === 'string' ? ct : undefined };
}

/** A small blob (the image config) read whole, its digest and size checked. */
export async function fetchSmallBlob(client: RegistryClient, repository: string, desc: Descriptor, limit: number, what: string): Promise<Buffer> {
  if (desc.size > limit) throw new HuskError('registry', `${what} is ${desc.size} bytes (husk reads at most ${limit})`);
  const res = await client.request(repository, 'pull', `${repository}/blobs/${desc.digest}`);
  if (res.status !== 200) throw await client.failure(res, what, repository);
  const bytes = await readBody(res, limit, what);
  const digest = sha256Of(bytes);
  if (digest !== desc.digest) throw new HuskError('registry', `${what}: the registry sent a blob whose digest is ${digest}, not ${desc.digest}`);
  if (bytes.length !== desc.size) throw new HuskError('registry', `${what}: the registry sent ${bytes.length} bytes, the manifest says ${desc.size}`);
  return bytes;
}

/**
 * A blob as a stream that fails (naming it) past its declared size, and counts bytes as they
 * come; its digest is checked by whoever stores it.
 */
export async function openBlob(client: RegistryClient, repository: string, desc: Descriptor, what: string, onBytes: (n: number) => void): Promise<Readable> {
  const res = await client.request(repository, 'pull', `${repository}/blobs/${desc.digest}`);
  if (res.status !== 200) throw await client.failure(res, what, repository);
  const declared = Number(res.headers['content-length']);
  if (res.headers['content-length'] !== undefined && declared !== desc.size) {
    res.body.destroy();
    throw new HuskError('registry', `${what}: the registry sends ${declared} bytes, the manifest says ${desc.size}`);
  }
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > desc.size) {
        done(new HuskError('registry', `${what}: the registry sent more than the ${desc.size} bytes the manifest says`));
        return;
      }
      onBytes(seen);
      done(null, chunk);
    },
    flush(done) {
      done(seen < desc.size ? new HuskError('registry', `${what}: the registry sent ${seen} bytes, the manifest says ${desc.size}`) : null);
    },
  });
  res.body.once('error', (err) => counter.destroy(new NetworkError(res.url, err)));
  res.body.pipe(counter);
  return counter;
}
