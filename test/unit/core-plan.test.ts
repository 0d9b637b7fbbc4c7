// What buildPlan makes for typical requests: the op list, in order, as the launcher runs it.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../ts/core/build-plan.js';
import { DEFAULT_NS, NS, STAGE, brief, expectCoreBuilt, find, hostRequest, opsOf, planOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const DOCKER_CAPS = 0xa80425fbn; // CapBnd of a docker container with default caps

describe('a rootfs image with the default namespaces', () => {
  it('makes the whole container, op by op, in order', () => {
    const ops = opsOf(rootfsRequest()).map(brief);
    expect(ops).toEqual([
      'CLONE 0x6e020000',
      'MOUNT "" "/" "" 0x44000 ""',
      `MOUNT "tmpfs" "${STAGE}" "tmpfs" 0x6 "mode=0755"`,
      `MKDIR "${STAGE}/upper" 0x1ed`,
      `MKDIR "${STAGE}/work" 0x1ed`,
      `MKDIR "${STAGE}/root" 0x1ed`,
      `MOUNT "overlay" "${STAGE}/root" "overlay" 0x0 "lowerdir=/var/lib/husk/rootfs/alpine,upperdir=${STAGE}/upper,workdir=${STAGE}/work"`,
      `SET_ROOT "${STAGE}/root"`,
      'MKDIR "proc" 0x1ed',
      'MKDIR "dev" 0x1ed',
      'MKDIR "sys" 0x1ed',
      'MKDIR "tmp" 0x1ed',
      'MOUNT "proc" "proc" "proc" 0xe ""',
      'MOUNT "tmpfs" "dev" "tmpfs" 0x2 "mode=755,size=65536k"',
      'BIND "/dev/null" "dev/null" 0x4',
      'BIND "/dev/zero" "dev/zero" 0x4',
      'BIND "/dev/full" "dev/full" 0x4',
      'BIND "/dev/random" "dev/random" 0x4',
      'BIND "/dev/urandom" "dev/urandom" 0x4',
      'BIND "/dev/tty" "dev/tty" 0x4',
      'MKDIR "dev/pts" 0x1ed',
      'MOUNT "devpts" "dev/pts" "devpts" 0xa "newinstance,ptmxmode=0666,mode=0620,gid=5"',
      'SYMLINK "pts/ptmx" "dev/ptmx"',
      'SYMLINK "/proc/self/fd" "dev/fd"',
      'SYMLINK "/proc/self/fd/0" "dev/stdin"',
      'SYMLINK "/proc/self/fd/1" "dev/stdout"',
      'SYMLINK "/proc/self/fd/2" "dev/stderr"',
      'MKDIR "dev/shm" 0x1ed',
      'MOUNT "shm" "dev/shm" "tmpfs" 0xe "mode=1777,size=65536k"',
      'MKDIR "dev/mqueue" 0x1ed',
      'MOUNT "mqueue" "dev/mqueue" "mqueue" 0xe ""',
      'MOUNT "sysfs" "sys" "sysfs" 0xf ""',
      'MOUNT "tmpfs" "tmp" "tmpfs" 0x6 "mode=1777"',
      'MASK "proc/asound"',
      'MASK "proc/acpi"',
      'MASK "proc/kcore"',
      'MASK "proc/keys"',
      'MASK "proc/latency_stats"',
      'MASK "proc/timer_list"',
      'MASK "proc/timer_stats"',
      'MASK "proc/sched_debug"',
      'MASK "proc/scsi"',
      'MASK "sys/firmware"',
      'MASK "sys/devices/virtual/powercap"',
      'READONLY "proc/bus"',
      'READONLY "proc/fs"',
      'READONLY "proc/irq"',
      'READONLY "proc/sys"',
      'READONLY "proc/sysrq-trigger"',
      `PIVOT_ROOT "${STAGE}/root"`,
      'SETHOSTNAME "abc123def456"',
      'LOOPBACK_UP',
      'CAPS 0xa80425fb 0xa80425fb 0xa80425fb 0x0',
      'USER 0x0 0x0 []',
      'CHDIR "/"',
      'NO_NEW_PRIVS',
      'CLOSE_FDS',
      expect.stringMatching(/^SECCOMP 0x0 \(\d+ instructions\)$/),
      'EXEC "sh" [sh -c echo hi] [PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=abc123def456 HOME=/root] [/usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin] 0x7d 0x7f 0x7e',
    ]);
  });

  it('starts with HELLO version 1 and no flags', () => {
    const plan = planOf(rootfsRequest());
    expect(plan.version).toBe(1n);
    expect(plan.flags).toBe(0n);
  });

  it('gives docker default capabilities, none inheritable', () => {
    const [caps] = find(opsOf(rootfsRequest()), 'CAPS');
    expect(caps.args).toEqual({ bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS, inheritable: 0n });
  });
});

describe('the image', () => {
  it('--rootfs-rw binds the directory itself (writes reach it), no overlay', () => {
    const ops = opsOf(rootfsRequest({ image: { kind: 'rootfs', path: '/srv/root', readwrite: true } })).map(brief);
    expect(ops.slice(1, 6)).toEqual([
      'MOUNT "" "/" "" 0x44000 ""',
      `MOUNT "tmpfs" "${STAGE}" "tmpfs" 0x6 "mode=0755"`,
      `MKDIR "${STAGE}/root" 0x1ed`,
      `BIND "/srv/root" "${STAGE}/root" 0x1`,
      `SET_ROOT "${STAGE}/root"`,
    ]);
    expect(ops.some((o) => o.includes('overlay'))).toBe(false);
  });

  it('the host image shows each host dir through its own overlay, and host symlinks as symlinks', () => {
    const ops = opsOf(hostRequest()).map(brief);
    const at = ops.indexOf(`MKDIR "${STAGE}/root" 0x1ed`);
    expect(ops.slice(at + 1, at + 12)).toEqual([
      `MKDIR "${STAGE}/upper/usr" 0x1ed`,
      `MKDIR "${STAGE}/work/usr" 0x1ed`,
      `MKDIR "${STAGE}/root/usr" 0x1ed`,
      `MOUNT "overlay" "${STAGE}/root/usr" "overlay" 0x0 "lowerdir=/usr,upperdir=${STAGE}/upper/usr,workdir=${STAGE}/work/usr"`,
      `MKDIR "${STAGE}/upper/etc" 0x1ed`,
      `MKDIR "${STAGE}/work/etc" 0x1ed`,
      `MKDIR "${STAGE}/root/etc" 0x1ed`,
      `MOUNT "overlay" "${STAGE}/root/etc" "overlay" 0x0 "lowerdir=/etc,upperdir=${STAGE}/upper/etc,workdir=${STAGE}/work/etc"`,
      `SYMLINK "usr/bin" "${STAGE}/root/bin"`,
      `SET_ROOT "${STAGE}/root"`,
      'MKDIR "proc" 0x1ed',
    ]);
    // root's home exists in the host image, whose root is an empty tmpfs directory.
    expect(ops).toContain('MKDIR "root" 0x1c0');
  });

  it('escapes , : and \\ in overlay paths with a backslash', () => {
    const ops = opsOf(rootfsRequest({ image: { kind: 'rootfs', path: '/img/a:b,c\\d' } }));
    const overlay = find(ops, 'MOUNT').find((o) => o.args.fstype === 'overlay')!;
    expect(overlay.args.data).toBe(`lowerdir=/img/a\\:b\\,c\\\\d,upperdir=${STAGE}/upper,workdir=${STAGE}/work`);
  });

  it('escapes host dir names too', () => {
    const ops = opsOf(hostRequest({ image: { kind: 'host', hostDirs: [{ name: 'a,b:c', kind: 'dir' }] } }));
    const overlay = find(ops, 'MOUNT').find((o) => o.args.fstype === 'overlay')!;
    expect(overlay.args.data).toBe(`lowerdir=/a\\,b\\:c,upperdir=${STAGE}/upper/a\\,b\\:c,workdir=${STAGE}/work/a\\,b\\:c`);
    expect(overlay.args.target).toBe(`${STAGE}/root/a,b:c`);
  });

  it('drops trailing slashes of the stage', () => {
    const ops = opsOf(rootfsRequest({ stage: `${STAGE}//` }));
    expect(find(ops, 'PIVOT_ROOT')[0].args.newroot).toBe(`${STAGE}/root`);
  });
});

describe('namespaces', () => {
  it('always adds a new mount namespace', () => {
    const [clone] = find(opsOf(rootfsRequest({ share: { pid: true, net: true, ipc: true, uts: true, cgroup: true }, hostname: undefined })), 'CLONE');
    expect(clone.args.flags).toBe(NS.NEWNS);
  });

  it('--net host: no loopback op, the host /sys bound read-only', () => {
    const ops = opsOf(rootfsRequest({ share: { net: true } }));
    expect(find(ops, 'LOOPBACK_UP')).toEqual([]);
    expect(find(ops, 'MOUNT').some((o) => o.args.fstype === 'sysfs')).toBe(false);
    expect(find(ops, 'BIND').find((o) => o.args.source === '/sys')!.args).toEqual({ source: '/sys', target: 'sys', flags: 3n });
  });

  it('--ipc host: no /dev/mqueue', () => {
    const ops = opsOf(rootfsRequest({ share: { ipc: true } }));
    expect(find(ops, 'MOUNT').some((o) => o.args.fstype === 'mqueue')).toBe(false);
  });

  it('--uts host without a hostname: no SETHOSTNAME and no HOSTNAME variable', () => {
    const ops = opsOf(rootfsRequest({ share: { uts: true }, hostname: undefined }));
    expect(find(ops, 'SETHOSTNAME')).toEqual([]);
    expect((find(ops, 'EXEC')[0].args.env as string[]).some((e) => e.startsWith('HOSTNAME='))).toBe(false);
  });

  it('a new UTS namespace without a hostname keeps the inherited name', () => {
    expect(find(opsOf(rootfsRequest({ hostname: undefined })), 'SETHOSTNAME')).toEqual([]);
  });

  it('a time offset: a time namespace made before CLONE, offsets written for its children', () => {
    const ops = opsOf(rootfsRequest({ timeOffsets: { monotonic: 86400, boottime: -3 } })).map(brief);
    expect(ops.slice(0, 3)).toEqual([
      'UNSHARE 0x80',
      'WRITE_FILE "/proc/self/timens_offsets" "monotonic 86400 0\\nboottime -3 0\\n"',
      'CLONE 0x6e020000',
    ]);
  });

  it('one clock alone writes one line', () => {
    const ops = opsOf(rootfsRequest({ timeOffsets: { boottime: 5n } }));
    expect(find(ops, 'WRITE_FILE')[0].args.content).toBe('boottime 5 0\n');
  });
});

describe('--userns auto', () => {
  const userns = rootfsRequest({ newUserns: true, userns: { mode: 'auto' } });

  it('maps 65536 ids from the first free host id (524288) right after CLONE, then becomes its root', () => {
    const ops = opsOf(userns).map(brief);
    expect(ops.slice(0, 6)).toEqual([
      'CLONE 0x7e020000',
      'UID_MAP "0 524288 65536\\n"',
      'GID_MAP "0 524288 65536\\n"',
      // The rootfs, idmapped through the new maps (the overlay's lower, test/unit/idmap-plan.test.ts).
      'IDMAP_TREE "/var/lib/husk/rootfs/alpine" 0x0',
      // The host ids it still has are unmapped: files it made would fail with EOVERFLOW.
      'USER 0x0 0x0 []',
      'MOUNT "" "/" "" 0x44000 ""',
    ]);
    expect(ops.some((o) => o.startsWith('SETGROUPS'))).toBe(false);
  });

  it('is asked by USERNS alone too (NEWUSER added)', () => {
    const [clone] = find(opsOf({ ...userns, newUserns: false }), 'CLONE');
    expect(clone.args.flags).toBe(DEFAULT_NS | NS.NEWUSER);
  });

  it('mounts the overlay with userxattr and devpts without gid=5', () => {
    const mounts = find(opsOf(userns), 'MOUNT');
    expect(mounts.find((o) => o.args.fstype === 'overlay')!.args.data).toMatch(/,userxattr$/);
    expect(mounts.find((o) => o.args.fstype === 'devpts')!.args.data).toBe('newinstance,ptmxmode=0666,mode=0620');
  });

  it('host image overlays get userxattr too', () => {
    const mounts = find(opsOf(hostRequest({ newUserns: true, userns: { mode: 'auto' } })), 'MOUNT');
    const overlays = mounts.filter((o) => o.args.fstype === 'overlay');
    expect(overlays.length).toBe(2);
    for (const o of overlays) expect(o.args.data).toMatch(/,userxattr$/);
  });

  it('takes the size asked for', () => {
    const [map] = find(opsOf({ ...userns, userns: { mode: 'auto', size: 1000 } }), 'UID_MAP');
    expect(map.args.text).toBe('0 524288 1000\n');
  });
});

describe('the process', () => {
  const execOf = (over: Parameters<typeof rootfsRequest>[0]) => find(opsOf(rootfsRequest(over)), 'EXEC')[0].args;

  it('user env after the defaults; a later entry wins but keeps the first place', () => {
    const e = execOf({ env: ['A=1', 'HOME=/home/x', 'B=2', 'A=3', 'PATH=/opt/bin::/bin'] });
    expect(e.env).toEqual(['PATH=/opt/bin::/bin', 'HOSTNAME=abc123def456', 'HOME=/home/x', 'A=3', 'B=2']);
    expect(e.search).toEqual(['/opt/bin', '/bin']);
  });

  it('HOME is / for a user other than root', () => {
    const e = execOf({ user: { uid: 1000, gid: 1000 } });
    expect(e.env).toContain('HOME=/');
    const ops = opsOf(rootfsRequest({ user: { uid: 1000, gid: 100 } }));
    expect(find(ops, 'USER')[0].args).toEqual({ uid: 1000n, gid: 100n, groups: [] });
  });

  it('argv[0] is the path, searched along PATH by the launcher', () => {
    const e = execOf({ argv: ['/bin/echo', 'a', ''] });
    expect(e.path).toBe('/bin/echo');
    expect(e.argv).toEqual(['/bin/echo', 'a', '']);
  });

  it('the workdir is made after every mount, just before PIVOT_ROOT, and entered after USER', () => {
    const ops = opsOf(rootfsRequest({ workdir: '/tmp/work/dir' })).map(brief);
    const mkdir = ops.indexOf('MKDIR "tmp/work/dir" 0x1ed');
    expect(mkdir).toBeGreaterThan(ops.indexOf('MOUNT "tmpfs" "tmp" "tmpfs" 0x6 "mode=1777"'));
    expect(ops[mkdir + 1]).toMatch(/^PIVOT_ROOT/);
    expect(ops.indexOf('CHDIR "/tmp/work/dir"')).toBe(ops.indexOf('USER 0x0 0x0 []') + 1);
  });

  it('HELLO carries trace and die_with_parent', () => {
    expect(planOf(rootfsRequest({ trace: true })).flags).toBe(1n);
    expect(planOf(rootfsRequest({ dieWithParent: true })).flags).toBe(2n);
    expect(planOf(rootfsRequest({ trace: true, dieWithParent: true })).flags).toBe(3n);
  });

  it('ends with NO_NEW_PRIVS, CLOSE_FDS, SECCOMP (docker\'s default profile), EXEC', () => {
    const names = opsOf(rootfsRequest()).map((o) => o.name);
    expect(names.slice(-4)).toEqual(['NO_NEW_PRIVS', 'CLOSE_FDS', 'SECCOMP', 'EXEC']);
  });
});

describe('determinism', () => {
  it('the same request gives the same bytes, call after call', () => {
    for (const req of [rootfsRequest(), hostRequest({ env: ['X=1'], workdir: '/w', timeOffsets: { monotonic: 1 } })]) {
      const first = buildPlan(req);
      for (let i = 0; i < 50; i++) expect(Buffer.compare(buildPlan(req), first)).toBe(0);
    }
  });
});
