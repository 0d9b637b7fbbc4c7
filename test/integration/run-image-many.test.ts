// Many layers: docker and podman stop near 128 (overlay's options in one page); husk adds
// lower layers one at a time and runs a 300-layer image; a 501-layer one (overlayfs stacks
// at most 500) gets one clear line and exit 125, with nothing left behind.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildLayout, busyboxRootfs, putBlob } from './images-fixture.js';
import { tarOf } from '../../ts/image/tar-writer.js';
import { T_DIR, T_FILE } from '../../ts/image/tar-header.js';

const { root } = useLeakCheck();
const work = suiteDir('run-image-many-work');
const storage = suiteDir('run-image-many-storage');
const hk = (args: string[]) => husk(root, ['--storage', storage, ...args]);

/**
 * busybox, then `count - 1` layers each adding /layers/N and changing /top, written as tars
 * in memory (a tar(1) per layer would take seconds): the busybox image's layout, with the
 * small layers added to its manifest and config.
 */
function manyLayers(count: number, tag: string): void {
  const dir = join(work, `n${count}`);
  const base = join(dir, 'base');
  busyboxRootfs(base);
  const img = buildLayout(dir, [{ dir: base, compression: 'none' }], { tag, name: 'layout' });
  const index = JSON.parse(readFileSync(join(img.dir, 'index.json'), 'utf8'));
  const blob = (d: { digest: string }) => join(img.dir, 'blobs/sha256', d.digest.slice(7));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]), 'utf8'));
  const config = JSON.parse(readFileSync(blob(manifest.config), 'utf8'));
  for (let i = 1; i < count; i++) {
    const tar = tarOf([
      { name: 'layers/', type: T_DIR, mode: 0o755 },
      { name: `layers/${i}`, type: T_FILE, mode: 0o644, data: `${i}\n` },
      { name: 'top', type: T_FILE, mode: 0o644, data: `${i}\n` },
    ]);
    manifest.layers.push(putBlob(img.dir, tar, 'application/vnd.oci.image.layer.v1.tar'));
    config.rootfs.diff_ids.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    config.history.push({ created: '2026-01-02T03:04:05Z', created_by: 'test' });
  }
  manifest.config = putBlob(img.dir, Buffer.from(JSON.stringify(config)), manifest.config.mediaType);
  index.manifests[0] = { ...index.manifests[0], ...putBlob(img.dir, Buffer.from(JSON.stringify(manifest)), manifest.mediaType) };
  writeFileSync(join(img.dir, 'index.json'), JSON.stringify(index));
  const r = hk(['load', '-q', '-i', img.dir]);
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  manyLayers(300, 'husk-test/many:300');
  manyLayers(501, 'husk-test/many:501');
}, 300_000);

describe('an image of many layers', () => {
  it('300 layers run: every layer shows, the topmost wins', () => {
    const r = hk(['run', '--network', 'none', 'husk-test/many:300', 'sh', '-c', 'ls /layers | wc -l; cat /layers/1 /layers/299 /top']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('299\n1\n299\n299\n');
  });

  it('501 layers: refused in one line naming the limit, exit 125', () => {
    const r = hk(['run', '--network', 'none', 'husk-test/many:501', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: .*image has 501 layers; overlayfs stacks at most 500/);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
});
