// husk pull: progress as docker prints it (one line per layer when not on a terminal, bars on
// one), the image's full name on stdout at the end.
import type { RegistryCommand } from './args-registry.js';
import { Store } from '../image/store.js';
import { blobTasks, createProgress } from '../image/progress.js';
import { familiarName, parseReference } from '../image/reference.js';
import { parsePlatform } from '../image/registry/manifest.js';
import { pullImage } from '../image/registry/pull.js';
import type { PullEvent } from '../image/registry/pull.js';
import { credentialsFor } from './registry-common.js';

type Pull = Extract<RegistryCommand, { name: 'pull' }>;

export async function pullCommand(cmd: Pull): Promise<number> {
  const ref = parseReference(cmd.ref);
  const platform = cmd.platform !== undefined ? parsePlatform(cmd.platform) : undefined;
  const store = Store.open({ root: cmd.global.storage });
  const progress = await createProgress({ mode: cmd.quiet ? 'quiet' : cmd.format === 'json' ? 'json' : 'auto' });
  const before = store.resolveImage(ref.full)?.id;
  const blobs = blobTasks(progress);
  const onEvent = (e: PullEvent) => {
    if (e.type === 'resolved') {
      if (!/[:@]/.test(cmd.ref.slice(cmd.ref.lastIndexOf('/') + 1))) progress.note('Using default tag: latest');
      progress.note(`${ref.tag ?? ref.digest}: Pulling from ${familiarName(ref.name)}`);
      return;
    }
    if (e.type !== 'layer') return;
    blobs.advance(e.digest, e.total, e.current);
    // For --format json readers: when each blob was stored (wall clock, ms), before unpacking.
    if (e.status === 'downloaded') progress.json({ id: e.digest, status: 'downloaded', bytes: e.total, at: Date.now() });
    if (e.status === 'exists' || e.status === 'complete') blobs.finish(e.digest, e.status === 'exists' ? 'Already exists' : 'Pull complete');
  };
  let result;
  try {
    result = await pullImage(store, cmd.ref, { tlsVerify: cmd.tlsVerify, platform, credentials: credentialsFor(cmd.global, cmd.authfile, cmd.creds), onEvent });
    const shown = familiarName(ref.full);
    progress.note(`Digest: ${result.manifestDigest}`);
    progress.note(result.fetched === 0 && before === result.id ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}`);
    progress.json({ status: 'pulled', ref: ref.full, id: result.id, digest: result.manifestDigest, fetched: result.fetched, bytes: result.bytes });
  } finally {
    progress.stop();
  }
  if (cmd.format !== 'json') process.stdout.write(`${ref.full}\n`);
  return 0;
}
