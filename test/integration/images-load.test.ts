// husk load, images, tag, rmi, image inspect: images from an OCI layout (directory or tar),
// from skopeo's docker-archive and from umoci; layers stored once and shared; rmi frees exactly
// what no other image uses; two loads of one image at once.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, huskBin, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { busyboxImage, buildLayout, gzipLayout, sh, skopeoDockerArchive, type LayoutImage } from './images-fixture.js';

const { root } = useLeakCheck();
const work = suiteDir('images-work');
const storage = suiteDir('storage');

const hk = (args: string[], opts: { input?: string } = {}) => husk(root, ['--storage', storage, ...args], opts);

let img: LayoutImage;
let other: LayoutImage;
let dockerTar: string;
let ociTar: string;

/** Files and dirs directly in a store directory. */
const ls = (sub: string) => (existsSync(join(storage, sub)) ? readdirSync(join(storage, sub)) : []);
const blobCount = () => ls('blobs/sha256').reduce((n, fan) => n + readdirSync(join(storage, 'blobs/sha256', fan)).length, 0);

function resetStore(): void {
  sh('rm -rf "$1"/* "$1"/.[!.]* 2>/dev/null || true', storage);
}

beforeAll(() => {
  img = busyboxImage(join(work, 'a'));
  // Shares layers 1 and 2 (the same bytes) with img, and has a top layer of its own.
  sh('mkdir -p "$1/b" "$1/b/l4" && echo four > "$1/b/l4/only-in-b"', work);
  other = buildLayout(join(work, 'b'), [
    { dir: join(work, 'a/l1'), compression: 'gzip' },
    { dir: join(work, 'a/l2'), compression: 'zstd' },
    { dir: join(work, 'b/l4'), compression: 'gzip' },
  ], { tag: 'husk-test/other:1' });
  dockerTar = skopeoDockerArchive(img, join(work, 'docker.tar'), 'husk-test/busybox:docker');
  ociTar = join(work, 'oci.tar');
  sh('tar -C "$1" -cf "$2" .', img.dir, ociTar);
});

describe('husk load', () => {
  it('loads an OCI layout directory: three layers unpacked once, the image listed by its name', () => {
    resetStore();
    const r = hk(['load', '-q', '-i', img.dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Loaded image: husk-test/busybox:3layers\n');
    expect(ls('layers').sort()).toEqual(img.diffIds.map((d) => d.slice(7)).sort());
    for (const d of img.diffIds) expect(existsSync(join(storage, 'layers', d.slice(7), 'diff/bin'))).toBe(d === img.diffIds[0]);
    expect(readFileSync(join(storage, 'layers', img.diffIds[0].slice(7), 'diff/etc/motd'), 'utf8')).toBe('base\n');
    expect(readFileSync(join(storage, 'layers', img.diffIds[2].slice(7), 'diff/added3'), 'utf8')).toBe('three\n');
    const images = hk(['images']);
    expect(images.stdout.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(images.stdout).toMatch(new RegExp(`^husk-test/busybox\\s+3layers\\s+${img.configDigest.slice(7, 19)}\\s`, 'm'));
    expect(ls('tmp')).toEqual([]);
  });

  it('keeps the store private: the directories it makes are 0700', () => {
    resetStore();
    const fresh = join(storage, 'fresh');
    expect(husk(root, ['--storage', fresh, 'load', '-q', '-i', img.dir]).status).toBe(0);
    for (const d of ['', 'blobs', 'blobs/sha256', 'layers', 'images', 'tmp', 'containers']) expect((statSync(join(fresh, d)).mode & 0o777).toString(8), d).toBe('700');
  });

  it('loads a docker-archive written by skopeo, sharing the layers the OCI copy stored', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    const r = hk(['load', '-i', dockerTar]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Loaded image: husk-test/busybox:docker\n');
    // One line per layer when stderr is not a terminal: all three were there already.
    expect(r.stderr.match(/Already exists/g)?.length).toBe(3);
    expect(ls('layers').length).toBe(3);
    expect(ls('images').length).toBe(1); // the same config: the same image, with two names
    const q = hk(['images', '-q']);
    expect(q.stdout).toBe(`${img.configDigest.slice(7, 19)}\n`);
  });

  it('loads an OCI layout in a tar (oci-archive) from stdin', () => {
    resetStore();
    const r = spawnSyncInput(['load'], readFileSync(ociTar));
    expect(r.stderr).toMatch(/Loading layer [0-9a-f]{12}: Loaded/);
    expect(r.stdout).toBe('Loaded image: husk-test/busybox:3layers\n');
    expect(r.status).toBe(0);
  });

  it('loads what umoci wrote (after umoci repack of an unpacked bundle)', () => {
    resetStore();
    const u = join(work, 'umoci');
    sh('rm -rf "$1" && mv "$2" "$1" && umoci unpack --rootless --image "$1:husk-test/busybox:3layers" "$1-bundle" >/dev/null && echo umoci > "$1-bundle/rootfs/by-umoci" && rm "$1-bundle/rootfs/data/keep" && umoci repack --image "$1:husk-test/busybox:3layers" "$1-bundle" >/dev/null && rm -rf "$1-bundle"', u, gzipLayout(img, join(work, 'umoci-src')));
    const r = hk(['load', '-q', '-i', u]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const layers = ls('layers');
    expect(layers.length).toBe(4);
    const top = layers.find((l) => !img.diffIds.includes(`sha256:${l}`))!;
    expect(readFileSync(join(storage, 'layers', top, 'diff/by-umoci'), 'utf8')).toBe('umoci\n');
  });

  it('prints JSON lines with --format json', () => {
    resetStore();
    const r = hk(['load', '--format', 'json', '-i', img.dir]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const loaded = lines.filter((l) => l.status === 'Loaded');
    expect(loaded.length).toBe(3);
    // Each layer's blob is counted whole as the unpacker reads the file itself (no stream).
    for (const l of loaded) expect(l.bytes).toBe(l.total);
    expect(lines.at(-1)).toEqual({ status: 'loaded', images: [{ id: img.configDigest, tags: ['husk-test/busybox:3layers'] }] });
  });

  it('stores an image once when two loads of it run at once, and both succeed', async () => {
    resetStore();
    const runs = await Promise.all([0, 1, 2].map(() => huskAsyncStatus(['load', '-q', '-i', dockerTar])));
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    expect(ls('images').length).toBe(1);
    expect(ls('layers').length).toBe(3);
    expect(ls('tmp')).toEqual([]);
    expect(ls('lock')).toEqual([]);
    expect(hk(['images', '-q']).stdout).toBe(`${img.configDigest.slice(7, 19)}\n`);
  });
});

describe('husk rmi, tag and image inspect', () => {
  it('tags an image, and rmi of one name only untags it', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    expect(hk(['tag', 'husk-test/busybox:3layers', 'mine:v1']).status).toBe(0);
    expect(hk(['images', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l).Repository).sort()).toEqual(['husk-test/busybox', 'mine']);
    const r = hk(['rmi', 'mine:v1']);
    expect(r.stdout).toBe('Untagged: mine:v1\n');
    expect(ls('layers').length).toBe(3);
  });

  it('refuses rmi by id of an image with two names unless forced', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    expect(hk(['tag', 'husk-test/busybox:3layers', 'mine:v1']).status).toBe(0);
    const id = img.configDigest.slice(7, 19);
    const r = hk(['rmi', id]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`husk: conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories\n`);
    const f = hk(['rmi', '-f', id]);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout).toContain('Untagged: husk-test/busybox:3layers\nUntagged: mine:v1\n');
    expect(ls('images')).toEqual([]);
  });

  it('frees exactly the layers and blobs no other image uses', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    expect(hk(['load', '-q', '-i', other.dir]).status).toBe(0);
    expect(ls('layers').length).toBe(4);
    const blobsBoth = blobCount();
    const r = hk(['rmi', 'husk-test/busybox:3layers']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Untagged: husk-test/busybox:3layers\nDeleted: ${img.configDigest}\nDeleted: ${img.diffIds[2]}\n`);
    expect(ls('layers').sort()).toEqual([...other.diffIds].map((d) => d.slice(7)).sort());
    // Its config, manifest and top layer's blob went; the two shared layer blobs stayed.
    expect(blobCount()).toBe(blobsBoth - 3);
    expect(hk(['rmi', 'husk-test/other:1']).status).toBe(0);
    expect(ls('layers')).toEqual([]);
    expect(blobCount()).toBe(0);
    expect(ls('l')).toEqual([]);
    expect(JSON.parse(readFileSync(join(storage, 'refs.json'), 'utf8'))).toEqual({});
  });

  it('says which image is missing, exit 1, and goes on with the others', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    const r = hk(['rmi', 'nosuch:1', 'husk-test/busybox:3layers']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('husk: no such image: nosuch:1\n');
    expect(r.stdout).toMatch(/^Untagged: husk-test\/busybox:3layers\n/);
  });

  it('inspects an image as docker does: config, layers, size', () => {
    resetStore();
    expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
    const r = hk(['image', 'inspect', 'husk-test/busybox:3layers']);
    expect(r.status, r.stderr).toBe(0);
    const [i] = JSON.parse(r.stdout);
    expect(i.Id).toBe(img.configDigest);
    expect(i.RepoTags).toEqual(['husk-test/busybox:3layers']);
    expect(i.Config.Cmd).toEqual(['/bin/sh', '-c', 'cat /etc/motd']);
    expect(i.RootFS).toEqual({ Type: 'layers', Layers: img.diffIds });
    expect(i.Size).toBeGreaterThan(500_000);
    expect(i.GraphDriver.Data.LowerDir.split(':')[0]).toBe(join(storage, 'layers', img.diffIds[2].slice(7), 'diff'));
  });
});

function spawnSyncInput(args: string[], input: Buffer) {
  const r = spawnSync(process.execPath, ['--', huskBin, '--root', root, '--storage', storage, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status as number | null, stdout: r.stdout as string, stderr: r.stderr as string };
}


function huskAsyncStatus(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--', huskBin, '--root', root, '--storage', storage, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    c.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
