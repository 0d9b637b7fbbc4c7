#!/bin/sh
# Runs opencontainers/runtime-tools' validation against one runtime, by hand (not in CI).
#   scripts/runtime-tools.sh CHECKOUT RUNTIME LOGDIR
# CHECKOUT is a local clone of runtime-tools (commit 260e151 builds with Go 1.19); it is
# built there offline from its vendor/ directory if its executables are missing. Each
# validation/*/*.t runs from CHECKOUT (it unpacks rootfs-amd64.tar.gz and copies
# runtimetest from there) with RUNTIME set; its TAP output goes to LOGDIR/NAME.log, and the
# last line printed is the total: ok (of which skip) / not ok.
# Nothing of runtime-tools is kept in this repository; the script only builds what it is given.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 RUNTIME_TOOLS_CHECKOUT RUNTIME LOGDIR" >&2
	exit 2
fi
checkout=$(cd "$1" && pwd)
runtime=$2
mkdir -p "$3"
logdir=$(cd "$3" && pwd)
cd "$checkout"
if [ ! -x runtimetest ] || [ ! -x validation/create/create.t ]; then
	GOFLAGS=-mod=vendor GOPROXY=off make runtimetest validation-executables >"$logdir/build.log" 2>&1
fi
for test in validation/*/*.t; do
	name=$(basename "$test" .t)
	# A test that hangs (a runtime that never answers) must not stop the others.
	RUNTIME="$runtime" timeout 300 "./$test" >"$logdir/$name.log" 2>&1 || true
	ok=$(grep -c '^ok ' "$logdir/$name.log" || true)
	skip=$(grep -c '^ok .*# [Ss][Kk][Ii][Pp]' "$logdir/$name.log" || true)
	notok=$(grep -c '^not ok ' "$logdir/$name.log" || true)
	printf '%-40s %5s ok (%s skip) %3s not ok\n' "$name" "$ok" "$skip" "$notok"
done | tee "$logdir/summary.txt"
awk '{ ok += $2; skip += substr($4, 2); notok += $6 }
	END { printf "total: %d ok (%d skip) / %d not ok\n", ok, skip, notok }' "$logdir/summary.txt" |
	tee -a "$logdir/summary.txt"
