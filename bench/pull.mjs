#!/usr/bin/env node
// bench/pull.mjs: `husk pull` of a 3-layer, ~100 MB image from Debian's docker-registry on
// 127.0.0.1, beside `skopeo copy docker://... oci:DIR` of the same image, interleaved, each
// into an empty store/directory every round. Prints medians and the ratio; writes
// bench/results/pull-<time>.{json,md} and pull-latest.{json,md}.
//
//   node bench/pull.mjs [--rounds N] [--mb M] [--no-save]
//
// husk pull does more than skopeo here: it also unpacks every layer into the store (skopeo
// keeps the compressed blobs). The `husk (blobs only)` row takes that apart: the same pull
// into a store that already has the layers unpacked but not the blobs is not possible, so it
// is measured as the time until the last blob is stored, from husk's --format json events.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};
const ROUNDS = Number(arg('rounds', 7));
const MB = Number(arg('mb', 100));
const SAVE = !process.argv.includes('--no-save');
const log = (m) => console.error(`bench-pull: ${m}`);
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// Not named husk-*: the integration suites' teardown counts /tmp entries with husk in the name.
const work = mkdtempSync('/tmp/pull-bench-');
let registry;
const cleanup = () => {
  if (registry && registry.exitCode === null) process.kill(registry.pid, 'SIGTERM');
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A layer of `bytes`: half random (does not compress), half text (does), as real layers mix. */
function layer(i, bytes) {
  const d = join(work, `layer-src-${i}`);
  mkdirSync(join(d, 'data'), { recursive: true });
  const files = 40;
  for (let f = 0; f < files; f++) {
    const size = Math.floor(bytes / files);
    const buf = f % 2 ? randomBytes(size) : Buffer.from(`line ${i}.${f} of some text that compresses well\n`.repeat(Math.ceil(size / 48))).subarray(0, size);
    writeFileSync(join(d, 'data', `f${f}`), buf);
  }
  const tar = Buffer.from(run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', d, '-cf', '-', '.'], { encoding: 'buffer' }));
  rmSync(d, { recursive: true });
  return { tar, gz: gzipSync(tar) };
}

function buildImage(dir) {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b) => {
    const d = sha(b);
    writeFileSync(join(dir, 'blobs/sha256', d.slice(7)), b);
    return d;
  };
  // Sized so that the compressed image is about MB megabytes.
  const layers = [0, 1, 2].map((i) => layer(i, Math.floor((MB * 1e6 * 2) / 3)));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l.tar)) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(l.gz), size: l.gz.length })),
  }));
  const md = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
  return { compressed: layers.reduce((s, l) => s + l.gz.length, 0), uncompressed: layers.reduce((s, l) => s + l.tar.length, 0) };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function timed(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} failed: ${err}`));
      else resolve({ ms, out });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

log(`building a 3-layer image of about ${MB} MB (compressed)`);
const sizes = buildImage(join(work, 'image'));
const port = await freePort();
mkdirSync(join(work, 'registry'));
writeFileSync(join(work, 'registry.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
registry = spawn('/usr/bin/docker-registry', ['serve', join(work, 'registry.yml')], { stdio: 'ignore' });
for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
  } catch {
    await new Promise((r) => setTimeout(r, 50));
  }
}
const ref = `127.0.0.1:${port}/bench/image:v1`;
run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(work, 'image')}:v1`, `docker://${ref}`]);
log(`image in the registry: ${(sizes.compressed / 1e6).toFixed(1)} MB compressed, ${(sizes.uncompressed / 1e6).toFixed(1)} MB of tar; ${ROUNDS} rounds`);

const husk = join(REPO, 'bin/husk.js');
const results = { husk: [], huskBlobs: [], skopeo: [] };
for (let round = 0; round < ROUNDS + 1; round++) {
  const order = round % 2 ? ['skopeo', 'husk'] : ['husk', 'skopeo'];
  for (const which of order) {
    const dest = join(work, `dest-${round}-${which}`);
    if (which === 'husk') {
      const t0 = Date.now();
      const r = await timed(process.execPath, ['--', husk, '--root', join(work, 'root'), '--storage', dest, 'pull', '--tls-verify=false', '--format', 'json', ref]);
      // The last blob stored: when the last task that downloaded bytes ended.
      const events = r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const blobsDone = Math.max(...events.filter((e) => e.status === 'downloaded').map((e) => e.at ?? 0));
      if (round > 0) {
        results.husk.push(r.ms);
        if (blobsDone > 0) results.huskBlobs.push(blobsDone - t0);
      }
    } else {
      const r = await timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}:v1`]);
      if (round > 0) results.skopeo.push(r.ms);
    }
    rmSync(dest, { recursive: true, force: true });
  }
  log(round === 0 ? 'warm-up round done' : `round ${round}: husk ${results.husk.at(-1).toFixed(0)} ms, skopeo ${results.skopeo.at(-1).toFixed(0)} ms`);
}

const h = median(results.husk);
const s = median(results.skopeo);
const rows = [
  ['husk pull (fetch, verify, unpack)', h],
  ...(results.huskBlobs.length ? [['husk pull: until the last blob is stored', median(results.huskBlobs)]] : []),
  ['skopeo copy docker:// → oci: (fetch, verify)', s],
];
const when = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const md = [
  `# husk pull vs skopeo copy (${when})`,
  '',
  `3-layer image, ${(sizes.compressed / 1e6).toFixed(1)} MB compressed (${(sizes.uncompressed / 1e6).toFixed(1)} MB of tar), from docker-registry on 127.0.0.1; median of ${ROUNDS} rounds, each into an empty store / directory.`,
  '',
  '| case | median ms | × skopeo |',
  '|---|---:|---:|',
  ...rows.map(([name, ms]) => `| ${name} | ${ms.toFixed(0)} | ${(ms / s).toFixed(2)}× |`),
  '',
  `Command: \`node bench/pull.mjs --rounds ${ROUNDS} --mb ${MB}\``,
  '',
].join('\n');
console.log(md);
if (SAVE) {
  const out = join(REPO, 'bench/results');
  const json = JSON.stringify({ when, rounds: ROUNDS, sizes, results, medians: Object.fromEntries(rows) }, null, 2);
  writeFileSync(join(out, `pull-${when}.json`), json);
  writeFileSync(join(out, `pull-${when}.md`), md);
  writeFileSync(join(out, 'pull-latest.json'), json);
  writeFileSync(join(out, 'pull-latest.md'), md);
  log(`written to bench/results/pull-${when}.{json,md} and pull-latest.{json,md}`);
}
process.exit(0); // the registry child would keep the event loop alive; 'exit' stops it
