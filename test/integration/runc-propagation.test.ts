// linux.rootfsPropagation must never reach back into the caller's mounts. A bundle may ask for
// `private` on `/` (not recursive): the container's copies of the host's shared mounts then
// stay peers of the host's, and detaching the old root after pivot_root unmounted the host's
// own leaf mounts (seen: every /run/netns/NAME vanished while podman and containerd suites
// ran). Each case runs husk-runc inside a mount namespace of the test's own, whose shared
// mount with a submount stands in for the host's /run/netns, so the host is never at risk.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { huskRunc, useRunc } from './runc-harness.js';

const { root, bundles, bundle } = useRunc();

/** husk-runc run of `dir` in a fresh mount namespace holding a shared tmpfs with a submount;
 *  what that namespace's mount table holds of them afterwards. */
function runBesideSharedMounts(dir: string, id: string): { status: number | null; stderr: string; left: string[] } {
  const shared = join(bundles, `shared-${id}`);
  const script = [
    'set -e',
    'mkdir -p "$1"',
    'mount -t tmpfs husk-test-shared "$1"',
    'mount --make-shared "$1"',
    'mkdir "$1/leaf"',
    'mount -t tmpfs husk-test-leaf "$1/leaf"',
    'cd "$2"',
    '"$3" --root "$4" run --bundle "$2" "$5" >/dev/null 2>"$1.err" || echo "husk-runc exit $?" >&2',
    'cat "$1.err" >&2',
    'awk \'$5 ~ /shared-/ {print $5}\' /proc/self/mountinfo',
  ].join('\n');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', shared, dir, huskRunc, root, id], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, left: r.stdout.split('\n').filter(Boolean).map((p) => p.slice(shared.length) || '/') };
}

describe('linux.rootfsPropagation and the caller\'s mounts', () => {
  for (const propagation of ['private', 'slave', 'rprivate', undefined]) {
    it(`${propagation ?? 'unset (rslave)'}: the container runs and the caller's shared mount keeps its submount`, () => {
      const dir = bundle(['true'], (c) => {
        if (propagation) c.linux.rootfsPropagation = propagation;
        else delete c.linux.rootfsPropagation;
      });
      const r = runBesideSharedMounts(dir, `p-${propagation ?? 'unset'}`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.left).toEqual(['/', '/leaf']);
    });
  }
});
