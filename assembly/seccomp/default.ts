// husk's default profile: equal in effect to docker's (moby profiles/seccomp/default.json) on
// an x86 host. Calls not named here fail with EPERM. What a container may call beyond the
// common set follows its capabilities, as docker's includes/excludes say: mount, unshare,
// setns, clone with namespace flags, bpf… with CAP_SYS_ADMIN; ptrace and friends with
// CAP_SYS_PTRACE (and, as docker since kernel 4.8, without it too); and so on. Rules docker
// keeps for other architectures (arm, s390, ppc64le, riscv64) are left out; x86's are kept.

import { CMP_EQ, CMP_MASKED_EQ, CMP_NE, ARCH_X86, ARCH_X86_64, ArgCondition, EPERM, Profile, RET_ALLOW, RET_ERRNO, Rule } from "./profile";
import { capabilityBit } from "./caps";

/** Every call of the common set: allowed whatever the capabilities. */
const COMMON: string =
  "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 " +
  "clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 " +
  "clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 " +
  "dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait " +
  "epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 " +
  "fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl " +
  "fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 " +
  "fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv " +
  "futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 " +
  "getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority " +
  "getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage " +
  "getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr " +
  "inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy " +
  "io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit " +
  "io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule " +
  "landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen " +
  "listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier " +
  "memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 " +
  "mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend " +
  "mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall " +
  "munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open " +
  "pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl " +
  "pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev " +
  "pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 " +
  "recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq " +
  "rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend " +
  "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr " +
  "sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler " +
  "sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr " +
  "sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop " +
  "semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 " +
  "setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority " +
  "setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit " +
  "set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr " +
  "shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn " +
  "socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync " +
  "sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun " +
  "timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime " +
  "timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit " +
  "umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 " +
  "waitid waitpid write writev " +
  // x86 only (docker: includes.arches amd64, x32, x86).
  "arch_prctl modify_ldt";

/** Calls allowed when the container holds a capability: "CAP: names". */
const BY_CAPABILITY: string[] = [
  "CAP_DAC_READ_SEARCH: open_by_handle_at",
  "CAP_SYS_ADMIN: bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount " +
    "mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname " +
    "sethostname setns syslog umount umount2 unshare",
  "CAP_SYS_BOOT: reboot",
  "CAP_SYS_CHROOT: chroot",
  "CAP_SYS_MODULE: delete_module init_module finit_module",
  "CAP_SYS_PACCT: acct",
  "CAP_SYS_PTRACE: kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
  "CAP_SYS_RAWIO: iopl ioperm",
  "CAP_SYS_TIME: settimeofday stime clock_settime clock_settime64",
  "CAP_SYS_TTY_CONFIG: vhangup",
  "CAP_SYS_NICE: get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
  "CAP_SYSLOG: syslog",
  "CAP_BPF: bpf",
  "CAP_PERFMON: perf_event_open",
];

/** personality(2) values a container may set: PER_LINUX, UNAME26, PER_LINUX32, both, and the query. */
const PERSONALITIES: u64[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
/** Namespace flags that clone(2) without CAP_SYS_ADMIN must not carry (CLONE_NEW*). */
const CLONE_NAMESPACE_FLAGS: u64 = 0x7e020000;
const AF_VSOCK: u64 = 40;
const ENOSYS: u32 = 38;

function rule(names: string, action: u32): Rule {
  const r = new Rule();
  r.names = names.split(" ");
  r.action = action;
  return r;
}

function withArg(r: Rule, op: i32, value: u64, valueTwo: u64): Rule {
  r.args.push(new ArgCondition(0, op, value, valueTwo));
  return r;
}

function capBit(name: string): u64 {
  const bit = capabilityBit(name);
  assert(bit >= 0, "default profile: capability name");
  return <u64>1 << <u64>bit;
}

/** Docker's default profile, its conditions kept: the compiler applies them (compile.ts ruleApplies). */
export function defaultProfile(): Profile {
  const p = new Profile();
  p.defaultAction = RET_ERRNO | EPERM;
  p.arches = ARCH_X86_64 | ARCH_X86;
  p.rules.push(rule(COMMON, RET_ALLOW));
  const traced = rule("process_vm_readv process_vm_writev ptrace", RET_ALLOW);
  traced.minKernel = "4.8";
  p.rules.push(traced);
  p.rules.push(withArg(rule("socket", RET_ALLOW), CMP_NE, AF_VSOCK, 0));
  for (let i = 0; i < PERSONALITIES.length; i++) p.rules.push(withArg(rule("personality", RET_ALLOW), CMP_EQ, PERSONALITIES[i], 0));
  for (let i = 0; i < BY_CAPABILITY.length; i++) {
    const line = BY_CAPABILITY[i];
    const colon = line.indexOf(":");
    const r = rule(line.substring(colon + 2), RET_ALLOW);
    r.includeCaps = capBit(line.substring(0, colon));
    p.rules.push(r);
  }
  const clone = withArg(rule("clone", RET_ALLOW), CMP_MASKED_EQ, CLONE_NAMESPACE_FLAGS, 0);
  clone.excludeCaps = capBit("CAP_SYS_ADMIN");
  p.rules.push(clone);
  // clone3's flags are in memory the filter cannot read: ENOSYS makes libc fall back to clone.
  const clone3 = rule("clone3", RET_ERRNO | ENOSYS);
  clone3.excludeCaps = capBit("CAP_SYS_ADMIN");
  p.rules.push(clone3);
  return p;
}
