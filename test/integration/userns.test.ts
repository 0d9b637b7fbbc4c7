// User namespaces on the real kernel: the container sees exactly the maps the policy core
// computed, files of the host show through idmapped mounts as the container's own, and every
// refusal names the flag before anything is made.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { computeIdmap } from '../../ts/core/idmap.js';
import { husk, suiteDir, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();
/** subuid/subgid files of the tests' own. */
const files = suiteDir('subid');

/** /proc/self/uid_map and gid_map as seen inside, normalized to `a b c` lines. */
function mapsInside(args: string[]): { uid: string; gid: string; out: string } {
  const r = husk(root, ['run', '--network', 'none', ...args, 'host', 'sh', '-c', 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id -u; id -g']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const [uid, gid, out] = r.stdout.split('--\n');
  const norm = (s: string) => s.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');
  return { uid: norm(uid), gid: norm(gid), out: out.trim() };
}

describe('the container sees exactly the computed maps', () => {
  it('--uidmap 0:200000:1000 --uidmap 1000:300000:1 (for gids too, as podman)', () => {
    const m = mapsInside(['--uidmap', '0:200000:1000', '--uidmap', '1000:300000:1']);
    expect(m.uid).toBe('0 200000 1000\n1000 300000 1');
    expect(m.gid).toBe(m.uid);
    expect(m.out).toBe('0\n0');
  });

  it('--gidmap apart from --uidmap; adjacent lines merged', () => {
    const m = mapsInside(['--uidmap', '0:200000:1000', '--uidmap', '1000:201000:10', '--gidmap', '0:400000:65536']);
    expect(m.uid).toBe('0 200000 1010');
    expect(m.gid).toBe('0 400000 65536');
  });

  it('--userns auto:size=N takes N ids from the pool, and avoids the subuid file\'s ranges', () => {
    const subuid = join(files, 'subuid');
    writeFileSync(subuid, 'bob:524288:1000000\n');
    const m = mapsInside(['--userns', 'auto:size=5000', '--subuid-file', subuid, '--subgid-file', subuid]);
    expect(m.uid).toBe('0 1524288 5000');
    expect(m.gid).toBe('0 1524288 5000');
  });

  it('--userns auto as root takes its ids from the "containers" entries of the subuid and subgid files (as podman), and husk plan says so', () => {
    // Test-made copies: /etc/subuid and /etc/subgid are never touched.
    const subuid = join(files, 'containers-subuid');
    const subgid = join(files, 'containers-subgid');
    writeFileSync(subuid, 'bob:100000:65536\ncontainers:200000:10000\n');
    writeFileSync(subgid, 'containers:300000:10000\n');
    const flags = ['--userns', 'auto:size=5000', '--subuid-file', subuid, '--subgid-file', subgid];
    const m = mapsInside(flags);
    expect(m.uid).toBe('0 200000 5000');
    expect(m.gid).toBe('0 300000 5000');
    const plan = husk(root, ['plan', '--network', 'none', ...flags, 'host', 'true']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout.split('\n')[1]).toBe('userns auto: host uids 200000-204999 and gids 300000-304999 from the "containers" entries of the subuid and subgid files');
    const json = JSON.parse(husk(root, ['plan', '--network', 'none', '--format', 'json', ...flags, 'host', 'true']).stdout);
    expect(json.choices).toEqual(['userns auto: host uids 200000-204999 and gids 300000-304999 from the "containers" entries of the subuid and subgid files']);
    const pool = husk(root, ['plan', '--network', 'none', '--userns', 'auto', '--subuid-file', join(files, 'none'), '--subgid-file', join(files, 'none'), 'host', 'true']);
    expect(pool.stdout.split('\n')[1]).toBe('userns auto: host ids 524288-589823 from husk\'s pool (524288-1879048191; the subuid and subgid files have no "containers" entry)');
    // An entry in one file only: one line naming the other file and the fix.
    const half = husk(root, ['run', '--network', 'none', '--userns', 'auto', '--subuid-file', subuid, '--subgid-file', join(files, 'none'), '--rootfs', rootfs, 'true']);
    expect(half.status).toBe(125);
    expect(half.stderr).toBe('husk: userns: auto: the subuid file has ranges for "containers" and the subgid file has none: add one (as root: usermod --add-subgids 100000-165535 containers), or remove both\n');
  });

  it('--userns keep-id as root: root keeps 0, the other ids come from a free pool range', () => {
    const m = mapsInside(['--userns', 'keep-id', '--subuid-file', join(files, 'none'), '--subgid-file', join(files, 'none')]);
    expect(m.uid).toMatch(/^0 0 1\n1 (\d+) 65536$/);
    expect(Number(/\n1 (\d+) /.exec(m.uid)![1])).toBeGreaterThanOrEqual(524288);
    expect(m.out).toBe('0\n0');
  });
});

describe('host files through idmapped mounts', () => {
  it('host image with --userns auto: /etc/passwd is root\'s inside, /etc/hostname writable, the host\'s unchanged', () => {
    const hostBefore = readFileSync('/etc/hostname');
    const r = husk(root, ['run', '--network', 'none', '--userns', 'auto', 'host', 'sh', '-c',
      'stat -c %u:%g /etc/passwd; echo x >> /etc/hostname && tail -n 1 /etc/hostname; stat -c %u /etc/hostname; cat /proc/self/uid_map | wc -l']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['0:0', 'x', '0', '1']);
    expect(readFileSync('/etc/hostname')).toEqual(hostBefore);
  });

  it('--rootfs with --uidmap: the image\'s files are the container\'s; writes stay in the container', () => {
    const before = readFileSync(join(rootfs, 'etc/motd'), 'utf8');
    const r = husk(root, ['run', '--network', 'none', '--uidmap', '0:300000:65536', '--rootfs', rootfs, '/bin/sh', '-c',
      'stat -c %u /etc/passwd; echo y >> /etc/motd && tail -n 1 /etc/motd']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['0', 'y']);
    expect(readFileSync(join(rootfs, 'etc/motd'), 'utf8')).toBe(before);
  });
});

describe('refusals name the flag, exit 125, make nothing', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => ['--uidmap', `${i * 2}:${200000 + i * 2}:1`]).flat();
  const table: [string, string[], RegExp][] = [
    ['overlap', ['--uidmap', '0:200000:1000', '--uidmap', '10:300000:5'], /^husk: uidmap: "0:200000:1000" and "10:300000:5" overlap in the container ids \(10-14\)$/m],
    ['overflow', ['--uidmap', '0:4294967290:10'], /^husk: uidmap: "0:4294967290:10": host ids 4294967290-4294967299 go past 4294967294/m],
    ['341 lines', lines(341), /^husk: uidmap: 341 lines after merging adjacent ranges \(the kernel takes at most 340\)$/m],
    ['size 0', ['--gidmap', '0:1:0'], /^husk: gidmap: "0:1:0": size must be at least 1$/m],
    ['not CONTAINER:HOST:SIZE', ['--uidmap', '0-1000'], /^husk: uidmap: "0-1000": expected CONTAINER:HOST:SIZE/m],
    ['container root unmapped', ['--uidmap', '1:200000:10'], /^husk: uidmap: container uid 0 is not mapped/m],
    ['--uidmap with --userns auto', ['--userns', 'auto', '--uidmap', '0:1:1'], /^husk: uidmap: cannot be combined with --userns auto$/m],
    ['a bad --userns', ['--userns', 'remap'], /--userns: expected host, auto\[:size=N\], keep-id or ns:NAME/],
  ];
  it.each(table)('%s', (_name, args, message) => {
    const r = husk(root, ['run', '--network', 'none', ...args, 'host', 'true']);
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe('rootless computation (newuidmap\'s rules, through the core\'s API)', () => {
  // A real rootless run needs a non-root user, newuidmap/newgidmap (package uidmap) and a
  // launcher step that runs them: the launcher does not run helpers yet, so these check the
  // computation with a temporary subuid file, as a rootless husk would read it.
  const alice = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };

  it('inside the caller\'s subordinate ranges: newuidmap/newgidmap arguments', () => {
    const subuid = join(files, 'subuid-alice');
    writeFileSync(subuid, 'root:100000:65536\nalice:165536:65536\n');
    const text = readFileSync(subuid, 'utf8');
    const a = computeIdmap({ mode: 'maps', uidmap: ['0:1000:1', '1:165536:65536'], caller: alice, subuid: text, subgid: text });
    expect(a.helper).toBe(true);
    expect(a.newuidmapArgs).toEqual(['0', '1000', '1', '1', '165536', '65536']);
    expect(a.setgroups).toBe('allow');
  });

  it('outside them: refused, naming the flag', () => {
    const text = 'alice:165536:65536\n';
    expect(() => computeIdmap({ mode: 'maps', uidmap: ['0:100000:10'], caller: alice, subuid: text, subgid: text })).toThrow(CoreError);
    expect(() => computeIdmap({ mode: 'maps', uidmap: ['0:100000:10'], caller: alice, subuid: text, subgid: text })).toThrow(
      /^uidmap: "0:100000:10": host ids 100000-100009 are not yours/);
  });
});
