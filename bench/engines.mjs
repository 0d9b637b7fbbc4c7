#!/usr/bin/env node
// Engine speed: husk-runc beside runc under the two engines husk is tested with, in one run:
//   containerd: `ctr run --rm --runc-binary RUNTIME IMAGE ID true` (its own containerd 1.6:
//               config, root, state and socket in a temp dir, CRI off; io.containerd.runc.v2
//               shim, overlayfs snapshotter)
//   podman:     `podman --runtime RUNTIME run --rm IMAGE true` (podman 4.3: vfs, cgroupfs,
//               --network none, podman's default seccomp profile; its own storage in the temp dir)
// Same busybox image, same flags; rounds interleaved (ctr husk-runc, ctr runc, podman
// husk-runc, podman runc, ...) so all four see the same machine.
// Two measures per run: wall time of the client command, and CPU time (user+sys) of every
// process the run made, read from cpuacct (v1) or cpu.stat (v2) cgroups of the bench's:
//   ctr:    containerd, its shims and the runtime they call (the daemon's cgroup), and the
//           container (its cgroup's parent);
//   podman: podman itself (it is the engine: no daemon), conmon and the runtime it calls
//           (podman moves conmon to <cgroup-parent>/conmon), and the container.
// CPU time is what to compare on a loaded machine; the load average is printed.
// Each engine calls the runtime cold: ctr's shim create, start, delete (and delete --force
// after the exit), podman's conmon create, start, and podman delete --force.
// Run as root, under /work/it.lock on shared machines:
//   node bench/engines.mjs [--rounds N] [--husk-runc PATH]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 20;
const dir = mkdtempSync(join(tmpdir(), 'husk-bench-engines-'));
const image = 'localhost/husk-bench-engines:1';
// The bench's cgroups (each hierarchy): containerd's, podman's, and the containers' parents.
const cg = { daemon: 'husk-bench-engines-daemon', ctr: 'husk-bench-engines', podman: 'husk-bench-engines-podman', pod: 'husk-bench-engines-pod' };
const shimDirs = ['/run/containerd/s', '/run/containerd'].filter((d) => !existsSync(d));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

/** A busybox rootfs, as a plain tar (podman import) and as a one-layer OCI image layout tar (ctr import). */
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
  copyFileSync(join(dir, 'layer.tar'), join(dir, 'rootfs.tar'));
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

/** The mount point of the hierarchy that counts CPU time, and how to read a cgroup's total (ms). */
function cpuHierarchy() {
  const v1 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup /.test(l) && /[ ,]cpuacct([ ,]|$)/.test(l));
  if (v1) return { mount: v1.split(' ')[4], read: (d) => (existsSync(d) ? Number(readFileSync(join(d, 'cpuacct.usage'), 'utf8')) / 1e6 : 0) };
  return { mount: '/sys/fs/cgroup', read: (d) => (existsSync(d) ? Number(/usage_usec (\d+)/.exec(readFileSync(join(d, 'cpu.stat'), 'utf8'))[1]) / 1e3 : 0) };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const address = join(dir, 'containerd.sock');
const ctr = (args, opts) => run('ctr', ['--address', address, '-n', 'husk-bench', ...args], opts);
const podmanArgs = (runtime, args) => [
  '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
  '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', runtime, ...args,
];
const cpu = cpuHierarchy();
const cpuOf = (names) => names.reduce((sum, n) => sum + cpu.read(join(cpu.mount, n)), 0);
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
  for (const n of [cg.daemon, cg.podman]) mkdirSync(join(cpu.mount, n));
  daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
  writeFileSync(join(cpu.mount, cg.daemon, 'cgroup.procs'), String(daemon.pid)); // before it starts any shim
  for (let i = 0; !existsSync(address); i++) {
    if (i > 400) throw new Error('containerd did not start');
    spawnSync('sleep', ['0.05']);
  }
  ctr(['image', 'import', join(dir, 'image.tar')]);
  run('podman', podmanArgs('runc', ['import', join(dir, 'rootfs.tar'), image]));
  // bin/husk-runc where the build makes it (the front that answers start/state/kill/delete
  // without Node), else a wrapper that runs bin/husk-runc.js with this node; `--husk-runc
  // PATH` measures another build's (e.g. main's, for a before/after).
  const other = process.argv.indexOf('--husk-runc');
  let huskRunc = other > 0 ? process.argv[other + 1] : join(repo, 'bin/husk-runc');
  if (!existsSync(huskRunc)) {
    huskRunc = join(dir, 'husk-runc');
    writeFileSync(huskRunc, `#!/bin/sh\nexec ${process.execPath} -- ${join(repo, 'bin/husk-runc.js')} "$@"\n`);
    chmodSync(huskRunc, 0o755);
  }
  const runtimes = { 'husk-runc': huskRunc, runc: '/usr/sbin/runc' };
  // podman gives the runtime no --root: each gets one of the bench's through a wrapper (the
  // same one-line sh for both, so both pay the same extra exec per call).
  const podmanRuntime = {};
  for (const [name, path] of Object.entries(runtimes)) {
    podmanRuntime[name] = join(dir, `podman-${name}`);
    writeFileSync(podmanRuntime[name], `#!/bin/sh\nexec ${path} --root ${join(dir, `${name}-root`)} "$@"\n`);
    chmodSync(podmanRuntime[name], 0o755);
  }
  let n = 0;
  const engines = {
    ctr: {
      cgroups: [cg.daemon, cg.ctr],
      once: (name) => ctr(['run', '--rm', '--runc-binary', runtimes[name], '--runc-root', join(dir, 'runc-root'), '--fifo-dir', join(dir, 'fifo'), '--cgroup', `/${cg.ctr}/r${++n}`, image, `r${n}`, 'true'], { stdio: ['ignore', 'ignore', 'pipe'] }),
    },
    podman: {
      cgroups: [cg.podman, cg.pod],
      // podman put in the bench's cgroup by the shell that execs it
      once: (name) => run('sh', ['-c', `echo $$ > ${join(cpu.mount, cg.podman, 'cgroup.procs')} && exec podman "$@"`, 'sh', ...podmanArgs(podmanRuntime[name], ['run', '--rm', '--network', 'none', '--cgroup-parent', `/${cg.pod}`, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'true'])], { stdio: ['ignore', 'ignore', 'pipe'] }),
    },
  };
  const times = {};
  const cpus = {};
  for (const [engine, e] of Object.entries(engines)) {
    for (const name of Object.keys(runtimes)) {
      times[`${engine} ${name}`] = [];
      cpus[`${engine} ${name}`] = [];
      e.once(name); // warm the caches
    }
  }
  const load = loadavg()[0];
  for (let i = 0; i < rounds; i++) {
    for (const [engine, e] of Object.entries(engines)) {
      for (const name of Object.keys(runtimes)) {
        const c = cpuOf(e.cgroups);
        const t = process.hrtime.bigint();
        e.once(name);
        times[`${engine} ${name}`].push(Number(process.hrtime.bigint() - t) / 1e6);
        cpus[`${engine} ${name}`].push(cpuOf(e.cgroups) - c);
      }
    }
  }
  const loadEnd = loadavg()[0];
  const row = (key) => {
    const s = [...times[key]].sort((a, b) => a - b);
    const c = [...cpus[key]].sort((a, b) => a - b);
    return { key, median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), cpu: quantile(c, 0.5) };
  };
  const cpuCount = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length;
  const lines = [
    '# Engines: husk-runc beside runc under containerd (`ctr run --rm`) and podman (`podman run --rm`)',
    '',
    `${new Date().toISOString()}, ${rounds} rounds, the four interleaved; containerd ${run('containerd', ['--version']).split(' ')[2]} (Debian; io.containerd.runc.v2 shim, overlayfs snapshotter), ${run('podman', ['--version']).trim()} (vfs, cgroupfs, --network none); busybox image, \`true\`; runc ${run('runc', ['--version']).split('\n')[0].split(' ')[2]}. Load average (1 min) ${load.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end, on ${cpuCount} CPUs.`,
    `Command: \`node bench/engines.mjs --rounds ${rounds}${other > 0 ? ` --husk-runc ${huskRunc}` : ''}\`; husk-runc: \`${huskRunc.startsWith(repo) ? huskRunc.slice(repo.length) : huskRunc.startsWith(dir) ? 'node bin/husk-runc.js' : huskRunc}\``,
    'CPU: user+sys of every process the run made (ctr: containerd, shim, runtime, container; podman: podman, conmon, runtime, container).',
    '',
    '| engine | runtime | wall median ms | p10 | p90 | CPU ms (median) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const ratios = [];
  for (const engine of Object.keys(engines)) {
    const [h, r] = Object.keys(runtimes).map((name) => row(`${engine} ${name}`));
    for (const x of [h, r]) lines.push(`| ${engine} | ${x.key.split(' ')[1]} | ${x.median.toFixed(1)} | ${x.p10.toFixed(1)} | ${x.p90.toFixed(1)} | ${x.cpu.toFixed(1)} |`);
    ratios.push(`${engine}: husk-runc / runc wall **${(h.median / r.median).toFixed(2)}×**, CPU **${(h.cpu / r.cpu).toFixed(2)}×** (CPU +${(h.cpu - r.cpu).toFixed(1)} ms per run)`);
  }
  lines.push('', ...ratios.map((l) => `- ${l}`), '');
  writeFileSync(join(repo, 'bench/results/engines.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
} finally {
  if (daemon) {
    daemon.kill('SIGTERM');
    for (let i = 0; i < 200 && spawnSync('kill', ['-0', String(daemon.pid)]).status === 0; i++) spawnSync('sleep', ['0.05']);
  }
  spawnSync('podman', podmanArgs('runc', ['rm', '-a', '-f']));
  spawnSync('podman', podmanArgs('runc', ['rmi', '-a', '-f']));
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((p) => p?.startsWith(`${dir}/`)).reverse()) spawnSync('umount', ['-l', m]);
  for (const d of shimDirs) if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4])) {
    for (const d of [join(m, cg.ctr), join(m, cg.pod, 'conmon'), join(m, cg.pod), join(m, cg.daemon), join(m, cg.podman)]) if (existsSync(d)) spawnSync('rmdir', [d]);
  }
  rmSync(dir, { recursive: true, force: true });
}
