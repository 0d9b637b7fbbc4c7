// uid/gid maps, as the kernel (user_namespaces(7)) and newuidmap(1) take them: every case is
// computed by the Wasm core and by the TypeScript reference, and both must agree.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { computeIdmap, encodeIdmapRequest, idmapComputeRaw, subidChunks, translateIds } from '../../ts/core/idmap.js';
import type { IdmapAnswer, IdmapSpec } from '../../ts/core/idmap.js';
import { computeIdmap as refCompute, translate as refTranslate } from '../reference/idmap.js';
import { concat, FrameWriter } from '../../ts/protocol/frames.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const alice = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };
const SUB = 'alice:100000:65536\n';

/** The Wasm answer (or its reason), after checking that the reference gives the same. */
function both(spec: IdmapSpec, used: { start: number; size: number }[] = []): IdmapAnswer | string {
  const ref = refCompute(spec, used);
  let got: IdmapAnswer | string;
  try {
    got = computeIdmap(spec, used);
  } catch (err) {
    if (!(err instanceof CoreError)) throw err;
    expect(err.status).toBe(2);
    got = err.reason;
  }
  expect(got).toEqual(ref.status === 0 ? ref.value : ref.reason);
  return got;
}

function maps(spec: IdmapSpec, used: { start: number; size: number }[] = []): [string, string] {
  const a = both(spec, used);
  if (typeof a === 'string') throw new Error(a);
  return [a.uidMap, a.gidMap];
}

describe('explicit maps (--uidmap / --gidmap, rootful)', () => {
  it('gives the lines as given, sorted by container id, for uid and gid alike', () => {
    expect(maps({ mode: 'maps', uidmap: ['1000:300000:1', '0:200000:1000'] })).toEqual([
      '0 200000 1000\n1000 300000 1\n',
      '0 200000 1000\n1000 300000 1\n',
    ]);
  });

  it('--gidmap alone serves uids too, and both can differ', () => {
    expect(maps({ mode: 'maps', gidmap: ['0:5000:10'] })).toEqual(['0 5000 10\n', '0 5000 10\n']);
    expect(maps({ mode: 'maps', uidmap: ['0:5000:10'], gidmap: ['0:7000:20'] })).toEqual(['0 5000 10\n', '0 7000 20\n']);
  });

  it('merges adjacent lines (both sides consecutive), not lines consecutive on one side only', () => {
    expect(maps({ mode: 'maps', uidmap: ['0:200000:1000', '1000:201000:5'] })[0]).toBe('0 200000 1005\n');
    expect(maps({ mode: 'maps', uidmap: ['0:200000:1000', '1000:300000:5'] })[0]).toBe('0 200000 1000\n1000 300000 5\n');
    expect(maps({ mode: 'maps', uidmap: ['0:200000:10', '20:200010:5'] })[0]).toBe('0 200000 10\n20 200010 5\n');
  });

  it('takes the edges: id 0, size 1, and a range ending at 4294967294 (the largest id)', () => {
    expect(maps({ mode: 'maps', uidmap: ['0:0:1'] })[0]).toBe('0 0 1\n');
    expect(maps({ mode: 'maps', uidmap: ['0:4294967294:1'] })[0]).toBe('0 4294967294 1\n');
    // Every id but the invalid one: the init namespace's own map.
    expect(maps({ mode: 'maps', uidmap: ['0:0:4294967295'] })[0]).toBe('0 0 4294967295\n');
  });

  it('takes 340 lines and refuses 341 (user_namespaces(7): at most 340 lines)', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `${i * 2}:${100000 + i * 2}:1`);
    expect(maps({ mode: 'maps', uidmap: lines(340) })[0].split('\n').length).toBe(341);
    expect(both({ mode: 'maps', uidmap: lines(341) })).toBe('uidmap: 341 lines after merging adjacent ranges (the kernel takes at most 340)');
    // 1000 adjacent lines merge into one.
    const adjacent = Array.from({ length: 1000 }, (_, i) => `${i}:${100000 + i}:1`);
    expect(maps({ mode: 'maps', uidmap: adjacent })[0]).toBe('0 100000 1000\n');
  });
});

describe('refusals name the flag and the line', () => {
  const table: [string, IdmapSpec, string][] = [
    ['overlap in the container ids', { mode: 'maps', uidmap: ['0:200000:1000', '10:300000:5'] },
      'uidmap: "0:200000:1000" and "10:300000:5" overlap in the container ids (10-14)'],
    ['overlap in the host ids', { mode: 'maps', uidmap: ['0:200000:1000', '2000:200999:5'] },
      'uidmap: "0:200000:1000" and "2000:200999:5" overlap in the host ids (200999-200999)'],
    ['the same line twice', { mode: 'maps', gidmap: ['0:1:1', '0:1:1'] }, 'gidmap: "0:1:1" and "0:1:1" overlap in the host ids (1-1)'],
    ['size 0', { mode: 'maps', uidmap: ['0:1000:0'] }, 'uidmap: "0:1000:0": size must be at least 1'],
    ['host ids past u32 (overflow)', { mode: 'maps', uidmap: ['0:4294967290:10'] },
      'uidmap: "0:4294967290:10": host ids 4294967290-4294967299 go past 4294967294 (the largest id)'],
    ['container ids reaching 4294967295', { mode: 'maps', uidmap: ['4294967294:0:2'] },
      'uidmap: "4294967294:0:2": container ids 4294967294-4294967295 go past 4294967294 (the largest id)'],
    ['one past the init namespace\'s map (0 0 4294967295)', { mode: 'maps', uidmap: ['1:1:4294967295'] },
      'uidmap: "1:1:4294967295": container ids 1-4294967295 go past 4294967294 (the largest id)'],
    ['a number over u32', { mode: 'maps', uidmap: ['0:4294967296:1'] },
      'uidmap: "0:4294967296:1": 4294967296 is out of range (ids and sizes are below 4294967295)'],
    ['two fields', { mode: 'maps', uidmap: ['0:1000'] }, 'uidmap: "0:1000": expected CONTAINER:HOST:SIZE (three decimal numbers)'],
    ['a sign', { mode: 'maps', gidmap: ['-1:1000:1'] }, 'gidmap: "-1:1000:1": expected CONTAINER:HOST:SIZE (three decimal numbers)'],
    ['podman\'s rootless +/@ forms are not taken', { mode: 'maps', uidmap: ['+1000:@1000:1'] },
      'uidmap: "+1000:@1000:1": expected CONTAINER:HOST:SIZE (three decimal numbers)'],
    ['--uidmap with --userns auto', { mode: 'auto', uidmap: ['0:1:1'] }, 'uidmap: cannot be combined with --userns auto'],
    ['--gidmap with --userns keep-id', { mode: 'keep-id', gidmap: ['0:1:1'] }, 'gidmap: cannot be combined with --userns keep-id'],
    ['auto over the pool', { mode: 'auto', size: 2 ** 31 }, 'userns: size 2147483648 over 1878523904'],
  ];
  it.each(table)('%s', (_name, spec, reason) => {
    expect(both(spec)).toBe(reason);
  });

  it('a refusal is a CoreError with status 2 and the field', () => {
    try {
      computeIdmap({ mode: 'maps', uidmap: ['x'] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CoreError);
      expect((err as CoreError).field).toBe('uidmap');
      expect((err as CoreError).code).toBe('invalid-value');
    }
  });
});

describe('rootless: newuidmap\'s rules', () => {
  it('a caller may map its own id alone: written directly, setgroups deny', () => {
    const a = both({ mode: 'maps', uidmap: ['0:1000:1'], caller: alice }) as IdmapAnswer;
    expect(a).toMatchObject({ uidMap: '0 1000 1\n', gidMap: '0 1000 1\n', helper: false, setgroups: 'deny' });
    expect(a.newuidmapArgs).toBeUndefined();
  });

  it('subordinate ranges need newuidmap/newgidmap: the arguments after the pid', () => {
    const a = both({ mode: 'maps', uidmap: ['0:1000:1', '1:100000:65536'], caller: alice, subuid: SUB, subgid: SUB }) as IdmapAnswer;
    expect(a.helper).toBe(true);
    expect(a.setgroups).toBe('allow'); // newgidmap leaves it alone once a subgid range is mapped
    expect(a.newuidmapArgs).toEqual(['0', '1000', '1', '1', '100000', '65536']);
    expect(a.newgidmapArgs).toEqual(a.newuidmapArgs);
  });

  it('its own id is never merged with a subordinate line (newuidmap would refuse the merged line)', () => {
    const a = both({ mode: 'maps', uidmap: ['0:99999:1', '1:100000:10'], gidmap: ['0:1000:1'], caller: { ...alice, uid: 99999 }, subuid: SUB, subgid: SUB }) as IdmapAnswer;
    expect(a.uidMap).toBe('0 99999 1\n1 100000 10\n');
  });

  it('owners match by name or by uid, and consecutive ranges join (shadow\'s have_range)', () => {
    const subuid = 'bob:1:100\n1000:200000:10\nalice:200010:10\n';
    const a = both({ mode: 'maps', uidmap: ['0:200000:20'], gidmap: ['0:1000:1'], caller: alice, subuid }) as IdmapAnswer;
    expect(a.uidMap).toBe('0 200000 20\n');
    expect(a.setgroups).toBe('deny'); // only its own gid
  });

  it('a range outside its subordinate ids is refused, naming the files', () => {
    expect(both({ mode: 'maps', uidmap: ['0:1000:1', '1:300000:10'], caller: alice, subuid: SUB, subgid: SUB })).toBe(
      'uidmap: "1:300000:10": host ids 300000-300009 are not yours: not in your subordinate uids (the subuid file) and not your own uid 1000');
    expect(both({ mode: 'maps', uidmap: ['0:100000:65537'], caller: alice, subuid: SUB, subgid: SUB })).toMatch(/host ids 100000-165536 are not yours/);
    expect(both({ mode: 'maps', uidmap: ['0:1000:2'], caller: alice })).toMatch(/host ids 1000-1001 are not yours/);
    // --uidmap alone applies to gids too, checked against the subgid file.
    expect(both({ mode: 'maps', uidmap: ['0:100000:10'], caller: alice, subuid: SUB, subgid: '' })).toBe(
      'gidmap: "0:100000:10": host ids 100000-100009 are not yours: not in your subordinate gids (the subgid file) and not your own gid 1000 (--uidmap applies to gids too when --gidmap is not given)');
  });

  it('ignores what shadow ignores: bad lines, comments, a count of 0, CR line ends', () => {
    const subuid = '# comment\nalice:5:0\nalice:x:10\nalice:1:2:3\n:1:1\nalice:100000:10\r\nalice: 7:1\nalice:300000:10\n';
    expect(both({ mode: 'maps', uidmap: ['0:300000:10'], gidmap: ['0:1000:1'], caller: alice, subuid })).toMatchObject({ uidMap: '0 300000 10\n' });
    expect(both({ mode: 'maps', uidmap: ['0:100000:10'], gidmap: ['0:1000:1'], caller: alice, subuid })).toMatch(/not yours/);
  });

  it('a 10k-line subuid file crosses in one call', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `user${i}:${100000 + i * 65536}:65536`);
    lines.push('alice:900000000:65536');
    const subuid = lines.join('\n');
    expect(subidChunks(subuid).length).toBeGreaterThan(1);
    const a = both({ mode: 'auto', caller: alice, subuid, subgid: subuid }) as IdmapAnswer;
    expect(a.uidMap).toBe('0 900000000 65536\n65536 1000 1\n');
  });
});

describe('--userns auto', () => {
  it('rootful: the lowest free range of the pool, around used ranges and every subordinate range', () => {
    expect(maps({ mode: 'auto', size: 10 }, [{ start: 524288, size: 5 }])[0]).toBe('0 524293 10\n');
    const subuid = 'bob:524288:65536\n';
    expect(maps({ mode: 'auto', subuid })[0]).toBe('0 589824 65536\n');
    expect(maps({ mode: 'auto', subgid: subuid })[1]).toBe('0 589824 65536\n');
  });

  it('rootless: inside the caller\'s own ranges, around used ones; the caller\'s own ids right after (its state directory is 0700)', () => {
    const spec: IdmapSpec = { mode: 'auto', size: 1000, caller: alice, subuid: SUB, subgid: 'alice:200000:65536' };
    expect(maps(spec, [{ start: 100000, size: 500 }])).toEqual(['0 100500 1000\n1000 1000 1\n', '0 200000 1000\n1000 1000 1\n']);
    expect(both({ ...spec, size: 65536 }, [{ start: 100000, size: 1 }])).toBe('userns: no free range of 65536 ids in your subordinate uids (the subuid file)');
  });
});

describe('--userns keep-id', () => {
  it('rootless: the caller keeps its id; ids below and above come from its subordinate ranges (podman)', () => {
    expect(maps({ mode: 'keep-id', caller: alice, subuid: SUB, subgid: SUB })[0]).toBe('0 100000 1000\n1000 1000 1\n1001 101000 64536\n');
  });

  it('rootless without subordinate ids: only its own id, written directly with setgroups deny', () => {
    expect(both({ mode: 'keep-id', caller: alice })).toMatchObject({ uidMap: '1000 1000 1\n', helper: false, setgroups: 'deny' });
  });

  it('root keeps 0: `0 0 1`, the other ids from root\'s subordinate ranges, else a free pool range', () => {
    expect(maps({ mode: 'keep-id' })).toEqual(['0 0 1\n1 524288 65536\n', '0 0 1\n1 524288 65536\n']);
    const root = { rootless: false, uid: 0, gid: 0, name: 'root' };
    expect(maps({ mode: 'keep-id', caller: root, subuid: 'root:100000:65536\n' })).toEqual(['0 0 1\n1 100000 65536\n', '0 0 1\n1 524288 65536\n']);
    // root's own range starting at 1 merges with 0 0 1 (rootful maps merge freely)
    expect(maps({ mode: 'keep-id', caller: root, subuid: 'root:1:9\n' })[0]).toBe('0 0 10\n');
  });
});

describe('translation, both ways', () => {
  const m = { uid: [{ inside: 0, outside: 200000, count: 1000 }, { inside: 1000, outside: 300000, count: 1 }], gid: [{ inside: 0, outside: 5000, count: 10 }] };

  it('container → host and host → container, 4294967295 for an id the map leaves out', () => {
    const q = [
      { kind: 'uid' as const, direction: 'to-host' as const, ids: [0, 999, 1000, 1001, 4294967295] },
      { kind: 'uid' as const, direction: 'to-container' as const, ids: [200000, 300000, 199999, 0] },
      { kind: 'gid' as const, direction: 'to-host' as const, ids: [9, 10] },
    ];
    const got = translateIds(m, q);
    expect(got).toEqual([[200000, 200999, 300000, 4294967295, 4294967295], [0, 1000, 4294967295, 4294967295], [5009, 4294967295]]);
    expect(refTranslate(m, q)).toEqual({ status: 0, value: got });
  });

  it('batches of more than 1024 ids in one call', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => i);
    const [out] = translateIds(m, [{ kind: 'uid', direction: 'to-host', ids }]);
    expect(out.length).toBe(5000);
    expect(out[1000]).toBe(300000);
    expect(out[4999]).toBe(4294967295);
  });

  it('refuses maps that break the kernel\'s rules', () => {
    expect(() => translateIds({ uid: [{ inside: 0, outside: 0, count: 0 }], gid: [] }, [])).toThrow(/uidmap: "0 0 0": size must be at least 1/);
  });
});

describe('malformed requests are status 1', () => {
  const w = new FrameWriter();
  const table: [string, Uint8Array, RegExp][] = [
    ['no USERNS', new Uint8Array(0), /no USERNS frame/],
    ['USERNS twice', concat([w.u64(1).u64(0).frame(0x010a), w.u64(1).u64(0).frame(0x010a)]), /given twice/],
    ['an unknown mode', w.u64(9).u64(0).frame(0x010a), /mode: unknown value 9/],
    ['a size for keep-id', w.u64(2).u64(5).frame(0x010a), /only auto takes a size/],
    ['maps mode without IDMAP', w.u64(3).u64(0).frame(0x010a), /without IDMAP frames/],
    ['an unknown map kind', concat([w.u64(3).u64(0).frame(0x010a), w.u64(3).str('0:1:1').frame(0x0113)]), /kind: unknown value 3/],
    ['rootless 2', concat([w.u64(1).u64(0).frame(0x010a), w.u64(2).u64(0).u64(0).str('').frame(0x0110)]), /rootless: unknown value 2/],
    ['a plan item', concat([w.u64(1).u64(0).frame(0x010a), w.str('/').frame(0x0103)]), /unknown type 0x103/],
  ];
  it.each(table)('%s', (_name, bytes, reason) => {
    const r = idmapComputeRaw(bytes);
    expect(r.status).toBe(1);
    expect(new TextDecoder().decode(r.bytes)).toMatch(reason);
  });

  it('the wrapper encodes a valid request', () => {
    expect(idmapComputeRaw(encodeIdmapRequest({ mode: 'auto' })).status).toBe(0);
  });
});
