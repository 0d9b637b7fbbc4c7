// husk push: docker's lines ("The push refers to repository [...]", one per blob, then
// "TAG: digest: sha256:... size: N"), bars on a terminal, the digest alone with -q.
import { HuskError } from '../errors.js';
import type { RegistryCommand } from './args-registry.js';
import { Store } from '../image/store.js';
import { blobTasks, createProgress } from '../image/progress.js';
import { pushImage } from '../image/registry/push.js';
import type { PushEvent } from '../image/registry/push.js';
import { credentialsFor } from './registry-common.js';

type Push = Extract<RegistryCommand, { name: 'push' }>;

/** $HUSK_PUSH_CHUNK_SIZE: bytes per PATCH (for registries behind proxies that cap a request's size). */
function chunkBytes(): number | undefined {
  const v = process.env.HUSK_PUSH_CHUNK_SIZE;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1024) throw new HuskError('usage', `invalid HUSK_PUSH_CHUNK_SIZE "${v}": expected a number of bytes, at least 1024`);
  return n;
}

export async function pushCommand(cmd: Push): Promise<number> {
  const store = Store.open({ root: cmd.global.storage });
  const progress = await createProgress({ mode: cmd.quiet ? 'quiet' : cmd.format === 'json' ? 'json' : 'auto' });
  const blobs = blobTasks(progress);
  const onEvent = (e: PushEvent) => {
    if (e.type === 'preparing') {
      progress.note(`The push refers to repository [${e.repository}]`);
      return;
    }
    if (e.type !== 'blob') return;
    blobs.advance(e.digest, e.total, e.current);
    if (e.status !== 'uploading') blobs.finish(e.digest, e.status === 'exists' ? 'Layer already exists' : 'Pushed');
  };
  let digest: string;
  try {
    const r = await pushImage(store, cmd.ref, cmd.dest, { tlsVerify: cmd.tlsVerify, credentials: credentialsFor(cmd.global, cmd.authfile, cmd.creds), onEvent, chunkBytes: chunkBytes() });
    digest = r.digest;
    progress.note(`${r.ref.tag ?? 'latest'}: digest: ${r.digest} size: ${r.size}`);
    progress.json({ status: 'pushed', ref: `${r.ref.name}:${r.ref.tag ?? 'latest'}`, digest: r.digest, size: r.size, uploaded: r.uploaded });
  } finally {
    progress.stop();
  }
  if (cmd.quiet) process.stdout.write(`${digest}\n`);
  return 0;
}
