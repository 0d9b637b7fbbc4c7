// Content digests as the OCI image spec writes them ("sha256:<64 hex>"). Only sha256 is
// accepted: every blob and layer in the store is named by one, and a name from an archive or
// a registry is checked here before it becomes a path.
import { createHash } from 'node:crypto';
import { HuskError } from '../errors.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST.test(s);
}

/** The digest, checked: `what` names where it came from in the error. */
export function checkDigest(s: unknown, what: string): string {
  if (isDigest(s)) return s;
  const shown = typeof s === 'string' ? (s.length > 80 ? `${s.slice(0, 80)}…` : s) : JSON.stringify(s)?.slice(0, 80);
  if (typeof s === 'string' && /^[a-z0-9]+([+._-][a-z0-9]+)*:/.test(s) && !s.startsWith('sha256:')) {
    throw new HuskError('image', `${what}: unsupported digest algorithm in "${shown}" (husk stores sha256 only)`);
  }
  throw new HuskError('image', `${what}: "${shown}" is not a sha256 digest`);
}

/** The 64 hex characters of a digest. */
export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The 12 characters docker shows for an id. */
export function shortId(id: string): string {
  return hexOf(id).slice(0, 12);
}
