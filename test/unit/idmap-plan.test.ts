// The user-namespace part of a plan: the maps the core computed, written by the launcher right
// after CLONE, and each overlay lower shown through an idmapped mount.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, buildPlan, buildPlanAnswer } from '../../ts/core/build-plan.js';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { usedRanges } from '../../ts/runtime/userns.js';
import { DEFAULT_NS, NS, STAGE, brief, expectCoreBuilt, find, hostRequest, opsOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

function refusal(req: PlanRequest): string {
  try {
    buildPlan(req);
  } catch (err) {
    if (err instanceof CoreError) return err.reason;
    throw err;
  }
  return 'ok';
}

describe('maps in the plan', () => {
  it('--uidmap lines go to UID_MAP and GID_MAP exactly, before the idmapped trees', () => {
    const ops = opsOf(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:200000:1000', '1000:300000:1'] } })).map(brief);
    expect(ops.slice(0, 5)).toEqual([
      'CLONE 0x7e020000',
      'UID_MAP "0 200000 1000\\n1000 300000 1\\n"',
      'GID_MAP "0 200000 1000\\n1000 300000 1\\n"',
      'IDMAP_TREE "/var/lib/husk/rootfs/alpine" 0x0',
      'USER 0x0 0x0 []',
    ]);
  });

  it('keep-id as root: 0 stays 0, the rest from the pool', () => {
    const [uid] = find(opsOf(rootfsRequest({ userns: { mode: 'keep-id' } })), 'UID_MAP');
    expect(uid.args.text).toBe('0 0 1\n1 524288 65536\n');
  });

  it('rootless with its own id only: SETGROUPS deny before GID_MAP', () => {
    const caller = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };
    const ops = opsOf(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:1000:1'], caller } })).map(brief);
    expect(ops.slice(1, 4)).toEqual(['UID_MAP "0 1000 1\\n"', 'SETGROUPS "deny"', 'GID_MAP "0 1000 1\\n"']);
  });

  it('refuses what a plan cannot run', () => {
    const alice = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };
    expect(refusal(rootfsRequest({ userns: { mode: 'maps', uidmap: ['1:200000:10'] } }))).toBe(
      'uidmap: container uid 0 is not mapped (husk sets the container up as its root)');
    expect(refusal(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:200000:10'], gidmap: ['5:1:1'] } }))).toMatch(/^gidmap: container gid 0 is not mapped/);
    expect(refusal(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:200000:10'] }, user: { uid: 10, gid: 0 } }))).toBe(
      'user: uid 10 is not mapped in the user namespace');
    expect(refusal(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:100000:10'], caller: alice, subuid: 'alice:100000:10', subgid: 'alice:100000:10' } })))
      .toBe('uidmap: your own uid 1000 and gid 1000 must be mapped too (e.g. --uidmap 65536:1000:1 --gidmap 65536:1000:1): husk sets the container up in your state directory, which only you may enter');
    expect(refusal(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:100000:10', '10:1000:1'], caller: alice, subuid: 'alice:100000:10', subgid: 'alice:100000:10' } })))
      .toBe('userns: mapping your subordinate ids needs newuidmap and newgidmap, which are not installed: install the uidmap package (apt-get install uidmap)');
    expect(refusal(rootfsRequest({ userns: { mode: 'keep-id', caller: alice, subuid: '', subgid: '' } })))
      .toBe('userns: keep-id needs subordinate ids of yours for the container\'s root, and you have none: add a range of your own to /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice)');
    const dirs = Array.from({ length: 17 }, (_, i) => ({ name: `d${i}`, kind: 'dir' as const }));
    expect(refusal(hostRequest({ image: { kind: 'host', hostDirs: dirs }, userns: { mode: 'auto' } }))).toBe(
      'host-dir: 17 directories to idmap in a user namespace (at most 16)');
  });

  it('--userns host (as typed, or its default) means a new user namespace only with --uidmap/--gidmap', () => {
    const who = { rootless: false, uid: 0, gid: 0, name: 'root' };
    const hostAlone = buildPlanAnswer(rootfsRequest({ userns: { mode: 'host', caller: who } }));
    expect(hostAlone.summary.userns).toBe(false);
    expect(hostAlone.summary.newNamespaces & NS.NEWUSER).toBe(0n);
    expect(hostAlone.summary.hostRanges).toEqual([]);
    expect(opsOf(rootfsRequest({ userns: { mode: 'host', caller: who } })).map(brief).filter((o) => /^(UID|GID)_MAP|^IDMAP_TREE/.test(o))).toEqual([]);

    const withMap = buildPlanAnswer(rootfsRequest({ userns: { mode: 'host', gidmap: ['0:200000:1000'], caller: who } }));
    expect(withMap.summary.userns).toBe(true);
    expect(withMap.summary.newNamespaces & NS.NEWUSER).toBe(NS.NEWUSER);
    // --gidmap alone serves uids too (podman's), both from the one line.
    expect(withMap.summary.hostRanges).toEqual([{ start: 200000, size: 1000 }]);
    expect(opsOf(rootfsRequest({ userns: { mode: 'host', gidmap: ['0:200000:1000'], caller: who } })).map(brief).slice(1, 3)).toEqual([
      'UID_MAP "0 200000 1000\\n"',
      'GID_MAP "0 200000 1000\\n"',
    ]);
  });

  it('a rootless caller without the flags gets a user namespace of its own: single-id map with a note, or its ranges through the helpers', () => {
    const alice = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };
    const helpers = { newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' };
    const sub = 'alice:100000:65536\n';
    // No ranges: 0 → 1000 alone, written directly, setgroups deny; the note says what that limits.
    const single = buildPlanAnswer(rootfsRequest({ userns: { mode: 'host', caller: alice, subuid: '', subgid: '', helpers } }));
    expect(single.summary.userns).toBe(true);
    expect(single.summary.hostRanges).toEqual([{ start: 1000, size: 1 }]);
    expect(single.summary.usernsNote).toMatch(/^the container maps only your uid 1000 and gid 1000 \(as its root\): files of other owners show as nobody and chown to other ids fails; for more ids add a range of your own to \/etc\/subuid and \/etc\/subgid \(as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice\)$/);
    const singleOps = opsOf(rootfsRequest({ userns: { mode: 'host', caller: alice, subuid: '', subgid: '', helpers } })).map(brief);
    expect(singleOps.slice(1, 4)).toEqual(['UID_MAP "0 1000 1\\n"', 'SETGROUPS "deny"', 'GID_MAP "0 1000 1\\n"']);
    // A rootless caller cannot idmap host trees: the rootfs is the overlay's lower as it is.
    expect(singleOps.filter((o) => /IDMAP_TREE|ATTACH_TREE/.test(o))).toEqual([]);
    // Ranges but no helpers: still a single-id map, the note names the package.
    const noHelpers = buildPlanAnswer(rootfsRequest({ userns: { mode: 'host', caller: alice, subuid: sub, subgid: sub, helpers: { newuidmap: '', newgidmap: '' } } }));
    expect(noHelpers.summary.usernsNote).toMatch(/; newuidmap and newgidmap are not installed \(install the uidmap package\)$/);
    // Ranges and helpers: 0 → 1000, 1.. → the range, by newuidmap/newgidmap with the pid first.
    const ranged = buildPlanAnswer(rootfsRequest({ userns: { mode: 'host', caller: alice, subuid: sub, subgid: sub, helpers } }));
    expect(ranged.summary.usernsNote).toBeUndefined();
    expect(ranged.summary.hostRanges).toEqual([{ start: 1000, size: 1 }, { start: 100000, size: 65536 }]);
    const helperOps = find(opsOf(rootfsRequest({ userns: { mode: 'host', caller: alice, subuid: sub, subgid: sub, helpers } })), 'IDMAP_HELPER');
    expect(helperOps.map((o) => o.args)).toEqual([
      { path: '/usr/bin/newuidmap', args: ['0', '1000', '1', '1', '100000', '65536'] },
      { path: '/usr/bin/newgidmap', args: ['0', '1000', '1', '1', '100000', '65536'] },
    ]);
  });

  it('auto without a size takes 65536 ids (the core\'s default)', () => {
    const s = buildPlanAnswer(rootfsRequest({ userns: { mode: 'auto' } })).summary;
    expect(s.userns).toBe(true);
    expect(s.usernsRange?.size).toBe(65536);
    expect(buildPlanAnswer(rootfsRequest({ userns: { mode: 'auto', size: 1000 } })).summary.usernsRange?.size).toBe(1000);
  });
});

describe('idmapped overlay lowers', () => {
  it('host image: each host directory is idmapped (slots in order), attached on STAGE/lower/N and used as lowerdir', () => {
    const ops = opsOf(hostRequest({ userns: { mode: 'auto' } }));
    expect(find(ops, 'IDMAP_TREE').map((o) => [o.args.source, o.args.slot])).toEqual([['/usr', 0n], ['/etc', 1n]]);
    expect(find(ops, 'ATTACH_TREE').map((o) => [o.args.slot, o.args.target])).toEqual([[0n, `${STAGE}/lower/0`], [1n, `${STAGE}/lower/1`]]);
    const overlays = find(ops, 'MOUNT').filter((o) => o.args.fstype === 'overlay').map((o) => String(o.args.data));
    expect(overlays[0]).toMatch(new RegExp(`^lowerdir=${STAGE}/lower/0,upperdir=${STAGE}/upper/usr,`));
    expect(overlays[1]).toMatch(new RegExp(`^lowerdir=${STAGE}/lower/1,upperdir=${STAGE}/upper/etc,`));
    // The attach comes after its directory is made, before the overlay.
    const names = ops.map(brief);
    const attach = names.indexOf(`ATTACH_TREE 0x0 "${STAGE}/lower/0"`);
    expect(names[attach - 1]).toBe(`MKDIR "${STAGE}/lower/0" 0x1ed`);
    expect(names[attach + 1]).toMatch(/^MOUNT "overlay"/);
  });

  it('rootfs: slot 0; --rootfs-rw binds the directory itself, not idmapped; no user namespace, no trees', () => {
    expect(find(opsOf(rootfsRequest({ userns: { mode: 'auto' } })), 'ATTACH_TREE').length).toBe(1);
    const rw = opsOf(rootfsRequest({ image: { kind: 'rootfs', path: '/r', readwrite: true }, userns: { mode: 'auto' } }));
    expect(find(rw, 'IDMAP_TREE').length).toBe(0);
    const plain = opsOf(hostRequest());
    expect(find(plain, 'IDMAP_TREE').length + find(plain, 'ATTACH_TREE').length).toBe(0);
  });
});

describe('state records', () => {
  it('a container holds every host range of its uid and gid maps; records give them back as used', () => {
    const { summary } = buildPlanAnswer(rootfsRequest({ userns: { mode: 'maps', uidmap: ['0:200000:1000', '1000:300000:1'], gidmap: ['0:400000:10'] } }));
    const ranges = summary.hostRanges;
    expect(ranges).toEqual([{ start: 200000, size: 1000 }, { start: 300000, size: 1 }, { start: 400000, size: 10 }]);
    expect(usedRanges([{ id: 'a', created: '', hostRanges: ranges }, { id: 'b', created: '', userns: { start: 7, size: 1 } }])).toEqual([...ranges, { start: 7, size: 1 }]);
  });

  it('auto avoids them', () => {
    const [uid] = find(opsOf(rootfsRequest({ userns: { mode: 'auto', size: 10 }, usedRanges: [{ start: 524288, size: 100 }] })), 'UID_MAP');
    expect(uid.args.text).toBe('0 524388 10\n');
  });
});
