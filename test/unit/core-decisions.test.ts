// Decisions the core makes from the facts ts/ sends (docs/core-abi.md "buildPlan"): the
// namespace set from what the flags share, the default host name, the time namespace's
// default offsets.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlanAnswer } from '../../ts/core/build-plan.js';
import { DEFAULT_NS, NS, STAGE, brief, expectCoreBuilt, find, opsOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const ID = '0123456789abcdef'.repeat(4);

describe('the namespace set', () => {
  const cloneOf = (over: Parameters<typeof rootfsRequest>[0]) => find(opsOf(rootfsRequest({ hostname: undefined, ...over })), 'CLONE')[0].args.flags;

  it('everything new unless shared: mount, pid, net, ipc, uts, cgroup', () => {
    expect(cloneOf({})).toBe(DEFAULT_NS);
    expect(cloneOf({ share: {} })).toBe(DEFAULT_NS);
  });

  it('each shared namespace is left out of CLONE, and only it', () => {
    const table: [keyof typeof NS, 'pid' | 'net' | 'ipc' | 'uts' | 'cgroup'][] = [
      ['NEWPID', 'pid'], ['NEWNET', 'net'], ['NEWIPC', 'ipc'], ['NEWUTS', 'uts'], ['NEWCGROUP', 'cgroup'],
    ];
    for (const [bit, name] of table) expect(cloneOf({ share: { [name]: true } })).toBe(DEFAULT_NS & ~NS[bit]);
    expect(cloneOf({ share: { pid: true, net: true } })).toBe(DEFAULT_NS & ~NS.NEWPID & ~NS.NEWNET);
  });

  it('a user namespace when the flags want one, and the summary says the same', () => {
    const req = rootfsRequest({ newUserns: true, userns: { mode: 'auto' }, share: { net: true } });
    const { summary } = buildPlanAnswer(req);
    expect(cloneOf({ newUserns: true, userns: { mode: 'auto' }, share: { net: true } })).toBe((DEFAULT_NS | NS.NEWUSER) & ~NS.NEWNET);
    expect(summary.newNamespaces).toBe((DEFAULT_NS | NS.NEWUSER) & ~NS.NEWNET);
  });
});

describe('the default host name', () => {
  it('a new UTS namespace without -h is named by the id\'s first 12 characters', () => {
    const { plan, summary } = buildPlanAnswer(rootfsRequest({ id: ID, hostname: undefined }));
    expect(summary.hostname).toBe('0123456789ab');
    expect(find(opsOf(rootfsRequest({ id: ID, hostname: undefined })), 'SETHOSTNAME')[0].args.name).toBe('0123456789ab');
    expect(plan.length).toBeGreaterThan(0);
  });

  it('-h wins; the host\'s UTS namespace keeps its name', () => {
    expect(buildPlanAnswer(rootfsRequest({ id: ID, hostname: 'box' })).summary.hostname).toBe('box');
    const shared = rootfsRequest({ id: ID, hostname: undefined, share: { uts: true } });
    expect(find(opsOf(shared), 'SETHOSTNAME')).toEqual([]);
    expect(buildPlanAnswer(shared).summary.hostname).toBeUndefined();
  });
});

describe('the time namespace', () => {
  it('--timens alone: both clocks at offset 0', () => {
    const ops = opsOf(rootfsRequest({ timens: true })).map(brief);
    expect(ops.slice(0, 2)).toEqual(['UNSHARE 0x80', 'WRITE_FILE "/proc/self/timens_offsets" "monotonic 0 0\\nboottime 0 0\\n"']);
  });

  it('--timens with one offset: the other clock at 0; without --timens nothing', () => {
    expect(find(opsOf(rootfsRequest({ timens: true, timeOffsets: { boottime: 7 } })), 'WRITE_FILE')[0].args.content).toBe('monotonic 0 0\nboottime 7 0\n');
    expect(find(opsOf(rootfsRequest()), 'UNSHARE')).toEqual([]);
  });
});

describe('the gid of -u', () => {
  const gidOf = (user: { uid: number; gid?: number; primaryGid?: number }) => find(opsOf(rootfsRequest({ user })), 'USER').at(-1)!.args.gid;

  it('the group typed, else the user\'s passwd group, else 0', () => {
    expect(gidOf({ uid: 1000, gid: 50, primaryGid: 1001 })).toBe(50n);
    expect(gidOf({ uid: 1000, primaryGid: 1001 })).toBe(1001n);
    expect(gidOf({ uid: 1000 })).toBe(0n);
    expect(gidOf({ uid: 1000, gid: 0, primaryGid: 1001 })).toBe(0n);
  });
});

describe('the host image', () => {
  const entries = [
    { name: 'home', kind: 'dir' as const },
    { name: 'lib64', kind: 'symlink' as const, target: 'usr/lib64' },
    { name: 'etc', kind: 'dir' as const },
    { name: 'tmp', kind: 'dir' as const },
    { name: 'bin', kind: 'symlink' as const, target: 'usr/bin' },
    { name: 'usr', kind: 'dir' as const },
    { name: 'vmlinuz', kind: 'symlink' as const, target: 'boot/vmlinuz' },
  ];
  const req = rootfsRequest({ image: { kind: 'host', hostEntries: entries } });

  it('the core picks usr, etc, bin, sbin, lib, lib32, lib64, libx32 of the host\'s entries, in that order', () => {
    const ops = opsOf(req);
    const overlays = find(ops, 'MOUNT').filter((o) => o.args.fstype === 'overlay').map((o) => o.args.target);
    expect(overlays).toEqual([`${STAGE}/root/usr`, `${STAGE}/root/etc`]);
    const links = find(ops, 'SYMLINK').filter((o) => String(o.args.linkpath).startsWith(`${STAGE}/root/`)).map((o) => `${o.args.linkpath} -> ${o.args.target}`);
    expect(links).toEqual([`${STAGE}/root/bin -> usr/bin`, `${STAGE}/root/lib64 -> usr/lib64`]);
    const text = (o: (typeof ops)[number]) => Object.values(o.args).map(String).join(' ');
    expect(ops.some((o) => text(o).includes('home') || text(o).includes('vmlinuz'))).toBe(false);
  });

  it('the same plan as when ts/ names the dirs itself', () => {
    const chosen = rootfsRequest({ image: { kind: 'host', hostDirs: [entries[5], entries[2], entries[4], entries[1]] } });
    expect(Buffer.from(buildPlanAnswer(req).plan).equals(Buffer.from(buildPlanAnswer(chosen).plan))).toBe(true);
  });
});

describe('cgroupEnforcement (husk info)', () => {
  it('every resource flag, where its controller is: v1 wins, v2 only for rootless, none named', async () => {
    const { enforcement } = await import('../../ts/cgroup/enforce.js');
    const rows = enforcement({
      layout: 'hybrid',
      hierarchies: [
        { version: 1, mountpoint: '/c/memory', root: '/', controllers: ['memory'] },
        { version: 2, mountpoint: '/c/unified', root: '/', controllers: ['memory', 'pids'] },
      ],
      controllers: {},
    });
    expect(rows.map((r) => r.flag)).toEqual(['--memory', '--memory-swap', '--memory-reservation', '--cpus', '--cpu-shares', '--cpu-quota', '--cpu-period', '--cpuset-cpus', '--cpuset-mems', '--pids-limit', '--blkio-weight', '--device-read-bps', '--device-write-bps', '--device-read-iops', '--device-write-iops']);
    const by = Object.fromEntries(rows.map((r) => [r.flag, r]));
    expect(by['--memory']).toEqual({ flag: '--memory', controller: 'memory', version: 1, mountpoint: '/c/memory', rootful: true, rootless: false, why: 'memory is a cgroup v1 controller, which cannot be delegated to a user' });
    expect(by['--pids-limit']).toEqual({ flag: '--pids-limit', controller: 'pids', version: 2, mountpoint: '/c/unified', rootful: true, rootless: true, why: undefined });
    expect(by['--blkio-weight']).toEqual({ flag: '--blkio-weight', controller: 'io', rootful: false, rootless: false, why: 'no blkio (v1) or io (v2) controller on this host' });
    expect(by['--cpus'].why).toBe('no cpu controller on this host');
  });
});
