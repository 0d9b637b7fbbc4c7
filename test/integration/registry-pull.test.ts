// husk pull from Debian's docker-registry on 127.0.0.1 (started here, stopped by pid), with
// images skopeo put there: OCI and docker schema 2 manifests, a multi-platform index, by tag
// and by digest, resumable, two pulls at once, and the clear answers when it cannot.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huskBin, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildImage, buildIndex, expectEmptyStore, huskStore, runAsync, sha256, skopeoPush, startProxy, startRegistry, storeContents } from './registry-helpers.js';
import type { BuiltImage, LocalRegistry, Proxy } from './registry-helpers.js';

const { root } = useLeakCheck();
const work = suiteDir('registry-pull');
let reg: LocalRegistry;
let proxy: Proxy;
let small: BuiltImage;
let big: BuiltImage;
let multi: ReturnType<typeof buildIndex>;
let n = 0;
/** A fresh, empty store for one test. */
const freshStore = () => join(work, `store-${++n}`);

beforeAll(async () => {
  reg = await startRegistry(work);
  proxy = await startProxy(reg.host);
  small = buildImage(join(work, 'small'), 'v1', [{ 'etc/motd': 'layer one\n', 'bin/tool': 'x' }, { 'etc/motd': 'layer two\n', 'usr/share/doc': 'd' }]);
  await skopeoPush(small.layout, 'v1', `${reg.host}/t/small:v1`);
  await skopeoPush(small.layout, 'v1', `${reg.host}/t/docker:v2s2`, { format: 'v2s2' });
  // Incompressible layers, so that a transfer can be caught half way.
  const noise = (seed: string) => Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.from(sha256(`${seed}${i}`).repeat(512))));
  big = buildImage(join(work, 'big'), 'v1', [{ 'a.bin': noise('a') }, { 'b.bin': noise('b') }, { 'c.bin': noise('c') }], { gzipLevel: 0 });
  await skopeoPush(big.layout, 'v1', `${reg.host}/t/big:v1`);
  multi = buildIndex(join(work, 'multi'), 'm', [
    { arch: 'amd64', layers: [{ arch: 'amd64\n' }] },
    { arch: 'arm64', variant: 'v8', layers: [{ arch: 'arm64\n' }] },
  ]);
  await skopeoPush(join(work, 'multi'), 'm', `${reg.host}/t/multi:1`);
});

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});

const pull = (storage: string, ...args: string[]) => huskStore(root, storage, ['pull', '--tls-verify=false', ...args]);

describe('husk pull from a local registry', () => {
  it('stores the image: its blobs by digest, each layer unpacked once, the tag', async () => {
    const storage = freshStore();
    const ref = `${reg.host}/t/small:v1`;
    const r = await pull(storage, ref);
    expect(r.stderr).toContain(`v1: Pulling from ${reg.host}/t/small`);
    expect(r.stderr).toContain(`${small.layers[0].slice(7, 19)}: Pull complete`);
    expect(r.stderr).toContain(`Digest: ${small.manifestDigest}`);
    expect(r.stdout).toBe(`${ref}\n`);
    expect(r.status).toBe(0);
    const c = storeContents(storage);
    expect(c.refs).toEqual({ [ref]: small.configDigest });
    expect(c.blobs).toEqual([...small.layers, small.configDigest, small.manifestDigest].sort());
    expect(c.layers).toEqual([...small.diffIds].sort());
    expect(readFileSync(join(storage, 'layers', small.diffIds[1].slice(7), 'diff/etc/motd'), 'utf8')).toBe('layer two\n');
    expect(c.tmp).toEqual([]);
  });

  it('fetches nothing the second time and says the image is up to date', async () => {
    const storage = freshStore();
    const ref = `${proxy.host}/t/small:v1`;
    expect((await pull(storage, ref)).status).toBe(0);
    const before = proxy.gets.filter((g) => g.includes('/blobs/')).length;
    const r = await pull(storage, ref);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${small.layers[0].slice(7, 19)}: Already exists`);
    expect(r.stderr).toContain(`Status: Image is up to date for ${ref}`);
    expect(proxy.gets.filter((g) => g.includes('/blobs/')).length).toBe(before);
  });

  it('reads docker schema 2 manifests as well as OCI ones', async () => {
    const storage = freshStore();
    const r = await pull(storage, `${reg.host}/t/docker:v2s2`);
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(join(storage, 'images', `${small.configDigest.slice(7)}.json`), 'utf8'));
    expect(rec.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(rec.layers).toEqual(small.diffIds);
  });

  it('takes the host platform from an index, and another with --platform', async () => {
    const storage = freshStore();
    const amd = await pull(storage, '-q', `${reg.host}/t/multi:1`);
    expect(amd.status, amd.stderr).toBe(0);
    expect(amd.stdout).toBe(`${reg.host}/t/multi:1\n`);
    expect(storeContents(storage).refs[`${reg.host}/t/multi:1`]).toBe(multi.images[0].configDigest);
    const arm = await pull(storage, '--platform', 'linux/arm64', `${reg.host}/t/multi:1`);
    expect(arm.status, arm.stderr).toBe(0);
    expect(storeContents(storage).refs[`${reg.host}/t/multi:1`]).toBe(multi.images[1].configDigest);
  });

  it('names the platforms an index has when the one asked for is missing', async () => {
    const storage = freshStore();
    const r = await pull(storage, '--platform', 'linux/s390x', `${reg.host}/t/multi:1`);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`husk: ${reg.host}/t/multi:1: no image for linux/s390x; it has linux/amd64, linux/arm64/v8\nChoose one with --platform OS/ARCH[/VARIANT].\n`);
    expectEmptyStore(storage);
  });

  it('pulls by digest, and refuses a tag the registry does not have', async () => {
    const storage = freshStore();
    const byDigest = await pull(storage, `${reg.host}/t/small@${small.manifestDigest}`);
    expect(byDigest.status, byDigest.stderr).toBe(0);
    expect(storeContents(storage).images).toEqual([small.configDigest]);
    const missing = await pull(storage, `${reg.host}/t/small:nope`);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe(`husk: manifest for ${reg.host}/t/small:nope not found (MANIFEST_UNKNOWN: manifest unknown)\n`);
  });

  it('tells a plain-HTTP registry from a broken one: --tls-verify=false is named', async () => {
    const storage = freshStore();
    const r = await huskStore(root, storage, ['pull', `${reg.host}/t/small:v1`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: cannot pull 127\.0\.0\.1:\d+\/t\/small:v1: 127\.0\.0\.1:\d+ does not answer: it does not speak TLS \(a plain-HTTP registry needs --tls-verify=false\)\n$/);
    expectEmptyStore(storage);
  });

  it('resolves a short name as docker does and says what it tried when nothing answers', async () => {
    const storage = freshStore();
    // In a network namespace of its own, with no interface up: no packet leaves the host.
    const r = await runAsync('unshare', ['--net', process.execPath, '--', huskBin, '--root', root, '--storage', storage, 'pull', 'alpine']);
    expect(r.status).toBe(125);
    expect(r.stderr.split('\n')[0]).toMatch(/^husk: cannot pull alpine \(as docker\.io\/library\/alpine:latest\): registry-1\.docker\.io does not answer: /);
    expect(r.stderr).toContain('A short name means docker.io');
    expectEmptyStore(storage);
  });

  it('two pulls of one image at once both succeed and store it once', async () => {
    const storage = freshStore();
    const ref = `${reg.host}/t/big:v1`;
    const [a, b] = await Promise.all([pull(storage, '-q', ref), pull(storage, '-q', ref)]);
    expect([a.status, b.status], a.stderr + b.stderr).toEqual([0, 0]);
    const c = storeContents(storage);
    expect(c.blobs).toEqual([...big.layers, big.configDigest, big.manifestDigest].sort());
    expect(c.layers).toEqual([...big.diffIds].sort());
    expect(c.images).toEqual([big.configDigest]);
    expect(c.tmp).toEqual([]);
  });

  it('an interrupted pull leaves no half-written blob and the next pull resumes', async () => {
    const storage = freshStore();
    const ref = `${proxy.host}/t/big:v1`;
    // The third layer stops half way; husk is killed while it waits for the rest.
    proxy.stall(big.layers[2], 1 << 20);
    const child = spawn(process.execPath, ['--', huskBin, '--root', root, '--storage', storage, 'pull', '-q', '--tls-verify=false', ref], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('close', r));
    await proxy.stalled();
    // The other two layers are fetched in parallel: wait until they are in place.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(existsSync(join(storage, 'blobs/sha256', big.layers[0].slice(7, 9), big.layers[0].slice(7))) && existsSync(join(storage, 'blobs/sha256', big.layers[1].slice(7, 9), big.layers[1].slice(7))))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const half = storeContents(storage);
    expect(half.blobs).toEqual([big.layers[0], big.layers[1]].sort());
    for (const d of half.blobs) expect(sha256(readFileSync(join(storage, 'blobs/sha256', d.slice(7, 9), d.slice(7))))).toBe(d);
    expect(half.images).toEqual([]);
    const gets = () => proxy.gets.filter((g) => g.includes('/blobs/sha256:')).map((g) => g.slice(g.lastIndexOf('/') + 1));
    const before = gets().length;
    const again = await pull(storage, ref);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${big.layers[0].slice(7, 19)}: Already exists`);
    // Only the config and the layer that was cut off are fetched again.
    expect(gets().slice(before).sort()).toEqual([big.configDigest, big.layers[2]].sort());
    expect(storeContents(storage).tmp).toEqual([]);
  });
});
