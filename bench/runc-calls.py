#!/usr/bin/env python3
"""CPU time per husk-runc call, through the fast front (bin/husk-runc) and through Node
(bin/husk-runc.js), on one busybox container (as root).

  python3 bench/runc-calls.py BUNDLE ROOT N

BUNDLE is an OCI bundle whose process runs a while (sleep); ROOT a scratch --root. For each
of state, ps --format json, pause+resume (N times on one running container) and start, kill,
delete (once per container, N containers made with Node), prints the child CPU (user+sys,
RUSAGE_CHILDREN) and the wall time per call, median, for both ways. CPU time is what to
compare on a loaded machine; wall time only on a quiet one.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = [os.path.join(REPO, "bin/husk-runc")]
NODE = ["node", "--", os.path.join(REPO, "bin/husk-runc.js")]


def call(way, root, args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(way + ["--root", root] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("%s %s: %s" % (way[-1], " ".join(args), r.stderr.decode()))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1000, wall * 1000


def report(name, fast, node):
    fc = statistics.median(c for c, _ in fast)
    nc = statistics.median(c for c, _ in node)
    fw = statistics.median(w for _, w in fast)
    nw = statistics.median(w for _, w in node)
    print("| %s | %.1f | %.1f | %.1f | %.1f |" % (name, nc, fc, nw, fw))


def wait_stopped(root, cid):
    for _ in range(200):
        out = subprocess.run(FAST + ["--root", root, "state", cid], capture_output=True, text=True).stdout
        if '"stopped"' in out:
            return
        time.sleep(0.05)
    sys.exit("container %s did not stop" % cid)


def main():
    bundle, root, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("| call | Node CPU ms | fast CPU ms | Node wall ms | fast wall ms |")
    print("|---|---|---|---|---|")
    subprocess.run(NODE + ["--root", root, "run", "-d", "--bundle", bundle, "bench-long"], check=True)
    try:
        for name, args in [("state", ["state", "bench-long"]), ("ps --format json", ["ps", "--format", "json", "bench-long"])]:
            report(name, [call(FAST, root, args) for _ in range(n)], [call(NODE, root, args) for _ in range(n)])
        fast, node = [], []
        for _ in range(n):
            fast.append(call(FAST, root, ["pause", "bench-long"]))
            call(FAST, root, ["resume", "bench-long"])
            node.append(call(NODE, root, ["pause", "bench-long"]))
            call(NODE, root, ["resume", "bench-long"])
        report("pause", fast, node)
    finally:
        subprocess.run(NODE + ["--root", root, "delete", "--force", "bench-long"])
    results = {"start": ([], []), "kill": ([], []), "delete": ([], [])}
    for i in range(n):
        for k, way in enumerate([FAST, NODE]):
            cid = "bench-%d-%d" % (i, k)
            subprocess.run(NODE + ["--root", root, "create", "--bundle", bundle, cid], check=True)
            results["start"][k].append(call(way, root, ["start", cid]))
            results["kill"][k].append(call(way, root, ["kill", cid, "KILL"]))
            wait_stopped(root, cid)
            results["delete"][k].append(call(way, root, ["delete", cid]))
    for name, (fast, node) in results.items():
        report(name, fast, node)


main()
