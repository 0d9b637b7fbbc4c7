// ts/ side of the cgroups: the facts the core is given (device numbers, CPU counts, the
// cpuset a new v1 directory inherits, a rootless user's delegated cgroup), the evidence read
// from CGROUP_FILE events, and the command lines of the lifecycle commands.
import type { Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { HuskError } from '../../ts/errors.js';
import { bytesText, cgroupEvidence, oomMessage } from '../../ts/cgroup/evidence.js';
import { countList, delegatedCgroup, deviceNumbers, FileProbe, inheritedCpuset, planCgroup, resolveLimits } from '../../ts/cgroup/request-facts.js';
import type { CgroupFacts } from '../../ts/cgroup/detect.js';
import { buildPlanAnswer } from '../../ts/core/build-plan.js';
import type { PlanCgroup } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt, find, rootfsRequest } from './core-helpers.js';

const blockDevice = (rdev: number) => (() => ({ isBlockDevice: () => true, rdev }) as unknown as Stats);

describe('facts for the core', () => {
  it('counts kernel lists', () => {
    expect(countList('0-1')).toBe(2);
    expect(countList('0-3,8,10-11')).toBe(7);
    expect(countList('0')).toBe(1);
  });

  it('turns a device path into MAJOR:MINOR, and refuses what is not a block device', () => {
    expect(deviceNumbers('/dev/vda', blockDevice((254 << 8) | 0))).toBe('254:0');
    // glibc's encoding of large minors: minor 0x12345 of major 259
    const rdev = (259 << 8) | 0x45 | (0x123 << 20);
    expect(deviceNumbers('/dev/nvme', blockDevice(rdev))).toBe('259:74565');
    expect(() => deviceNumbers('/dev/null', () => ({ isBlockDevice: () => false }) as unknown as Stats)).toThrow(/not a block device/);
    expect(resolveLimits([{ name: 'device-read-bps', value: '/dev/vda:1mb' }, { name: 'memory', value: '1g' }], blockDevice(8 << 8))).toEqual([
      { name: 'device-read-bps', value: '8:0:1mb' },
      { name: 'memory', value: '1g' },
    ]);
    expect(() => resolveLimits([{ name: 'device-write-iops', value: '/nope:5' }])).toThrow(/^--device-write-iops: \/nope: no such device/);
  });

  it('gives a new v1 cpuset directory what its deepest existing ancestor has', () => {
    const tree: Record<string, string> = { '/cg/cpuset.cpus': '0-7', '/cg/cpuset.mems': '0-1', '/cg/a/cpuset.cpus': '2-3', '/cg/a/cpuset.mems': '0' };
    expect(inheritedCpuset('/cg', 'a/b', (p) => tree[p] ?? '')).toEqual({ cpus: '2-3', mems: '0' });
    expect(inheritedCpuset('/cg', 'x', (p) => tree[p] ?? '')).toEqual({ cpus: '0-7', mems: '0-1' });
  });

  it("finds a rootless user's delegated cgroup: the highest ancestor of its own that it owns", () => {
    const owners: Record<string, number> = {
      '/sys/fs/cgroup/user.slice/cgroup.subtree_control': 0,
      '/sys/fs/cgroup/user.slice/user-1000.slice/cgroup.subtree_control': 0,
      '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.subtree_control': 1000,
      '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/cgroup.subtree_control': 1000,
      '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope/cgroup.subtree_control': 1000,
    };
    const stat = (p: string) => {
      if (!(p in owners)) throw new Error('ENOENT');
      return { uid: owners[p] };
    };
    const self = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope\n';
    expect(delegatedCgroup('/sys/fs/cgroup', self, 1000, stat)).toBe('user.slice/user-1000.slice/user@1000.service');
    expect(delegatedCgroup('/sys/fs/cgroup', self, 1001, stat)).toBeUndefined();
    expect(delegatedCgroup('/sys/fs/cgroup', '1:name=systemd:/\n', 1000, stat)).toBeUndefined();
  });

  it('a rootless user with nothing delegated: no cgroups, and limits refused naming why', () => {
    const v1: CgroupFacts = {
      layout: 'v1',
      hierarchies: [{ version: 1, mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] }],
      controllers: { memory: { version: 1, mountpoint: '/sys/fs/cgroup/memory' } },
    };
    // The facts go to the core, which decides: no cgroups without limits, a refusal with one.
    expectCoreBuilt();
    const plan = (cgroup: PlanCgroup) => buildPlanAnswer(rootfsRequest({ cgroup }));
    expect(plan(planCgroup(v1, { limits: [] }, { id: 'x', rootless: true, selfCgroup: () => '' })).summary.cgroupDirs).toEqual([]);
    expect(find(decodePlan(plan(planCgroup(v1, { limits: [] }, { id: 'x', rootless: true, selfCgroup: () => '' })).plan).ops, 'CGROUP_MKDIR')).toEqual([]);
    const refused = () => plan(planCgroup(v1, { limits: [{ name: 'memory', value: '1g' }] }, { id: 'x', rootless: true, selfCgroup: () => '' }));
    expect(refused).toThrow(/^--memory: husk cannot enforce limits without root here: cgroup v1 cannot be delegated/);
    expect(refused).toThrow(expect.objectContaining({ hint: 'Run as root, or on a cgroup v2 host with a delegated subtree.' }));
    const v2: CgroupFacts = { layout: 'v2', hierarchies: [{ version: 2, mountpoint: '/nonexistent-cg', root: '/', controllers: ['memory'] }], controllers: {}, unified: { version: 2, mountpoint: '/nonexistent-cg', root: '/', controllers: ['memory'] } };
    expect(() => plan(planCgroup(v2, { limits: [{ name: 'memory', value: '1g' }] }, { id: 'x', rootless: true, selfCgroup: () => '0::/a\n' }))).toThrow(/^--memory: husk cannot enforce limits without root here: no cgroup v2 subtree is delegated/);
    const none: CgroupFacts = { layout: 'none', hierarchies: [], controllers: {} };
    expect(() => plan(planCgroup(none, { limits: [{ name: 'pids-limit', value: '5' }] }, { id: 'x', rootless: false }))).toThrow(/^--pids-limit: this host has no cgroup filesystem/);
    expect(plan(planCgroup(none, { limits: [] }, { id: 'x', rootless: false })).summary.cgroupDirs).toEqual([]);
  });

  it('the parent: --cgroup-parent, else HUSK_CGROUP_PARENT, else husk', () => {
    const facts: CgroupFacts = { layout: 'v2', hierarchies: [{ version: 2, mountpoint: '/nonexistent-cg', root: '/', controllers: [] }], controllers: {} };
    expect(planCgroup(facts, { limits: [] }, { id: 'x', rootless: false })?.parent).toBe('husk');
    expect(planCgroup(facts, { limits: [] }, { id: 'x', rootless: false, defaultParent: 'husk-test-1' })?.parent).toBe('husk-test-1');
    expect(planCgroup(facts, { limits: [], cgroupParent: 'my/p' }, { id: 'x', rootless: false, defaultParent: 'husk-test-1' })?.parent).toBe('my/p');
  });
});

describe('OOM evidence', () => {
  it('reads v1 memory.oom_control and v2 memory.events, the limit and the peak', () => {
    const v1 = cgroupEvidence([
      { path: '/m/memory.oom_control', content: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n' },
      { path: '/m/memory.limit_in_bytes', content: '33554432\n' },
      { path: '/m/memory.max_usage_in_bytes', content: '33550000\n' },
      { path: '/p/pids.events', content: 'max 7\n' },
    ]);
    expect(v1).toEqual({ oomKills: 1, memoryLimit: 33554432, memoryPeak: 33550000, pidsLimitHits: 7 });
    const v2 = cgroupEvidence([
      { path: '/c/memory.events', content: 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 2\noom_group_kill 0\n' },
      { path: '/c/memory.max', content: 'max\n' },
    ]);
    expect(v2).toEqual({ oomKills: 2 });
    expect(cgroupEvidence([{ path: '/m/memory.limit_in_bytes', content: '9223372036854771712\n' }]).memoryLimit).toBeUndefined();
  });

  it('says it in one line, with the limit in binary units', () => {
    expect(oomMessage({ oomKills: 1, memoryLimit: 32 << 20 }, true)).toBe('container was OOM-killed (memory limit 32MiB)');
    expect(oomMessage({ oomKills: 1 }, false)).toBe('a process in the container was OOM-killed');
    expect(oomMessage({ oomKills: 0, memoryLimit: 1 }, true)).toBeUndefined();
    expect(bytesText(1536)).toBe('1.5KiB');
    expect(bytesText(23.5 * 2 ** 30)).toBe('23.5GiB');
    expect(bytesText(0)).toBe('0B');
  });
});

describe('command lines', () => {
  it('run takes the resource flags in order, with docker short forms, and -d --name --rm', () => {
    const c = parseArgs(['run', '-d', '--name', 'web', '--rm', '-m', '64m', '--cpus=1.5', '-c', '512', '--device-read-bps', '/dev/sda:1mb', '--cgroup-parent', '/my/parent/', 'host', 'sleep', '1']);
    if (c.name !== 'run') throw new Error(c.name);
    expect(c.flags.lifecycle).toEqual({ detach: true, name: 'web', autoRemove: true, init: false });
    expect(c.flags.resources).toEqual({
      limits: [
        { name: 'memory', value: '64m' },
        { name: 'cpus', value: '1.5' },
        { name: 'cpu-shares', value: '512' },
        { name: 'device-read-bps', value: '/dev/sda:1mb' },
      ],
      cgroupParent: 'my/parent',
    });
    expect(c.flags.argv).toEqual(['sleep', '1']);
  });

  it('refuses a device flag without a path, a bad name, an empty parent', () => {
    expect(() => parseArgs(['run', '--device-read-bps', '1mb', 'host', 'true'])).toThrow(/expected DEVICE_PATH:RATE/);
    expect(() => parseArgs(['run', '--name', '-x', 'host', 'true'])).toThrow(HuskError);
    expect(() => parseArgs(['run', '--cgroup-parent', '/', 'host', 'true'])).toThrow(/--cgroup-parent/);
  });

  it('parses ps, inspect, rm, pause, unpause, stats, top', () => {
    expect(parseArgs(['ps', '-aq'])).toMatchObject({ name: 'ps', all: true, quiet: true, format: 'table' });
    expect(parseArgs(['ps', '--format', 'json'])).toMatchObject({ name: 'ps', format: 'json' });
    expect(parseArgs(['inspect', 'a', 'b'])).toMatchObject({ name: 'inspect', targets: ['a', 'b'] });
    expect(parseArgs(['rm', '-f', 'a'])).toMatchObject({ name: 'rm', force: true, targets: ['a'] });
    expect(parseArgs(['pause', 'a'])).toMatchObject({ name: 'pause', targets: ['a'] });
    expect(parseArgs(['unpause', 'a'])).toMatchObject({ name: 'unpause', targets: ['a'] });
    expect(parseArgs(['stats', '--no-stream', '--format', 'json'])).toMatchObject({ name: 'stats', stream: false, format: 'json', targets: [] });
    expect(parseArgs(['top', '-L', 'a'])).toMatchObject({ name: 'top', threads: true, target: 'a' });
    expect(parseArgs(['--root', '/r', 'ps'])).toMatchObject({ global: { root: '/r' } });
    expect(parseArgs(['top', '--help'])).toEqual({ name: 'help', topic: 'top' });
    expect(() => parseArgs(['rm'])).toThrow(/requires CONTAINER/);
    expect(() => parseArgs(['top', 'a', 'b'])).toThrow(HuskError);
    expect(() => parseArgs(['ps', '--frob'])).toThrow(/unknown flag: --frob/);
    expect(() => parseArgs(['stats', '--format', 'yaml'])).toThrow(/--format/);
  });
});

describe('FileProbe', () => {
  it('reads a file afresh each time through the fd it keeps, and opens again what was replaced', async () => {
    const { mkdtempSync, writeFileSync, rmSync, unlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'husk-probe-'));
    const probe = new FileProbe();
    try {
      const file = join(dir, 'cpuset.cpus');
      expect(probe.read(file, 'none')).toBe('none');
      writeFileSync(file, '0-3\n');
      expect(probe.read(file, 'none')).toBe('0-3');
      writeFileSync(file, '0-1\n');
      expect(probe.read(file, 'none')).toBe('0-1');
      expect(probe.read(dir, 'a directory')).toBe('a directory');
      unlinkSync(file);
      writeFileSync(file, '2\n');
      // A regular file's old fd still reads the unlinked inode; sysfs fds of a removed
      // cgroup fail instead and are opened again. After close() everything is opened anew.
      probe.close();
      expect(probe.read(file, 'none')).toBe('2');
    } finally {
      probe.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
