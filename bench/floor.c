// floor: the kernel's cost of a container, with nothing else. The bench runs it beside husk
// and the other runtimes; every ratio the bench prints is to this program.
//
// Default mode does, in C, one syscall (or one open+write/read+close) per op of the plan husk
// makes for
//   husk run --rootfs DIR -- /bin/true
// (see `husk plan --rootfs DIR /bin/true`), in the same order:
//   before the clone, for each cgroup hierarchy in mount order (here 9 v1 + cgroup2):
//     mkdir the shared parent (EEXIST is fine, it is kept); cpuset: write cpuset.cpus and
//     cpuset.mems to the parent; mkdir the container's own cgroup; cpuset: write cpus, mems
//     to it; with --memory/--pids: memory.limit_in_bytes, memory.memsw.limit_in_bytes (2×,
//     docker's default swap), pids.max; cgroup2: open the own dir for CLONE_INTO_CGROUP
//   clone3(NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS, CLONE_INTO_CGROUP) — the parent stays as the
//     monitor
//   the container process: for each v1 hierarchy, write "0" to its own cgroup's `tasks` (the
//     thread moves itself); unshare(NEWCGROUP)
//   / rprivate; tmpfs stage; mkdir upper, work, root; overlay (rootfs read-only below)
//   mkdir proc dev sys tmp; proc; /dev: tmpfs, 6 device binds, devpts, 5 symlinks, shm, mqueue
//   sysfs read-only; sys/fs/cgroup: tmpfs, per hierarchy mkdir + read-only cgroup mount, the
//   whole of it read-only (bind + mount_setattr); /tmp tmpfs; 11 masked paths; 5 read-only
//   paths; pivot_root; sethostname; lo up; capabilities; user 0:0; chdir /; no_new_privs;
//   close_range; execve
//   the parent waits, reads the 5 report files (memory.oom_control, failcnt,
//   max_usage_in_bytes, limit_in_bytes, pids.events), rmdirs its own cgroups, newest first.
// Paths are used as plain strings here. What husk does beyond that is husk's overhead, not
// the floor's: resolving each relative path inside the root with openat2(RESOLVE_IN_ROOT) and
// mounting through /proc/self/fd/N, statfs checks that cgroup paths are on a cgroup fs, the
// bind of the new root on itself before pivot_root (the overlay is a mount point already),
// the release and status pipes between launcher and container process, and the events.
//
// --no-cgroups: the same without any of the cgroup work (husk's plan before it had cgroups).
// --chroot-only: clone(same namespaces + NEWCGROUP) + chroot + execve, the simplest floor.
// --layers A:B:C: overlay of several lower dirs (lowest first) in place of --rootfs.
// --cgroup-parent NAME: the shared parent (default husk-bench-floor); each container gets
//   NAME/floor-PID-N in every hierarchy, removed at its end. The parent is kept, like husk's.
// --cgroup DIR=DATA (v1) / --cgroup2 DIR, repeatable: the hierarchies under /sys/fs/cgroup
//   and their mount data, in order (the bench passes the host's); without any, they are read
//   from /proc/self/mountinfo at start. --cpuset CPUS:MEMS: what to write to cpuset.cpus and
//   cpuset.mems (default: the root cpuset's, read at start).
// --memory BYTES --pids N: limits, as husk run --memory/--pids-limit writes them.
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
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
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
static const char *cg_parent = "husk-bench-floor";
static long long memory_limit = 0, pids_limit = 0;
static int chroot_only = 0, want_net = 1, want_cgroups = 1;
static char **cmd = NULL;
static char *default_cmd[] = {"/bin/true", NULL};
static char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      "HOSTNAME=floorbench00", "HOME=/root", NULL};

#define CG_ROOT "/sys/fs/cgroup"
#define MAX_HIER 16
/** A hierarchy mounted at CG_ROOT/dir: v1 with its mount data (e.g. "cpu", "none,name=systemd"), or cgroup2. */
struct hier { char dir[64]; char data[128]; int v2; };
static struct hier hiers[MAX_HIER];
static int nhiers = 0;
static char cpuset_cpus[256] = "", cpuset_mems[256] = "";

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
  if (S_ISDIR(st.st_mode)) xmount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
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
  if (want_cgroups) {
    // The container's view of its cgroups: a tmpfs, each hierarchy mounted read-only (the
    // cgroup namespace shows the container's own cgroup as its root), then all read-only.
    xmount("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
    for (int i = 0; i < nhiers; i++) {
      char t[128];
      snprintf(t, sizeof t, "sys/fs/cgroup/%.63s", hiers[i].dir);
      xmkdir(t, 0755);
      const unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
      if (hiers[i].v2) xmount("cgroup2", t, "cgroup2", fl, NULL);
      else xmount("cgroup", t, "cgroup", fl, hiers[i].data);
    }
    readonly("sys/fs/cgroup");
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

// ---------------------------------------------------------------- cgroups

/** open + one write + close, like CGROUP_WRITE; -1 with errno on failure. */
static int cg_write(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  ssize_t n = (ssize_t)strlen(value);
  int r = write(fd, value, n) == n ? 0 : -1;
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static void cg_write_or_exit(const char *dir, const char *file, const char *value) {
  char p[512];
  snprintf(p, sizeof p, "%.319s/%.63s", dir, file);
  if (cg_write(p, value) < 0) { fprintf(stderr, "floor: write %s to %s: %s\n", value, p, strerror(errno)); exit(125); }
}

/** The v1 and v2 hierarchies mounted right under CG_ROOT, from mountinfo (when not given). */
static void discover_hierarchies(void) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) { perror("/proc/self/mountinfo"); exit(125); }
  char line[4096];
  while (fgets(line, sizeof line, f) && nhiers < MAX_HIER) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
    char *fields[16];
    int n = 0;
    for (char *s = strtok(line, " \n"); s && n < 16; s = strtok(NULL, " \n")) fields[n++] = s;
    int dash = -1;
    for (int i = 6; i < n; i++) if (!strcmp(fields[i], "-")) { dash = i; break; }
    if (n < 5 || dash < 0 || dash + 3 >= n) continue;
    const char *mp = fields[4], *type = fields[dash + 1], *opts = fields[dash + 3];
    if (strncmp(mp, CG_ROOT "/", sizeof CG_ROOT) || strchr(mp + sizeof CG_ROOT, '/')) continue;
    struct hier *h = &hiers[nhiers];
    snprintf(h->dir, sizeof h->dir, "%s", mp + sizeof CG_ROOT);
    if (!strcmp(type, "cgroup2")) { h->v2 = 1; nhiers++; continue; }
    if (strcmp(type, "cgroup")) continue;
    // data: the controllers and name= of the super options (rw and the like dropped); a
    // named hierarchy without controllers gets "none," in front, as husk writes it.
    char data[128] = "";
    int controllers = 0;
    char optbuf[512];
    snprintf(optbuf, sizeof optbuf, "%s", opts);
    char *save = NULL;
    for (char *o = strtok_r(optbuf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
      if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strcmp(o, "xattr") || !strcmp(o, "noprefix") ||
          !strcmp(o, "clone_children") || !strncmp(o, "release_agent=", 14) || !strcmp(o, "cpuset_v2_mode")) continue;
      if (strncmp(o, "name=", 5)) controllers++;
      if (*data) strncat(data, ",", sizeof data - strlen(data) - 1);
      strncat(data, o, sizeof data - strlen(data) - 1);
    }
    if (controllers) snprintf(h->data, sizeof h->data, "%s", data);
    else snprintf(h->data, sizeof h->data, "none,%s", data);
    h->v2 = 0;
    nhiers++;
  }
  fclose(f);
}

static void read_root_cpuset(void) {
  const char *files[2] = {CG_ROOT "/cpuset/cpuset.cpus", CG_ROOT "/cpuset/cpuset.mems"};
  char *out[2] = {cpuset_cpus, cpuset_mems};
  for (int i = 0; i < 2; i++) {
    int fd = open(files[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, out[i], 255);
    close(fd);
    if (n < 0) n = 0;
    out[i][n] = 0;
    char *nl = strchr(out[i], '\n');
    if (nl) *nl = 0;
  }
}

static pid_t do_clone(uint64_t flags, int cgroup_fd) {
  struct clone_args_s a = {.flags = flags, .exit_signal = SIGCHLD};
  if (cgroup_fd >= 0) {
    a.flags |= CLONE_INTO_CGROUP;
    a.cgroup = (uint64_t)cgroup_fd;
  }
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r < 0 && cgroup_fd < 0 && (errno == ENOSYS || errno == EPERM)) r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  return (pid_t)r;
}

static long serial = 0;
struct running { pid_t pid; int ncg; char cg[MAX_HIER][320]; };

/** Starts one container; returns its pid (its own cgroup dirs in *r, in creation order). */
static pid_t start_one(struct running *r) {
  uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (want_net) flags |= CLONE_NEWNET;
  r->ncg = 0;
  int cgroup_fd = -1;
  if (want_cgroups) {
    // CGROUP_MKDIR shared parent, CGROUP_WRITE, CGROUP_MKDIR own, CGROUP_WRITE..., CGROUP_INTO
    char id[64], parent[256];
    snprintf(id, sizeof id, "floor-%d-%ld", getpid(), serial++);
    for (int i = 0; i < nhiers; i++) {
      const struct hier *h = &hiers[i];
      int cpuset = !h->v2 && !strcmp(h->dir, "cpuset");
      snprintf(parent, sizeof parent, CG_ROOT "/%.63s/%.127s", h->dir, cg_parent);
      if (mkdir(parent, 0755) < 0 && errno != EEXIST) { perror(parent); exit(125); }
      if (cpuset) {
        cg_write_or_exit(parent, "cpuset.cpus", cpuset_cpus);
        cg_write_or_exit(parent, "cpuset.mems", cpuset_mems);
      }
      char *own = r->cg[r->ncg];
      snprintf(own, sizeof r->cg[0], "%s/%s", parent, id);
      if (mkdir(own, 0755) < 0) { perror(own); exit(125); }
      r->ncg++;
      if (cpuset) {
        cg_write_or_exit(own, "cpuset.cpus", cpuset_cpus);
        cg_write_or_exit(own, "cpuset.mems", cpuset_mems);
      }
      if (!h->v2 && !strcmp(h->dir, "memory") && memory_limit) {
        char v[32];
        snprintf(v, sizeof v, "%lld", memory_limit);
        cg_write_or_exit(own, "memory.limit_in_bytes", v);
        snprintf(v, sizeof v, "%lld", memory_limit * 2);
        cg_write_or_exit(own, "memory.memsw.limit_in_bytes", v);
      }
      if (!h->v2 && !strcmp(h->dir, "pids") && pids_limit) {
        char v[32];
        snprintf(v, sizeof v, "%lld", pids_limit);
        cg_write_or_exit(own, "pids.max", v);
      }
      if (h->v2 && cgroup_fd < 0) {
        cgroup_fd = open(own, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cgroup_fd < 0) { perror(own); exit(125); }
      }
    }
  } else if (!chroot_only) {
    flags |= CLONE_NEWCGROUP;  // husk's plan before cgroups: the cgroup ns came with the clone
  }
  if (chroot_only) flags |= CLONE_NEWCGROUP;
  pid_t pid = do_clone(flags, cgroup_fd);
  if (pid < 0) { perror("clone3"); exit(125); }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (want_cgroups) {
      // CGROUP_JOIN: the container process moves itself into each v1 cgroup (no global lock),
      // then gets its cgroup namespace, rooted at its own cgroups.
      for (int i = 0; i < r->ncg; i++) {
        if (hiers[i].v2) continue;
        char p[400];
        snprintf(p, sizeof p, "%s/tasks", r->cg[i]);
        if (cg_write(p, "0") < 0) die("join cgroup", p);
      }
      if (unshare(CLONE_NEWCGROUP) < 0) die("unshare", "cgroup");
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
  if (cgroup_fd >= 0) close(cgroup_fd);
  r->pid = pid;
  return pid;
}

/** After the container was reaped: CGROUP_REPORT's reads, then cleanup of the own cgroups. */
static void finish(struct running *r) {
  static const char *REPORTS[][2] = {{"memory", "memory.oom_control"}, {"memory", "memory.failcnt"},
                                     {"memory", "memory.max_usage_in_bytes"}, {"memory", "memory.limit_in_bytes"},
                                     {"pids", "pids.events"}};
  for (unsigned k = 0; k < sizeof REPORTS / sizeof *REPORTS; k++) {
    for (int i = 0; i < r->ncg; i++) {
      if (hiers[i].v2 || strcmp(hiers[i].dir, REPORTS[k][0])) continue;
      char p[400], buf[4096];
      snprintf(p, sizeof p, "%.319s/%.63s", r->cg[i], REPORTS[k][1]);
      int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) continue;
      while (read(fd, buf, sizeof buf) > 0) {}
      close(fd);
    }
  }
  for (int i = r->ncg - 1; i >= 0; i--) {
    // the container's pid 1 is reaped, so its cgroups are empty: one rmdir each (retry a
    // moment if the kernel has not yet let go of the exiting task)
    for (int t = 0; t < 100 && rmdir(r->cg[i]) < 0 && errno == EBUSY; t++) usleep(1000);
  }
  r->ncg = 0;
}

static int status_of(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
}

int main(int argc, char **argv) {
  long count = 0, parallel = 1;
  int cpuset_given = 0;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    else if (!strcmp(a, "--chroot-only")) chroot_only = 1;
    else if (!strcmp(a, "--no-net")) want_net = 0;
    else if (!strcmp(a, "--no-cgroups")) want_cgroups = 0;
    else if (!strcmp(a, "--rootfs") && i + 1 < argc) rootfs = argv[++i];
    else if (!strcmp(a, "--layers") && i + 1 < argc) layers = argv[++i];
    else if (!strcmp(a, "--stage") && i + 1 < argc) stage = argv[++i];
    else if (!strcmp(a, "--hostname") && i + 1 < argc) hostname = argv[++i];
    else if (!strcmp(a, "--cgroup-parent") && i + 1 < argc) cg_parent = argv[++i];
    else if ((!strcmp(a, "--cgroup") || !strcmp(a, "--cgroup2")) && i + 1 < argc && nhiers < MAX_HIER) {
      struct hier *h = &hiers[nhiers++];
      const char *v = argv[++i];
      h->v2 = !strcmp(a, "--cgroup2");
      const char *eq = h->v2 ? NULL : strchr(v, '=');
      if (!h->v2 && !eq) { fprintf(stderr, "floor: --cgroup DIR=DATA\n"); return 125; }
      snprintf(h->dir, sizeof h->dir, "%.*s", (int)(eq ? eq - v : (long)strlen(v)), v);
      snprintf(h->data, sizeof h->data, "%s", eq ? eq + 1 : "");
    }
    else if (!strcmp(a, "--cpuset") && i + 1 < argc) {
      const char *v = argv[++i], *colon = strchr(v, ':');
      if (!colon) { fprintf(stderr, "floor: --cpuset CPUS:MEMS\n"); return 125; }
      snprintf(cpuset_cpus, sizeof cpuset_cpus, "%.*s", (int)(colon - v), v);
      snprintf(cpuset_mems, sizeof cpuset_mems, "%s", colon + 1);
      cpuset_given = 1;
    }
    else if (!strcmp(a, "--memory") && i + 1 < argc) memory_limit = atoll(argv[++i]);
    else if (!strcmp(a, "--pids") && i + 1 < argc) pids_limit = atoll(argv[++i]);
    else if (!strcmp(a, "--count") && i + 1 < argc) count = atol(argv[++i]);
    else if (!strcmp(a, "--parallel") && i + 1 < argc) parallel = atol(argv[++i]);
    else {
      fprintf(stderr,
              "usage: floor [--chroot-only] [--no-net] [--no-cgroups] (--rootfs DIR | --layers A:B:C) [--stage DIR]\n"
              "             [--hostname H] [--cgroup-parent NAME] [--cgroup DIR=DATA]... [--cgroup2 DIR]\n"
              "             [--cpuset CPUS:MEMS] [--memory BYTES] [--pids N]\n"
              "             [--count N --parallel P] [-- CMD ARGS...]\n");
      return 125;
    }
  }
  cmd = i < argc ? &argv[i] : default_cmd;
  if (!rootfs && !layers) { fprintf(stderr, "floor: --rootfs or --layers is required\n"); return 125; }
  if (chroot_only && !rootfs) { fprintf(stderr, "floor: --chroot-only needs --rootfs\n"); return 125; }
  if (chroot_only) want_cgroups = 0;
  if (!want_cgroups && (memory_limit || pids_limit)) { fprintf(stderr, "floor: --memory/--pids need the cgroups\n"); return 125; }
  if (!chroot_only) {
    struct stat st;
    if (stat(stage, &st) < 0 || !S_ISDIR(st.st_mode)) { fprintf(stderr, "floor: stage %s: not a directory\n", stage); return 125; }
  }
  if (want_cgroups) {
    if (nhiers == 0) discover_hierarchies();
    if (nhiers == 0) { fprintf(stderr, "floor: no cgroup hierarchy under " CG_ROOT "\n"); return 125; }
    if (!cpuset_given) read_root_cpuset();
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
  static struct running slots[64];
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
