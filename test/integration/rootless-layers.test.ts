// A user's layered image on the real kernel: the layers a non-root user unpacked are stacked
// by an overlayfs mounted in the container's user namespace (userxattr), so a deleted file
// and an opaque directory of an upper layer show exactly as docker shows them; where the
// kernel refuses that mount (forced here by HUSK_OVERLAY_FLATTEN=1, which the run's probe
// honours), the layers are copied onto the stage, whiteouts applied, with the same view.
import { chmodSync, existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
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

/** A tar of the rootfs owned by 1000 at `./`, with ping0 (root's) and ping1000 (1000's), each cap_net_raw+ep. */
function capsTar(): string {
  const tree = join(work, 'caps-tree');
  const tar = join(work, 'caps.tar');
  if (!existsSync(tar)) {
    sh(`mkdir -p "$1" && cp -a "$2/." "$1/" && cp "$1/bin/busybox" "$1/ping0" && cp "$1/bin/busybox" "$1/ping1000" && chown 1000:1000 "$1/ping1000" "$1" && setcap cap_net_raw+ep "$1/ping0" && setcap cap_net_raw+ep "$1/ping1000"`, tree, rootfs);
    sh('tar --numeric-owner --xattrs --xattrs-include=security.capability -C "$1" -cf "$2" . && chmod 0644 "$2"', tree, tar);
  }
  return tar;
}

describe('a user without subordinate ids: file capabilities cannot be set', () => {
  beforeEach(() => user.setRanges(undefined));

  it('the image loads without them, and one note says so and what would allow them', () => {
    const imp = user.husk(['import', capsTar(), 'rl:nocaps']);
    expect(imp.status, imp.stderr).toBe(0);
    try {
      expect(imp.stderr).toMatch(/^husk: note: layer .*: 2 file capabilities \(security\.capability, e\.g\. on \/ping\d+\) left out: a user sets them only in a user namespace of subordinate ids \(add a range of your own to \/etc\/subuid and \/etc\/subgid, and install the uidmap package\)$/m);
      const r = user.husk(['run', 'rl:nocaps', 'true']);
      expect(r.status, r.stderr).toBe(0);
    } finally {
      expect(user.husk(['rmi', 'rl:nocaps']).status).toBe(0);
    }
  });
});

describe('a user\'s layer keeps file capabilities and its root\'s owner (owners shifted into its range)', () => {
  const start = 300000;
  beforeEach(() => user.setRanges({ start, count: 65536 }));

  it('security.capability survives the chown that shifts the owner (restored after it, as the namespace\'s root writes it: rootid = the user); the layer root gets the tar\'s owner', () => {
    const tar = capsTar();
    const imp = user.husk(['import', tar, 'rl:caps']);
    expect(imp.status, imp.stderr).toBe(0);
    try {
      const layers = join(user.home, '.local/share/husk/layers');
      const diff = readdirSync(layers).map((hex) => join(layers, hex, 'diff')).find((d) => existsSync(join(d, 'ping1000')))!;
      for (const f of ['ping0', 'ping1000']) {
        expect(sh('getcap "$1"', join(diff, f))).toMatch(/cap_net_raw[=+]ep/);
        // v3 (a namespace's root set it): its rootid is the user, root of the user's containers.
        const v3 = sh('getfattr --absolute-names -e hex -n security.capability "$1"', join(diff, f));
        const hex = /security\.capability=0x([0-9a-f]+)/.exec(v3)![1];
        expect(Buffer.from(hex.slice(0, 8), 'hex').readUInt32LE(0) >>> 24).toBe(3);
        expect(Buffer.from(hex.slice(40, 48), 'hex').readUInt32LE(0)).toBe(user.uid);
      }
      expect(lstatSync(join(diff, 'ping1000')).uid).toBe(start + 999);
      // The layer's own root directory: the tar's `./` owner (1000), shifted.
      expect(lstatSync(diff).uid).toBe(start + 999);
      const r = user.husk(['run', 'rl:caps', 'sh', '-c', 'stat -c %u /ping1000 /ping0']);
      expect(r.status, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['1000', '0']);
    } finally {
      expect(user.husk(['rmi', 'rl:caps']).status).toBe(0);
    }
  });
});
