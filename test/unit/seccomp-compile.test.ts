// The seccomp compiler of the policy core (assembly/seccomp/): the programs it emits, run by a
// BPF interpreter (test/oracle/bpf-interpreter.ts), give docker's answers; names it cannot take
// are refused naming the field. The comparison with libseccomp is seccomp-libseccomp.test.ts.
import { describe, expect, it } from 'vitest';
import { compileSeccomp } from '../../ts/core/seccomp.js';
import type { SeccompChoice, SeccompProfile } from '../../ts/core/seccomp.js';
import { runFilter } from '../oracle/bpf-interpreter.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL_THREAD = 0;
const CAP_SYS_ADMIN = 1n << 21n;
const DOCKER_CAPS = 0xa80425fbn;

const NR = { read: 0, socket: 41, clone: 56, personality: 135, mount: 165, keyctl: 250, unshare: 272, clone3: 435, ptrace: 101, reboot: 169 };

function action(choice: SeccompChoice, nr: number, args: bigint[] = [], opts: { caps?: bigint; arch?: number } = {}): number {
  const { program } = compileSeccomp(choice, { caps: opts.caps });
  return runFilter(program, { nr, arch: opts.arch ?? X86_64, args });
}

const profile = (p: SeccompProfile): SeccompChoice => ({ mode: 'profile', profile: p });

describe("the default profile (docker's)", () => {
  const def: SeccompChoice = { mode: 'default' };
  it('allows the common calls and refuses the rest with EPERM', () => {
    expect(action(def, NR.read)).toBe(ALLOW);
    for (const nr of [NR.mount, NR.unshare, NR.keyctl, NR.reboot]) expect(action(def, nr)).toBe(EPERM);
  });
  it('refuses AF_VSOCK sockets and personalities other than the five docker lets through', () => {
    expect(action(def, NR.socket, [2n])).toBe(ALLOW);
    expect(action(def, NR.socket, [40n])).toBe(EPERM);
    expect(action(def, NR.socket, [(1n << 32n) | 40n])).toBe(ALLOW); // the whole 64 bits are compared
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(action(def, NR.personality, [p])).toBe(ALLOW);
    expect(action(def, NR.personality, [0x0400000n])).toBe(EPERM); // READ_IMPLIES_EXEC
  });
  it('follows the capabilities: clone with namespace flags, clone3, mount only with CAP_SYS_ADMIN', () => {
    expect(action(def, NR.clone, [0x11n])).toBe(ALLOW);
    expect(action(def, NR.clone, [0x10000000n | 0x11n])).toBe(EPERM); // CLONE_NEWUSER
    expect(action(def, NR.clone3)).toBe(ENOSYS);
    const admin = { caps: DOCKER_CAPS | CAP_SYS_ADMIN };
    expect(action(def, NR.clone, [0x10000000n], admin)).toBe(ALLOW);
    expect(action(def, NR.clone3, [], admin)).toBe(ALLOW);
    expect(action(def, NR.mount, [], admin)).toBe(ALLOW);
    expect(action(def, NR.ptrace)).toBe(ALLOW); // kernel ≥ 4.8
  });
  it('runs i386 calls by their own numbers, kills x32 and other architectures', () => {
    expect(action(def, 3, [], { arch: I386 })).toBe(ALLOW); // i386 read
    expect(action(def, 21, [], { arch: I386 })).toBe(EPERM); // i386 mount
    expect(action(def, 0x40000000 | 0, [])).toBe(KILL_THREAD);
    expect(action(def, 0, [], { arch: 0xc00000b7 })).toBe(KILL_THREAD); // aarch64
  });
});

describe('a profile of OCI shape', () => {
  it('compares 64-bit arguments as two words, for every operator', () => {
    const ops = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE'] as const;
    const vals = [0n, 1n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xffffffffffffffffn, 0x80000000_00000000n];
    const cmp: Record<string, (a: bigint, b: bigint) => boolean> = {
      SCMP_CMP_EQ: (a, b) => a === b, SCMP_CMP_NE: (a, b) => a !== b, SCMP_CMP_LT: (a, b) => a < b,
      SCMP_CMP_LE: (a, b) => a <= b, SCMP_CMP_GT: (a, b) => a > b, SCMP_CMP_GE: (a, b) => a >= b,
    };
    for (const op of ops) {
      for (const v of vals) {
        const { program } = compileSeccomp(profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 9, args: [{ index: 2, value: v, op }] }] }));
        for (const a of vals) {
          const got = runFilter(program, { nr: 1, arch: X86_64, args: [0n, 0n, a] });
          expect(got, `${a} ${op} ${v}`).toBe(cmp[op](a, v) ? 0x00050009 : ALLOW);
        }
      }
    }
  });
  it('MASKED_EQ compares arg & value with valueTwo', () => {
    const p = profile({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 0xff0000000fn, valueTwo: 0x1200000003n, op: 'SCMP_CMP_MASKED_EQ' }] }] });
    expect(action(p, 0, [0x12abcdef13n])).toBe(0x7ffc0000);
    expect(action(p, 0, [0x13abcdef13n])).toBe(0x80000000);
  });
  it('skips names the table does not know, and takes every action', () => {
    const actions: [string, number][] = [['SCMP_ACT_TRAP', 0x30000], ['SCMP_ACT_TRACE', 0x7ff00001], ['SCMP_ACT_KILL', 0], ['SCMP_ACT_KILL_THREAD', 0], ['SCMP_ACT_LOG', 0x7ffc0000]];
    for (const [name, value] of actions) {
      expect(action(profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call', 'read'], action: name }] }), 0)).toBe(value);
    }
  });
  it('keeps a long profile under 4096 instructions, with trampolines for far jumps', () => {
    // 300 calls each with an argument rule: bodies far from the search's jumps.
    const names = ['read', 'write', 'open', 'close', 'stat', 'fstat', 'lstat', 'poll', 'lseek', 'mmap'];
    const syscalls = Array.from({ length: 300 }, (_, i) => ({ names: [names[i % 10]], action: 'SCMP_ACT_ERRNO', errnoRet: i + 1, args: [{ index: 0, value: BigInt(i), op: 'SCMP_CMP_EQ' }] }));
    const p = profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });
    const { program } = compileSeccomp(p);
    expect(program.length / 8).toBeGreaterThan(1000);
    expect(program.length / 8).toBeLessThanOrEqual(4096);
    for (let i = 0; i < 300; i += 7) expect(runFilter(program, { nr: i % 10, arch: X86_64, args: [BigInt(i)] })).toBe(0x00050000 + i + 1);
    expect(runFilter(program, { nr: 3, arch: X86_64, args: [1000n] })).toBe(ALLOW);
  });
  it('refuses a profile over 4096 instructions, naming the limit', () => {
    const syscalls = Array.from({ length: 1100 }, (_, i) => ({ names: ["read"], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: BigInt(i), op: 'SCMP_CMP_EQ' }] }));
    expect(() => compileSeccomp(profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }))).toThrow(/the kernel takes at most 4096/);
  });
  it('refuses unknown names, naming the field as the profile spells it', () => {
    const bad: [SeccompProfile, RegExp][] = [
      [{ defaultAction: 'SCMP_ACT_NOPE' }, /^seccomp: defaultAction: unknown action "SCMP_ACT_NOPE"$/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['x'], action: 'ALLOW' }] }, /^seccomp: syscalls\[1\]\.action: unknown action "ALLOW"$/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'EQ' }] }] }, /^seccomp: syscalls\[0\]\.args\[1\]\.op: unknown operator "EQ"$/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.index: 6 is not an argument/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /^seccomp: architectures: unknown architecture "SCMP_ARCH_Z80"$/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, /^seccomp: flags: unknown flag/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /defaultErrnoRet: 70000 is over 65535/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }, /syscalls\[0\]\.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE/],
      [{ defaultAction: 'SCMP_ACT_NOTIFY' }, /^seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }, /^seccomp: syscalls\[0\]\.action: SCMP_ACT_NOTIFY cannot be used for write/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_NOPE'] } }] }, /syscalls\[0\]\.includes\.caps: unknown capability "CAP_NOPE"/],
    ];
    for (const [p, re] of bad) expect(() => compileSeccomp(profile(p))).toThrow(re);
  });
  it('SCMP_ACT_NOTIFY returns SECCOMP_RET_USER_NOTIF and asks for a listener (flag NEW_LISTENER); none without it', () => {
    const { flags, program } = compileSeccomp(profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }));
    expect(flags).toBe(8n);
    expect(runFilter(program, { nr: 83, arch: X86_64, args: [] })).toBe(0x7fc00000);
    expect(runFilter(program, { nr: 0, arch: X86_64, args: [] })).toBe(ALLOW);
    expect(compileSeccomp(profile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] })).flags).toBe(2n);
  });
  it('unconfined is no program', () => {
    expect(compileSeccomp({ mode: 'unconfined' }).program.length).toBe(0);
  });
});
