import { describe, expect, it } from 'vitest';
import { HuskError } from '../../ts/errors.js';
import { familiarName, normalizeRegistry, parseReference, referenceTarget, registryHost } from '../../ts/image/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

function refused(text: string): string {
  try {
    parseReference(text);
  } catch (err) {
    expect(err).toBeInstanceOf(HuskError);
    return (err as HuskError).message;
  }
  throw new Error(`"${text}" was accepted`);
}

describe('image references, read as docker reads them', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.19', 'docker.io/library/alpine:3.19'],
    ['me/app', 'docker.io/me/app:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
    ['127.0.0.1:5000/a/b/c:x', '127.0.0.1:5000/a/b/c:x'],
    ['quay.io/x/y', 'quay.io/x/y:latest'],
    [`alpine@${D}`, `docker.io/library/alpine@${D}`],
    [`reg.io:443/a:t@${D}`, `reg.io:443/a:t@${D}`],
  ])('%s is %s', (text, full) => {
    expect(parseReference(text).full).toBe(full);
  });

  it('splits registry, repository, tag and digest, and asks the registry for the digest when pinned', () => {
    const r = parseReference(`127.0.0.1:5000/team/app:1.0@${D}`);
    expect(r).toMatchObject({ registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0', digest: D, name: '127.0.0.1:5000/team/app' });
    expect(referenceTarget(r)).toBe(D);
    expect(referenceTarget(parseReference('alpine'))).toBe('latest');
  });

  it('names what is wrong with a reference it refuses', () => {
    expect(refused('')).toMatch(/empty/);
    expect(refused('Alpine')).toMatch(/lowercase/);
    expect(refused('alpine:')).toMatch(/not a tag/);
    expect(refused('alpine:-x')).toMatch(/not a tag/);
    expect(refused('a//b')).toMatch(/empty path component/);
    expect(refused('alpine@sha256:abc')).toMatch(/not a digest/);
    expect(refused(`alpine@sha256:${'A'.repeat(64)}`)).toMatch(/64 lowercase hex/);
    expect(refused(`alpine@sha512:${'a'.repeat(128)}`)).toMatch(/only sha256/);
    expect(refused('a'.repeat(64))).toMatch(/image id/);
    expect(refused(`x/${'a'.repeat(260)}`)).toMatch(/longer than 255/);
    expect(refused('bad_host:5000:x/y')).toMatch(/reference/);
  });

  it('serves docker.io from registry-1.docker.io and everything else from its own name', () => {
    expect(registryHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('takes login targets with or without a scheme, and the hub by any of its names', () => {
    expect(normalizeRegistry('https://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(normalizeRegistry('index.docker.io')).toBe('docker.io');
    expect(() => normalizeRegistry('not a host')).toThrow(/not a registry/);
  });

  it('shows docker.io names the short way', () => {
    expect(familiarName('docker.io/library/alpine:latest')).toBe('alpine:latest');
    expect(familiarName('docker.io/me/app:1')).toBe('me/app:1');
    expect(familiarName('127.0.0.1:5000/a:1')).toBe('127.0.0.1:5000/a:1');
  });
});
