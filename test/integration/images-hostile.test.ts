// Hostile and broken archives through `husk load`, as a person would meet them: one line
// naming what is wrong, exit 125, the store exactly as before (an image already there
// untouched), nothing written outside it.
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildLayout, busyboxImage, putBlob, sh, skopeoDockerArchive, type LayoutImage } from './images-fixture.js';

const { root } = useLeakCheck();
const work = suiteDir('images-hostile');
const storage = suiteDir('storage');
const hk = (args: string[]) => husk(root, ['--storage', storage, ...args]);

let img: LayoutImage;
let dockerTar: string;

/** Every path under the store (the lock and empty directories aside). */
function storeFiles(): string[] {
  return sh('cd "$1" && find . -type f -o -type l | sort', storage).split('\n').filter(Boolean);
}

/** A copy of the layout image to break; `edit` changes its files. */
function brokenLayout(name: string, edit: (dir: string, index: any, manifest: any) => void): string {
  const dir = join(work, name);
  sh('rm -rf "$1" && cp -a "$2" "$1"', dir, img.dir);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  edit(dir, index, manifest);
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

/** Re-points the layout's index at a changed manifest. */
function rewriteManifest(dir: string, index: any, manifest: any): void {
  const d = putBlob(dir, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  index.manifests[0] = { ...index.manifests[0], digest: d.digest, size: d.size };
}

/** The docker-archive with its manifest.json replaced. */
function brokenDockerArchive(name: string, edit: (m: any[]) => void, extra = ''): string {
  const dir = join(work, `${name}-x`);
  sh('rm -rf "$1" && mkdir "$1" && tar -C "$1" -xf "$2"', dir, dockerTar);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  edit(m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  if (extra) sh(extra, dir); // $1 is the unpacked archive
  const out = join(work, `${name}.tar`);
  sh('tar -C "$1" -cf "$2" . && rm -rf "$1"', dir, out);
  return out;
}

beforeAll(() => {
  img = busyboxImage(join(work, 'src'));
  dockerTar = skopeoDockerArchive(img, join(work, 'good.tar'), 'husk-test/good:1');
  // One image already stored: every refusal below must leave it exactly as it is.
  const other = buildLayout(join(work, 'kept'), [{ dir: join(work, 'src/l3'), compression: 'gzip' }], { tag: 'husk-test/kept:1', name: 'kept' });
  expect(hk(['load', '-q', '-i', other.dir]).status).toBe(0);
}, 120_000);

describe('husk load refuses hostile archives', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a manifest.json layer path outside the archive', () => brokenDockerArchive('outside', (m) => (m[0].Layers[0] = '../../../../etc/passwd')), /image 1: layer 1 names a path outside the archive: "..\/..\/..\/..\/etc\/passwd"$/],
    ['a config that is a symlink out of the archive', () => brokenDockerArchive('symlink', (m) => (m[0].Config = 'evil.json'), 'ln -s /etc/passwd "$1/evil.json"'), /image 1: Config: "evil.json" links outside the archive \(to "\/etc\/passwd"\)$/],
    ['a layer the archive lacks', () => brokenDockerArchive('missing', (m) => (m[0].Layers[1] = 'nope/layer.tar')), /layer 2 names "nope\/layer.tar", which is not in the archive$/],
    ['a blob whose content is not its digest', () => brokenLayout('mismatch', (dir, _i, m) => {
      const f = join(dir, 'blobs/sha256', m.layers[2].digest.slice(7));
      writeFileSync(f, Buffer.alloc(m.layers[2].size, 0x41)); // same size, other bytes
    }), /layer 3: blob sha256:[0-9a-f]{64} does not match its digest \(the content is sha256:[0-9a-f]{64}\)$/],
    ['a manifest naming a missing blob', () => brokenLayout('noblob', (dir, i, m) => {
      m.layers[1].digest = `sha256:${'0'.repeat(64)}`;
      rewriteManifest(dir, i, m);
    }), /layer 2 names "blobs\/sha256\/0{64}", which is not in the layout$/],
    ['a huge index.json', () => brokenLayout('huge', (dir, i) => {
      i.annotations = { pad: 'x'.repeat(5 << 20) };
    }), /index.json is \d+ bytes, more than the 4194304 an image's JSON may have$/],
    ['too many layers', () => brokenLayout('many', (dir, i, m) => {
      m.layers = Array(1001).fill(m.layers[0]);
      rewriteManifest(dir, i, m);
    }), /1001 layers: husk takes at most 1000$/],
    ['a config User that overflows', () => brokenLayout('user', (dir, i, m) => {
      const cfg = JSON.parse(readFileSync(join(dir, 'blobs/sha256', m.config.digest.slice(7)), 'utf8'));
      cfg.config.User = '99999999999999999999';
      m.config = putBlob(dir, Buffer.from(JSON.stringify(cfg)), m.config.mediaType);
      rewriteManifest(dir, i, m);
    }), /config User "99999999999999999999" is out of range: a uid or gid is at most 4294967294$/],
    ['a layer that is not a tar', () => brokenLayout('nottar', (dir, i, m) => {
      m.layers[2] = putBlob(dir, Buffer.from('not a tar at all\n'.repeat(100)), 'application/vnd.oci.image.layer.v1.tar');
      rewriteManifest(dir, i, m);
    }), /layer 3/],
    ['a truncated archive', () => {
      const out = join(work, 'truncated.tar');
      copyFileSync(dockerTar, out);
      sh('truncate -s 700000 "$1"', out);
      return out;
    }, /not a readable tar archive|which is not in the archive/],
  ];

  it.each(cases)('refuses %s: one line, exit 125, the store as it was', (_what, make, message) => {
    const input = make();
    const before = storeFiles();
    const r = hk(['load', '-q', '-i', input]);
    expect(r.status).toBe(125);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toMatch(/^husk: /);
    expect(lines[0]).toMatch(message);
    expect(storeFiles()).toEqual(before);
    expect(readdirSync(join(storage, 'tmp'))).toEqual([]);
  });

  it('writes nothing outside the store, even when an archive names host paths', () => {
    const target = join(work, 'victim');
    const r = hk(['load', '-q', '-i', brokenDockerArchive('victim', (m) => (m[0].Layers[0] = `../../../../..${target}`))]);
    expect(r.status).toBe(125);
    expect(existsSync(target)).toBe(false);
    const still = hk(['images', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l).Repository);
    expect(still).toEqual(['husk-test/kept']);
  });

  it('refuses a file that is not an archive at all with one line', () => {
    const f = join(work, 'text.txt');
    writeFileSync(f, 'hello\n');
    const r = hk(['load', '-i', f]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: .*text.txt: (empty or not a tar archive|not a readable tar archive.*)\n$/);
    const none = hk(['load', '-i', join(work, 'does-not-exist.tar')]);
    expect(none.stderr).toBe(`husk: ${join(work, 'does-not-exist.tar')}: no such file or directory\n`);
  });
});
