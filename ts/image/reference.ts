// Image references as docker reads them (distribution/reference's grammar and its
// normalisation): `alpine` is docker.io/library/alpine:latest, `me/app:1` is
// docker.io/me/app:1, `localhost:5000/app` and `quay.io/x/y` name their registry. The
// registry engineer extends this file (pull and push); the store uses it for tags.
import { HuskError } from '../errors.js';
import { isDigest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const NAME_MAX = 255;

export interface Reference {
  /** docker.io, quay.io, localhost:5000 */
  registry: string;
  /** library/alpine, me/app */
  repository: string;
  tag?: string;
  digest?: string;
  /** registry/repository[:tag][@digest]; a reference with neither gets :latest */
  full: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function bad(s: string, why: string): HuskError {
  return new HuskError('usage', `invalid reference format "${s}": ${why}`);
}

/** Docker's rules: a first component is a registry if it has a dot or a colon, or is localhost. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  const first = name.slice(0, i);
  if (i === -1 || (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)) {
    return [DEFAULT_REGISTRY, name];
  }
  return [first === 'index.docker.io' ? DEFAULT_REGISTRY : first, name.slice(i + 1)];
}

/** A reference in docker's normalised form; a HuskError ('usage') naming what is wrong. */
export function parseReference(s: string): Reference {
  if (s === '') throw bad(s, 'empty');
  if (/^[a-f0-9]{64}$/.test(s)) throw bad(s, 'a 64-character hexadecimal string is an image id, not a repository name');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad(s, 'the digest must be sha256:<64 hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(s, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128)`);
  }
  if (rest.length > NAME_MAX) throw bad(s, `the name is longer than ${NAME_MAX} characters`);
  let [registry, repository] = splitDomain(rest);
  if (registry !== DEFAULT_REGISTRY || rest.includes('/')) {
    if (!DOMAIN.test(registry)) throw bad(s, `"${registry}" is not a valid registry`);
  }
  if (repository === '') throw bad(s, 'the repository name is empty');
  for (const part of repository.split('/')) {
    if (part !== part.toLowerCase()) throw bad(s, 'repository name must be lowercase');
    if (!PATH_COMPONENT.test(part)) throw bad(s, `"${part}" is not a valid name component`);
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const full = `${registry}/${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { registry, repository, tag, digest, full };
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
