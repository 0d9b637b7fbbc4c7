// floor: the kernel's cost of a container, with nothing else. The bench runs it beside husk
// and the other runtimes; every ratio the bench prints is to this program.
//
// Default mode does, in C, one syscall per op of the plan husk makes for
//   husk run --rootfs DIR -- /bin/true
// (see `husk plan --rootfs DIR /bin/true`), in the same order:
//   clone(NEWNS|NEWCGROUP|NEWPID|NEWNET|NEWIPC|NEWUTS) — the parent stays as the monitor
//   / rprivate; tmpfs stage; mkdir upper, work, root; overlay (rootfs read-only below)
//   mkdir proc dev sys tmp; proc; /dev: tmpfs, 6 device binds, devpts, 5 symlinks, shm, mqueue
//   sysfs read-only; /tmp tmpfs; 11 masked paths; 5 read-only paths
//   pivot_root; sethostname; lo up; capabilities; user 0:0; chdir /; no_new_privs;
//   close_range; execve; the parent waits.
// Paths are used as plain strings here (husk resolves each relative path inside the root with
// openat2(RESOLVE_IN_ROOT) and mounts through /proc/self/fd/N, which costs a few more
// syscalls: that is husk's overhead, not the floor's).
//
// --chroot-only: clone(same namespaces) + chroot + execve, the simplest floor.
// --layers A:B:C: overlay of several lower dirs (lowest first) in place of --rootfs.
// --cgroup-parent NAME --memory BYTES --pids N: a v1 memory and pids cgroup per container
//   (<ctrl>/NAME/floor-PID-N), joined before exec and removed after, as runc does on v1.
// --count N --parallel P: N containers, P in flight; prints "floor: N containers in S s".
//
// Build: gcc -O2 -static -o floor floor.c   (bench/setup.mjs does; static like the launcher,
// so neither pays for the dynamic loader). Runs as root.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct mount_attr_s { uint64_t attr_set, attr_clr, propagation, userns_fd; };
struct clone_args_s {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

static const char *rootfs = NULL, *layers = NULL, *stage = "/run/husk-bench-floor/stage";
static const char *hostname = "floorbench00";
static const char *cg_parent = NULL;
static long long memory_limit = 0, pids_limit = 0;
static int chroot_only = 0, want_net = 1;
static char **cmd = NULL;
static char *default_cmd[] = {"/bin/true", NULL};
static char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      "HOSTNAME=floorbench00", "HOME=/root", NULL};

static void die(const char *what, const char *subject) {
  // In the container process: report and exit 125 like the launcher's failed op.
  dprintf(2, "floor: %s %s: %s\n", what, subject ? subject : "", strerror(errno));
  _exit(125);
}

static void xmount(const char *src, const char *tgt, const char *fs, unsigned long fl, const char *data) {
  if (mount(src, tgt, fs, fl, data) < 0) die("mount", tgt);
}
static void xmkdir(const char *p, mode_t m) {
  if (mkdir(p, m) < 0 && errno != EEXIST) die("mkdir", p);
}
static void bind_create(const char *src, const char *tgt) {
  int fd = open(tgt, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) die("create", tgt);
  close(fd);
  xmount(src, tgt, NULL, MS_BIND, NULL);
}
static void xsymlink(const char *t, const char *l) {
  if (symlink(t, l) < 0) die("symlink", l);
}
static void mask(const char *p) {
  struct stat st;
  if (lstat(p, &st) < 0) return;  // missing: skipped
  if (S_ISDIR(st.st_mode)) xmount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
  else xmount("/dev/null", p, NULL, MS_BIND, NULL);
}
static void readonly(const char *p) {
  struct stat st;
  if (lstat(p, &st) < 0) return;
  xmount(p, p, NULL, MS_BIND | MS_REC, NULL);
  struct mount_attr_s a = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &a, sizeof a) < 0) die("mount_setattr", p);
}

static const char *MASKED[] = {"proc/asound", "proc/acpi", "proc/kcore", "proc/keys", "proc/latency_stats",
                               "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
                               "sys/firmware", "sys/devices/virtual/powercap"};
static const char *READONLY[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};
static const char *DEVICES[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Docker's default capabilities (the plan's CAPS op).
static const uint64_t CAPS = (1ULL << 0) | (1ULL << 1) | (1ULL << 4) | (1ULL << 3) | (1ULL << 27) |
                             (1ULL << 13) | (1ULL << 6) | (1ULL << 7) | (1ULL << 31) | (1ULL << 8) |
                             (1ULL << 10) | (1ULL << 18) | (1ULL << 5) | (1ULL << 29);

static void container_plan(void) {
  char upper[4096], work[4096], root[4096], data[16384];
  snprintf(upper, sizeof upper, "%s/upper", stage);
  snprintf(work, sizeof work, "%s/work", stage);
  snprintf(root, sizeof root, "%s/root", stage);
  xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  xmount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  xmkdir(upper, 0755);
  xmkdir(work, 0755);
  xmkdir(root, 0755);
  if (layers) {
    // overlay lists the upper-most lower first; --layers gives the lowest first.
    char rev[4096] = "";
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", layers);
    char *parts[64];
    int n = 0;
    for (char *s = strtok(buf, ":"); s && n < 64; s = strtok(NULL, ":")) parts[n++] = s;
    for (int i = n - 1; i >= 0; i--) {
      strncat(rev, parts[i], sizeof rev - strlen(rev) - 2);
      if (i) strcat(rev, ":");
    }
    snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", rev, upper, work);
  } else {
    snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", rootfs, upper, work);
  }
  xmount("overlay", root, "overlay", 0, data);
  if (chdir(root) < 0) die("chdir", root);  // SET_ROOT: relative paths from here
  xmkdir("proc", 0755);
  xmkdir("dev", 0755);
  xmkdir("sys", 0755);
  xmkdir("tmp", 0755);
  xmount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  xmount("tmpfs", "dev", "tmpfs", MS_NOSUID, "mode=755,size=65536k");
  for (unsigned i = 0; i < sizeof DEVICES / sizeof *DEVICES; i++) {
    char s[64], t[64];
    snprintf(s, sizeof s, "/dev/%s", DEVICES[i]);
    snprintf(t, sizeof t, "dev/%s", DEVICES[i]);
    bind_create(s, t);
  }
  xmkdir("dev/pts", 0755);
  xmount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  xsymlink("pts/ptmx", "dev/ptmx");
  xsymlink("/proc/self/fd", "dev/fd");
  xsymlink("/proc/self/fd/0", "dev/stdin");
  xsymlink("/proc/self/fd/1", "dev/stdout");
  xsymlink("/proc/self/fd/2", "dev/stderr");
  xmkdir("dev/shm", 0755);
  xmount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  xmkdir("dev/mqueue", 0755);
  xmount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  if (want_net) xmount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
  else {
    xmount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL);
    struct mount_attr_s a = {.attr_set = MOUNT_ATTR_RDONLY};
    syscall(SYS_mount_setattr, AT_FDCWD, "sys", AT_RECURSIVE, &a, sizeof a);
  }
  xmount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  for (unsigned i = 0; i < sizeof MASKED / sizeof *MASKED; i++) mask(MASKED[i]);
  for (unsigned i = 0; i < sizeof READONLY / sizeof *READONLY; i++) readonly(READONLY[i]);
  // PIVOT_ROOT
  if (chdir(root) < 0) die("chdir", root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", root);
  if (umount2(".", MNT_DETACH) < 0) die("umount", "old root");
  if (chdir("/") < 0) die("chdir", "/");
  if (sethostname(hostname, strlen(hostname)) < 0) die("sethostname", hostname);
  if (want_net) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("ioctl", "lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("ioctl", "lo up");
    close(s);
  }
  // CAPS: drop the bounding set down to CAPS, clear ambient, capset.
  for (int c = 0; c < 64; c++) {
    if (CAPS & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the last capability this kernel knows
      die("capbset", "drop");
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{(uint32_t)CAPS, (uint32_t)CAPS, 0}, {(uint32_t)(CAPS >> 32), (uint32_t)(CAPS >> 32), 0}};
  if (syscall(SYS_capset, &h, d) < 0) die("capset", "");
  // USER 0:0, no groups
  if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die("user", "0");
  if (chdir("/") < 0) die("chdir", "/");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("prctl", "no_new_privs");
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die("close_range", "");
}

static int cg_write(const char *path, long long v) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char b[32];
  int n = snprintf(b, sizeof b, "%lld", v);
  int r = write(fd, b, n) == n ? 0 : -1;
  close(fd);
  return r;
}

static pid_t do_clone(uint64_t flags) {
  struct clone_args_s a = {.flags = flags, .exit_signal = SIGCHLD};
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r < 0 && (errno == ENOSYS || errno == EPERM)) r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  return (pid_t)r;
}

static long serial = 0;
struct running { pid_t pid; char cg[2][256]; };

/** Starts one container; returns its pid (its cgroup dirs in *r). */
static pid_t start_one(struct running *r) {
  uint64_t flags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (want_net) flags |= CLONE_NEWNET;
  int use_cg = cg_parent && (memory_limit || pids_limit);
  int sync[2] = {-1, -1};
  r->cg[0][0] = r->cg[1][0] = 0;
  if (use_cg) {
    long n = serial++;
    snprintf(r->cg[0], sizeof r->cg[0], "/sys/fs/cgroup/memory/%s/floor-%d-%ld", cg_parent, getpid(), n);
    snprintf(r->cg[1], sizeof r->cg[1], "/sys/fs/cgroup/pids/%s/floor-%d-%ld", cg_parent, getpid(), n);
    char p[300];
    if (mkdir(r->cg[0], 0755) < 0) { perror(r->cg[0]); exit(125); }
    if (mkdir(r->cg[1], 0755) < 0) { perror(r->cg[1]); exit(125); }
    snprintf(p, sizeof p, "%s/memory.limit_in_bytes", r->cg[0]);
    if (memory_limit && cg_write(p, memory_limit) < 0) { perror(p); exit(125); }
    snprintf(p, sizeof p, "%s/pids.max", r->cg[1]);
    if (pids_limit && cg_write(p, pids_limit) < 0) { perror(p); exit(125); }
    if (pipe2(sync, O_CLOEXEC) < 0) { perror("pipe"); exit(125); }
  }
  pid_t pid = do_clone(flags);
  if (pid < 0) { perror("clone"); exit(125); }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (use_cg) {  // wait until the parent has put us in our cgroups
      char c;
      close(sync[1]);
      if (read(sync[0], &c, 1) != 1) _exit(125);
      close(sync[0]);
    }
    if (chroot_only) {
      if (chroot(rootfs) < 0) die("chroot", rootfs);
      if (chdir("/") < 0) die("chdir", "/");
    } else {
      container_plan();
    }
    execve(cmd[0], cmd, env);
    die("execve", cmd[0]);
  }
  if (use_cg) {
    char p[300];
    close(sync[0]);
    for (int i = 0; i < 2; i++) {
      snprintf(p, sizeof p, "%s/cgroup.procs", r->cg[i]);
      if (cg_write(p, pid) < 0) { perror(p); kill(pid, SIGKILL); }
    }
    if (write(sync[1], "x", 1) != 1) { /* child died */ }
    close(sync[1]);
  }
  r->pid = pid;
  return pid;
}

static void finish(struct running *r) {
  for (int i = 0; i < 2; i++)
    if (r->cg[i][0]) rmdir(r->cg[i]);
}

static int status_of(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
}

int main(int argc, char **argv) {
  long count = 0, parallel = 1;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    else if (!strcmp(a, "--chroot-only")) chroot_only = 1;
    else if (!strcmp(a, "--no-net")) want_net = 0;
    else if (!strcmp(a, "--rootfs") && i + 1 < argc) rootfs = argv[++i];
    else if (!strcmp(a, "--layers") && i + 1 < argc) layers = argv[++i];
    else if (!strcmp(a, "--stage") && i + 1 < argc) stage = argv[++i];
    else if (!strcmp(a, "--hostname") && i + 1 < argc) hostname = argv[++i];
    else if (!strcmp(a, "--cgroup-parent") && i + 1 < argc) cg_parent = argv[++i];
    else if (!strcmp(a, "--memory") && i + 1 < argc) memory_limit = atoll(argv[++i]);
    else if (!strcmp(a, "--pids") && i + 1 < argc) pids_limit = atoll(argv[++i]);
    else if (!strcmp(a, "--count") && i + 1 < argc) count = atol(argv[++i]);
    else if (!strcmp(a, "--parallel") && i + 1 < argc) parallel = atol(argv[++i]);
    else {
      fprintf(stderr,
              "usage: floor [--chroot-only] [--no-net] (--rootfs DIR | --layers A:B:C) [--stage DIR]\n"
              "             [--hostname H] [--cgroup-parent NAME --memory BYTES --pids N]\n"
              "             [--count N --parallel P] [-- CMD ARGS...]\n");
      return 125;
    }
  }
  cmd = i < argc ? &argv[i] : default_cmd;
  if (!rootfs && !layers) { fprintf(stderr, "floor: --rootfs or --layers is required\n"); return 125; }
  if (chroot_only && !rootfs) { fprintf(stderr, "floor: --chroot-only needs --rootfs\n"); return 125; }
  if (!chroot_only) {
    struct stat st;
    if (stat(stage, &st) < 0 || !S_ISDIR(st.st_mode)) { fprintf(stderr, "floor: stage %s: not a directory\n", stage); return 125; }
  }

  if (count <= 0) {  // one container, its status is ours
    struct running r;
    pid_t pid = start_one(&r);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    finish(&r);
    return status_of(st);
  }

  // Throughput: count containers, parallel in flight.
  if (parallel < 1) parallel = 1;
  if (parallel > 64) parallel = 64;
  struct running slots[64];
  struct timespec t0, t1;
  long started = 0, done = 0, failed = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int s = 0; s < parallel && started < count; s++, started++) start_one(&slots[s]);
  while (done < count) {
    int st;
    pid_t pid = wait(&st);
    if (pid < 0) { if (errno == EINTR) continue; perror("wait"); return 125; }
    int s;
    for (s = 0; s < parallel; s++) if (slots[s].pid == pid) break;
    if (s == parallel) continue;
    finish(&slots[s]);
    slots[s].pid = 0;
    done++;
    if (status_of(st) != 0) failed++;
    if (started < count) { start_one(&slots[s]); started++; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("floor: %ld containers in %.6f s (%ld failed)\n", count, secs, failed);
  return failed ? 1 : 0;
}
