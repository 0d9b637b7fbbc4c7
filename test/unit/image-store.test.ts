// The image store and load's archive reading, with a stand-in unpacker (GNU tar): blobs
// verified before they appear, layers unpacked once, GC frees exactly what nothing uses and
// keeps what a live writer holds, a dead holder's lock and temp files are taken back, and
// hostile archives are refused with one line naming what is wrong, leaving the store as it was.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HuskError } from '../../ts/errors.js';
import { loadImages } from '../../ts/image/load.js';
import { createProgress } from '../../ts/image/progress.js';
import { Store, type Unpacker } from '../../ts/image/store.js';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** GNU tar in place of ts/image/unpack.ts: the store's side is what these tests check. */
const tarUnpacker: Unpacker = async (src, dest, opts = {}) => {
  const chunks: Buffer[] = [];
  if (typeof src === 'string') chunks.push(readFileSync(src));
  else for await (const c of src) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  const digest = sha(buf);
  if (opts.expectDigest && opts.expectDigest !== digest) throw new HuskError('image', `${opts.label}: digest mismatch`);
  const raw = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
  mkdirSync(`${dest}.part`);
  const r = spawnSync('tar', ['-x', '-C', `${dest}.part`], { input: raw });
  if (r.status !== 0) {
    rmSync(`${dest}.part`, { recursive: true, force: true });
    throw new HuskError('image', `${opts.label}: not a tar`);
  }
  spawnSync('mv', [`${dest}.part`, dest]);
  return { digest, diffId: sha(raw), size: raw.length, entries: 1 };
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'husk-store-unit-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function freshStore(): Store {
  return Store.open({ root: join(tmp, `store-${n++}`), unpacker: tarUnpacker });
}

/** A tar of files (name → content), as a Buffer. */
async function tarOf(files: Record<string, string | Buffer>, extra: (p: ReturnType<typeof pack>) => void = () => undefined): Promise<Buffer> {
  const p = pack();
  for (const [name, data] of Object.entries(files)) p.entry({ name, mode: 0o644 }, data);
  extra(p);
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

interface TestImage {
  layers: Buffer[];
  config: Buffer;
  configDigest: string;
  diffIds: string[];
}

async function image(files: Record<string, string>[], cfg: object = {}): Promise<TestImage> {
  const plain = await Promise.all(files.map((f) => tarOf(f)));
  const diffIds = plain.map((p) => sha(p));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds }, ...cfg }));
  return { layers: plain.map((p) => gzipSync(p)), config, configDigest: sha(config), diffIds };
}

/** A docker-archive tar of images (name:tag each), with files of our choosing on top. */
async function dockerArchive(imgs: { img: TestImage; tag?: string }[], mutate: (manifest: any[]) => void = () => undefined, extra: Record<string, string | Buffer> = {}): Promise<Buffer> {
  const files: Record<string, string | Buffer> = {};
  const manifest = imgs.map(({ img, tag }) => {
    files[`${img.configDigest.slice(7)}.json`] = img.config;
    const layers = img.layers.map((l) => {
      const name = `${sha(l).slice(7)}/layer.tar`;
      files[name] = l;
      return name;
    });
    return { Config: `${img.configDigest.slice(7)}.json`, RepoTags: tag ? [tag] : null, Layers: layers };
  });
  mutate(manifest);
  files['manifest.json'] = JSON.stringify(manifest);
  return tarOf({ ...files, ...extra });
}

async function load(store: Store, archive: Buffer) {
  return loadImages(store, { stream: Readable.from([archive]) }, await createProgress({ mode: 'quiet' }));
}

async function loadError(store: Store, archive: Buffer): Promise<string> {
  try {
    await load(store, archive);
  } catch (err) {
    expect(err).toBeInstanceOf(HuskError);
    expect((err as HuskError).exitStatus).toBe(125);
    return (err as Error).message;
  }
  throw new Error('the load succeeded');
}

/** Everything in the store but its empty directories and the lock. */
function contents(store: Store): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && ['blobs', 'blobs/sha256', 'layers', 'l', 'images', 'containers', 'tmp'].includes(r)) walk(join(d, e.name), r);
      else if (e.isDirectory() && /^blobs\/sha256\/..$/.test(r)) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(store.root, '');
  return out.sort();
}

describe('the store', () => {
  it('stores a blob only when its digest and size match, and leaves no temp file otherwise', async () => {
    const store = freshStore();
    const data = Buffer.from('hello');
    await expect(store.putBlob(data, { digest: sha('other') })).rejects.toThrow(/does not match its digest \(the content is sha256:/);
    await expect(store.putBlob(data, { size: 3 })).rejects.toThrow(/more than the 3 bytes its descriptor says/);
    expect(readdirSync(join(store.root, 'tmp')).filter((f) => !f.endsWith('-hold'))).toEqual([]);
    expect(store.hasBlob(sha('hello'))).toBe(false);
    expect(await store.putBlob(data, { digest: sha('hello'), size: 5 })).toEqual({ digest: sha('hello'), size: 5 });
    expect(readFileSync(join(store.root, 'blobs/sha256', sha('hello').slice(7, 9), sha('hello').slice(7)), 'utf8')).toBe('hello');
  });

  it('unpacks a layer once, even when asked twice at the same time', async () => {
    const store = freshStore();
    const img = await image([{ a: 'a' }]);
    const { digest } = await store.putBlob(img.layers[0]);
    const [x, y] = await Promise.all([
      store.ensureLayer(digest, 'application/vnd.oci.image.layer.v1.tar+gzip', { diffId: img.diffIds[0] }),
      store.ensureLayer(digest, 'application/vnd.oci.image.layer.v1.tar+gzip', { diffId: img.diffIds[0] }),
    ]);
    expect(x.diffId).toBe(img.diffIds[0]);
    expect(y.diffId).toBe(img.diffIds[0]);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([img.diffIds[0].slice(7)]);
    expect(readFileSync(join(store.layerDir(img.diffIds[0]), 'a'), 'utf8')).toBe('a');
    expect(readdirSync(join(store.root, 'l'))).toEqual([x.link]);
  });

  it('refuses a layer whose content is not the diffId the config names', async () => {
    const store = freshStore();
    const img = await image([{ a: 'a' }]);
    const { digest } = await store.putBlob(img.layers[0]);
    await expect(store.ensureLayer(digest, 'x', { diffId: sha('not it'), label: 'image x: layer 1' })).rejects.toThrow(
      `image x: layer 1: its content is ${img.diffIds[0]}, but the image config says ${sha('not it')}`,
    );
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
  });

  it('checks a second blob of a layer it has against the layer, without unpacking it again', async () => {
    const store = freshStore();
    const img = await image([{ a: 'a' }]);
    const gz = await store.putBlob(img.layers[0]);
    await store.ensureLayer(gz.digest, 'gzip', { diffId: img.diffIds[0] });
    const plain = await store.putBlob(gunzipSync(img.layers[0]));
    expect((await store.ensureLayer(plain.digest, 'tar', { diffId: img.diffIds[0] })).digest).toBe(gz.digest);
    const junk = await store.putBlob(Buffer.from('not the layer'));
    await expect(store.ensureLayer(junk.digest, 'tar', { diffId: img.diffIds[0], label: 'x: layer 1' })).rejects.toThrow(`x: layer 1: its content is ${sha('not the layer')}, but the image config says ${img.diffIds[0]}`);
  });

  it('frees exactly what no other image uses: shared layers stay until their last image goes', async () => {
    const store = freshStore();
    const a = await image([{ base: '1' }, { a: 'a' }]);
    const b = await image([{ base: '1' }, { b: 'b' }]);
    await load(store, await dockerArchive([{ img: a, tag: 'a:1' }, { img: b, tag: 'b:1' }]));
    expect(readdirSync(join(store.root, 'layers')).length).toBe(3);
    const r = await store.removeImage('a:1', false);
    expect(r).toEqual({ untagged: ['docker.io/library/a:1'], deleted: [a.configDigest, a.diffIds[1]] });
    expect(readdirSync(join(store.root, 'layers')).sort()).toEqual(b.diffIds.map((d) => d.slice(7)).sort());
    expect(store.hasBlob(sha(a.layers[0]))).toBe(true); // shared with b
    expect(store.hasBlob(sha(a.layers[1]))).toBe(false);
    await store.removeImage('b:1', false);
    expect(contents(store)).toEqual(['refs.json']);
  });

  it('keeps what a live writer holds through a GC, and sweeps a dead writer’s temp files and holds', async () => {
    const store = freshStore();
    const { digest } = await store.putBlob(Buffer.from('in flight'));
    // A dead writer (pid 1's start time is not 1): its temp file and hold go.
    writeFileSync(join(store.root, 'tmp', '999999999-1-blob-abc'), 'partial');
    writeFileSync(join(store.root, 'tmp', '999999999-1-hold'), `${digest}\n`);
    expect(await store.gc()).toEqual({ blobs: 0, layers: 0, bytes: 0 });
    expect(store.hasBlob(digest)).toBe(true);
    expect(readdirSync(join(store.root, 'tmp')).filter((f) => f.startsWith('999999999-'))).toEqual([]);
    await store.release();
    expect(await store.gc()).toEqual({ blobs: 1, layers: 0, bytes: 9 });
    expect(store.hasBlob(digest)).toBe(false);
  });

  it('takes the lock of a holder that died, and waits for one that lives', async () => {
    const store = freshStore();
    writeFileSync(join(store.root, 'lock'), '999999999 1\n');
    expect(await store.withLock(() => 'ran')).toBe('ran');
    expect(existsSync(join(store.root, 'lock'))).toBe(false);
    // The lock of a live process (pid 1, with its real start time) is waited for.
    const start = readFileSync('/proc/1/stat', 'utf8').split(') ')[1].split(' ')[19];
    writeFileSync(join(store.root, 'lock'), `1 ${start}\n`);
    let ran = false;
    const waiting = store.withLock(() => (ran = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(ran).toBe(false);
    rmSync(join(store.root, 'lock'));
    await waiting;
    expect(ran).toBe(true);
  });

  it('resolves images by name, full and short id, and refuses an ambiguous prefix', async () => {
    const store = freshStore();
    const a = await image([{ x: '1' }]);
    await load(store, await dockerArchive([{ img: a, tag: 'quay.io/me/a:v1' }]));
    expect(store.resolveImage('quay.io/me/a:v1')?.id).toBe(a.configDigest);
    expect(store.resolveImage(a.configDigest)?.id).toBe(a.configDigest);
    expect(store.resolveImage(a.configDigest.slice(7, 19))?.id).toBe(a.configDigest);
    expect(store.resolveImage('quay.io/me/a:v2')).toBeUndefined();
    expect(store.getImage('quay.io/me/a:v1').layerDirs).toEqual([store.layerDir(a.diffIds[0])]);
  });

  it('records a container’s writable layer, and keeps the layers it stands on after rmi -f', async () => {
    const store = freshStore();
    const a = await image([{ x: '1' }]);
    await load(store, await dockerArchive([{ img: a, tag: 'a:1' }]));
    const { upper, work } = store.containerLayer('c1', { image: store.getImage('a:1') });
    expect(existsSync(upper) && existsSync(work)).toBe(true);
    await expect(store.removeImage('a:1', false)).rejects.toThrow(/image is being used by container c1/);
    await store.removeImage('a:1', true);
    expect(existsSync(store.layerDir(a.diffIds[0]))).toBe(true);
    store.removeContainerLayer('c1');
    await store.gc();
    expect(existsSync(store.layerDir(a.diffIds[0]))).toBe(false);
  });
});

describe('hostile archives', () => {
  let img: TestImage;
  beforeAll(async () => {
    img = await image([{ etc: 'x' }]);
  });

  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ['a manifest.json path outside the archive', () => dockerArchive([{ img }], (m) => (m[0].Layers[0] = '../../etc/passwd')), /names a path outside the archive: "..\/..\/etc\/passwd"/],
    ['an absolute manifest.json path', () => dockerArchive([{ img }], (m) => (m[0].Config = '/etc/passwd')), /names a path outside the archive: "\/etc\/passwd"/],
    ['a layer that is a symlink out of the archive', () => dockerArchive([{ img }], (m) => (m[0].Layers[0] = 'evil/layer.tar'), { }).then(async () => {
      const p = pack();
      p.entry({ name: 'evil/layer.tar', type: 'symlink', linkname: '../../../../etc/shadow' });
      p.entry({ name: `${img.configDigest.slice(7)}.json` }, img.config);
      p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${img.configDigest.slice(7)}.json`, RepoTags: null, Layers: ['evil/layer.tar'] }]));
      p.finalize();
      const out: Buffer[] = [];
      for await (const c of p as unknown as AsyncIterable<Buffer>) out.push(c);
      return Buffer.concat(out);
    }), /"evil\/layer.tar" links outside the archive/],
    ['a missing layer', () => dockerArchive([{ img }], (m) => (m[0].Layers[0] = 'nope/layer.tar')), /layer 1 names "nope\/layer.tar", which is not in the archive/],
    ['a config that does not name the layers the archive has', () => dockerArchive([{ img }], (m) => m[0].Layers.push(m[0].Layers[0])), /the manifest lists 2 layers but the config's rootfs has 1/],
    ['a layer whose content is not its diffId', async () => {
      const bad = { ...img, layers: [gzipSync(await tarOf({ other: 'y' }))] };
      return dockerArchive([{ img: bad }]);
    }, /its content is sha256:[0-9a-f]{64}, but the image config says/],
    ['a huge manifest.json', () => dockerArchive([{ img }], () => undefined, { 'manifest.json': `[${' '.repeat(5 << 20)}]` }), /manifest.json is 5242882 bytes, more than the 4194304 an image's JSON may have/],
    ['a config User that overflows', async () => dockerArchive([{ img: await image([{ etc: 'x' }], { config: { User: '4294967296:0' } }) }]), /config User "4294967296:0" is out of range: a uid or gid is at most 4294967294/],
    ['too many layers', async () => dockerArchive([{ img: await image([{ a: '1' }]) }], (m) => (m[0].Layers = Array(1001).fill(m[0].Layers[0]))), /Layers has more than 1000 entries/],
    ['a digest of another algorithm', async () => dockerArchive([{ img: await image([{ a: '1' }], { rootfs: { type: 'layers', diff_ids: ['sha512:abcd'] } }) }]), /unsupported digest algorithm in "sha512:abcd"/],
    ['a tar that is not one', async () => Buffer.from('this is not a tar archive at all, just text\n'.repeat(30)), /not a readable tar archive|empty or not a tar archive/],
    ['neither manifest.json nor index.json', () => tarOf({ 'hello.txt': 'hi' }), /not an image archive: it has neither manifest.json \(docker-archive\) nor index.json \(OCI layout\)/],
    ['a truncated archive', async () => (await dockerArchive([{ img }])).subarray(0, 1500), /not a readable tar archive|which is not in the archive/],
  ];

  it.each(cases)('refuses %s, leaving nothing in the store', async (_what, make, message) => {
    const store = freshStore();
    const other = await image([{ kept: 'yes' }]);
    await load(store, await dockerArchive([{ img: other, tag: 'kept:1' }]));
    const before = contents(store);
    expect(await loadError(store, await make())).toMatch(message);
    expect(contents(store)).toEqual(before);
  });
});
