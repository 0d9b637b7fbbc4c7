// runner: times every case of the bench the same way, interleaved.
//
//   runner SPEC WARMUP ITERS ERRDIR
//
// SPEC has one case a line, fields separated by tabs:
//   NAME  KIND  STDIN  MNTNS  ARGV0  ARGV1 ...
// KIND is `exec` (fork + exec ARGV each iteration; the time is from just before fork to wait4
// returning) or `pipe` (ARGV is started once as a server; each iteration writes "run\n" to its
// stdin and reads back one line "NANOSECONDS STATUS" that the server measured itself; the
// server's first line is "ready" or the reason it cannot run, which makes the case n/a).
// STDIN is a file for the command's stdin ("-" for /dev/null). MNTNS is a mount namespace file
// (e.g. /proc/PID/ns/mnt) that the child enters with setns before exec ("-" for none). "{i}" in
// an argument becomes a number unique to the iteration (for container ids).
//
// Rounds: WARMUP + ITERS; each round runs every case once, starting from a different case each
// round (round-robin), so drift on the machine falls on all cases alike. Output, on stdout, one
// line per measured run:   NAME  ITER  NANOSECONDS  STATUS  MAXRSS_KB
// and for a case that cannot run:   #na  NAME  REASON
// The children's stdout goes to /dev/null, their stderr to ERRDIR/NAME.err.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCASES 64
#define MAXARGS 128

struct kase {
  char *name, *kind, *stdin_path, *mntns;
  char *argv[MAXARGS];
  int argc;
  int errfd;
  int na;
  // pipe servers
  pid_t server;
  FILE *to, *from;
};

static struct kase cases[MAXCASES];
static int ncases = 0;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static char *subst(const char *arg, long serial) {
  const char *p = strstr(arg, "{i}");
  if (!p) return (char *)arg;
  char *out = malloc(strlen(arg) + 32);
  sprintf(out, "%.*s%ld%s", (int)(p - arg), arg, serial, p + 3);
  return out;
}

static void parse_spec(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) { perror(path); exit(2); }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] == '\n') line[n - 1] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (ncases == MAXCASES) { fprintf(stderr, "runner: too many cases\n"); exit(2); }
    struct kase *k = &cases[ncases];
    memset(k, 0, sizeof *k);
    char *save = NULL, *copy = strdup(line);
    char *fields[MAXARGS + 4];
    int nf = 0;
    for (char *t = strtok_r(copy, "\t", &save); t && nf < MAXARGS + 4; t = strtok_r(NULL, "\t", &save)) fields[nf++] = t;
    if (nf < 5) { fprintf(stderr, "runner: bad spec line: %s\n", line); exit(2); }
    k->name = fields[0];
    k->kind = fields[1];
    k->stdin_path = fields[2];
    k->mntns = fields[3];
    for (int i = 4; i < nf; i++) k->argv[k->argc++] = fields[i];
    k->argv[k->argc] = NULL;
    ncases++;
  }
  free(line);
  fclose(f);
}

static void start_server(struct kase *k) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) { perror("pipe"); exit(2); }
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(2); }
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(k->errfd, 2);
    execvp(k->argv[0], k->argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  k->server = pid;
  k->to = fdopen(in[1], "w");
  k->from = fdopen(out[0], "r");
  char buf[4096];
  if (!fgets(buf, sizeof buf, k->from)) {
    printf("#na\t%s\tserver exited before it was ready (see %s.err)\n", k->name, k->name);
    k->na = 1;
    return;
  }
  buf[strcspn(buf, "\n")] = 0;
  if (strcmp(buf, "ready") != 0) {
    printf("#na\t%s\t%s\n", k->name, buf);
    k->na = 1;
  }
}

static void stop_server(struct kase *k) {
  if (!k->server) return;
  if (k->to) fclose(k->to);  // EOF: the server ends
  if (k->from) fclose(k->from);
  int st;
  for (int i = 0; i < 500; i++) {  // up to 5 s, then kill it (by its pid)
    if (waitpid(k->server, &st, WNOHANG) == k->server) { k->server = 0; return; }
    usleep(10000);
  }
  kill(k->server, SIGKILL);
  waitpid(k->server, &st, 0);
  k->server = 0;
}

static long serial = 0;

static void run_exec(struct kase *k, int iter, int measured) {
  char *argv[MAXARGS];
  long s = serial++;
  for (int i = 0; i <= k->argc; i++) argv[i] = k->argv[i] ? subst(k->argv[i], s) : NULL;
  int infd = open(strcmp(k->stdin_path, "-") ? k->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
  int nsfd = strcmp(k->mntns, "-") ? open(k->mntns, O_RDONLY | O_CLOEXEC) : -1;
  int nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (infd < 0) { perror(k->stdin_path); exit(2); }
  if (strcmp(k->mntns, "-") && nsfd < 0) { perror(k->mntns); exit(2); }
  long long t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(2); }
  if (pid == 0) {
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNS) < 0) _exit(124);
    dup2(infd, 0);
    dup2(nullfd, 1);
    dup2(k->errfd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  struct rusage ru;
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
  long long t1 = now_ns();
  close(infd);
  close(nullfd);
  if (nsfd >= 0) close(nsfd);
  for (int i = 0; i < k->argc; i++) if (argv[i] != k->argv[i]) free(argv[i]);
  int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (measured) printf("%s\t%d\t%lld\t%d\t%ld\n", k->name, iter, t1 - t0, status, ru.ru_maxrss);
}

static void run_pipe(struct kase *k, int iter, int measured) {
  char buf[256];
  fputs("run\n", k->to);
  fflush(k->to);
  if (!fgets(buf, sizeof buf, k->from)) {
    printf("#na\t%s\tserver ended in the middle (see %s.err)\n", k->name, k->name);
    k->na = 1;
    return;
  }
  long long ns = 0;
  int status = 0;
  if (sscanf(buf, "%lld %d", &ns, &status) != 2) {
    buf[strcspn(buf, "\n")] = 0;
    printf("#na\t%s\t%s\n", k->name, buf);
    k->na = 1;
    return;
  }
  if (measured) printf("%s\t%d\t%lld\t%d\t0\n", k->name, iter, ns, status);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: runner SPEC WARMUP ITERS ERRDIR\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  parse_spec(argv[1]);
  int warmup = atoi(argv[2]), iters = atoi(argv[3]);
  const char *errdir = argv[4];
  for (int i = 0; i < ncases; i++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.err", errdir, cases[i].name);
    cases[i].errfd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (cases[i].errfd < 0) { perror(p); return 2; }
    if (!strcmp(cases[i].kind, "pipe")) start_server(&cases[i]);
  }
  fflush(stdout);
  int rounds = warmup + iters;
  for (int r = 0; r < rounds; r++) {
    for (int j = 0; j < ncases; j++) {
      struct kase *k = &cases[(r + j) % ncases];
      if (k->na) continue;
      int measured = r >= warmup;
      if (!strcmp(k->kind, "pipe")) run_pipe(k, r - warmup, measured);
      else run_exec(k, r - warmup, measured);
    }
    fflush(stdout);
  }
  for (int i = 0; i < ncases; i++) stop_server(&cases[i]);
  return 0;
}
