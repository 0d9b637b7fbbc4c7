// joinPlan (docs/core-abi.md "joinPlan"): the plans of `husk exec` and `husk enter` — which
// namespaces are entered where (pid by the launcher before CLONE, the rest by the new
// process after it joined the cgroups), what the process becomes, and what is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { joinPlan } from '../../ts/core/join-plan.js';
import { pinPlan } from '../../ts/core/pin-plan.js';
import type { JoinRequest } from '../../ts/core/join-plan.js';
import { CoreError } from '../../ts/core/build-plan.js';
import { CLONE_FLAG } from '../../ts/protocol/ops.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const hybrid = [
  { version: 1 as const, mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
  { version: 2 as const, mountpoint: '/sys/fs/cgroup/unified', controllers: [] },
];
const all = CLONE_FLAG.NEWNS | CLONE_FLAG.NEWUTS | CLONE_FLAG.NEWIPC | CLONE_FLAG.NEWPID | CLONE_FLAG.NEWNET | CLONE_FLAG.NEWCGROUP;
const exec: JoinRequest = {
  mode: 'exec',
  target: { pid: 4242, startTime: '777' },
  differ: all,
  hierarchies: hybrid,
  cgroupDirs: ['/sys/fs/cgroup/memory/husk/c1', '/sys/fs/cgroup/unified/husk/c1'],
  hostname: 'box',
  env: ['A=1', 'PATH=/bin'],
  workdir: '/srv',
  user: { uid: 1000, primaryGid: 100 },
  argv: ['sh', '-c', 'true'],
};

const ops = (req: JoinRequest) => decodePlan(joinPlan(req)).ops.map((o) => [o.name, ...Object.values(o.args)]);
const refusal = (req: JoinRequest) => {
  try {
    joinPlan(req);
  } catch (err) {
    return err as CoreError;
  }
  throw new Error('not refused');
};

describe('joinPlan', () => {
  it('exec: pid before CLONE, the cgroups, then the other namespaces, the user and docker capabilities', () => {
    const list = ops(exec);
    expect(list.slice(0, 7)).toEqual([
      ['TARGET', 4242n, 777n],
      ['SETNS', CLONE_FLAG.NEWPID],
      ['CGROUP_INTO', '/sys/fs/cgroup/unified/husk/c1'],
      ['CLONE', 0n],
      ['CGROUP_JOIN', '/sys/fs/cgroup/memory/husk/c1/tasks'],
      ['SETNS', all & ~CLONE_FLAG.NEWPID],
      ['CAPS', 0xa80425fbn, 0xa80425fbn, 0xa80425fbn, 0n],
    ]);
    expect(list.slice(7, 11)).toEqual([['USER', 1000n, 100n, []], ['CHDIR', '/srv'], ['NO_NEW_PRIVS'], ['CLOSE_FDS']]);
    const last = list[list.length - 1];
    expect(last.slice(0, 3)).toEqual(['EXEC', 'sh', ['sh', '-c', 'true']]);
    expect(last[3]).toEqual(['PATH=/bin', 'HOSTNAME=box', 'HOME=/', 'A=1']);
  });

  it('exec --privileged: the capabilities husk holds, no no_new_privs; a shared pid namespace is not entered', () => {
    const list = ops({ ...exec, privileged: true, bounding: 0xffn, differ: CLONE_FLAG.NEWNS });
    expect(list.map((o) => o[0])).not.toContain('NO_NEW_PRIVS');
    expect(list).toContainEqual(['CAPS', 0xffn, 0xffn, 0xffn, 0n]);
    expect(list.filter((o) => o[0] === 'SETNS')).toEqual([['SETNS', CLONE_FLAG.NEWNS]]);
  });

  it('enter ns:NAME: pid by the launcher, the user namespace first, only what was picked', () => {
    const files = [
      { nstype: CLONE_FLAG.NEWNET, path: '/run/husk/ns/a/net' },
      { nstype: CLONE_FLAG.NEWUSER, path: '/run/husk/ns/a/user' },
      { nstype: CLONE_FLAG.NEWPID, path: '/run/husk/ns/a/pid' },
      { nstype: CLONE_FLAG.NEWUTS, path: '/run/husk/ns/a/uts' },
    ];
    const list = ops({ mode: 'enter', nsFiles: files, env: ['TERM=x'] });
    expect(list.slice(0, 5)).toEqual([
      ['SETNS_FILE', '/run/husk/ns/a/pid', CLONE_FLAG.NEWPID],
      ['CLONE', 0n],
      ['SETNS_FILE', '/run/husk/ns/a/user', CLONE_FLAG.NEWUSER],
      ['SETNS_FILE', '/run/husk/ns/a/net', CLONE_FLAG.NEWNET],
      ['SETNS_FILE', '/run/husk/ns/a/uts', CLONE_FLAG.NEWUTS],
    ]);
    expect(list[list.length - 1].slice(0, 4)).toEqual(['EXEC', 'sh', ['sh'], ['TERM=x', `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`]]);
    const picked = ops({ mode: 'enter', nsFiles: files, pick: CLONE_FLAG.NEWNET, argv: ['ip', 'a'] });
    expect(picked.filter((o) => o[0] === 'SETNS_FILE')).toEqual([['SETNS_FILE', '/run/husk/ns/a/net', CLONE_FLAG.NEWNET]]);
  });

  it('enter a container as a user: its user namespace too, first (with pid by the launcher); root enters only what was picked', () => {
    const target = { mode: 'enter' as const, target: { pid: 4242, startTime: '777' }, differ: all | CLONE_FLAG.NEWUSER };
    const setns = (req: JoinRequest) => ops(req).filter((o) => o[0] === 'SETNS' || o[0] === 'CLONE');
    expect(setns({ ...target, rootless: true, pick: CLONE_FLAG.NEWNET })).toEqual([['CLONE', 0n], ['SETNS', CLONE_FLAG.NEWNET | CLONE_FLAG.NEWUSER]]);
    expect(setns({ ...target, rootless: true, pick: CLONE_FLAG.NEWPID | CLONE_FLAG.NEWNS })).toEqual([['SETNS', CLONE_FLAG.NEWPID | CLONE_FLAG.NEWUSER], ['CLONE', 0n], ['SETNS', CLONE_FLAG.NEWNS]]);
    expect(setns({ ...target, pick: CLONE_FLAG.NEWNET })).toEqual([['CLONE', 0n], ['SETNS', CLONE_FLAG.NEWNET]]);
    // A container without a user namespace of its own: nothing added.
    expect(setns({ ...target, differ: all, rootless: true, pick: CLONE_FLAG.NEWNET })).toEqual([['CLONE', 0n], ['SETNS', CLONE_FLAG.NEWNET]]);
  });

  it('refuses a directory outside the cgroup mounts, a pid without a start time, and exec without a command', () => {
    expect(refusal({ ...exec, cgroupDirs: ['/etc/husk'] }).message).toBe('cgroup /etc/husk: not below a cgroup mount of this host');
    expect(refusal({ ...exec, target: { pid: 4242, startTime: '' } }).message).toMatch(/^pid 4242: no start time/);
    expect(refusal({ ...exec, argv: [] }).message).toBe('exec: no command given');
    expect(refusal({ ...exec, workdir: 'tmp' }).message).toBe('workdir: tmp is not an absolute path');
  });
});

describe('pinPlan', () => {
  const dir = '/run/husk/ns/web';
  const pinOps = (req: Parameters<typeof pinPlan>[0]) => decodePlan(pinPlan(req)).ops.map((o) => [o.name, ...Object.values(o.args)]);

  it('net, uts, ipc, cgroup: one PIN_NEW run by the launcher alone', () => {
    expect(pinOps({ create: { flags: CLONE_FLAG.NEWNET | CLONE_FLAG.NEWUTS, dir } })).toEqual([['PIN_NEW', CLONE_FLAG.NEWNET | CLONE_FLAG.NEWUTS, dir]]);
  });

  it('pid, mnt, time: a process made in them, each pinned by the monitor, then husk\'s init', () => {
    const list = pinOps({ create: { flags: CLONE_FLAG.NEWPID | CLONE_FLAG.NEWNS | CLONE_FLAG.NEWNET | CLONE_FLAG.NEWTIME, dir } });
    expect(list.slice(0, 6)).toEqual([
      ['UNSHARE', CLONE_FLAG.NEWTIME],
      ['CLONE', CLONE_FLAG.NEWPID | CLONE_FLAG.NEWNS | CLONE_FLAG.NEWNET],
      ['PIN', CLONE_FLAG.NEWNET, `${dir}/net`],
      ['PIN', CLONE_FLAG.NEWNS, `${dir}/mnt`],
      ['PIN', CLONE_FLAG.NEWPID, `${dir}/pid`],
      ['PIN', CLONE_FLAG.NEWTIME, `${dir}/time`],
    ]);
    expect(list[list.length - 1].slice(0, 3)).toEqual(['EXEC', '/proc/self/exe', ['husk-launcher', '--hold']]);
  });

  it('remove: SIGTERM to the init first (checked by start time), then every pin; refusals name the flag', () => {
    expect(pinOps({ remove: [`${dir}/pid`, `${dir}/net`], holder: { pid: 42, startTime: '7' } })).toEqual([
      ['SIGNAL_PROCESS', 42n, 7n, 15n],
      ['UNPIN', `${dir}/pid`],
      ['UNPIN', `${dir}/net`],
    ]);
    // A user namespace comes with its maps; the core checks them as the kernel would.
    expect(() => pinPlan({ create: { flags: CLONE_FLAG.NEWUSER, dir } })).toThrow('PIN_UID_LINE and PIN_GID_LINE go with the user bit');
    expect(() => pinPlan({ create: { flags: CLONE_FLAG.NEWUSER, dir, idmap: { uid: [{ inside: 0, outside: 1000, count: 0 }], gid: [{ inside: 0, outside: 1000, count: 1 }] } } })).toThrow('uid map: "0 1000 0": size must be at least 1');
    expect(pinOps({ create: { flags: CLONE_FLAG.NEWUSER | CLONE_FLAG.NEWNET, dir, idmap: { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] } } }).slice(0, 5)).toEqual([
      ['CLONE', CLONE_FLAG.NEWUSER | CLONE_FLAG.NEWNET],
      ['UID_MAP', '0 100000 65536\n'],
      ['GID_MAP', '0 100000 65536\n'],
      ['PIN', CLONE_FLAG.NEWUSER, `${dir}/user`],
      ['PIN', CLONE_FLAG.NEWNET, `${dir}/net`],
    ]);
    expect(() => pinPlan({ create: { flags: 0n, dir } })).toThrow('ns create: no namespace type given');
  });
});
