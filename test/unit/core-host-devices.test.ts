// `husk run --privileged`: the host's device nodes (item 0x0337, assembly/plan/host-devices.ts)
// are bound into the container's /dev, minus what docker leaves out; without --privileged the
// item is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanRequest } from '../../ts/core/build-plan.js';
import { expectCoreBuilt, find, hostRequest, opsOf } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const PRIVILEGED: PlanRequest['capabilities'] = { privileged: true, bounding: (1n << 41n) - 1n, add: [], drop: [] };
const HOST: PlanRequest['hostDevices'] = [
  { path: 'console', kind: 'c' },
  { path: 'dri/card0', kind: 'c' },
  { path: 'fuse', kind: 'c' },
  { path: 'input/event0', kind: 'c' },
  { path: 'input/event1', kind: 'c' },
  { path: 'loop-control', kind: 'c' },
  { path: 'null', kind: 'c' },
  { path: 'ptmx', kind: 'c' },
  { path: 'pts/0', kind: 'c' },
  { path: 'pts/ptmx', kind: 'c' },
  { path: '.udev/x', kind: 'c' },
  { path: 'tty', kind: 'c' },
  { path: 'tty0', kind: 'c' },
  { path: 'vda', kind: 'b' },
];

const binds = (req: PlanRequest) => find(opsOf(req), 'BIND').map((o) => `${o.args.source} ${o.args.target}`);

describe('buildPlan: --privileged gives the host devices', () => {
  it('binds each host node at its path under /dev, after the defaults, leaving out what docker leaves out', () => {
    const ops = opsOf(hostRequest({ capabilities: PRIVILEGED, hostDevices: HOST }));
    const all = find(ops, 'BIND').map((o) => `${o.args.source} ${o.args.target}`);
    const fromHost = all.filter((b) => b.startsWith('/dev/'));
    expect(fromHost).toEqual([
      ...['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((n) => `/dev/${n} dev/${n}`),
      '/dev/dri/card0 dev/dri/card0',
      '/dev/fuse dev/fuse',
      '/dev/input/event0 dev/input/event0',
      '/dev/input/event1 dev/input/event1',
      '/dev/loop-control dev/loop-control',
      '/dev/tty0 dev/tty0',
      '/dev/vda dev/vda',
    ]);
    // Parents made once, before their nodes.
    const mkdirs = find(ops, 'MKDIR').map((o) => o.args.path);
    expect(mkdirs.filter((p) => p === 'dev/input')).toHaveLength(1);
    expect(mkdirs).toContain('dev/dri');
    // The container's own devpts and ptmx link stay.
    expect(find(ops, 'SYMLINK').map((o) => `${o.args.target} ${o.args.linkpath}`)).toContain('pts/ptmx dev/ptmx');
  });

  it('a --device at the same path wins over the host node', () => {
    const fuse = { host: '/dev/loop-control', container: '/dev/fuse', perms: 'rwm', kind: 'c' as const, major: 10, minor: 237 };
    const all = binds(hostRequest({ capabilities: PRIVILEGED, hostDevices: HOST, devices: [fuse] }));
    expect(all.filter((b) => b.endsWith(' dev/fuse'))).toEqual(['/dev/loop-control dev/fuse']);
  });

  it('without --privileged: no host devices, and the item is refused', () => {
    expect(binds(hostRequest({})).filter((b) => b.includes('loop-control'))).toEqual([]);
    expect(() => opsOf(hostRequest({ hostDevices: HOST }))).toThrow(/host devices: given without --privileged/);
    expect(() => opsOf(hostRequest({ capabilities: PRIVILEGED, hostDevices: [{ path: '../etc/passwd', kind: 'c' }] }))).toThrow(/host device "\.\.\/etc\/passwd": not a path below \/dev/);
  });
});
