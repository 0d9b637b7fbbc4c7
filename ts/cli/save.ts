// husk save IMAGE... [-o FILE] [--format docker-archive|oci-archive|oci-dir]: the archive is
// written to a temp name beside FILE and renamed when whole, so a failed save leaves no
// half archive (to stdout it streams; a terminal is refused, as docker does).
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { HuskError } from '../errors.js';
import type { ImageCommand } from './args-images.js';
import { createProgress } from '../image/progress.js';
import { parseReference } from '../image/reference.js';
import { saveImages, type SaveItem } from '../image/save.js';
import type { Store } from '../image/store.js';

/** Each image as named: by a name, that name is written with it; by an id, no name. */
function items(store: Store, names: string[]): SaveItem[] {
  const out: SaveItem[] = [];
  for (const n of names) {
    const image = store.getImage(n);
    let tag: string | undefined;
    try {
      const full = parseReference(n).full;
      if (image.repoTags.includes(full)) tag = full;
    } catch {
      // an id
    }
    const same = out.find((i) => i.image.id === image.id);
    if (same) {
      if (tag && !same.tags.includes(tag)) same.tags.push(tag);
    } else out.push({ image, tags: tag ? [tag] : [] });
  }
  return out;
}

export async function saveCommand(cmd: Extract<ImageCommand, { name: 'save' }>, store: Store): Promise<number> {
  const list = items(store, cmd.images);
  const progress = await createProgress({ mode: cmd.quiet ? 'quiet' : cmd.progress === 'json' ? 'json' : 'auto', jsonStream: process.stderr });
  try {
    if (cmd.format === 'oci-dir') {
      if (cmd.output === undefined) throw new HuskError('usage', '--format oci-dir needs -o DIR');
      try {
        await saveImages(store, list, 'oci-dir', cmd.output, progress);
      } catch (err) {
        rmSync(cmd.output, { recursive: true, force: true });
        throw err;
      }
      return 0;
    }
    if (cmd.output === undefined || cmd.output === '-') {
      if (process.stdout.isTTY) throw new HuskError('usage', 'refusing to write an image archive to a terminal', { hint: "Use 'husk save -o FILE', or redirect stdout." });
      await saveImages(store, list, cmd.format, process.stdout, progress);
      return 0;
    }
    const tmp = `${cmd.output}.husk-save-${process.pid}`;
    const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    try {
      await once(out, 'open');
      await saveImages(store, list, cmd.format, out, progress);
      renameSync(tmp, cmd.output);
    } catch (err) {
      out.destroy();
      rmSync(tmp, { force: true });
      throw err;
    }
    return 0;
  } finally {
    progress.stop();
  }
}
