# Start→exit of one plan against another, interleaved (bench/seccomp.sh): the launcher alone
# runs each saved plan N times; child CPU (user+sys) and wall time per run.
# Usage: python3 bench/seccomp-start.py LAUNCHER N NAME=PLAN...
import os, resource, sys, time, statistics
launcher = sys.argv[1]; n = int(sys.argv[2])
plans = dict(a.split('=', 1) for a in sys.argv[3:])
cpu = {k: 0.0 for k in plans}; wall = {k: [] for k in plans}
for i in range(n):
    for name, plan in plans.items():
        fd = os.open(plan, os.O_RDONLY)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        pid = os.posix_spawn(launcher, [launcher, '--plan-fd', '0'], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0)])
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.close(fd)
        if status != 0: sys.exit(f"{name}: launcher exited with {status}")
        cpu[name] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        wall[name].append(t1 - t0)
base = statistics.median(wall[next(iter(plans))])
for name in plans:
    w = sorted(wall[name])
    print(f"| {name} | {n} | {cpu[name]/n*1e3:.2f} ms | {statistics.median(w)*1e3:.2f} ms | {w[len(w)//10]*1e3:.2f} ms | {statistics.median(w)/base:.3f} |")
