// The core's ociPlan (assembly/plan/oci.ts): config.json fields to plan ops, and the fields
// and values it refuses, each by name. Pure: no kernel, no files.
import { describe, expect, it } from 'vitest';
import { describePlanBytes } from '../../ts/core/describe.js';
import { ociPlan } from '../../ts/core/oci-plan.js';
import { defaultSpec } from '../../ts/runc/spec.js';

const bundle = '/b';

function config(change: (c: any) => void = () => undefined): any {
  const c: any = defaultSpec(false);
  c.process.terminal = false;
  c.process.args = ['sh', '-c', 'true'];
  change(c);
  return c;
}

/** u64 fields as numbers (every value here is small), to compare with literals. */
const plain = (v: unknown): any => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(plain) : v);
const hookState = { id: 'c1', bundle: '/b', annotations: { a: 'b' } };
const opsOf = (c: any, opts: { execFifo?: string } = {}) =>
  describePlanBytes(ociPlan(c, { bundle, hookState, ...opts }).plan).ops.map(
    (o) => [o.name, Object.fromEntries(Object.entries(o.args).map(([k, v]) => [k, plain(v)]))] as [string, any],
  );
const names = (c: any, opts: { execFifo?: string } = {}) => opsOf(c, opts).map(([n]) => n);
const refusal = (c: any) => {
  try {
    ociPlan(c, { bundle, hookState });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('ociPlan', () => {
  it('create: the FIFO is made before CLONE and waited on right before EXEC', () => {
    const n = names(config(), { execFifo: '/run/x/box/exec.fifo' });
    expect(n[0]).toBe('EXEC_FIFO');
    expect(n.indexOf('EXEC_FIFO')).toBeLessThan(n.indexOf('CLONE'));
    expect(n.slice(-2)).toEqual(['FIFO_WAIT', 'EXEC']);
    expect(names(config())).not.toContain('FIFO_WAIT');
  });

  it('the namespaces are the config\'s: new ones in CLONE, a path joined before it', () => {
    const ops = opsOf(config((c) => (c.linux.namespaces = [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }, { type: 'uts' }])));
    const clone = ops.find(([n]) => n === 'CLONE')!;
    expect(clone[1].flags).toBe(0x00020000 | 0x04000000);
    const join = ops.findIndex(([n]) => n === 'SETNS_FILE');
    expect(ops[join][1]).toEqual({ path: '/run/netns/x', nstype: 0x40000000 });
    expect(join).toBeLessThan(ops.findIndex(([n]) => n === 'CLONE'));
    expect(names(config((c) => (c.linux.namespaces = [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }])))).toContain('LOOPBACK_UP');
  });

  it('a joined user namespace with a new pid namespace: at create the forking parent exits (PID_FORK_ORPHAN), in the foreground it stays as init (PID_FORK)', () => {
    const c = config((c) => c.linux.namespaces.push({ type: 'user', path: '/proc/7/ns/user' }));
    expect(names(c, { execFifo: '/run/x/box/exec.fifo' })).toContain('PID_FORK_ORPHAN');
    expect(names(c, { execFifo: '/run/x/box/exec.fifo' })).not.toContain('PID_FORK');
    expect(names(c)).toContain('PID_FORK');
    expect(names(c)).not.toContain('PID_FORK_ORPHAN');
  });

  it('an unknown capability is ignored with a warning, as runc 1.1 does; the known ones are kept', () => {
    const c = config((c) => {
      c.process.capabilities.bounding = ['CAP_KILL', 'CAP_NOPE'];
      c.process.capabilities.permitted = ['CAP_KILL', 'CAP_NOPE', 'CAP_OTHER'];
    });
    const answer = ociPlan(c, { bundle, hookState });
    expect(answer.summary.warnings).toEqual(['process.capabilities: ignoring unknown capabilities CAP_NOPE, CAP_OTHER']);
    const caps = opsOf(c).filter(([n]) => n === 'CAPS');
    expect(caps.at(-1)![1].bounding).toBe(1 << 5);
    expect(caps.at(-1)![1].permitted).toBe(1 << 5);
    expect(ociPlan(config(), { bundle, hookState }).summary.warnings).toBeUndefined();
  });

  it('an unknown top-level property is ignored with a warning (runtime-spec); a defined one husk-runc does not act on is refused', () => {
    const answer = ociPlan(config((c) => (c.unknown = 'x')), { bundle, hookState });
    expect(answer.summary.warnings).toEqual(['unknown: unknown property ignored, as runtime-spec says']);
    expect(names(config((c) => (c.unknown = 'x')))).toEqual(names(config()));
    expect(refusal(config((c) => (c.windows = { layerFolders: ['C:\\x'] })))).toBe('windows: not supported by husk-runc');
    expect(refusal(config((c) => (c.process.unknown = 1)))).toBe('process.unknown: not supported by husk-runc');
  });

  it('ociVersion: a SemVer 1.x version, or refused by name (runc refuses "invalid" too)', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.2.0', '1.0.0-rc.1+build.5', '1.10.3']) expect(() => ociPlan(config((c) => (c.ociVersion = v)), { bundle, hookState })).not.toThrow();
    expect(refusal(config((c) => (c.ociVersion = 'invalid')))).toBe('ociVersion: "invalid" is not a SemVer version (runtime-spec: MAJOR.MINOR.PATCH)');
    for (const v of ['1.0', '01.0.0', '1.0.0-', '1.0.0.', '1.0.0+', '', '1.0.0 ']) expect(refusal(config((c) => (c.ociVersion = v)))).toMatch(/^ociVersion: ".*" is not a SemVer version/);
    expect(refusal(config((c) => (c.ociVersion = '2.0.0')))).toBe('ociVersion: "2.0.0": husk-runc reads runtime-spec 1.x');
    expect(refusal(config((c) => (c.ociVersion = 1)))).toMatch(/^ociVersion: not a string/);
    expect(() => ociPlan(config((c) => delete c.ociVersion), { bundle, hookState })).not.toThrow();
  });

  it('hostname: set in a uts namespace joined by path (as runc); refused with the host\'s or with a new user namespace', () => {
    const joined = (c: any) => {
      c.hostname = 'h';
      c.linux.namespaces = [{ type: 'mount' }, { type: 'uts', path: '/proc/7/ns/uts' }];
    };
    const ops = opsOf(config(joined));
    expect(ops.find(([n]) => n === 'SETNS_FILE')![1]).toEqual({ path: '/proc/7/ns/uts', nstype: 0x04000000 });
    expect(ops.find(([n]) => n === 'SETHOSTNAME')![1]).toEqual({ name: 'h' });
    expect(refusal(config((c) => {
      c.hostname = 'h';
      c.linux.namespaces = [{ type: 'mount' }];
    }))).toBe('hostname: needs a new uts namespace, or one joined by path (linux.namespaces)');
    expect(refusal(config((c) => {
      joined(c);
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
    }))).toMatch(/^hostname: a uts namespace joined by path with a new user namespace/);
  });

  it('capabilities: the bounding set is dropped before USER, the sets after it', () => {
    const ops = opsOf(config((c) => {
      c.process.user = { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [5, 6] };
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
    }));
    const at = (name: string) => ops.findIndex(([n]) => n === name);
    const caps = ops.filter(([n]) => n === 'CAPS').map(([, a]) => a);
    expect(caps[0].bounding).toBe(0x21);
    expect(caps[1]).toEqual({ bounding: 0x21, effective: 0x20, permitted: 0x20, inheritable: 0x20 });
    expect(ops[at('USER')][1]).toEqual({ uid: 1000, gid: 1000, groups: [5, 6] });
    expect(ops[at('UMASK')][1]).toEqual({ mask: 0o027 });
    expect(ops[at('AMBIENT')][1]).toEqual({ capabilities: 0x20 });
    expect(at('USER')).toBeGreaterThan(ops.findIndex(([n]) => n === 'CAPS'));
  });

  it('mounts land inside the rootfs, with their flags, propagation and data', () => {
    const ops = opsOf(config((c) => c.mounts.push({ destination: '/data//x', type: 'bind', source: 'vol', options: ['rbind', 'ro', 'nosuid', 'rslave'] })));
    const bind = ops.find(([n, a]) => n === 'BIND' && a.target === 'data/x')!;
    expect(bind[1]).toEqual({ source: '/b/vol', target: 'data/x', flags: 4 | 1 | 2 | 8 });
    const shm = ops.find(([n, a]) => n === 'MOUNT' && a.target === 'dev/shm')!;
    expect(shm[1]).toMatchObject({ fstype: 'tmpfs', flags: 2 | 8 | 4, data: 'mode=1777,size=65536k' });
  });

  it('linux.seccomp is compiled by the core: loaded last with no_new_privs, before the capabilities without', () => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    const nnp = names(config((c) => (c.linux.seccomp = profile)), { execFifo: '/f' });
    expect(nnp.slice(-4)).toEqual(['NO_NEW_PRIVS', 'SECCOMP', 'FIFO_WAIT', 'EXEC']);
    const without = names(config((c) => ((c.linux.seccomp = profile), (c.process.noNewPrivileges = false))));
    expect(without.indexOf('SECCOMP')).toBeLessThan(without.indexOf('CAPS'));
    // fds are marked close-on-exec before any filter: an older profile refuses close_range.
    for (const plan of [nnp, without]) expect(plan.indexOf('CLOSE_FDS')).toBeLessThan(plan.indexOf('SECCOMP'));
    expect(names(config())).not.toContain('SECCOMP');
  });

  it('refuses what it does not support, naming the field', () => {
    expect(refusal(config((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE' })))).toMatch(/^linux\.seccomp: /);
    expect(refusal(config((c) => (c.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] })))).toBe('linux.personality.flags: not supported by husk-runc');
    expect(refusal(config((c) => (c.linux.personality = { domain: 'LINUX64' })))).toBe('linux.personality.domain: "LINUX64" is not LINUX or LINUX32');
    expect(refusal(config((c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1 })))).toBe('process.scheduler.runtime: not supported by husk-runc');
    expect(refusal(config((c) => (c.process.scheduler = { policy: 'SCHED_FIFO', priority: 0 })))).toBe('process.scheduler.priority: 0 is not 1 to 99');
    expect(refusal(config((c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 20 })))).toBe('process.scheduler.nice: 20 is not -20 to 19');
    expect(refusal(config((c) => (c.hooks = { startContainer: [{ path: '/bin/true', timeout: 3000000 }] })))).toBe('hooks.startContainer[0].timeout: over 2000000 seconds');
    expect(refusal(config((c) => (c.hooks = { createContainer: [{ path: 'true' }] })))).toBe('hooks.createContainer[0].path: "true" is not an absolute path');
    const bigState = (n: number) => (c: any) => ((c.hooks = { startContainer: [{ path: '/bin/true' }] }), (c.annotations = { big: 'x'.repeat(n) }));
    for (const n of [20000, 200000]) {
      try {
        ociPlan(config(bigState(n)), { bundle, hookState: { ...hookState, annotations: { big: 'x'.repeat(n) } } });
        throw new Error('not refused');
      } catch (err) {
        expect((err as Error).message).toBe('hooks.startContainer[0]: the container\'s state is over 16384 bytes of JSON (its annotations?)');
      }
    }
    expect(refusal(config((c) => (c.hooks = { prestart: [{ path: '/bin/true', args: ['true'], when: 'now' }] })))).toBe('hooks.prestart[0].when: not supported by husk-runc');
    expect(refusal(config((c) => (c.hooks = { poststop: [{ path: '/bin/true', env: ['NOEQUALS'] }] })))).toBe('hooks.poststop[0].env: "NOEQUALS" is not KEY=VALUE');
    expect(refusal(config((c) => (c.hooks = { poststop: [{ path: 'rel' }] })))).toBe('hooks.poststop[0].path: "rel" is not an absolute path');
    expect(refusal(config((c) => (c.linux.namespaces[0].flags = 1)))).toBe('linux.namespaces[0].flags: not supported by husk-runc');
    // mounts[0] is /proc (type proc): an idmapped mount must be a bind one.
    expect(refusal(config((c) => {
      c.mounts[0].source = '/proc';
      c.mounts[0].uidMappings = [{ containerID: 0, hostID: 1, size: 1 }];
      c.mounts[0].gidMappings = [{ containerID: 0, hostID: 1, size: 1 }];
    }))).toBe('mounts[0]: an idmapped mount (uidMappings, idmap) must be a bind mount');
    expect(refusal(config((c) => (c.mounts[0].mapping = 1)))).toBe('mounts[0].mapping: not supported by husk-runc');
    expect(refusal(config((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }])))).toMatch(/^process\.rlimits\[0\]\.type/);
    expect(refusal(config((c) => (c.linux.namespaces = [{ type: 'pid' }])))).toMatch(/needs a new mount namespace/);
    expect(refusal(config((c) => (c.linux.namespaces.push({ type: 'user' }))))).toBe('linux.uidMappings: a user namespace needs its mappings');
    expect(refusal(config((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 1 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    }))).toBe('linux.uidMappings[1]: container ids overlap linux.uidMappings[0]');
    expect(refusal(config((c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { realtime: { secs: 1 } };
    }))).toMatch(/^linux\.timeOffsets\.realtime: not a clock/);
    expect(refusal(config((c) => (c.linux.sysctl = { 'kernel.panic': '1' })))).toMatch(/^linux\.sysctl: "kernel\.panic" is not a namespaced sysctl/);
    expect(refusal(config((c) => c.mounts.push({ destination: '/a/../../etc', type: 'tmpfs', source: 'tmpfs' })))).toMatch(/^mounts\[7\]\.destination/);
    expect(refusal(config((c) => (c.process.args = 'sh')))).toBe('process.args: not a list of strings');
    expect(refusal(config((c) => (c.process.cwd = 'rel')))).toMatch(/^process\.cwd/);
  });

  it('linux.devices: made by mknod with the entry\'s mode and owner (defaults 0666, 0:0), a FIFO too, before PIVOT_ROOT', () => {
    const c = config((c) => (c.linux.devices = [
      { path: '/dev/test1', type: 'c', major: 10, minor: 666, fileMode: 0o660, uid: 1, gid: 5 },
      { path: '/dev/test2', type: 'b', major: 8, minor: 300 },
      { path: '/dev/test3', type: 'p', fileMode: 0o600 },
    ]));
    const ops = describePlanBytes(ociPlan(c, { bundle }).plan).ops;
    const made = ops.filter((o) => o.name === 'MKNOD_DEV').map((o) => plain(Object.values(o.args)));
    // 8:300 is the kernel's 32-bit dev_t: minor's low byte, major << 8, minor's rest << 12.
    expect(made).toEqual([
      ['dev/test1', 0o20660, (10 << 8) | (666 & 0xff) | ((666 & ~0xff) << 12), 1, 5],
      ['dev/test2', 0o60666, (8 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12), 0, 0],
      ['dev/test3', 0o10600, 0, 0, 0],
    ]);
    expect(ops.findIndex((o) => o.name === 'MKNOD_DEV')).toBeLessThan(ops.findIndex((o) => o.name === 'PIVOT_ROOT'));
    expect(refusal(config((c) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 10, minor: 229, fileMode: 0o10600 }])))).toBe('linux.devices[0].fileMode: 010600 is not a permission mode (at most 07777)');
    expect(refusal(config((c) => (c.linux.devices = [{ path: '/dev/x', type: 's' }])))).toBe('linux.devices[0].type: "s" is not a device type (c, u, b or p)');
  });

  it('linux.devices in a user namespace: the host node found for each entry is bound in, with create (mknod of a device is not allowed there)', () => {
    const userns = (c: any) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    };
    const c = config((c) => {
      userns(c);
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
    });
    const host = [{ path: '/dev/char/10:229', mode: 0o20600, uid: 0, gid: 0 }];
    const ops = describePlanBytes(ociPlan(c, { bundle, hostDevices: host }).plan).ops;
    const bind = ops.find((o) => o.name === 'BIND' && o.args.target === 'dev/fuse');
    expect(bind?.args.source).toBe('/dev/char/10:229');
    expect(ops.some((o) => o.name === 'MKNOD_DEV')).toBe(false);
    expect(ops.findIndex((o) => o.name === 'BIND' && o.args.target === 'dev/fuse')).toBeLessThan(ops.findIndex((o) => o.name === 'PIVOT_ROOT'));
    expect(refusal(c)).toBe("linux.devices[0]: this host has no c 10:229 device to bind (in a user namespace husk-runc binds the host's device nodes, as runc does)");
    expect(() => ociPlan(config((c) => {
      userns(c);
      c.linux.devices = [{ path: '/dev/x', type: 'c', major: 10, minor: 229, uid: 5 }];
    }), { bundle, hostDevices: host })).toThrow(/^linux\.devices\[0\]\.uid\/gid: 5:/);
  });

  it('a user namespace: its maps are written right after CLONE, the process becomes its root first; a time namespace is made before CLONE', () => {
    const ops = opsOf(config((c) => {
      c.linux.namespaces.push({ type: 'user' }, { type: 'time' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.linux.timeOffsets = { monotonic: { secs: -5, nanosecs: 7 } };
    }));
    const n = ops.map(([name]) => name);
    const clone = n.indexOf('CLONE');
    expect(ops.slice(clone - 2, clone + 4)).toEqual([
      ['UNSHARE', { flags: 0x80 }],
      ['WRITE_FILE', { path: '/proc/self/timens_offsets', content: 'monotonic -5 7\n' }],
      ['CLONE', { flags: expect.any(Number) }],
      ['UID_MAP', { text: '0 100000 65536\n' }],
      ['GID_MAP', { text: '0 200000 65536\n' }],
      ['USER', { uid: 0, gid: 0, groups: [] }],
    ]);
    expect(ops[clone][1].flags & 0x10000000).toBe(0x10000000); // CLONE_NEWUSER
    expect(ops[clone][1].flags & 0x80).toBe(0); // time: by UNSHARE only
  });

  it('the hooks husk-runc runs itself add no op to the plan but, for prestart and createRuntime, HOOK_SYNC before pivot_root', () => {
    const after = { poststart: [{ path: '/bin/true', args: ['true', 'x'], env: ['A=1'] }], poststop: [{ path: '/bin/true' }] };
    expect(names(config((c) => (c.hooks = after)))).toEqual(names(config()));
    const before = { prestart: [{ path: '/bin/true' }], createRuntime: [{ path: '/bin/true', timeout: 5 }] };
    const plain = names(config());
    const synced = names(config((c) => (c.hooks = before)));
    expect(synced.filter((n) => n === 'HOOK_SYNC')).toHaveLength(1);
    expect(synced.indexOf('HOOK_SYNC')).toBe(plain.indexOf('PIVOT_ROOT'));
  });

  it('createContainer hooks run before pivot_root in the bundle, startContainer ones after the FIFO, each with the state around its pid', () => {
    const ops = opsOf(config((c) => (c.hooks = {
      createContainer: [{ path: '/bin/cc', args: ['cc', '-x'], env: ['A=1'], timeout: 7 }],
      startContainer: [{ path: '/bin/s0' }, { path: '/bin/s1' }],
    })), { execFifo: '/run/x/exec.fifo' });
    const at = (name: string) => ops.findIndex(([n]) => n === name);
    const hooks = ops.filter(([n]) => n === 'HOOK').map(([, a]) => a);
    expect(hooks[0]).toEqual({
      kind: 3, index: 0, path: '/bin/cc', args: ['cc', '-x'], env: ['A=1'], dir: bundle, timeout_s: 7,
      state_prefix: '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":', state_suffix: ',"bundle":"/b","annotations":{"a":"b"}}',
    });
    expect(hooks.slice(1).map((h) => [h.kind, h.index, h.path, h.dir, h.timeout_s, h.state_prefix.includes('"created"')])).toEqual([[4, 0, '/bin/s0', '', 0, true], [4, 1, '/bin/s1', '', 0, true]]);
    expect(ops[at('PIVOT_ROOT') - 1][0]).toBe('HOOK');
    expect(ops.slice(at('FIFO_WAIT') + 1).map(([n]) => n)).toEqual(['HOOK', 'HOOK', 'EXEC']);
  });
});
