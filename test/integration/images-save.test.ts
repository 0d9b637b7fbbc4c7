// husk save, import, image prune and system df: what husk saves loads again in podman (vfs
// storage in a temp root, the host's untouched), reads in skopeo inspect, and loads back into
// husk as the same image; a rootfs tarball imports as a one-layer image.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { husk, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { busyboxImage, busyboxRootfs, sh, type LayoutImage } from './images-fixture.js';

const { root } = useLeakCheck();
const work = suiteDir('images-save');
const storage = suiteDir('storage');
const hk = (args: string[], opts: { input?: string } = {}) => husk(root, ['--storage', storage, ...args], opts);

let img: LayoutImage;
const TAG = 'husk-test/busybox:3layers';

// podman's runroot must be shorter than 50 characters.
const runroot = `/tmp/hpr-${process.pid}`;
afterAll(() => rmSync(runroot, { recursive: true, force: true }));

/** podman with its own vfs store under `work`, so the host's containers/storage is untouched. */
function podman(args: string[]) {
  const r = spawnSync('podman', ['--root', join(work, 'podman-root'), '--runroot', runroot, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  img = busyboxImage(join(work, 'src'));
  expect(hk(['load', '-q', '-i', img.dir]).status).toBe(0);
}, 120_000);

describe('husk save', () => {
  it('writes a docker-archive that podman loads, with the image’s layers and name', () => {
    const out = join(work, 'saved-docker.tar');
    const r = hk(['save', '-q', '-o', out, TAG]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const p = podman(['load', '-i', out]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain(`Loaded image: docker.io/${TAG}`);
    const inspect = JSON.parse(podman(['image', 'inspect', TAG]).stdout)[0];
    expect(inspect.RootFS.Layers).toEqual(img.diffIds);
    expect(inspect.Config.Cmd).toEqual(['/bin/sh', '-c', 'cat /etc/motd']);
    expect(podman(['rmi', '-a', '-f']).status).toBe(0);
  });

  it('writes an oci-archive that skopeo inspects and podman loads', () => {
    const out = join(work, 'saved-oci.tar');
    expect(hk(['save', '-q', '--format', 'oci-archive', '-o', out, TAG]).status).toBe(0);
    const s = spawnSync('skopeo', ['inspect', `oci-archive:${out}`], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const info = JSON.parse(s.stdout);
    expect(info.Layers.length).toBe(3);
    expect(info.Digest).toMatch(/^sha256:/);
    const p = podman(['load', '-i', out]);
    expect(p.status, p.stderr).toBe(0);
    expect(JSON.parse(podman(['image', 'inspect', TAG]).stdout)[0].RootFS.Layers).toEqual(img.diffIds);
    expect(podman(['rmi', '-a', '-f']).status).toBe(0);
  });

  it('writes an oci-dir that skopeo reads, byte for byte the stored blobs', () => {
    const out = join(work, 'saved-dir');
    expect(hk(['save', '-q', '--format', 'oci-dir', '-o', out, TAG]).status).toBe(0);
    const s = spawnSync('skopeo', ['inspect', '--raw', `oci:${out}:docker.io/${TAG}`], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    // The manifest as loaded: the layout's blobs are the ones the image came with.
    expect(readdirSync(join(out, 'blobs/sha256')).sort()).toEqual(readdirSync(join(img.dir, 'blobs/sha256')).sort());
  });

  it('round-trips: a saved docker-archive loads back into an empty store as the same image', () => {
    const out = join(work, 'roundtrip.tar');
    expect(hk(['save', '-q', '-o', out, TAG]).status).toBe(0);
    const other = join(storage, 'other');
    const r = husk(root, ['--storage', other, 'load', '-q', '-i', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Loaded image: ${TAG}\n`);
    const i = JSON.parse(husk(root, ['--storage', other, 'image', 'inspect', TAG]).stdout)[0];
    expect(i.Id).toBe(img.configDigest);
    expect(readFileSync(join(other, 'layers', img.diffIds[1].slice(7), 'diff/opq/c'), 'utf8')).toBe('c\n');
    sh('rm -rf "$1"', other);
  });

  it('refuses to write an archive to a terminal-less nowhere: an unknown image is one line, exit 125, no file', () => {
    const out = join(work, 'never.tar');
    const r = hk(['save', '-o', out, 'nosuch:image']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('husk: no such image: nosuch:image\n');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('husk-save'))).toEqual([]);
  });
});

describe('husk import, image prune, system df', () => {
  it('imports a flat rootfs tarball from stdin as a one-layer image with --change', () => {
    const rootfs = join(work, 'flat');
    busyboxRootfs(rootfs);
    const tar = join(work, 'flat.tar');
    sh('tar -C "$1" -cf "$2" .', rootfs, tar);
    const r = spawnSync(process.execPath, ['--', join(import.meta.dirname, '../../bin/husk.js'), '--root', root, '--storage', storage, 'import', '-q', '-c', 'CMD ["/bin/sh"]', '-c', 'ENV A=1', '-', 'flat:1'], { input: readFileSync(tar), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const i = JSON.parse(hk(['image', 'inspect', 'flat:1']).stdout)[0];
    expect(i.RootFS.Layers.length).toBe(1);
    expect(i.Config).toEqual({ Cmd: ['/bin/sh'], Env: ['A=1'] });
    expect(existsSync(join(storage, 'layers', i.RootFS.Layers[0].slice(7), 'diff/bin/busybox'))).toBe(true);
  });

  it('shows blobs, layers and what is shared in system df', () => {
    const r = hk(['system', 'df', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x.Type, x]));
    expect(rows.Images.Total).toBe(2);
    expect(rows.Layers.Total).toBe(4);
    expect(rows.Layers.Reclaimable).toBe(0);
    expect(rows.Blobs.Size).toBeGreaterThan(500_000);
    const table = hk(['system', 'df']).stdout;
    expect(table.split('\n')[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(table).toMatch(/^Shared\s+0\s+0\s+0B/m);
  });

  it('prunes dangling images only, and all unused ones with -a', () => {
    expect(hk(['tag', 'flat:1', 'flat:2']).status).toBe(0);
    expect(hk(['rmi', 'flat:1']).stdout).toBe('Untagged: flat:1\n');
    let r = hk(['image', 'prune', '-f']);
    expect(r.stdout).toBe('Total reclaimed space: 0B\n');
    r = hk(['image', 'prune', '-a', '-f']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Deleted Images:\nuntagged: flat:2\ndeleted: sha256:/);
    expect(r.stdout).toMatch(/Total reclaimed space: [1-9][0-9.]*[kM]B\n$/);
    expect(readdirSync(join(storage, 'layers'))).toEqual([]);
    expect(hk(['images', '-q']).stdout).toBe('');
  });
});
