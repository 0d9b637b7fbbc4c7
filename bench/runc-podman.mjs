#!/usr/bin/env node
// Engine speed: `podman run --rm IMAGE true` end to end with --runtime husk-runc and with
// --runtime runc, same image, same podman flags, rounds interleaved (husk-runc, runc, ...)
// so both see the same machine. Medians, p10/p90 and the ratio go to bench/results/runc-podman.md.
// Each podman run calls the runtime cold three times (create, start, delete --force), so
// husk-runc pays Node's start three times per run.
// Run as root, under /work/it.lock on shared machines:  node bench/runc-podman.mjs [--rounds N]
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 20;
const dir = mkdtempSync(join(tmpdir(), 'husk-bench-runc-'));
const image = 'localhost/husk-bench-runc:1';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

const podman = (runtime, args) => [
  '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
  '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', runtime, ...args,
];
const runArgs = ['run', '--rm', '--network', 'none', '--cgroup-parent', '/husk-bench-runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'true'];

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

try {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const a of ['sh', 'true']) symlinkSync('busybox', join(rootfs, 'bin', a));
  run('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
  run('podman', podman('runc', ['import', join(dir, 'rootfs.tar'), image]));
  const huskRunc = join(dir, 'husk-runc');
  writeFileSync(huskRunc, `#!/bin/sh\nHUSK_RUNC_NODE=${process.execPath} exec ${join(repo, 'bin/husk-runc')} --root ${join(dir, 'husk-runc-root')} "$@"\n`);
  chmodSync(huskRunc, 0o755);
  const runtimes = { 'husk-runc': huskRunc, runc: '/usr/sbin/runc' };
  const times = { 'husk-runc': [], runc: [] };
  for (const [name, path] of Object.entries(runtimes)) run('podman', podman(path, runArgs)); // warm the caches
  for (let i = 0; i < rounds; i++) {
    for (const [name, path] of Object.entries(runtimes)) {
      const t = process.hrtime.bigint();
      run('podman', podman(path, runArgs), { stdio: ['ignore', 'ignore', 'pipe'] });
      times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  const rows = Object.entries(times).map(([name, list]) => {
    const s = [...list].sort((a, b) => a - b);
    return { name, median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9) };
  });
  const ratio = rows[0].median / rows[1].median;
  const lines = [
    `# podman run --rm IMAGE true: husk-runc beside runc`,
    '',
    `${new Date().toISOString()}, ${rounds} rounds each, interleaved; podman 4.3, vfs, cgroupfs, --network none, podman's default seccomp profile; busybox image.`,
    `Command: \`node bench/runc-podman.mjs --rounds ${rounds}\``,
    '',
    '| runtime | median ms | p10 | p90 |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${r.p10.toFixed(1)} | ${r.p90.toFixed(1)} |`),
    '',
    `husk-runc / runc (median): **${ratio.toFixed(2)}×**`,
    '',
  ];
  writeFileSync(join(repo, 'bench/results/runc-podman.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
} finally {
  spawnSync('podman', podman('runc', ['rm', '-a', '-f']));
  spawnSync('podman', podman('runc', ['rmi', '-a', '-f']));
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified']) {
    spawnSync('rmdir', [`/sys/fs/cgroup/${c}/husk-bench-runc/conmon`, `/sys/fs/cgroup/${c}/husk-bench-runc`]);
  }
  rmSync(dir, { recursive: true, force: true });
}
