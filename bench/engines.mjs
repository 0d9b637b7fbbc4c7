#!/usr/bin/env node
// Engine speed under containerd: `ctr run --rm IMAGE ID true` end to end with --runc-binary
// husk-runc and with runc, same image, same flags, rounds interleaved (husk-runc, runc, ...) so
// both see the same machine. The bench starts its own containerd 1.6 (config, root, state and
// socket in a temp dir, CRI off), imports a busybox image it builds, and removes all of it.
// Two measures per run: wall time of `ctr run`, and CPU time (user+sys) of containerd, its
// shims and the runtime they call, read from a cpuacct cgroup the bench puts containerd in
// (so a loaded machine moves the wall times more than the CPU times).
// Each run calls the runtime cold: create, start, delete (and delete --force after the exit).
// Run as root, under /work/it.lock on shared machines:  node bench/engines.mjs [--rounds N]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 20;
const dir = mkdtempSync(join(tmpdir(), 'husk-bench-engines-'));
const image = 'localhost/husk-bench-engines:1';
const cgroupParent = 'husk-bench-engines';
const shimDirs = ['/run/containerd/s', '/run/containerd'].filter((d) => !existsSync(d));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

/** A one-layer busybox OCI image layout, as a tar ctr can import. */
function buildImage() {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const a of ['sh', 'true']) symlinkSync('busybox', join(rootfs, 'bin', a));
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const put = (data) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(layout, 'blobs/sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', join(dir, 'layer.tar'), '.']);
  const tar = readFileSync(join(dir, 'layer.tar'));
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  run('gzip', ['-n', join(dir, 'layer.tar')]);
  const layer = put(readFileSync(join(dir, 'layer.tar.gz')));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: [diffId] } })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  })));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': image } }] }));
  run('tar', ['-C', layout, '-cf', join(dir, 'image.tar'), '.']);
}

/** Where containerd's CPU time is read: a cpuacct (v1) or cpu.stat (v2) cgroup of the bench's. */
function cpuCgroup() {
  const v1 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup /.test(l) && /[ ,]cpuacct([ ,]|$)/.test(l));
  if (v1) return { dir: join(v1.split(' ')[4], `${cgroupParent}-daemon`), read: (d) => Number(readFileSync(join(d, 'cpuacct.usage'), 'utf8')) / 1e6 };
  return { dir: join('/sys/fs/cgroup', `${cgroupParent}-daemon`), read: (d) => Number(/usage_usec (\d+)/.exec(readFileSync(join(d, 'cpu.stat'), 'utf8'))[1]) / 1e3 };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const address = join(dir, 'containerd.sock');
const ctr = (args, opts) => run('ctr', ['--address', address, '-n', 'husk-bench', ...args], opts);
const cpu = cpuCgroup();
let daemon;
try {
  buildImage();
  writeFileSync(join(dir, 'config.toml'), [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = "${address}"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(dir, 'opt')}"`,
    '',
  ].join('\n'));
  mkdirSync(cpu.dir);
  daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
  writeFileSync(join(cpu.dir, 'cgroup.procs'), String(daemon.pid)); // before it starts any shim
  for (let i = 0; !existsSync(address); i++) {
    if (i > 400) throw new Error('containerd did not start');
    spawnSync('sleep', ['0.05']);
  }
  ctr(['image', 'import', join(dir, 'image.tar')]);
  // bin/husk-runc where the build makes it (the front that answers start/state/kill/delete
  // without Node), else a wrapper that runs bin/husk-runc.js with this node.
  let huskRunc = join(repo, 'bin/husk-runc');
  if (!existsSync(huskRunc)) {
    huskRunc = join(dir, 'husk-runc');
    writeFileSync(huskRunc, `#!/bin/sh\nexec ${process.execPath} -- ${join(repo, 'bin/husk-runc.js')} "$@"\n`);
    chmodSync(huskRunc, 0o755);
  }
  const runtimes = { 'husk-runc': huskRunc, runc: '/usr/sbin/runc' };
  const times = { 'husk-runc': [], runc: [] };
  const cpus = { 'husk-runc': [], runc: [] };
  let n = 0;
  const once = (path) => ctr(['run', '--rm', '--runc-binary', path, '--runc-root', join(dir, 'runc-root'), '--fifo-dir', join(dir, 'fifo'), '--cgroup', `/${cgroupParent}/r${++n}`, image, `r${n}`, 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const path of Object.values(runtimes)) once(path); // warm the caches
  const load = loadavg()[0];
  for (let i = 0; i < rounds; i++) {
    for (const [name, path] of Object.entries(runtimes)) {
      const c = cpu.read(cpu.dir);
      const t = process.hrtime.bigint();
      once(path);
      times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
      cpus[name].push(cpu.read(cpu.dir) - c);
    }
  }
  const rows = Object.keys(runtimes).map((name) => {
    const s = [...times[name]].sort((a, b) => a - b);
    const c = [...cpus[name]].sort((a, b) => a - b);
    return { name, median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), cpu: quantile(c, 0.5) };
  });
  const lines = [
    '# ctr run --rm IMAGE ID true: husk-runc beside runc under containerd',
    '',
    `${new Date().toISOString()}, ${rounds} rounds each, interleaved; containerd ${run('containerd', ['--version']).split(' ')[2]} (Debian), io.containerd.runc.v2 shim, overlayfs snapshotter, busybox image; runc ${run('runc', ['--version']).split('\n')[0].split(' ')[2]}. Load average (1 min) at the start: ${load.toFixed(2)} on ${readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length} CPUs.`,
    `Command: \`node bench/engines.mjs --rounds ${rounds}\`; husk-runc: \`${huskRunc.startsWith(repo) ? huskRunc.slice(repo.length) : 'node bin/husk-runc.js'}\``,
    '',
    '| runtime | wall median ms | p10 | p90 | CPU ms (containerd + shim + runtime, median) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${r.p10.toFixed(1)} | ${r.p90.toFixed(1)} | ${r.cpu.toFixed(1)} |`),
    '',
    `husk-runc / runc: wall **${(rows[0].median / rows[1].median).toFixed(2)}×**, CPU **${(rows[0].cpu / rows[1].cpu).toFixed(2)}×**`,
    '',
  ];
  writeFileSync(join(repo, 'bench/results/engines.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
} finally {
  if (daemon) {
    daemon.kill('SIGTERM');
    for (let i = 0; i < 200 && spawnSync('kill', ['-0', String(daemon.pid)]).status === 0; i++) spawnSync('sleep', ['0.05']);
  }
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((p) => p?.startsWith(`${dir}/`)).reverse()) spawnSync('umount', ['-l', m]);
  for (const d of shimDirs) if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4])) {
    for (const d of [join(m, cgroupParent), join(m, `${cgroupParent}-daemon`)]) if (existsSync(d)) spawnSync('rmdir', [d]);
  }
  rmSync(dir, { recursive: true, force: true });
}
