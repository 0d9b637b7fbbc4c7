// A user's layered image on the real kernel: the layers a non-root user unpacked are stacked
// by an overlayfs mounted in the container's user namespace (userxattr), so a deleted file
// and an opaque directory of an upper layer show exactly as docker shows them; where the
// kernel refuses that mount (forced here by HUSK_OVERLAY_FLATTEN=1, which the run's probe
// honours), the layers are copied onto the stage, whiteouts applied, with the same view.
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { suiteDir, suiteRootfs } from './helpers.js';
import { busyboxImage, sh } from './images-fixture.js';
import { useLeakCheck } from './leak-check.js';
import { useTestUser } from './rootless-user.js';

useLeakCheck();
const user = useTestUser();
const work = suiteDir('rl-layers');
/** Root's busybox rootfs, 0755: the user reads it, cannot write it. */
const rootfs = suiteRootfs();
const IMAGE = 'husk-test/busybox:3layers';
/** What the image's three layers merge to (images-fixture.ts busyboxImage). */
const MERGED = 'find /data /opq | sort; cat /etc/motd /added3; ls -a /opq | tr "\\n" ,; echo';
const EXPECTED = ['/data', '/data/keep', '/opq', '/opq/c', 'layer2', 'three', '.,..,c,'];

beforeAll(() => {
  const img = busyboxImage(join(work, 'img'), IMAGE);
  // The user reads the layout (suite dirs are root's 0700 by default).
  chmodSync(work, 0o755);
  sh('chmod -R a+rX "$1"', img.dir);
});

const lines = (s: string) => s.trimEnd().split('\n');

for (const ranges of [undefined, { start: 300000, count: 65536 }]) {
  describe(`a user's layered image (${ranges ? 'with' : 'without'} subordinate ids)`, () => {
    beforeEach(() => user.setRanges(ranges));

    it('load, then run: a deleted file and an opaque directory of an upper layer are gone; writes go to the container alone', () => {
      const load = user.husk(['load', '-q', '-i', join(work, 'img/layout')]);
      expect(load.status, load.stderr).toBe(0);
      try {
        const r = user.husk(['run', IMAGE, 'sh', '-c', `${MERGED}; grep -c userxattr /proc/self/mountinfo; rm /data/keep; echo x > /opq/new`]);
        expect(r.status, r.stderr).toBe(0);
        expect(lines(r.stdout)).toEqual([...EXPECTED, '1']);
        // The image is untouched by that container's writes.
        const again = user.husk(['run', IMAGE, 'sh', '-c', MERGED]);
        expect(again.status, again.stderr).toBe(0);
        expect(lines(again.stdout)).toEqual(EXPECTED);
      } finally {
        expect(user.husk(['rmi', IMAGE]).status).toBe(0);
      }
    });

    it('HUSK_OVERLAY_FLATTEN=1 (the fallback where the kernel refuses overlayfs in a user namespace): the layers copied into one tree show the same merged view, and no overlay is mounted', () => {
      const load = user.husk(['load', '-q', '-i', join(work, 'img/layout')]);
      expect(load.status, load.stderr).toBe(0);
      try {
        const env = { HUSK_OVERLAY_FLATTEN: '1' };
        const r = user.husk(['run', IMAGE, 'sh', '-c', `${MERGED}; grep -c ' overlay ' /proc/self/mountinfo; rm /data/keep; echo x > /opq/new`], { env });
        expect(r.status, r.stderr).toBe(0);
        expect(lines(r.stdout)).toEqual([...EXPECTED, '0']);
        const again = user.husk(['run', IMAGE, 'sh', '-c', MERGED], { env });
        expect(again.status, again.stderr).toBe(0);
        expect(lines(again.stdout)).toEqual(EXPECTED);
      } finally {
        expect(user.husk(['rmi', IMAGE]).status).toBe(0);
      }
    });

    it('HUSK_OVERLAY_FLATTEN=1 with --rootfs: the directory is copied onto the stage; writes stay in the container', () => {
      const r = user.husk(['run', '--rootfs', rootfs, 'sh', '-c', `cat /etc/motd; grep -c ' overlay ' /proc/self/mountinfo; echo w > /etc/motd; cat /etc/motd`], { env: { HUSK_OVERLAY_FLATTEN: '1' } });
      expect(r.status, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['hello-from-rootfs', '0', 'w']);
      expect(readFileSync(join(rootfs, 'etc/motd'), 'utf8')).toBe('hello-from-rootfs\n');
    });

  });
}
