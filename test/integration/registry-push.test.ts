// husk push to Debian's docker-registry on 127.0.0.1: the image arrives with its digest
// unchanged (skopeo reads it back), blobs the registry has are not sent again, large blobs go
// in chunks, and what cannot be pushed says why.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildImage, huskStore, runAsync, sha256, skopeoInspectRaw, skopeoPush, startProxy, startRegistry } from './registry-helpers.js';
import type { BuiltImage, LocalRegistry, Proxy } from './registry-helpers.js';

const { root } = useLeakCheck();
const work = suiteDir('registry-push');
const storage = join(work, 'store');
let reg: LocalRegistry;
let proxy: Proxy;
let img: BuiltImage;

beforeAll(async () => {
  reg = await startRegistry(work);
  proxy = await startProxy(reg.host);
  const noise = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.from(sha256(`n${i}`).repeat(400))));
  img = buildImage(join(work, 'img'), 'v1', [{ 'etc/motd': 'pushed\n' }, { 'big.bin': noise }], { gzipLevel: 0 });
  await skopeoPush(img.layout, 'v1', `${reg.host}/src/app:v1`);
  const r = await huskStore(root, storage, ['pull', '-q', '--tls-verify=false', `${reg.host}/src/app:v1`]);
  if (r.status !== 0) throw new Error(`pull for the push tests failed: ${r.stderr}`);
});

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});

const push = (args: string[], env?: NodeJS.ProcessEnv) => huskStore(root, storage, ['push', '--tls-verify=false', ...args], { env: env && { ...process.env, ...env } });

describe('husk push to a local registry', () => {
  it('uploads every blob, then the manifest, byte for byte: the digest is unchanged', async () => {
    const r = await push([`${reg.host}/src/app:v1`, `${proxy.host}/dst/app:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`The push refers to repository [${proxy.host}/dst/app]`);
    for (const l of img.layers) expect(r.stderr).toContain(`${l.slice(7, 19)}: Pushed`);
    expect(r.stderr).toContain(`v1: digest: ${img.manifestDigest} size:`);
    const raw = await skopeoInspectRaw(`${reg.host}/dst/app:v1`);
    expect(raw.layers.map((l: { digest: string }) => l.digest)).toEqual(img.layers);
    const digest = await runAsync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/dst/app:v1`]);
    expect(digest.stdout.trim()).toBe(img.manifestDigest);
  });

  it('sends no blob the registry already has', async () => {
    const before = proxy.requests.length;
    const r = await push(['-q', `${reg.host}/src/app:v1`, `${proxy.host}/dst/app:again`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${img.manifestDigest}\n`);
    const sent = proxy.requests.slice(before);
    expect(sent.filter((x) => x.startsWith('HEAD '))).toHaveLength(3);
    expect(sent.filter((x) => /^(POST|PATCH) /.test(x) || (x.startsWith('PUT ') && x.includes('/blobs/')))).toEqual([]);
    expect(sent.filter((x) => x.startsWith('PUT '))).toEqual([`PUT /v2/dst/app/manifests/again`]);
  });

  it('uploads a blob larger than the chunk size in PATCHes', async () => {
    const before = proxy.requests.length;
    const r = await push([`${reg.host}/src/app:v1`, `${proxy.host}/chunked/app:v1`], { HUSK_PUSH_CHUNK_SIZE: '100000' });
    expect(r.status, r.stderr).toBe(0);
    const patches = proxy.requests.slice(before).filter((x) => x.startsWith('PATCH '));
    expect(patches.length).toBeGreaterThanOrEqual(4);
    const copy = join(work, 'copy');
    const c = await runAsync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/chunked/app:v1`, `oci:${copy}:v1`]);
    expect(c.status, c.stderr).toBe(0);
    const back = await skopeoInspectRaw(`${reg.host}/chunked/app:v1`);
    expect(back.layers.map((l: { digest: string }) => l.digest)).toEqual(img.layers);
  });

  it('names an image that is not in the store, and a digest as a destination', async () => {
    const missing = await push([`${reg.host}/no/such:v1`]);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe(`husk: no such image: ${reg.host}/no/such:v1\n`);
    const digest = await push([`${reg.host}/src/app:v1`, `${reg.host}/x@${img.manifestDigest}`]);
    expect(digest.status).toBe(125);
    expect(digest.stderr).toBe(`husk: cannot push to a digest (${reg.host}/x@${img.manifestDigest}): name a tag\n`);
  });
});
