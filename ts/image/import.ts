// `husk import`: a flat rootfs tarball (what `docker export` writes; gzip or zstd too) as a
// one-layer image. The tarball is stored as the layer's blob (hashed while written), unpacked
// once, and given a config: this machine's platform, the --change instructions, a history
// entry. A failure leaves nothing in the store.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { HuskError } from '../errors.js';
import { layerMediaType, sniffCompression } from './compression.js';
import { MT, checkConfig } from './image-json.js';
import type { Progress } from './progress.js';
import { parseReference } from './reference.js';
import type { ImageConfig, ImageRecord, Store } from './store.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** `CMD ["a","b"]` (exec form) or `CMD a b` (shell form: /bin/sh -c). */
function commandForm(arg: string, what: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      throw new HuskError('usage', `--change "${what}": not a JSON list of strings`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HuskError('usage', `--change "${what}": not a JSON list of strings`);
    return v;
  }
  return ['/bin/sh', '-c', t];
}

/** KEY=VALUE pairs of ENV and LABEL (docker's `ENV K V` single form too). */
function pairs(arg: string, what: string): [string, string][] {
  const t = arg.trim();
  if (!t.includes('=')) {
    const sp = t.search(/\s/);
    if (sp === -1) throw new HuskError('usage', `--change "${what}": expected KEY=VALUE`);
    return [[t.slice(0, sp), t.slice(sp).trim()]];
  }
  return (t.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new HuskError('usage', `--change "${what}": expected KEY=VALUE`);
    return [p.slice(0, eq), p.slice(eq + 1).replace(/^"(.*)"$/, '$1')];
  });
}

/** docker import's --change: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR, VOLUME. */
export function applyChanges(changes: string[]): NonNullable<ImageConfig['config']> {
  const c: NonNullable<ImageConfig['config']> = {};
  for (const ch of changes) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(ch);
    if (!m) throw new HuskError('usage', `--change "${ch}": expected INSTRUCTION ARGUMENTS`);
    const [, word, arg] = m;
    switch (word.toUpperCase()) {
      case 'CMD':
        c.Cmd = commandForm(arg, ch);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(arg, ch);
        break;
      case 'ENV':
        for (const [k, v] of pairs(arg, ch)) c.Env = [...(c.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
        break;
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(arg, ch)) };
        break;
      case 'EXPOSE':
        for (const p of arg.trim().split(/\s+/)) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [p.includes('/') ? p : `${p}/tcp`]: {} };
        break;
      case 'VOLUME':
        for (const v of arg.trim().startsWith('[') ? commandForm(arg, ch) : arg.trim().split(/\s+/)) c.Volumes = { ...(c.Volumes ?? {}), [v]: {} };
        break;
      case 'STOPSIGNAL':
        c.StopSignal = arg.trim();
        break;
      case 'USER':
        c.User = arg.trim();
        break;
      case 'WORKDIR':
        c.WorkingDir = arg.trim();
        break;
      default:
        throw new HuskError('usage', `--change "${ch}": ${word} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR`);
    }
  }
  return c;
}

function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(8);
    return b.subarray(0, readSync(fd, b, 0, 8, 0));
  } finally {
    closeSync(fd);
  }
}

export async function importRootfs(
  store: Store,
  src: Readable,
  opts: { ref?: string; changes: string[]; message?: string; label: string },
  progress: Progress,
): Promise<ImageRecord> {
  const tags = opts.ref !== undefined ? [parseReference(opts.ref).full] : [];
  const changes = applyChanges(opts.changes);
  try {
    const read = progress.task('import', `Importing ${opts.label}`);
    src.on('data', (c: Buffer) => read.add(c.length));
    const blob = await store.putBlob(src, { label: opts.label });
    read.done('Read');
    const kind = sniffCompression(head(store.blobPath(blob.digest)));
    if (kind === 'bzip2' || kind === 'xz') throw new HuskError('image', `${opts.label}: ${kind}-compressed tarballs are not supported (gzip, zstd or none)`);
    const mediaType = layerMediaType(kind);
    const task = progress.task(blob.digest, 'Unpacking rootfs', blob.size);
    const layer = await store.ensureLayer(blob.digest, mediaType, { label: opts.label, onBytes: (n) => task.add(n) });
    task.done('Unpacked');
    const created = new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: changes,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: 'husk import', ...(opts.message ? { comment: opts.message } : {}) }],
    };
    checkConfig(config, opts.label);
    const configBytes = Buffer.from(JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: (await store.putBlob(configBytes)).digest, size: configBytes.length },
      layers: [{ mediaType, digest: blob.digest, size: blob.size }],
    };
    const rec = await store.putImage({ manifest, config: configBytes }, tags);
    await store.release();
    return rec;
  } catch (err) {
    try {
      await store.release();
      await store.gc();
    } catch {
      // the first error is the one to report
    }
    throw err;
  }
}
