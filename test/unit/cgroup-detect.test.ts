import { describe, expect, it } from 'vitest';
import { parseCgroupFacts } from '../../ts/cgroup/detect.js';
import { enforcement } from '../../ts/cgroup/enforce.js';

const line = (id: number, mp: string, type: string, opts: string) => `${id} 1 0:${id} / ${mp} rw,relatime shared:${id} - ${type} ${type} ${opts}`;

// This machine's layout: v1 controllers (cpu and cpuacct apart), a named systemd hierarchy,
// and a cgroup2 mount with only hugetlb.
const HYBRID = [
  '23 0 0:21 / / rw - ext4 /dev/vda rw',
  line(31, '/sys/fs/cgroup', 'tmpfs', 'rw,mode=755'),
  line(32, '/sys/fs/cgroup/cpu', 'cgroup', 'rw,cpu'),
  line(33, '/sys/fs/cgroup/cpuacct', 'cgroup', 'rw,cpuacct'),
  line(34, '/sys/fs/cgroup/cpuset', 'cgroup', 'rw,cpuset'),
  line(35, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
  line(39, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids'),
  line(38, '/sys/fs/cgroup/blkio', 'cgroup', 'rw,blkio'),
  line(40, '/sys/fs/cgroup/systemd', 'cgroup', 'rw,xattr,name=systemd'),
  line(41, '/sys/fs/cgroup/unified', 'cgroup2', 'rw,nsdelegate'),
].join('\n');

const PURE_V2 = [line(30, '/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate,memory_recursiveprot')].join('\n');

// Controllers split between the two: memory and pids on v2, cpu on v1.
const SPLIT = [line(32, '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'), line(41, '/sys/fs/cgroup/unified', 'cgroup2', 'rw')].join('\n');

describe('cgroup layout detection', () => {
  it('sees this machine as hybrid with each controller where it is mounted', () => {
    const f = parseCgroupFacts(HYBRID, () => 'hugetlb\n');
    expect(f.layout).toBe('hybrid');
    expect(f.controllers.memory).toEqual({ version: 1, mountpoint: '/sys/fs/cgroup/memory' });
    expect(f.controllers.hugetlb).toEqual({ version: 2, mountpoint: '/sys/fs/cgroup/unified' });
    expect(f.controllers['name=systemd']).toBeUndefined();
    expect(f.unified?.mountpoint).toBe('/sys/fs/cgroup/unified');
  });

  it('sees a pure v2 host and its controllers from cgroup.controllers', () => {
    const f = parseCgroupFacts(PURE_V2, (m) => (m === '/sys/fs/cgroup' ? 'cpuset cpu io memory hugetlb pids rdma misc\n' : ''));
    expect(f.layout).toBe('v2');
    expect(Object.keys(f.controllers).sort()).toEqual(['cpu', 'cpuset', 'hugetlb', 'io', 'memory', 'misc', 'pids', 'rdma']);
    expect(enforcement(f).every((e) => e.rootful && e.rootless)).toBe(true);
  });

  it('describes a host whose controllers are split between v1 and v2, controller by controller', () => {
    const f = parseCgroupFacts(SPLIT, () => 'memory pids io');
    expect(f.layout).toBe('hybrid');
    expect(f.controllers.cpu.version).toBe(1);
    expect(f.controllers.memory.version).toBe(2);
    const byFlag = Object.fromEntries(enforcement(f).map((e) => [e.flag, e]));
    expect(byFlag['--memory']).toMatchObject({ controller: 'memory', version: 2, rootful: true, rootless: true });
    expect(byFlag['--cpus']).toMatchObject({ controller: 'cpu', version: 1, rootful: true, rootless: false });
    expect(byFlag['--blkio-weight']).toMatchObject({ controller: 'io', version: 2 });
    expect(byFlag['--cpuset-cpus']).toMatchObject({ rootful: false });
  });

  it('sees a pure v1 host, where nothing can be delegated to a user', () => {
    const f = parseCgroupFacts(HYBRID.split('\n').filter((l) => !l.includes('cgroup2')).join('\n'), () => '');
    expect(f.layout).toBe('v1');
    expect(enforcement(f).some((e) => e.rootless)).toBe(false);
  });

  it('unescapes mount points with spaces and reads no cgroup on a host without any', () => {
    const f = parseCgroupFacts(line(50, '/mnt/my\\040cgroups', 'cgroup', 'rw,pids'), () => '');
    expect(f.hierarchies[0].mountpoint).toBe('/mnt/my cgroups');
    expect(parseCgroupFacts('23 0 0:21 / / rw - ext4 /dev/vda rw', () => '').layout).toBe('none');
  });
});

describe('example layouts for husk plan --host-cgroups', () => {
  it('describes a typical pure v2, pure v1 and hybrid host', async () => {
    const { exampleCgroupFacts } = await import('../../ts/cgroup/detect.js');
    const v2 = exampleCgroupFacts('v2');
    expect(v2.layout).toBe('v2');
    expect(v2.controllers.memory).toEqual({ version: 2, mountpoint: '/sys/fs/cgroup' });
    const v1 = exampleCgroupFacts('v1');
    expect(v1.layout).toBe('v1');
    expect(v1.controllers.cpu).toEqual({ version: 1, mountpoint: '/sys/fs/cgroup/cpu,cpuacct' });
    expect(v1.unified).toBeUndefined();
    const hybrid = exampleCgroupFacts('hybrid');
    expect(hybrid.layout).toBe('hybrid');
    expect(hybrid.unified?.mountpoint).toBe('/sys/fs/cgroup/unified');
    expect(hybrid.controllers.memory.version).toBe(1);
  });
});
