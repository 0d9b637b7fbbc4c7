// The image commands: load, import, save, images, rmi, tag, image inspect, image prune,
// system df. Each opens the store (--storage, $HUSK_STORAGE, /var/lib/husk) and prints what
// docker prints.
import { createReadStream } from 'node:fs';
import { HuskError, escapeControls, reportText } from '../errors.js';
import { STATUS_SOME_TARGETS_FAILED } from '../runtime/exit-status.js';
import type { ImageCommand } from './args-images.js';
import { shortId } from '../image/digest.js';
import { familiarName, splitRepoTag } from '../image/reference.js';
import { createProgress, humanBytes } from '../image/progress.js';
import { Store, storageRoot, treeBytes } from '../image/store.js';
import type { ImageRecord } from '../image/store.js';
import { formatTable, humanDuration } from './ps.js';

function openStore(cmd: ImageCommand): Store {
  return Store.open({ root: storageRoot(cmd.global.storage) });
}

export async function imageCommand(cmd: ImageCommand): Promise<number> {
  switch (cmd.name) {
    case 'load':
      return loadCommand(cmd);
    case 'import':
      return importCommand(cmd);
    case 'save': {
      const { saveCommand } = await import('./save.js');
      return saveCommand(cmd, openStore(cmd));
    }
    case 'images':
      return imagesCommand(cmd);
    case 'rmi':
      return rmiCommand(cmd);
    case 'tag': {
      const full = await openStore(cmd).tag(cmd.source, cmd.target);
      void full;
      return 0;
    }
    case 'image-inspect':
      return inspectCommand(cmd);
    case 'image-prune':
      return pruneCommand(cmd);
    case 'system-df':
      return dfCommand(cmd);
  }
}

async function loadCommand(cmd: Extract<ImageCommand, { name: 'load' }>): Promise<number> {
  const { loadImages } = await import('../image/load.js');
  const store = openStore(cmd);
  if (cmd.input === undefined && process.stdin.isTTY) {
    throw new HuskError('usage', 'requested load from stdin, but stdin is a terminal', { hint: "Use 'husk load -i FILE', or pipe an archive in." });
  }
  const progress = await createProgress({ mode: cmd.format === 'json' ? 'json' : cmd.quiet ? 'quiet' : 'auto' });
  let loaded;
  try {
    loaded = await loadImages(store, cmd.input === undefined || cmd.input === '-' ? { stream: process.stdin } : { path: cmd.input }, progress);
  } finally {
    progress.stop();
  }
  if (cmd.format === 'json') {
    progress.json({ status: 'loaded', images: loaded.map((l) => ({ id: l.id, tags: l.tags.map(familiarName) })) });
    return 0;
  }
  for (const l of loaded) {
    if (l.tags.length === 0) process.stdout.write(`Loaded image ID: ${l.id}\n`);
    for (const t of l.tags) process.stdout.write(`Loaded image: ${escapeControls(familiarName(t))}\n`);
  }
  return 0;
}

async function importCommand(cmd: Extract<ImageCommand, { name: 'import' }>): Promise<number> {
  const { importRootfs } = await import('../image/import.js');
  const store = openStore(cmd);
  if (cmd.source === '-' && process.stdin.isTTY) throw new HuskError('usage', 'requested import from stdin, but stdin is a terminal');
  const src = cmd.source === '-' ? process.stdin : createReadStream(cmd.source, { highWaterMark: 1 << 20 });
  const opened = new Promise<void>((resolve, reject) => {
    if (cmd.source === '-') return resolve();
    src.once('open', () => resolve());
    src.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new HuskError('image', `${cmd.source}: no such file`) : err.code === 'EISDIR' ? new HuskError('image', `${cmd.source} is a directory, not a tarball`) : err),
    );
  });
  await opened;
  const progress = await createProgress({ mode: cmd.format === 'json' ? 'json' : cmd.quiet ? 'quiet' : 'auto' });
  let rec;
  try {
    rec = await importRootfs(store, src, { ref: cmd.ref, changes: cmd.changes, message: cmd.message, label: cmd.source === '-' ? 'stdin' : cmd.source }, progress);
  } finally {
    progress.stop();
  }
  if (cmd.format === 'json') progress.json({ status: 'imported', id: rec.id, tags: rec.repoTags.map(familiarName) });
  else process.stdout.write(`${rec.id}\n`);
  return 0;
}

function created(img: ImageRecord): string {
  return img.created && !Number.isNaN(Date.parse(img.created)) ? img.created : '';
}

/** Rows of `images`: one per name, or one `<none>` row for an image without one. */
function imageRows(imgs: ImageRecord[], filter?: string): { img: ImageRecord; repository: string; tag: string }[] {
  const rows = imgs.flatMap((img) =>
    img.repoTags.length === 0 ? [{ img, repository: '<none>', tag: '<none>' }] : img.repoTags.map((t) => ({ img, ...splitRepoTag(t) })),
  );
  if (filter === undefined) return rows;
  const f = familiarName(filter);
  const colon = f.lastIndexOf(':');
  const [repo, tag] = colon > f.lastIndexOf('/') ? [f.slice(0, colon), f.slice(colon + 1)] : [f, undefined];
  return rows.filter((r) => r.repository === repo && (tag === undefined || r.tag === tag));
}

async function imagesCommand(cmd: Extract<ImageCommand, { name: 'images' }>): Promise<number> {
  const store = openStore(cmd);
  const rows = imageRows(store.listImages(), cmd.filter);
  const id = (img: ImageRecord) => (cmd.noTrunc ? img.id : shortId(img.id));
  if (cmd.quiet) {
    const seen = new Set<string>();
    for (const r of rows) if (!seen.has(r.img.id)) seen.add(r.img.id) && process.stdout.write(`${id(r.img)}\n`);
    return 0;
  }
  const now = Date.now();
  const since = (img: ImageRecord) => (created(img) ? `${humanDuration(now - Date.parse(created(img)))} ago` : 'N/A');
  if (cmd.format === 'json') {
    for (const { img, repository, tag } of rows) {
      process.stdout.write(
        `${JSON.stringify({
          Containers: String(store.containers().filter((c) => c.image === img.id).length),
          CreatedAt: created(img),
          CreatedSince: since(img),
          Digest: img.manifestDigest,
          ID: id(img),
          Repository: repository,
          Size: humanBytes(img.size),
          Tag: tag,
          VirtualSize: humanBytes(img.size),
        })}\n`,
      );
    }
    return 0;
  }
  const table = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const { img, repository, tag } of rows) table.push([repository, tag, id(img), since(img), humanBytes(img.size)]);
  process.stdout.write(formatTable(table));
  return 0;
}

async function rmiCommand(cmd: Extract<ImageCommand, { name: 'rmi' }>): Promise<number> {
  const store = openStore(cmd);
  let status = 0;
  for (const target of cmd.targets) {
    try {
      const r = await store.removeImage(target, cmd.force);
      for (const t of r.untagged) process.stdout.write(`Untagged: ${escapeControls(familiarName(t))}\n`);
      for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  return status;
}

async function inspectCommand(cmd: Extract<ImageCommand, { name: 'image-inspect' }>): Promise<number> {
  const store = openStore(cmd);
  const out: object[] = [];
  let status = 0;
  for (const t of cmd.targets) {
    const img = store.resolveImage(t);
    if (!img) {
      process.stderr.write(reportText(new HuskError('image', `no such image: ${t}`)));
      status = STATUS_SOME_TARGETS_FAILED;
      continue;
    }
    const c = img.config;
    out.push({
      Id: img.id,
      RepoTags: img.repoTags.map(familiarName),
      RepoDigests: img.repoTags.map((t) => `${familiarName(t).replace(/:[^:/]*$/, '')}@${img.manifestDigest}`),
      Parent: '',
      Comment: '',
      Created: created(img),
      Author: c.author ?? '',
      Config: c.config ?? {},
      Architecture: c.architecture ?? '',
      Variant: c.variant,
      Os: c.os ?? '',
      Size: img.size,
      GraphDriver: { Name: 'overlay', Data: { LowerDir: [...img.layerDirs].reverse().join(':') } },
      RootFS: { Type: 'layers', Layers: img.layers },
      Metadata: { ManifestDigest: img.manifestDigest, ManifestMediaType: img.manifestMediaType, Blobs: img.blobs },
    });
  }
  process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  return status;
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function pruneCommand(cmd: Extract<ImageCommand, { name: 'image-prune' }>): Promise<number> {
  const store = openStore(cmd);
  if (!cmd.force) {
    const what = cmd.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!process.stdin.isTTY) throw new HuskError('usage', `husk image prune removes ${what}: give -f to do it without asking (stdin is not a terminal)`);
    if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return 0;
  }
  const used = new Set(store.containers().map((c) => c.image));
  const before = diskBytes(store);
  const lines: string[] = [];
  for (const img of store.listImages()) {
    if (used.has(img.id) || (!cmd.all && img.repoTags.length > 0)) continue;
    const r = await store.removeImage(img.id, true);
    for (const t of r.untagged) lines.push(`untagged: ${familiarName(t)}`);
    for (const d of r.deleted) lines.push(`deleted: ${d}`);
  }
  await store.gc();
  const freed = Math.max(0, before - diskBytes(store));
  if (lines.length) process.stdout.write(`Deleted Images:\n${lines.map((l) => `${escapeControls(l)}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanBytes(freed)}\n`);
  return 0;
}

/** Blobs and unpacked layers on disk. */
function diskBytes(store: Store): number {
  return store.blobs().reduce((n, b) => n + b.size, 0) + store.layers().reduce((n, l) => n + treeBytes(store.layerDir(l.diffId)), 0);
}

async function dfCommand(cmd: Extract<ImageCommand, { name: 'system-df' }>): Promise<number> {
  const store = openStore(cmd);
  const images = store.listImages();
  const containers = store.containers();
  const usedImages = new Set(containers.map((c) => c.image).filter((x): x is string => x !== undefined));
  const layerUse = new Map<string, number>();
  for (const img of images) for (const l of new Set(img.layers)) layerUse.set(l, (layerUse.get(l) ?? 0) + 1);
  const containerLayers = new Set(containers.flatMap((c) => [...c.layers, ...(images.find((i) => i.id === c.image)?.layers ?? [])]));
  const layers = store.layers().map((l) => ({ ...l, bytes: treeBytes(store.layerDir(l.diffId)) }));
  const blobs = store.blobs();
  const usedBlobs = new Set(images.flatMap((i) => [i.manifestDigest, i.configDigest, ...i.blobs]));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const usedByImage = layers.filter((l) => layerUse.has(l.diffId));
  const imageBytes = sum(usedByImage.map((l) => l.bytes)) + sum(blobs.filter((b) => usedBlobs.has(b.digest)).map((b) => b.size));
  const keptByContainers = sum(usedByImage.filter((l) => containerLayers.has(l.diffId)).map((l) => l.bytes));
  const shared = layers.filter((l) => (layerUse.get(l.diffId) ?? 0) > 1);
  const containerBytes = containers.map((c) => treeBytes(`${store.root}/containers/${c.id}`));
  const rows = {
    Images: { Total: images.length, Active: images.filter((i) => usedImages.has(i.id)).length, Size: imageBytes, Reclaimable: imageBytes - keptByContainers },
    Blobs: { Total: blobs.length, Active: blobs.filter((b) => usedBlobs.has(b.digest)).length, Size: sum(blobs.map((b) => b.size)), Reclaimable: sum(blobs.filter((b) => !usedBlobs.has(b.digest)).map((b) => b.size)) },
    Layers: {
      Total: layers.length,
      Active: layers.filter((l) => layerUse.has(l.diffId) || containerLayers.has(l.diffId)).length,
      Size: sum(layers.map((l) => l.bytes)),
      Reclaimable: sum(layers.filter((l) => !layerUse.has(l.diffId) && !containerLayers.has(l.diffId)).map((l) => l.bytes)),
    },
    Containers: { Total: containers.length, Active: containers.length, Size: sum(containerBytes), Reclaimable: 0 },
    Shared: { Total: shared.length, Active: shared.length, Size: sum(shared.map((l) => l.bytes)), Reclaimable: 0 },
  };
  if (cmd.format === 'json') {
    for (const [Type, r] of Object.entries(rows)) process.stdout.write(`${JSON.stringify({ Type, ...r })}\n`);
    return 0;
  }
  const pct = (a: number, b: number) => (b > 0 ? ` (${Math.round((a / b) * 100)}%)` : '');
  const table = [['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']];
  for (const [type, r] of Object.entries(rows)) table.push([type, String(r.Total), String(r.Active), humanBytes(r.Size), `${humanBytes(r.Reclaimable)}${pct(r.Reclaimable, r.Size)}`]);
  process.stdout.write(formatTable(table));
  return 0;
}
