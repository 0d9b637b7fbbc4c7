// Resource flags → cgroup file writes, as docker validates them and runc writes them.
import { describe, expect, it } from 'vitest';
import { cgroupWrites } from '../../ts/core/cgroup.js';
import { CoreError } from '../../ts/core/build-plan.js';
import { cgroupWrites as reference, type CgroupHost } from '../reference/cgroup.js';

const v1: CgroupHost = { layout: 1, cpus: 2n, mems: 1n, flags: 0n };
const v2: CgroupHost = { layout: 2, cpus: 2n, mems: 1n, flags: 0n };

function writes(host: CgroupHost, flags: Record<string, string> | [string, string][]): string[] {
  const list = Array.isArray(flags) ? flags.map(([name, value]) => ({ name, value })) : Object.entries(flags).map(([name, value]) => ({ name, value }));
  const got = cgroupWrites(host, list);
  const ref = reference(host, list);
  expect(ref).toEqual({ status: 0, value: got });
  return got.map((w) => `${w.controller} ${w.file} ${w.value}`);
}

function refusal(host: CgroupHost, flags: Record<string, string>): string {
  const list = Object.entries(flags).map(([name, value]) => ({ name, value }));
  let reason = '';
  try {
    cgroupWrites(host, list);
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).status).toBe(2);
    reason = (err as CoreError).reason;
  }
  expect(reason).not.toBe('');
  expect(reference(host, list)).toEqual({ status: 2, reason });
  return reason;
}

describe('memory', () => {
  it('--memory 512m alone also limits swap to twice the memory (docker default)', () => {
    expect(writes(v1, { memory: '512m' })).toEqual([
      'memory memory.limit_in_bytes 536870912',
      'memory memory.memsw.limit_in_bytes 1073741824',
    ]);
    expect(writes(v2, { memory: '512m' })).toEqual(['memory memory.swap.max 536870912', 'memory memory.max 536870912']);
  });
  it('--memory-swap is memory plus swap on v1 and swap alone on v2', () => {
    expect(writes(v1, { memory: '1g', 'memory-swap': '3g' })).toEqual([
      'memory memory.limit_in_bytes 1073741824',
      'memory memory.memsw.limit_in_bytes 3221225472',
    ]);
    expect(writes(v2, { memory: '1g', 'memory-swap': '3g' })).toEqual(['memory memory.swap.max 2147483648', 'memory memory.max 1073741824']);
  });
  it('--memory-swap equal to --memory disables swap on v2 ("0")', () => {
    expect(writes(v2, { memory: '1g', 'memory-swap': '1g' })).toEqual(['memory memory.swap.max 0', 'memory memory.max 1073741824']);
  });
  it('--memory-swap -1 is unlimited, written before the limit on v1 as runc does', () => {
    expect(writes(v1, { memory: '64m', 'memory-swap': '-1' })).toEqual([
      'memory memory.memsw.limit_in_bytes -1',
      'memory memory.limit_in_bytes 67108864',
    ]);
    expect(writes(v2, { memory: '64m', 'memory-swap': '-1' })).toEqual(['memory memory.swap.max max', 'memory memory.max 67108864']);
  });
  it('--memory-reservation is the soft limit on v1 and memory.low on v2', () => {
    expect(writes(v1, { memory: '1g', 'memory-reservation': '512m' })).toContain('memory memory.soft_limit_in_bytes 536870912');
    expect(writes(v2, { 'memory-reservation': '6m' })).toEqual(['memory memory.low 6291456']);
  });
  it('without swap accounting no swap file is written', () => {
    expect(writes({ ...v1, flags: 2n }, { memory: '1g' })).toEqual(['memory memory.limit_in_bytes 1073741824']);
    expect(writes({ ...v2, flags: 2n }, { memory: '1g' })).toEqual(['memory memory.max 1073741824']);
  });
  it('sizes read as docker reads them', () => {
    const cases: [string, string][] = [
      ['6m', '6291456'], ['6291456', '6291456'], ['1.5g', '1610612736'], ['1 GiB', '1073741824'],
      ['7MB', '7340032'], ['8192k', '8388608'], ['.5g', '536870912'], ['10000000b', '10000000'],
    ];
    for (const [text, bytes] of cases) expect(writes(v2, { memory: text, 'memory-swap': '-1' })[1]).toBe(`memory memory.max ${bytes}`);
  });
  it('refuses what docker refuses, naming the flag', () => {
    expect(refusal(v1, { memory: '6291455' })).toBe('memory: Minimum memory limit allowed is 6MB');
    expect(refusal(v1, { memory: '1' })).toBe('memory: Minimum memory limit allowed is 6MB');
    expect(refusal(v1, { memory: '512x' })).toBe("memory: invalid suffix: 'x'");
    expect(refusal(v1, { memory: '' })).toBe("memory: invalid size: ''");
    expect(refusal(v1, { memory: '-1' })).toBe("memory: invalid size: '-1'");
    expect(refusal(v1, { memory: '8192p' })).toMatch(/^memory: invalid size: '8192p' \(larger than/);
    expect(refusal(v1, { memory: '1g', 'memory-swap': '512m' })).toBe('memory-swap: Minimum memoryswap limit should be larger than memory limit, see usage');
    expect(refusal(v1, { 'memory-swap': '1g' })).toBe('memory-swap: You should always set the Memory limit when using Memoryswap limit, see usage');
    expect(refusal(v1, { memory: '64m', 'memory-reservation': '128m' })).toBe('memory-reservation: Minimum memory limit can not be less than memory reservation limit, see usage');
    expect(refusal(v1, { 'memory-reservation': '1m' })).toBe('memory-reservation: Minimum memory reservation allowed is 6MB');
  });
});

describe('cpu', () => {
  it('--cpus 1.5 is quota 150000 over period 100000', () => {
    expect(writes(v1, { cpus: '1.5' })).toEqual(['cpu cpu.cfs_period_us 100000', 'cpu cpu.cfs_quota_us 150000']);
    expect(writes(v2, { cpus: '1.5' })).toEqual(['cpu cpu.max 150000 100000']);
    expect(writes(v2, { cpus: '0.01' })).toEqual(['cpu cpu.max 1000 100000']);
    expect(writes(v2, { cpus: '2' })).toEqual(['cpu cpu.max 200000 100000']);
  });
  it('--cpu-quota -1 is max on v2 and -1 on v1; a period alone keeps quota max', () => {
    expect(writes(v2, { 'cpu-quota': '-1' })).toEqual(['cpu cpu.max max 100000']);
    expect(writes(v1, { 'cpu-quota': '-1' })).toEqual(['cpu cpu.cfs_quota_us -1']);
    expect(writes(v2, { 'cpu-period': '50000' })).toEqual(['cpu cpu.max max 50000']);
    expect(writes(v2, { 'cpu-quota': '25000', 'cpu-period': '50000' })).toEqual(['cpu cpu.max 25000 50000']);
  });
  it('--cpu-shares → cpu.weight with runc 2025 conversion (1024 → 100)', () => {
    const weight = (shares: string) => writes(v2, { 'cpu-shares': shares })[0];
    expect(weight('2')).toBe('cpu cpu.weight 1');
    expect(weight('1024')).toBe('cpu cpu.weight 100');
    expect(weight('262144')).toBe('cpu cpu.weight 10000');
    expect(weight('512')).toBe('cpu cpu.weight 59');
    expect(writes(v1, { 'cpu-shares': '1024' })).toEqual(['cpu cpu.shares 1024']);
  });
  it('refuses the cpu values docker refuses', () => {
    expect(refusal(v1, { cpus: '3' })).toBe('cpus: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(refusal(v1, { cpus: '0.001' })).toBe('cpus: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(refusal(v1, { cpus: 'one' })).toBe('cpus: failed to parse one as a rational number');
    expect(refusal(v1, { cpus: '1.0000000001' })).toBe('cpus: value is too precise: 1.0000000001');
    expect(refusal(v1, { cpus: '1', 'cpu-period': '100000' })).toBe('cpus: Conflicting options: Nano CPUs and CPU Period cannot both be set');
    expect(refusal(v1, { cpus: '1', 'cpu-quota': '100000' })).toBe('cpus: Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    expect(refusal(v1, { 'cpu-period': '999' })).toBe('cpu-period: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    expect(refusal(v1, { 'cpu-period': '1000001' })).toMatch(/^cpu-period: /);
    expect(refusal(v1, { 'cpu-quota': '999' })).toBe('cpu-quota: CPU cfs quota can not be less than 1ms (i.e. 1000)');
    expect(refusal(v1, { 'cpu-quota': '-2' })).toBe('cpu-quota: must be -1 (unlimited) or at least 1000');
    expect(refusal(v1, { 'cpu-shares': '1' })).toMatch(/^cpu-shares: must be between 2 and 262144/);
    expect(refusal(v1, { 'cpu-shares': '262145' })).toMatch(/^cpu-shares: /);
    expect(refusal(v1, { 'cpu-shares': 'x' })).toBe('cpu-shares: invalid argument "x": invalid syntax');
    expect(refusal(v1, { 'cpu-shares': '9223372036854775808' })).toBe('cpu-shares: invalid argument "9223372036854775808": value out of range');
  });
});

describe('cpuset', () => {
  it('writes the lists as given, cpus then mems', () => {
    expect(writes(v1, { 'cpuset-cpus': '0-1', 'cpuset-mems': '0' })).toEqual(['cpuset cpuset.cpus 0-1', 'cpuset cpuset.mems 0']);
    expect(writes({ ...v2, cpus: 8n }, { 'cpuset-cpus': '0-2,4' })).toEqual(['cpuset cpuset.cpus 0-2,4']);
  });
  it('refuses bad syntax and ids the host lacks', () => {
    expect(refusal(v1, { 'cpuset-cpus': '1-0' })).toBe('cpuset-cpus: Invalid value 1-0 for cpuset cpus: invalid format: 1-0');
    expect(refusal(v1, { 'cpuset-cpus': '0,,1' })).toMatch(/invalid format/);
    expect(refusal(v1, { 'cpuset-cpus': '0-2' })).toBe('cpuset-cpus: Requested CPUs are not available - requested 0-2, available: 0-1');
    expect(refusal(v1, { 'cpuset-mems': '1' })).toBe('cpuset-mems: Requested memory nodes are not available - requested 1, available: 0');
  });
});

describe('pids and blkio/io', () => {
  it('--pids-limit ≤ 0 is max', () => {
    for (const v of ['0', '-1']) expect(writes(v2, { 'pids-limit': v })).toEqual(['pids pids.max max']);
    expect(writes(v1, { 'pids-limit': '1024' })).toEqual(['pids pids.max 1024']);
  });
  it('--blkio-weight → io.weight by runc conversion; BFQ hosts get the weight as is', () => {
    expect(writes(v2, { 'blkio-weight': '10' })).toEqual(['io io.weight 1']);
    expect(writes(v2, { 'blkio-weight': '500' })).toEqual(['io io.weight 4950']);
    expect(writes(v2, { 'blkio-weight': '1000' })).toEqual(['io io.weight 10000']);
    expect(writes({ ...v2, flags: 1n }, { 'blkio-weight': '500' })).toEqual(['io io.bfq.weight 500']);
    expect(writes(v1, { 'blkio-weight': '500' })).toEqual(['blkio blkio.weight 500']);
    expect(writes({ ...v1, flags: 1n }, { 'blkio-weight': '500' })).toEqual(['blkio blkio.bfq.weight 500']);
  });
  it('device throttles: one v1 write per entry, one io.max line per device on v2', () => {
    const flags: [string, string][] = [
      ['device-read-bps', '8:0:1mb'], ['device-write-iops', '8:0:100'], ['device-write-bps', '253:1:10m'], ['device-read-iops', '8:0:5'],
    ];
    expect(writes(v1, flags)).toEqual([
      'blkio blkio.throttle.read_bps_device 8:0 1048576',
      'blkio blkio.throttle.write_bps_device 253:1 10485760',
      'blkio blkio.throttle.read_iops_device 8:0 5',
      'blkio blkio.throttle.write_iops_device 8:0 100',
    ]);
    expect(writes(v2, flags)).toEqual(['io io.max 8:0 rbps=1048576 riops=5 wiops=100', 'io io.max 253:1 wbps=10485760']);
  });
  it('refuses the blkio and device values docker refuses', () => {
    expect(refusal(v1, { 'blkio-weight': '9' })).toBe('blkio-weight: Range of blkio weight is from 10 to 1000');
    expect(refusal(v1, { 'blkio-weight': '1001' })).toBe('blkio-weight: Range of blkio weight is from 10 to 1000');
    expect(refusal(v1, { 'device-read-bps': '8:0:fast' })).toMatch(/^device-read-bps: invalid rate for device: fast\. /);
    expect(refusal(v1, { 'device-read-iops': '8:0:1k' })).toMatch(/^device-read-iops: invalid rate for device: 1k\. /);
  });
});

describe('the whole request', () => {
  it('v1 writes follow runc subsystem order; v2 follows fs2.Manager.Set', () => {
    const flags = { 'cpu-shares': '512', memory: '1g', 'pids-limit': '100', 'cpuset-cpus': '0', 'blkio-weight': '100' };
    expect(writes(v1, flags).map((w) => w.split(' ')[0])).toEqual(['cpuset', 'memory', 'memory', 'cpu', 'pids', 'blkio']);
    expect(writes(v2, flags).map((w) => w.split(' ')[0])).toEqual(['pids', 'memory', 'memory', 'io', 'cpu', 'cpuset']);
  });
  it('no flags, no writes', () => {
    expect(writes(v1, {})).toEqual([]);
  });
  it('an unknown flag or a bad host is a malformed request (a bug in ts/)', () => {
    for (const [host, flags] of [[v1, [{ name: 'memory-swappiness', value: '1' }]], [{ ...v1, layout: 3 }, []], [{ ...v1, cpus: 0n }, []]] as const) {
      expect(() => cgroupWrites(host, flags)).toThrow(CoreError);
      expect(reference(host, [...flags]).status).toBe(1);
    }
  });
});
