// --userns auto: the core picks the lowest free host range of the size asked for, from
// 524288 (systemd's container range) up to 1879048192, around the ranges others hold.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, buildPlan } from '../../ts/core/build-plan.js';
import { DEFAULT_NS, NS, expectCoreBuilt, find, planOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const BASE = 524288;
const END = 1879048192;

function pick(size: number, used: [number, number][]): number | string {
  const req = rootfsRequest({
    newUserns: true,
    userns: { mode: 'auto', size },
    usedRanges: used.map(([start, n]) => ({ start, size: n })),
  });
  try {
    const [map] = find(planOf(req).ops, 'UID_MAP');
    const [inside, start, count] = String(map.args.text).trim().split(' ').map(Number);
    expect(inside).toBe(0);
    expect(count).toBe(size === 0 ? 65536 : size);
    return start;
  } catch (err) {
    if (err instanceof CoreError) return err.message;
    throw err;
  }
}

describe('picking a range', () => {
  const K = 65536;
  const table: [string, number, [number, number][], number | RegExp][] = [
    ['nothing used: the base', K, [], BASE],
    ['size 0 means 65536', 0, [], BASE],
    ['size 1', 1, [], BASE],
    ['the base taken: right after it', K, [[BASE, K]], BASE + K],
    ['ranges below the base do not matter', K, [[100000, K], [0, 1000]], BASE],
    ['a range reaching over the base pushes the start', K, [[100000, BASE]], 100000 + BASE],
    ['unsorted and overlapping ranges', K, [[BASE + 3 * K, K], [BASE, K], [BASE + K / 2, K], [BASE + K, 2 * K]], BASE + 4 * K],
    ['a hole that fits exactly is taken', K, [[BASE, K], [BASE + 2 * K, K]], BASE + K],
    ['a hole one id too small is skipped', K, [[BASE, K], [BASE + 2 * K - 1, K]], BASE + 3 * K - 1],
    ['empty used ranges are ignored', K, [[BASE, 0]], BASE],
    ['a range ending at 2^32 (all taken)', K, [[BASE, 2 ** 32 - BASE]], /no free range of 65536 ids/],
    ['the last range of the pool', K, [[BASE, END - BASE - K]], END - K],
    ['one id short of the end', K, [[BASE, END - BASE - K + 1]], /no free range/],
    ['the whole pool at once', END - BASE, [], BASE],
    ['more than the pool', END - BASE + 1, [], /^userns: size 1878523905 over 1878523904$/],
  ];

  it.each(table)('%s', (_name, size, used, expected) => {
    const got = pick(size, used);
    if (expected instanceof RegExp) expect(String(got)).toMatch(expected);
    else expect(got).toBe(expected);
  });

  it('the picked range never overlaps a used one (many random layouts)', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let t = 0; t < 300; t++) {
      const size = 1 + rand(200000);
      const used: [number, number][] = Array.from({ length: rand(12) }, () => [BASE - 50000 + rand(1_000_000), rand(300000)]);
      const start = pick(size, used);
      expect(typeof start).toBe('number');
      const s = start as number;
      expect(s).toBeGreaterThanOrEqual(BASE);
      for (const [u, n] of used) expect(n === 0 || s + size <= u || u + n <= s).toBe(true);
      // Lowest: one id lower either leaves the pool or overlaps.
      const lower = s - 1;
      const free = lower >= BASE && used.every(([u, n]) => n === 0 || lower + size <= u || u + n <= lower);
      expect(free).toBe(false);
    }
  });

  it('root in the container is the first host id of the range, for uid and gid', () => {
    const plan = buildPlan(rootfsRequest({ newUserns: true, userns: { mode: 'auto', size: 4096 } }));
    const text = Buffer.from(plan).toString('latin1');
    expect(text.match(/0 524288 4096\n/g)?.length).toBe(2);
  });
});

describe('root\'s --userns auto with a "containers" entry (as podman)', () => {
  function maps(subuid: string, subgid: string, size: number, used: [number, number][] = []): [string, string] | string {
    const req = rootfsRequest({
      newUserns: true,
      userns: { mode: 'auto', size, subuid, subgid },
      usedRanges: used.map(([start, n]) => ({ start, size: n })),
    });
    try {
      const ops = planOf(req).ops;
      return [String(find(ops, 'UID_MAP')[0].args.text).trim(), String(find(ops, 'GID_MAP')[0].args.text).trim()];
    } catch (err) {
      if (err instanceof CoreError) return err.message;
      throw err;
    }
  }

  it('takes its ids from the containers ranges, uid and gid apart, around ranges other containers hold', () => {
    expect(maps('containers:100000:65536\n', 'containers:200000:65536\n', 1000)).toEqual(['0 100000 1000', '0 200000 1000']);
    expect(maps('containers:100000:65536\n', 'containers:200000:65536\n', 1000, [[100000, 1000], [200000, 500]])).toEqual(['0 101000 1000', '0 200500 1000']);
    // A second range of containers' is used when the first is full.
    expect(maps('containers:100000:1000\ncontainers:500000:65536\n', 'containers:200000:65536\n', 2000)).toEqual(['0 500000 2000', '0 200000 2000']);
  });

  it('refuses, naming the file and the fix: one file without an entry, a range too small', () => {
    expect(maps('containers:100000:65536\n', 'alice:100000:65536\n', 1000)).toBe(
      'userns: auto: the subuid file has ranges for "containers" and the subgid file has none: add one (as root: usermod --add-subgids 100000-165535 containers), or remove both');
    expect(maps('containers:100000:100\n', 'containers:100000:65536\n', 1000)).toBe('userns: no free range of 1000 ids in the "containers" entry of the subuid file');
  });

  it('without it, husk\'s pool as before, avoiding every range of the files', () => {
    expect(maps('alice:524288:65536\n', '', 1000)).toEqual(['0 589824 1000', '0 589824 1000']);
  });
});
