// husk's seccomp compiler against libseccomp (Debian's libseccomp, through
// test/unit/libseccomp-export.py): for docker's profile and for random profiles, the program
// the policy core emits and the one seccomp_export_bpf writes give the same action for random
// (arch, syscall, arguments), both run by the BPF interpreter of test/oracle/bpf-interpreter.ts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileSeccomp } from '../../ts/core/seccomp.js';
import type { SeccompArg, SeccompProfile, SeccompSyscall } from '../../ts/core/seccomp.js';
import { runFilter } from '../oracle/bpf-interpreter.js';
import type { SeccompData } from '../oracle/bpf-interpreter.js';

const EXPORT = fileURLToPath(new URL('./libseccomp-export.py', import.meta.url));
const X86_64 = 0xc000003e;
const AARCH64 = 0xc00000b7;

const ACTIONS: Record<string, (errno: number) => number> = {
  SCMP_ACT_ALLOW: () => 0x7fff0000,
  SCMP_ACT_ERRNO: (e) => 0x00050000 | e,
  SCMP_ACT_KILL: () => 0,
  SCMP_ACT_KILL_THREAD: () => 0,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_TRACE: (e) => 0x7ff00000 | e,
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_NOTIFY: () => 0x7fc00000,
};
const OPS: Record<string, number> = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 };

/** The pool's x86_64 numbers (syscall_64.tbl), to aim inputs at the profile's calls. */
const X86_64_NUMBERS: Record<string, number> = {
  read: 0, write: 1, open: 2, close: 3, stat: 4, fstat: 5, poll: 7, lseek: 8, mmap: 9, mprotect: 10, brk: 12, ioctl: 16, pread64: 17,
  readv: 19, access: 21, pipe: 22, select: 23, dup: 32, dup2: 33, nanosleep: 35, getpid: 39, socket: 41, connect: 42, clone: 56,
  fork: 57, execve: 59, exit: 60, kill: 62, uname: 63, fcntl: 72, flock: 73, fsync: 74, getcwd: 79, chdir: 80, rename: 82, mkdir: 83,
  rmdir: 84, link: 86, unlink: 87, chmod: 90, chown: 92, umask: 95, personality: 135, prctl: 157, mount: 165, umount2: 166, setns: 308,
  unshare: 272, keyctl: 250, openat: 257, clone3: 435, ptrace: 101, bpf: 321, io_uring_setup: 425, getrandom: 318, memfd_create: 319,
  statx: 332, close_range: 436, openat2: 437, pidfd_open: 434, landlock_create_ruleset: 444, futex_waitv: 449,
};

const actionValue = (name: string, errno?: number) => ACTIONS[name](errno ?? 1) >>> 0;

interface Reference {
  program: Uint8Array;
  unknown: string[];
}

/** libseccomp's programs for x86_64-only profiles, and the names it could not resolve (one python for all). */
function libseccomp(profiles: SeccompProfile[]): Reference[] {
  const specs = profiles.map((p) => ({
    default: actionValue(p.defaultAction, p.defaultErrnoRet),
    arches: (p.architectures ?? []).includes('SCMP_ARCH_X86') ? ['x86'] : [],
    rules: (p.syscalls ?? []).map((s) => ({
      names: s.names,
      action: actionValue(s.action, s.errnoRet),
      args: (s.args ?? []).map((a) => [a.index, OPS[a.op], `#${BigInt(a.value)}#`, `#${BigInt(a.valueTwo ?? 0)}#`]),
    })),
  }));
  const input = JSON.stringify(specs).replace(/"#(\d+)#"/g, '$1');
  const r = spawnSync('python3', [EXPORT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`libseccomp-export.py: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { unknown: string[]; bpf: string }[];
  return out.map((o) => ({ program: new Uint8Array(Buffer.from(o.bpf, 'hex')), unknown: o.unknown }));
}

/** A small deterministic generator (xorshift), so a failure names its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const int = (n: number) => next() % n;
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const u64 = () => (BigInt(next()) << 32n) | BigInt(next());
  return { int, pick, u64 };
}

const INTERESTING = [0n, 1n, 2n, 40n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xffffffff00000000n, 0xffffffffffffffffn, 0x8000000000000000n];

function compare(p: SeccompProfile, ref: Reference, inputs: SeccompData[], what: string): number {
  // Names libseccomp cannot resolve are skipped by both (husk would skip its own unknowns).
  const shared: SeccompProfile = { ...p, syscalls: (p.syscalls ?? []).map((s) => ({ ...s, names: s.names.filter((n) => !ref.unknown.includes(n)) })) };
  const husk = compileSeccomp({ mode: 'profile', profile: shared }).program;
  let checked = 0;
  for (const d of inputs) {
    const expected = runFilter(ref.program, d);
    const got = runFilter(husk, d);
    if (got !== expected) throw new Error(`${what} ${JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}: nr ${d.nr} arch 0x${d.arch.toString(16)} args [${d.args.join(',')}]: husk 0x${got.toString(16)}, libseccomp 0x${expected.toString(16)}`);
    checked++;
  }
  return checked;
}

/** Inputs: every number 0–470 with interesting and random arguments, x32 numbers, another arch. */
function inputsFor(r: ReturnType<typeof rng>, values: bigint[], perCall: number, numbers: number[] = Array.from({ length: 470 }, (_, i) => i)): SeccompData[] {
  const out: SeccompData[] = [];
  const near = [...values, ...INTERESTING];
  const arg = () => (r.int(3) === 0 ? r.u64() : r.pick(near) + BigInt(r.int(3)) - 1n) & 0xffffffffffffffffn;
  for (const nr of numbers) {
    for (let i = 0; i < perCall; i++) out.push({ nr, arch: X86_64, args: Array.from({ length: 6 }, arg) });
  }
  for (let i = 0; i < 50; i++) out.push({ nr: 0x40000000 + r.int(600), arch: X86_64, args: [] });
  for (let i = 0; i < 20; i++) out.push({ nr: r.int(500), arch: AARCH64, args: [] });
  out.push({ nr: 0xffffffff, arch: X86_64, args: [] });
  return out;
}

describe('husk and libseccomp agree', () => {
  it("on docker's default profile (x86_64 and i386, docker's default capabilities)", () => {
    // The profile as docker's JSON has it for this container, x86_64 only: husk's default with
    // the conditions applied is what the core compiles; here the same rules as a plain profile.
    const docker = JSON.parse(JSON.stringify(dockerForDefaultCaps())) as SeccompProfile;
    const r = rng(1);
    const values = docker.syscalls!.flatMap((s) => (s.args ?? []).map((a) => BigInt(a.value)));
    expect(compare(docker, libseccomp([docker])[0], inputsFor(r, values, 8), 'docker')).toBeGreaterThan(3000);
    // With i386 too: its calls are checked by their own numbers, as libseccomp's.
    const both = { ...docker, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] };
    const i386 = Array.from({ length: 460 }, (_, nr) => ({ nr, arch: 0x40000003, args: [0n, 40n, 0n, 0n, 0n, 0n] }));
    expect(compare(both, libseccomp([both])[0], [...inputsFor(r, values, 2), ...i386], 'docker with x86')).toBeGreaterThan(1000);
    // And husk's own default gives the same answers on x86_64 as that profile.
    const own = compileSeccomp({ mode: 'default' }).program;
    const plain = compileSeccomp({ mode: 'profile', profile: both }).program;
    for (const d of [...inputsFor(r, values, 4), ...i386]) expect(runFilter(own, d), `nr ${d.nr} arch ${d.arch}`).toBe(runFilter(plain, d));
  });

  it('on 100 random profiles (property: same action for every input)', () => {
    let total = 0;
    // libseccomp documents no meaning for several rules with different argument chains on
    // one call (seccomp/libseccomp#118, moby/moby#32714): one rule per call here, plus
    // docker's shape (several EQ rules on argument 0 with one action), as docker uses it.
    const cases = Array.from({ length: 100 }, (_, i) => {
      const r = rng((i + 1) * 7919);
      return { r, ...randomProfile(r, { oneRulePerCall: true }) };
    });
    const refs = libseccomp(cases.map((c) => c.profile));
    cases.forEach((c, i) => {
      total += compare(c.profile, refs[i], inputsFor(c.r, c.values, 3, aimAt(c.r, c.calls)), `seed ${i + 1}`);
    });
    expect(total).toBeGreaterThan(30000);
  });
});

describe("husk's filters mean what the profile says", () => {
  it('on 300 random profiles with several rules per call (property: the BPF = the rules read in order)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed * 104729);
      const { profile, values, calls } = randomProfile(r, { oneRulePerCall: false });
      const program = compileSeccomp({ mode: 'profile', profile }).program;
      for (const d of inputsFor(r, values, 3, aimAt(r, calls))) {
        expect(runFilter(program, d), `seed ${seed} nr ${d.nr} args ${d.args.join(',')}`).toBe(meaning(profile, d));
      }
    }
  });
});

/** What a profile says for one x86_64 call: its argument rules in order, its plain rule, the default. */
function meaning(p: SeccompProfile, d: SeccompData): number {
  if (d.arch !== X86_64 || (d.nr >= 0x40000000 && d.nr !== 0xffffffff)) return 0; // KILL_THREAD
  const rules = (p.syscalls ?? []).filter((s) => s.names.some((n) => X86_64_NUMBERS[n] === d.nr));
  const holds = (a: SeccompArg) => {
    const x = d.args[a.index] ?? 0n;
    const v = BigInt(a.value);
    switch (a.op) {
      case 'SCMP_CMP_EQ': return x === v;
      case 'SCMP_CMP_NE': return x !== v;
      case 'SCMP_CMP_LT': return x < v;
      case 'SCMP_CMP_LE': return x <= v;
      case 'SCMP_CMP_GT': return x > v;
      case 'SCMP_CMP_GE': return x >= v;
      default: return (x & v) === BigInt(a.valueTwo ?? 0);
    }
  };
  for (const s of rules) if ((s.args ?? []).length > 0 && s.args!.every(holds)) return actionValue(s.action, s.errnoRet);
  const plain = rules.find((s) => (s.args ?? []).length === 0);
  return plain ? actionValue(plain.action, plain.errnoRet) : actionValue(p.defaultAction, p.defaultErrnoRet);
}

function aimAt(r: ReturnType<typeof rng>, calls: string[]): number[] {
  // The profile's own calls often (their arguments near the compared values), 60 others.
  return [...calls.flatMap((n) => Array<number>(12).fill(X86_64_NUMBERS[n])), ...Array.from({ length: 60 }, () => r.int(470))];
}

function randomProfile(r: ReturnType<typeof rng>, opts: { oneRulePerCall: boolean }): { profile: SeccompProfile; values: bigint[]; calls: string[] } {
  const pool = Object.keys(X86_64_NUMBERS);
  const actions = Object.keys(ACTIONS);
  // NOTIFY is a rule's action only (husk and runc refuse it as the default).
  const defaultAction = r.pick(actions.filter((a) => a !== 'SCMP_ACT_NOTIFY'));
  const defaultErrnoRet = defaultAction === 'SCMP_ACT_ERRNO' || defaultAction === 'SCMP_ACT_TRACE' ? 1 + r.int(200) : undefined;
  const def = actionValue(defaultAction, defaultErrnoRet);
  const chosenAction = (): { action: string; errnoRet?: number } => {
    const action = r.pick(actions);
    const errnoRet = action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE' ? 1 + r.int(4000) : undefined;
    // Never the default: libseccomp refuses such a rule (runc skips it).
    if (actionValue(action, errnoRet) === def) return def === 0x7fff0000 ? { action: 'SCMP_ACT_LOG' } : { action: 'SCMP_ACT_ALLOW' };
    return { action, errnoRet };
  };
  const used = new Set<string>();
  const syscalls: SeccompSyscall[] = [];
  const values: bigint[] = [];
  for (let i = 0, n = 1 + r.int(25); i < n; i++) {
    const name = r.pick(pool);
    if (opts.oneRulePerCall && used.has(name)) continue;
    used.add(name);
    let chosen = chosenAction();
    // NOTIFY on write is refused (the listener is handed over with it), as runc refuses it.
    if (chosen.action === 'SCMP_ACT_NOTIFY' && name === 'write') chosen = { action: def === 0x7fff0000 ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW' };
    if (opts.oneRulePerCall && r.int(5) === 0) {
      // docker's shape: the same action for several values of argument 0.
      for (let k = 0, m = 1 + r.int(4); k < m; k++) {
        const value = r.int(2) ? r.pick(INTERESTING) : r.u64();
        values.push(value);
        syscalls.push({ names: [name], ...chosen, args: [{ index: 0, op: 'SCMP_CMP_EQ', value }] });
      }
      continue;
    }
    const indexes = [0, 1, 2, 3, 4, 5].filter(() => r.int(4) === 0).slice(0, 3);
    const args = indexes.map((index) => {
      const op = r.pick(Object.keys(OPS));
      const value = r.int(2) ? r.pick(INTERESTING) : r.u64();
      const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? value & (r.int(2) ? r.u64() : value) : 0n;
      values.push(value, valueTwo);
      return { index, op, value, valueTwo };
    });
    syscalls.push({ names: [name], ...chosen, args });
  }
  return { profile: { defaultAction, defaultErrnoRet, syscalls }, values, calls: [...used] };
}

/** docker's default.json for a container with docker's default capabilities on amd64: its rules whose includes/excludes hold. */
function dockerForDefaultCaps(): SeccompProfile {
  const p = compileInputs();
  return p;
}

function compileInputs(): SeccompProfile {
  // The rules of moby's profiles/seccomp/default.json that apply to amd64 with docker's
  // default capabilities (none of CAP_SYS_ADMIN, CAP_SYS_PTRACE, … ; kernel ≥ 4.8), as the
  // JSON writes them; written out here independently of assembly/seccomp/default.ts.
  const common = `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime clock_adjtime64
    clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
    copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
    epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark
    fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
    fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents
    getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
    getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname
    getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
    io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
    io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr
    link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create
    memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
    mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock
    munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
    pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
    pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
    remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask
    rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
    sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
    sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
    semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups
    setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
    setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget
    shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
    symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
    timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
    times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4
    waitid waitpid write writev`.split(/\s+/);
  const allow = 'SCMP_ACT_ALLOW';
  const syscalls: SeccompSyscall[] = [
    { names: common, action: allow },
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: allow },
    { names: ['socket'], action: allow, args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    ...[0, 8, 131072, 131080, 4294967295].map((value) => ({ names: ['personality'], action: allow, args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
    { names: ['arch_prctl'], action: allow },
    { names: ['modify_ldt'], action: allow },
    { names: ['chroot'], action: allow }, // CAP_SYS_CHROOT is a default capability
    { names: ['clone'], action: allow, args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ];
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, syscalls };
}
