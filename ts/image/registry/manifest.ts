// Manifests as registries send them, checked before anything is fetched on their word: docker
// v2 schema 2 and OCI image manifests, docker manifest lists and OCI indexes (one image per
// platform). Pure: bytes in, a checked manifest or a HuskError naming what is wrong.
import { HuskError } from '../../errors.js';
import { isSha256Digest } from '../reference.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

/** What husk asks registries for, in its order of preference. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

/** Largest manifest or index husk reads (containerd's bound too). */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** Largest image config husk reads. */
export const MAX_CONFIG_BYTES = 8 << 20;
/** overlayfs stacks at most 500 lower layers; an image with more could never run. */
export const MAX_LAYERS = 500;
/** Platforms in one index (a real one has a handful). */
const MAX_INDEX_ENTRIES = 1000;

export const LAYER_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
];
const FOREIGN_LAYER_TYPES = [
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface IndexEntry extends Descriptor {
  platform?: Platform;
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: IndexEntry[];
}

function bad(what: string, why: string): HuskError {
  return new HuskError('registry', `${what}: ${why}`);
}

function descriptor(v: unknown, what: string, where: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (d === null || typeof d !== 'object') throw bad(what, `${where} is not a descriptor object`);
  if (typeof d.digest !== 'string') throw bad(what, `${where} has no digest`);
  if (!isSha256Digest(d.digest)) throw bad(what, `${where} has digest "${d.digest.slice(0, 80)}", not sha256:<64 hex>`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(what, `${where} has no valid size`);
  if (d.mediaType !== undefined && typeof d.mediaType !== 'string') throw bad(what, `${where} has a mediaType that is not a string`);
  return { mediaType: d.mediaType ?? '', digest: d.digest, size: d.size };
}

/**
 * Reads a manifest or index. `contentType` is the registry's Content-Type header; the JSON's
 * own mediaType wins when it has one, and the shape decides when neither says.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, what: string): ImageManifest | ImageIndex {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw bad(what, `the manifest is not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad(what, 'the manifest is not a JSON object');
  const header = (contentType ?? '').split(';')[0].trim();
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  let mediaType = declared ?? header;
  if (mediaType === MEDIA.dockerSchema1 || mediaType === MEDIA.dockerSchema1Signed || json.schemaVersion === 1) {
    throw bad(what, 'it has a docker schema 1 manifest, which husk does not read (deprecated since 2017; push the image again with a newer client)');
  }
  if (json.schemaVersion !== 2) throw bad(what, `the manifest's schemaVersion is ${JSON.stringify(json.schemaVersion)?.slice(0, 20)}, not 2`);
  if (![MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].includes(mediaType as never)) {
    if (Array.isArray(json.manifests)) mediaType = MEDIA.ociIndex;
    else if (json.config !== undefined && Array.isArray(json.layers)) mediaType = MEDIA.ociManifest;
    else throw bad(what, `the manifest has media type "${mediaType.slice(0, 100)}", which is not an image manifest or index`);
  }
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) {
    if (!Array.isArray(json.manifests)) throw bad(what, 'the index has no "manifests" list');
    if (json.manifests.length > MAX_INDEX_ENTRIES) throw bad(what, `the index lists ${json.manifests.length} manifests (husk reads at most ${MAX_INDEX_ENTRIES})`);
    const manifests = json.manifests.map((m: unknown, i: number): IndexEntry => {
      const d = descriptor(m, what, `manifests[${i}]`);
      const p = (m as { platform?: Partial<Platform> }).platform;
      const platform = p && typeof p === 'object' && typeof p.os === 'string' && typeof p.architecture === 'string'
        ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' && p.variant !== '' ? { variant: p.variant } : {}) }
        : undefined;
      return { ...d, platform };
    });
    return { kind: 'index', mediaType, manifests };
  }
  if (!Array.isArray(json.layers)) throw bad(what, 'the manifest has no "layers" list');
  if (json.layers.length > MAX_LAYERS) throw bad(what, `the image has ${json.layers.length} layers; husk pulls at most ${MAX_LAYERS} (overlayfs stacks at most ${MAX_LAYERS})`);
  const config = descriptor(json.config, what, 'config');
  const layers = json.layers.map((l: unknown, i: number) => {
    const d = descriptor(l, what, `layers[${i}]`);
    if (FOREIGN_LAYER_TYPES.includes(d.mediaType)) throw bad(what, `layer ${i + 1} is a foreign (non-distributable) layer, which husk does not fetch`);
    if (!LAYER_MEDIA_TYPES.includes(d.mediaType)) throw bad(what, `layer ${i + 1} has media type "${d.mediaType.slice(0, 100)}", not a tar layer`);
    return d;
  });
  return { kind: 'manifest', mediaType, config, layers };
}

/** The platform husk runs on, as OCI names it (docker picks the host's too). */
export function hostPlatform(): Platform {
  const arch: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  return arch[process.arch] ?? { os: 'linux', architecture: process.arch };
}

/** --platform os/arch[/variant]. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/i.test(p))) {
    throw new HuskError('usage', `invalid value "${text}" for --platform: expected OS/ARCH[/VARIANT] (e.g. linux/amd64, linux/arm64/v8)`);
  }
  const [os, architecture, variant] = parts.map((p) => p.toLowerCase());
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function showPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** arm64's only variant is v8: "linux/arm64" and "linux/arm64/v8" are one platform. */
function variantOf(p: Platform): string | undefined {
  return p.architecture === 'arm64' && p.variant === undefined ? 'v8' : p.variant;
}

/** The index entry for `want`; with no variant asked, the entry without one (or the first). */
export function selectPlatform(index: ImageIndex, want: Platform, what: string): IndexEntry {
  const candidates = index.manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const wantVariant = want.variant === undefined ? undefined : variantOf(want);
  const match =
    wantVariant !== undefined
      ? candidates.find((m) => variantOf(m.platform!) === wantVariant)
      : (candidates.find((m) => variantOf(m.platform!) === variantOf(want)) ?? candidates[0]);
  if (match) return match;
  const has = [...new Set(index.manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => showPlatform(m.platform!)))];
  throw new HuskError('registry', `${what}: no image for ${showPlatform(want)}${has.length ? `; it has ${has.join(', ')}` : ''}`, { hint: has.length ? 'Choose one with --platform OS/ARCH[/VARIANT].' : undefined });
}
