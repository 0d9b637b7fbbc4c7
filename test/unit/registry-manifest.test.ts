import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChallenges, pickChallenge } from '../../ts/image/registry/auth.js';
import { readCredentials, removeCredentials, saveCredentials } from '../../ts/image/registry/credentials.js';
import { MAX_LAYERS, MEDIA, parseManifest, parsePlatform, selectPlatform } from '../../ts/image/registry/manifest.js';
import type { ImageIndex } from '../../ts/image/registry/manifest.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(c), size: 10 });
const manifest = (layers: unknown[], extra: object = {}) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: d('c'), size: 5 }, layers, ...extra }));

function why(bytes: Uint8Array, contentType?: string): string {
  try {
    parseManifest(bytes, contentType, 'reg/x:1');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('manifests from a registry', () => {
  it('reads an OCI manifest: its config and layers bottom to top', () => {
    const m = parseManifest(manifest([layer('1'), layer('2')]), undefined, 'x');
    expect(m.kind).toBe('manifest');
    if (m.kind !== 'manifest') return;
    expect(m.config.digest).toBe(d('c'));
    expect(m.layers.map((l) => l.digest)).toEqual([d('1'), d('2')]);
  });

  it('tells an index from a manifest by its media type, or by its shape when it has none', () => {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA.ociManifest, digest: d('a'), size: 3, platform: { os: 'linux', architecture: 'amd64' } }] }));
    expect(parseManifest(idx, 'application/octet-stream', 'x').kind).toBe('index');
    expect(parseManifest(idx, MEDIA.dockerList, 'x').mediaType).toBe(MEDIA.dockerList);
  });

  it('refuses what is not a usable manifest, naming why', () => {
    expect(why(Buffer.from('{"schemaVersion": 2, "layers": ['))).toMatch(/^reg\/x:1: the manifest is not valid JSON/);
    expect(why(Buffer.from('[1]'))).toMatch(/not a JSON object/);
    expect(why(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'))).toMatch(/schema 1/);
    expect(why(manifest([{ ...layer('1'), digest: 'sha256:xyz' }]))).toMatch(/layers\[0\] has digest "sha256:xyz"/);
    expect(why(manifest([{ ...layer('1'), size: -1 }]))).toMatch(/layers\[0\] has no valid size/);
    expect(why(manifest([{ ...layer('1'), mediaType: 'text/html' }]))).toMatch(/not a tar layer/);
    expect(why(manifest([{ ...layer('1'), mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' }]))).toMatch(/foreign/);
    expect(why(manifest(Array.from({ length: MAX_LAYERS + 1 }, () => layer('1'))))).toMatch(/has 501 layers; husk pulls at most 500/);
  });

  it('picks the platform asked for from an index, and lists the ones there when none fits', () => {
    const entry = (c: string, architecture: string, variant?: string) => ({ mediaType: MEDIA.ociManifest, digest: d(c), size: 1, platform: { os: 'linux', architecture, variant } });
    const index: ImageIndex = { kind: 'index', mediaType: MEDIA.ociIndex, manifests: [entry('1', 'arm', 'v6'), entry('2', 'arm', 'v7'), entry('3', 'amd64'), entry('4', 'arm64', 'v8')] };
    expect(selectPlatform(index, parsePlatform('linux/amd64'), 'x').digest).toBe(d('3'));
    expect(selectPlatform(index, parsePlatform('linux/arm/v7'), 'x').digest).toBe(d('2'));
    expect(selectPlatform(index, parsePlatform('linux/arm64'), 'x').digest).toBe(d('4'));
    expect(() => selectPlatform(index, parsePlatform('linux/s390x'), 'reg/x:1')).toThrow('reg/x:1: no image for linux/s390x; it has linux/arm/v6, linux/arm/v7, linux/amd64, linux/arm64/v8');
    expect(() => parsePlatform('amd64')).toThrow(/--platform: expected OS\/ARCH/);
  });
});

describe('auth challenges', () => {
  it('reads a bearer challenge with quoted, escaped and comma-holding values', () => {
    const c = parseChallenges('Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push", error="x\\"y"');
    expect(c).toEqual([{ scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'reg', scope: 'repository:a/b:pull,push', error: 'x"y' } }]);
  });

  it('prefers bearer over basic and ignores schemes it cannot answer', () => {
    expect(pickChallenge('Basic realm="r"')?.scheme).toBe('basic');
    expect(pickChallenge(['Basic realm="r"', 'Bearer realm="t"'])?.params.realm).toBe('t');
    expect(pickChallenge('Negotiate abc')).toBeUndefined();
  });
});

describe('the credentials file', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'husk-unit-auth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a login readable only by its owner, in the shape docker and podman read', () => {
    const file = join(dir, 'auth.json');
    saveCredentials(file, '127.0.0.1:5000', { username: 'u', password: 'p:w' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ auths: { '127.0.0.1:5000': { auth: Buffer.from('u:p:w').toString('base64') } } });
    expect(readCredentials(file, '127.0.0.1:5000')).toEqual({ username: 'u', password: 'p:w' });
    expect(removeCredentials(file, '127.0.0.1:5000')).toBe(true);
    expect(removeCredentials(file, '127.0.0.1:5000')).toBe(false);
    expect(readCredentials(file, '127.0.0.1:5000')).toBeUndefined();
  });

  it('finds the hub under the key docker writes and keeps what else the file holds', () => {
    const file = join(dir, 'docker.json');
    writeFileSync(file, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('me:pw').toString('base64') } }, credsStore: 'x' }));
    expect(readCredentials(file, 'docker.io')).toEqual({ username: 'me', password: 'pw' });
    saveCredentials(file, 'reg.example:1', { username: 'a', password: 'b' });
    expect(JSON.parse(readFileSync(file, 'utf8')).credsStore).toBe('x');
    writeFileSync(file, '{bad');
    expect(() => readCredentials(file, 'docker.io')).toThrow(/not valid JSON/);
  });
});
