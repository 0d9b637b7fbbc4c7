#!/usr/bin/env zx
// bench/setup.mjs: make the bench's world. Installs the peers from Debian when missing, builds
// a busybox rootfs and a 3-layer image under bench/work/ (gitignored), an OCI bundle for
// runc/crun, and the C floor program. Idempotent: a second run only checks.
//
//   node_modules/.bin/zx bench/setup.mjs        (run as root; `npm run bench` calls it)

import { $, fs, path, which } from 'zx';
import { fileURLToPath } from 'node:url';

$.verbose = false;

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.dirname(BENCH);
export const WORK = path.join(BENCH, 'work');
export const ROOTFS = path.join(WORK, 'rootfs');
export const LAYERS = [1, 2, 3].map((i) => path.join(WORK, 'layers', `l${i}`));
export const BUNDLE = path.join(WORK, 'bundle');
export const OCI = path.join(WORK, 'image-oci');
/** The same rootfs as one layer, and as 300 layers (the rootfs, then 299 one-file layers). */
export const OCI_1 = path.join(WORK, 'image-oci-1layer');
export const OCI_300 = path.join(WORK, 'image-oci-300layers');
/** husk's image store for the bench ($HUSK_STORAGE of every husk case). */
export const STORAGE = path.join(WORK, 'storage');
export const FLOOR = path.join(WORK, 'floor');
export const RUNNER = path.join(WORK, 'runner');

// Debian package → the command it brings.
const PEERS = { runc: 'runc', crun: 'crun', bubblewrap: 'bwrap', 'busybox-static': 'busybox', hyperfine: 'hyperfine' };
const OPTIONAL = { conmon: 'conmon' };

async function has(cmd) {
  return (await which(cmd, { nothrow: true })) !== null;
}

async function installPeers(log) {
  const missing = [];
  for (const [pkg, cmd] of Object.entries(PEERS)) if (!(await has(cmd))) missing.push(pkg);
  // busybox must be the static build: it is copied into a rootfs with no libc.
  if (!missing.includes('busybox-static') && (await has('busybox'))) {
    const f = await $`file -L ${await which('busybox')}`.nothrow();
    if (!/statically linked/.test(f.stdout) && !missing.includes('busybox-static')) missing.push('busybox-static');
  }
  const optional = [];
  for (const [pkg, cmd] of Object.entries(OPTIONAL)) if (!(await has(cmd))) optional.push(pkg);
  if (missing.length === 0 && optional.length === 0) return;
  log(`apt-get install ${[...missing, ...optional].join(' ')}`);
  await $`apt-get update -qq`.nothrow();
  if (missing.length) {
    await $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq --no-install-recommends ${missing}`;
  }
  for (const pkg of optional) {
    // conmon is only for the footprint row; its absence is reported as n/a.
    const r = await $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq --no-install-recommends ${pkg}`.nothrow();
    if (r.exitCode !== 0) log(`optional ${pkg} not installed (footprint row will say n/a)`);
  }
}

async function busyboxPath() {
  const p = await which('busybox');
  return fs.realpathSync(p);
}

/** A busybox rootfs: /bin/busybox and one symlink per applet, /etc, empty mount points. */
async function buildRootfs(dir, log) {
  const stamp = path.join(dir, '.husk-bench-rootfs');
  if (fs.existsSync(stamp)) return;
  log(`rootfs ${path.relative(REPO, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.copyFileSync(await busyboxPath(), path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = (await $`${path.join(dir, 'bin/busybox')} --list`).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'busybox') continue;
    const link = path.join(dir, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(dir, 'etc/hostname'), 'bench\n');
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/**
 * A 3-layer image (lowest first) whose union equals the rootfs: l1 = busybox and the applet
 * links, l2 = /etc, l3 = the empty mount points and a marker. For when husk takes layers.
 */
async function buildLayers(log) {
  const stamp = path.join(path.dirname(LAYERS[0]), '.husk-bench-layers');
  if (fs.existsSync(stamp)) return;
  log('3-layer image work/layers/l1..l3');
  fs.rmSync(path.dirname(LAYERS[0]), { recursive: true, force: true });
  for (const l of LAYERS) fs.mkdirSync(l, { recursive: true });
  await $`cp -a ${path.join(ROOTFS, 'bin')} ${path.join(ROOTFS, 'sbin')} ${path.join(ROOTFS, 'usr')} ${LAYERS[0]}/`;
  await $`cp -a ${path.join(ROOTFS, 'etc')} ${LAYERS[1]}/`;
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var']) fs.mkdirSync(path.join(LAYERS[2], d), { recursive: true });
  fs.chmodSync(path.join(LAYERS[2], 'tmp'), 0o1777);
  fs.writeFileSync(path.join(LAYERS[2], 'etc-layer3'), 'top layer\n');
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/**
 * An OCI bundle for runc and crun: `runc spec`, then the same isolation as the others:
 * read-only busybox root, no terminal, /bin/true, pid/mount/uts/ipc/net/cgroup namespaces.
 */
async function buildBundle(log) {
  const cfgPath = path.join(BUNDLE, 'config.json');
  fs.mkdirSync(BUNDLE, { recursive: true });
  if (!fs.existsSync(cfgPath)) {
    log('OCI bundle work/bundle (runc spec)');
    await $({ cwd: BUNDLE })`runc spec`;
  }
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  cfg.root = { path: ROOTFS, readonly: true };
  cfg.process.terminal = false;
  cfg.process.args = ['/bin/true'];
  cfg.process.cwd = '/';
  cfg.hostname = 'bench';
  const nsTypes = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
  cfg.linux.namespaces = nsTypes.map((type) => ({ type }));
  fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
}

/**
 * The same 3 layers as an OCI image layout (oci-layout, index.json, blobs/sha256: one
 * uncompressed tar per layer, a config and a manifest), for when husk reads images.
 */
async function buildOciLayout(log) {
  await ociLayout(OCI, LAYERS, 'husk-bench/layers:3', log);
}

/** The rootfs as a 1-layer image, and as a 300-layer one (299 more layers of one file each). */
async function buildManyLayouts(log) {
  const one = path.join(WORK, 'layers-1');
  if (!fs.existsSync(path.join(one, 'bin'))) {
    fs.mkdirSync(one, { recursive: true });
    for (const l of LAYERS) await $`cp -a ${l}/. ${one}/`;
  }
  await ociLayout(OCI_1, [one], 'husk-bench/layers:1', log);
  const tiny = [];
  for (let i = 1; i < 300; i++) {
    const d = path.join(WORK, 'layers-300', `l${i}`);
    if (!fs.existsSync(d)) {
      fs.mkdirSync(path.join(d, 'layers'), { recursive: true });
      fs.writeFileSync(path.join(d, 'layers', String(i)), `${i}\n`);
    }
    tiny.push(d);
  }
  await ociLayout(OCI_300, [one, ...tiny], 'husk-bench/layers:300', log);
}

async function ociLayout(OCI, LAYERS, refName, log) {
  const stamp = path.join(OCI, '.husk-bench-oci');
  if (fs.existsSync(stamp)) return;
  log(`OCI image layout ${path.relative(BENCH, OCI)} (${LAYERS.length} layers)`);
  fs.rmSync(OCI, { recursive: true, force: true });
  const blobs = path.join(OCI, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const crypto = await import('node:crypto');
  const put = (buf) => {
    const digest = crypto.createHash('sha256').update(buf).digest('hex');
    fs.writeFileSync(path.join(blobs, digest), buf);
    return { digest: `sha256:${digest}`, size: buf.length };
  };
  const layers = [];
  for (const dir of LAYERS) {
    // tar writes a file: zx's captured stdout of a big binary tar came back corrupted.
    const file = path.join(OCI, 'layer.tar');
    await $`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C ${dir} -cf ${file} .`;
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(fs.readFileSync(file)) });
    fs.rmSync(file);
  }
  const config = put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Cmd: ['/bin/true'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers,
  })));
  fs.writeFileSync(path.join(OCI, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(OCI, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': refName } }],
  }));
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

async function buildC(name, out, log) {
  const src = path.join(BENCH, `${name}.c`);
  const stale = !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs;
  if (!stale) return;
  log(`${name}: gcc -O2 bench/${name}.c`);
  // static, like the launcher (no dynamic loader in the measured start); fall back to dynamic
  const r = await $`gcc -O2 -static -Wall -Wextra -o ${out} ${src}`.nothrow();
  if (r.exitCode !== 0) {
    log(`${name}: static link failed (${r.stderr.trim().split('\n').pop()}), linking dynamically`);
    await $`gcc -O2 -Wall -Wextra -o ${out} ${src}`;
  }
}

export async function setup({ log = (m) => console.error(`setup: ${m}`) } = {}) {
  if (process.getuid() !== 0) throw new Error('the bench runs as root (it makes namespaces and mounts)');
  fs.mkdirSync(WORK, { recursive: true });
  await installPeers(log);
  await buildRootfs(ROOTFS, log);
  await buildLayers(log);
  await buildBundle(log);
  await buildOciLayout(log);
  await buildManyLayouts(log);
  await buildC('floor', FLOOR, log);
  await buildC('runner', RUNNER, log);
  return { rootfs: ROOTFS, layers: LAYERS, oci: OCI, oci1: OCI_1, oci300: OCI_300, storage: STORAGE, bundle: BUNDLE, floor: FLOOR, runner: RUNNER };
}

/** True when this file is the script being run (directly by node or through zx). */
export function isMain(url) {
  const me = fileURLToPath(url);
  return process.argv.slice(1, 4).some((a) => {
    try { return fs.realpathSync(a) === me; } catch { return false; }
  });
}

if (isMain(import.meta.url)) {
  const r = await setup();
  console.log(JSON.stringify(r, null, 2));
}
