#!/usr/bin/env bash
# The cost of the default seccomp filter (docs/security.md "Seccomp"): start→exit of
# /bin/true through the launcher alone (plans saved by `husk plan`), with docker's profile
# and with `--security-opt seccomp=unconfined`, interleaved; then a syscall-heavy command
# (dd of 1 byte at a time: two syscalls per byte) timed inside both.
# Usage: bench/seccomp.sh [N]   (as root; writes bench/results/seccomp.md)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
dir=$(mktemp -d /tmp/husk-bench-seccomp-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/root/stage"
husk() { node bin/husk.js --root "$dir/root" --storage "$dir/storage" "$@"; }
husk plan --save "$dir/filter.bin" host /bin/true
husk plan --security-opt seccomp=unconfined --save "$dir/none.bin" host /bin/true
insns=$(husk plan host /bin/true | grep -o 'seccomp filter of [0-9]*' | grep -o '[0-9]*$')
{
  echo "# The default seccomp filter's cost ($(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) cores)"
  echo
  echo "\`bench/seccomp.sh $n\`: the launcher alone runs \`husk plan host /bin/true\` saved with docker's"
  echo "profile ($insns BPF instructions) and with \`--security-opt seccomp=unconfined\`, interleaved."
  echo
  echo "| plan | runs | child CPU per run | wall median | wall p10 | ratio (median) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  python3 bench/seccomp-start.py zig-out/bin/husk-launcher "$n" "unconfined=$dir/none.bin" "default filter=$dir/filter.bin"
  echo
  echo "Syscalls under the filter: \`dd if=/dev/zero of=/dev/null bs=1 count=2000000\` (4M read/write) inside the container:"
  echo
  for opt in seccomp=unconfined ""; do
    for i in 1 2 3; do
      t=$(husk run ${opt:+--security-opt $opt} host dd if=/dev/zero of=/dev/null bs=1 count=2000000 2>&1 | grep -o '[0-9.]* s,' | tr -d ' s,')
      echo "- ${opt:-default filter}: ${t} s"
    done
  done
} | tee bench/results/seccomp.md
