// cgroupLimitValues (husk inspect's HostConfig numbers): the core reads the flags as typed by
// the rules it enforced them with; the test oracle (test/reference/cgroup.ts) agrees.
import { beforeAll, describe, expect, it } from 'vitest';
import { limitValues } from '../../ts/core/cgroup.js';
import { parseInteger, parseNanoCpus, parseSize } from '../reference/cgroup.js';
import { inspectJson } from '../../ts/cli/inspect.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

function oracle(name: string, value: string): number | undefined {
  try {
    if (name === 'memory-swap' && value === '-1') return -1;
    if (name.startsWith('memory')) return Number(parseSize(name, value));
    if (name === 'cpus') return Number(parseNanoCpus(value, 65536n));
    return Number(parseInteger(name, value));
  } catch {
    return undefined;
  }
}

describe('cgroupLimitValues', () => {
  const values = ['64m', '1g', '1.5k', '0', '-1', '512', 'x', '', '9223372036854775807', '9223372036854775808', '0.5', '2.25', '1e3', '+7', '6M', '8 m'];
  const names = ['memory', 'memory-swap', 'memory-reservation', 'cpus', 'cpu-shares', 'pids-limit'];

  it('gives the reference\'s number for every flag and value, undefined where it refuses', () => {
    for (const name of names) {
      for (const value of values) {
        const got = limitValues([{ name, value }]).get(name);
        expect([name, value, got]).toEqual([name, value, oracle(name, value)]);
      }
    }
  });

  it('a flag without a number has none; all in one call', () => {
    const got = limitValues([{ name: 'memory', value: '64m' }, { name: 'cpuset-cpus', value: '0-1' }, { name: 'cpus', value: '1.5' }]);
    expect(Object.fromEntries(got)).toEqual({ memory: 64 << 20, 'cpuset-cpus': undefined, cpus: 1_500_000_000 });
  });

  it('inspect shows them as docker\'s HostConfig', () => {
    const rec = { id: 'a'.repeat(64), created: '', limits: [{ name: 'memory', value: '32m' }, { name: 'memory-swap', value: '-1' }, { name: 'cpus', value: '0.5' }, { name: 'pids-limit', value: '20' }, { name: 'cpu-shares', value: 'bad' }] };
    const h = (inspectJson(rec) as { HostConfig: Record<string, unknown> }).HostConfig;
    expect(h).toMatchObject({ Memory: 32 << 20, MemorySwap: -1, MemoryReservation: 0, NanoCpus: 500_000_000, CpuShares: 0, PidsLimit: 20 });
    expect((inspectJson({ id: 'b'.repeat(64), created: '' }) as { HostConfig: Record<string, unknown> }).HostConfig).toMatchObject({ Memory: 0, PidsLimit: null });
  });
});
