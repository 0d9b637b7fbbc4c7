// Many layers: docker and podman stop near 128 (overlay's options in one page); husk adds
// lower layers one at a time and runs a 300-layer image; a 501-layer one (overlayfs stacks
// at most 500) gets one clear line and exit 125, with nothing left behind.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { husk, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { buildLayout, busyboxRootfs } from './images-fixture.js';

const { root } = useLeakCheck();
const work = suiteDir('run-image-many-work');
const storage = suiteDir('run-image-many-storage');
const hk = (args: string[]) => husk(root, ['--storage', storage, ...args]);

/** busybox, then `count - 1` layers each adding /layers/N (and the last one changing /top). */
function manyLayers(count: number, tag: string): void {
  const dir = join(work, `n${count}`);
  const base = join(dir, 'base');
  busyboxRootfs(base);
  const layers = [{ dir: base, compression: 'none' as const }];
  for (let i = 1; i < count; i++) {
    const l = join(dir, `l${i}`);
    mkdirSync(join(l, 'layers'), { recursive: true });
    writeFileSync(join(l, 'layers', String(i)), `${i}\n`);
    writeFileSync(join(l, 'top'), `${i}\n`);
    layers.push({ dir: l, compression: 'none' });
  }
  const img = buildLayout(dir, layers, { tag, name: 'layout' });
  const r = hk(['load', '-q', '-i', img.dir]);
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  manyLayers(300, 'husk-test/many:300');
  manyLayers(501, 'husk-test/many:501');
}, 300_000);

describe('an image of many layers', () => {
  it('300 layers run: every layer shows, the topmost wins', () => {
    const r = hk(['run', 'husk-test/many:300', 'sh', '-c', 'ls /layers | wc -l; cat /layers/1 /layers/299 /top']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('299\n1\n299\n299\n');
  });

  it('501 layers: refused in one line naming the limit, exit 125', () => {
    const r = hk(['run', 'husk-test/many:501', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: .*image has 501 layers; overlayfs stacks at most 500/);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
});
