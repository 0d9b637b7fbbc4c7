// Image references as docker reads them: `alpine` → docker.io/library/alpine:latest,
// `127.0.0.1:5000/a/b@sha256:…`, `quay.io/x/y:1.0`. Pure: no I/O, so the CLI, the store and
// the registry client share one reading (the grammar is distribution's reference/regexp.go).
import { HuskError } from '../errors.js';

export interface Reference {
  /** The registry's name as people write it: docker.io, 127.0.0.1:5000, quay.io. */
  registry: string;
  /** The repository inside it: library/alpine, a/b. */
  repository: string;
  tag?: string;
  /** sha256:<64 hex> when the reference pins a digest. */
  digest?: string;
  /** The normalized whole: docker.io/library/alpine:latest, reg/repo@sha256:…, reg/repo:tag@sha256:… */
  full: string;
  /** registry/repository, without tag or digest. */
  name: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** The host that serves docker.io's registry API. */
const DOCKER_HUB_API = 'registry-1.docker.io';
const LEGACY_HUB_NAMES = ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

const MAX_NAME = 255;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;
const ID_LIKE = /^[a-f0-9]{64}$/;

function invalid(text: string, why: string): HuskError {
  return new HuskError('usage', `invalid reference format "${text}": ${why}`);
}

/** A sha256 digest as husk stores them; anything else (another algorithm, bad hex) is refused. */
export function isSha256Digest(s: string): boolean {
  return SHA256.test(s);
}

/** Splits NAME[:TAG][@DIGEST] and normalizes it as docker does; throws a 'usage' HuskError. */
export function parseReference(text: string): Reference {
  if (text === '') throw invalid(text, 'empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(text, `"${digest}" is not a digest (ALGORITHM:HEX)`);
    if (!digest.startsWith('sha256:')) throw invalid(text, `digest algorithm "${digest.split(':')[0]}" is not supported (only sha256)`);
    if (!SHA256.test(digest)) throw invalid(text, 'a sha256 digest has 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `"${tag}" is not a tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (rest === '') throw invalid(text, 'no repository name');
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    // docker's rule: the first component is a registry if it has a dot or a port, is
    // localhost, or has capitals (which no repository may have).
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      if (!DOMAIN.test(first)) throw invalid(text, `"${first}" is not a registry host[:port]`);
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (LEGACY_HUB_NAMES.includes(registry)) registry = DEFAULT_REGISTRY;
  const components = path.split('/');
  for (const c of components) {
    if (c === '') throw invalid(text, 'empty path component');
    if (c.toLowerCase() !== c && PATH_COMPONENT.test(c.toLowerCase())) throw invalid(text, 'repository name must be lowercase');
    if (!PATH_COMPONENT.test(c)) throw invalid(text, `"${c}" is not a repository name component (lowercase letters, digits and . _ -)`);
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) {
    if (ID_LIKE.test(path) && tag === undefined && digest === undefined) {
      throw invalid(text, 'a 64-digit hexadecimal string is an image id, not a repository name');
    }
    path = `library/${path}`;
  }
  const name = `${registry}/${path}`;
  if (name.length > MAX_NAME) throw invalid(text, `repository name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const full = `${name}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { registry, repository: path, tag, digest, full, name };
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** The host[:port] that serves a registry's API (docker.io's is registry-1.docker.io). */
export function registryHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : registry;
}

/** A registry name as `husk login`/`logout` take it: a host[:port], maybe with a scheme or path. */
export function normalizeRegistry(text: string): string {
  let r = text.trim().replace(/^https?:\/\//, '');
  r = r.replace(/\/.*$/, '');
  if (r === '' || !DOMAIN.test(r)) throw new HuskError('usage', `"${text}" is not a registry (HOST[:PORT])`);
  if (LEGACY_HUB_NAMES.includes(r)) r = DEFAULT_REGISTRY;
  return r;
}

/** The name docker shows: docker.io/library/alpine:latest → alpine:latest. */
export function familiarName(full: string): string {
  if (full.startsWith('docker.io/library/')) return full.slice('docker.io/library/'.length);
  if (full.startsWith('docker.io/')) return full.slice('docker.io/'.length);
  return full;
}

/** "REPOSITORY" and "TAG" columns of a full name:tag (familiar repository). */
export function splitRepoTag(full: string): { repository: string; tag: string } {
  const fam = familiarName(full);
  const at = fam.indexOf('@');
  if (at !== -1) return { repository: fam.slice(0, at), tag: '<none>' };
  const colon = fam.lastIndexOf(':');
  if (colon > fam.lastIndexOf('/')) return { repository: fam.slice(0, colon), tag: fam.slice(colon + 1) };
  return { repository: fam, tag: '<none>' };
}
