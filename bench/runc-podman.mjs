#!/usr/bin/env node
// `podman run --rm IMAGE true` with husk-runc and with runc is measured by bench/engines.mjs,
// in the same run as `ctr run --rm` (wall and CPU time, bench/results/engines.md); this name
// is kept for the commands written down before.
//   node bench/runc-podman.mjs [--rounds N]   (as root, under /work/it.lock on shared machines)
await import('./engines.mjs');
