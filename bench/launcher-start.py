# Launcher start cost, old vs new binary (docs/security.md): child CPU time (user+sys) and
# wall time per run, interleaved. Usage: python3 bench/launcher-start.py PLAN N BINARY...
import os, resource, sys, time, statistics
plan = sys.argv[1]; n = int(sys.argv[2]); bins = sys.argv[3:]
cpu = {b: 0.0 for b in bins}; wall = {b: [] for b in bins}
for i in range(n):
    for b in bins:
        fd = os.open(plan, os.O_RDONLY)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        pid = os.posix_spawn(b, [b, '--plan-fd', '0'], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_OPEN, 2, '/dev/null', os.O_WRONLY, 0)])
        os.waitpid(pid, 0)
        t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.close(fd)
        cpu[b] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        wall[b].append(t1 - t0)
for b in bins:
    w = sorted(wall[b])
    print(f"{b}: cpu {cpu[b]/n*1e3:.3f} ms/run, wall median {statistics.median(w)*1e3:.3f} ms, p10 {w[len(w)//10]*1e3:.3f} ms  (n={n})")
