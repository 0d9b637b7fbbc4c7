// The JSON documents of an image, checked before husk stores or uses them: an OCI (or docker
// v2) manifest, an index (manifest list), a config, docker-archive's manifest.json. Strangers
// write these: each check names the field and the image, and sizes and counts are bounded.
import { HuskError } from '../errors.js';
import { checkDigest } from './digest.js';
import type { ImageConfig } from './store.js';

/** More layers than this is not an image but an attack on the store (overlayfs stacks 500). */
export const LAYERS_MAX = 1000;
/** Manifests in one index or one docker-archive manifest.json. */
export const MANIFESTS_MAX = 1000;
/** A uid or gid: 32 bits, and (uid_t)-1 means "no change" to the kernel. */
const ID_MAX = 4294967294;
const STRING_MAX = 64 << 10;

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string, why: string): never {
  throw new HuskError('image', `${what}: ${why}`);
}

function str(v: unknown, what: string, field: string): string {
  if (typeof v !== 'string') fail(what, `${field} must be a string`);
  if (v.length > STRING_MAX) fail(what, `${field} is longer than ${STRING_MAX} characters`);
  return v;
}

function strings(v: unknown, what: string, field: string, max = 10_000): string[] {
  if (!Array.isArray(v)) fail(what, `${field} must be a list of strings`);
  if (v.length > max) fail(what, `${field} has more than ${max} entries`);
  return v.map((x, i) => str(x, what, `${field}[${i}]`));
}

function stringMap(v: unknown, what: string, field: string): Record<string, string> {
  if (!isObject(v)) fail(what, `${field} must be an object`);
  for (const [k, x] of Object.entries(v)) str(x, what, `${field}["${k.slice(0, 40)}"]`);
  return v as Record<string, string>;
}

export function checkDescriptor(v: unknown, what: string, field: string): Descriptor {
  if (!isObject(v)) fail(what, `${field} must be an object`);
  const mediaType = v.mediaType === undefined ? '' : str(v.mediaType, what, `${field}.mediaType`);
  const digest = checkDigest(v.digest, `${what}: ${field}.digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) fail(what, `${field}.size must be a whole number of bytes`);
  const d: Descriptor = { mediaType, digest, size: v.size };
  if (v.platform !== undefined) {
    if (!isObject(v.platform)) fail(what, `${field}.platform must be an object`);
    d.platform = {
      os: v.platform.os === undefined ? undefined : str(v.platform.os, what, `${field}.platform.os`),
      architecture: v.platform.architecture === undefined ? undefined : str(v.platform.architecture, what, `${field}.platform.architecture`),
      variant: v.platform.variant === undefined ? undefined : str(v.platform.variant, what, `${field}.platform.variant`),
    };
  }
  if (v.annotations !== undefined && v.annotations !== null) d.annotations = stringMap(v.annotations, what, `${field}.annotations`);
  return d;
}

export function isIndexType(mt: string | undefined): boolean {
  return mt === MT.ociIndex || mt === MT.dockerList;
}

export function isManifestType(mt: string | undefined): boolean {
  return mt === MT.ociManifest || mt === MT.dockerManifest;
}

/** An image manifest (OCI or docker schema 2). */
export function checkManifest(v: unknown, what: string): Manifest {
  if (!isObject(v)) fail(what, 'the manifest must be a JSON object');
  if (v.schemaVersion !== 2) fail(what, `schemaVersion ${JSON.stringify(v.schemaVersion)?.slice(0, 20)} is not supported (only 2)`);
  if (v.mediaType !== undefined && !isManifestType(v.mediaType as string)) fail(what, `media type ${JSON.stringify(v.mediaType).slice(0, 100)} is not an image manifest`);
  const config = checkDescriptor(v.config, what, 'config');
  if (!Array.isArray(v.layers)) fail(what, 'layers must be a list');
  if (v.layers.length > LAYERS_MAX) fail(what, `${v.layers.length} layers: husk takes at most ${LAYERS_MAX}`);
  const layers = v.layers.map((l, i) => {
    const d = checkDescriptor(l, what, `layers[${i}]`);
    if (!LAYER_TYPES.has(d.mediaType)) fail(what, `layers[${i}] has media type ${JSON.stringify(d.mediaType).slice(0, 100)}, which is not a layer husk can unpack`);
    return d;
  });
  return { schemaVersion: 2, mediaType: v.mediaType as string | undefined, config, layers };
}

/** An OCI index or docker manifest list: its manifests' descriptors. */
export function checkIndex(v: unknown, what: string): Descriptor[] {
  if (!isObject(v)) fail(what, 'the index must be a JSON object');
  if (v.schemaVersion !== 2) fail(what, `schemaVersion ${JSON.stringify(v.schemaVersion)?.slice(0, 20)} is not supported (only 2)`);
  if (!Array.isArray(v.manifests)) fail(what, 'manifests must be a list');
  if (v.manifests.length > MANIFESTS_MAX) fail(what, `${v.manifests.length} manifests: husk takes at most ${MANIFESTS_MAX}`);
  return v.manifests.map((m, i) => checkDescriptor(m, what, `manifests[${i}]`));
}

/** "1000", "1000:1000", "app", "app:staff": each number within a 32-bit id. */
function checkUser(user: string, what: string): void {
  if (user.length > 256) fail(what, 'config User is longer than 256 characters');
  for (const part of user.split(':')) {
    if (/^\d+$/.test(part) && (part.length > 10 || Number(part) > ID_MAX)) {
      fail(what, `config User "${user.slice(0, 40)}" is out of range: a uid or gid is at most ${ID_MAX}`);
    }
  }
  if (user.split(':').length > 2) fail(what, `config User "${user.slice(0, 40)}" has more than one ":"`);
}

/** An image config: the fields husk reads, checked; the rest kept as it came. */
export function checkConfig(v: unknown, what: string): ImageConfig {
  if (!isObject(v)) fail(what, 'the image config must be a JSON object');
  if (!isObject(v.rootfs)) fail(what, 'config rootfs is missing');
  if (v.rootfs.type !== 'layers') fail(what, `config rootfs.type must be "layers"`);
  if (!Array.isArray(v.rootfs.diff_ids)) fail(what, 'config rootfs.diff_ids must be a list');
  if (v.rootfs.diff_ids.length > LAYERS_MAX) fail(what, `${v.rootfs.diff_ids.length} layers: husk takes at most ${LAYERS_MAX}`);
  v.rootfs.diff_ids.forEach((d, i) => checkDigest(d, `${what}: config rootfs.diff_ids[${i}]`));
  for (const f of ['created', 'architecture', 'os', 'variant', 'author'] as const) if (v[f] !== undefined) str(v[f], what, `config ${f}`);
  const c = v.config;
  if (c !== undefined && c !== null) {
    if (!isObject(c)) fail(what, 'config.config must be an object');
    if (c.User !== undefined) checkUser(str(c.User, what, 'config User'), what);
    if (c.Env != null) strings(c.Env, what, 'config Env');
    if (c.Entrypoint != null) strings(c.Entrypoint, what, 'config Entrypoint');
    if (c.Cmd != null) strings(c.Cmd, what, 'config Cmd');
    if (c.WorkingDir !== undefined) str(c.WorkingDir, what, 'config WorkingDir');
    if (c.StopSignal !== undefined) str(c.StopSignal, what, 'config StopSignal');
    if (c.ExposedPorts != null && !isObject(c.ExposedPorts)) fail(what, 'config ExposedPorts must be an object');
    if (c.Volumes != null && !isObject(c.Volumes)) fail(what, 'config Volumes must be an object');
    if (c.Labels != null) stringMap(c.Labels, what, 'config Labels');
  }
  return v as unknown as ImageConfig;
}

/** docker-archive's manifest.json: one entry per image. */
export interface ArchiveManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

export function checkArchiveManifest(v: unknown, what: string): ArchiveManifestEntry[] {
  if (!Array.isArray(v)) fail(what, 'manifest.json must be a list of images');
  if (v.length === 0) fail(what, 'manifest.json lists no image');
  if (v.length > MANIFESTS_MAX) fail(what, `manifest.json lists ${v.length} images: husk takes at most ${MANIFESTS_MAX}`);
  return v.map((e, i) => {
    const at = `manifest.json[${i}]`;
    if (!isObject(e)) fail(what, `${at} must be an object`);
    const Config = str(e.Config, what, `${at}.Config`);
    const RepoTags = e.RepoTags == null ? [] : strings(e.RepoTags, what, `${at}.RepoTags`, 1000);
    const Layers = strings(e.Layers, what, `${at}.Layers`, LAYERS_MAX);
    const LayerSources: Record<string, Descriptor> = {};
    if (isObject(e.LayerSources)) for (const [k, d] of Object.entries(e.LayerSources)) LayerSources[checkDigest(k, `${what}: ${at}.LayerSources`)] = checkDescriptor(d, what, `${at}.LayerSources`);
    return { Config, RepoTags, Layers, LayerSources };
  });
}
