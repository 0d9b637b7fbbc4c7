// husk commit: a container's writable layer becomes the top layer of a new image. The upper
// is packed as a layer tar (pack.ts packLayer: overlay whiteouts and opaque directories back
// to OCI's .wh. entries, decided by the core), gzipped into a blob in the store, unpacked
// once as a store layer, and a new config and manifest are written: the parent's, with the
// new layer's diff_id and a history entry added, as docker commit makes them.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { HuskError } from '../errors.js';
import type { ContainerLayer } from '../runtime/container-layer.js';
import type { ImageConfig, ImageRecord } from './store.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** The parent's manifest layers as stored (media types kept), or made from its blobs. */
function parentLayers(c: ContainerLayer): { mediaType: string; layers: Descriptor[] } {
  const img = c.image;
  try {
    const m = JSON.parse(c.store.readBlob(img.manifestDigest).toString('utf8')) as { mediaType?: string; layers?: Descriptor[] };
    if (Array.isArray(m.layers) && m.layers.length === img.blobs.length) return { mediaType: m.mediaType ?? img.manifestMediaType, layers: m.layers };
  } catch {
    // fall through: described from the store's own record
  }
  return { mediaType: OCI_MANIFEST, layers: img.blobs.map((digest) => ({ mediaType: OCI_LAYER_GZIP, digest, size: 0 })) };
}

export async function commitContainer(c: ContainerLayer, opts: { ref?: string; message?: string; author?: string }): Promise<ImageRecord> {
  const { packLayer } = await import('./pack.js');
  const { parseReference } = await import('./reference.js');
  const tags = opts.ref === undefined ? [] : [parseReference(opts.ref).full];
  const tmp = c.store.tmpPath('commit');
  let diffId: string;
  try {
    // Packed and gzipped in one pass into a temp file; the blob is then hashed as it is stored.
    const gz = createGzip({ level: 6 });
    const tar = new PassThrough();
    const written = pipeline(tar, gz, createWriteStream(tmp, { mode: 0o600 }));
    const packed = await packLayer(c.upper, tar, { fromOverlayUpper: true });
    tar.end();
    await written;
    diffId = packed.diffId;
    const docker = parentLayers(c).mediaType === DOCKER_MANIFEST;
    const blob = await c.store.putBlob(createReadStream(tmp));
    const layerType = docker ? DOCKER_LAYER_GZIP : OCI_LAYER_GZIP;
    const layer = await c.store.ensureLayer(blob.digest, layerType, { diffId, label: `the commit of container ${c.rec.id.slice(0, 12)}` });
    if (layer.diffId !== diffId) throw new HuskError('internal', `internal error: the committed layer unpacked as ${layer.diffId}, packed as ${diffId}`);
    const parent = c.image.config;
    const created = new Date().toISOString();
    const config: ImageConfig = {
      ...parent,
      created,
      ...(opts.author !== undefined ? { author: opts.author } : {}),
      rootfs: { type: 'layers', diff_ids: [...parent.rootfs.diff_ids, diffId] },
      history: [...(Array.isArray(parent.history) ? parent.history : []), { created, created_by: 'husk commit', ...(opts.message !== undefined ? { comment: opts.message } : {}), ...(opts.author !== undefined ? { author: opts.author } : {}) }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const p = parentLayers(c);
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
      config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`, size: configBytes.length },
      layers: [...p.layers, { mediaType: layerType, digest: blob.digest, size: blob.size }],
    };
    return await c.store.putImage({ manifest, manifestMediaType: manifest.mediaType, config: configBytes }, tags);
  } finally {
    c.store.discard(tmp);
  }
}
