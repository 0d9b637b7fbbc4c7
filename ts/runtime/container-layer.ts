// A container's files on disk: its image's layers (the store's) under its writable layer
// (<storage>/containers/<id>/upper), for diff, commit, export and cp. Only containers that
// outlive their run have one (run -d of a store image, without --rm): the others keep theirs
// in the stage tmpfs inside their own mount namespace, out of reach by design.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import type { ImageRecord, Store } from '../image/store.js';
import { MergedTree } from '../image/merged.js';
import type { ContainerRecord } from './state.js';

export interface ContainerLayer {
  rec: ContainerRecord;
  store: Store;
  image: ImageRecord;
  /** <storage>/containers/<id>/upper */
  upper: string;
  /** The image's layers alone (what the upper is compared with). */
  lowerTree: MergedTree;
  /** The image's layers with the upper on top: what the container sees. */
  tree: MergedTree;
}

export async function openContainerLayer(rec: ContainerRecord, what: string): Promise<ContainerLayer> {
  const label = rec.name ?? rec.id.slice(0, 12);
  if (rec.layerStorage === undefined || rec.imageId === undefined) {
    throw new HuskError('invalid-value', `container ${label} has no writable layer on disk: husk ${what} reads containers of store images run with -d (without --rm)`, {
      hint: 'A foreground or --rm run keeps its writable layer in memory, gone with the container.',
    });
  }
  const { Store } = await import('../image/store.js');
  const store = Store.open({ root: rec.layerStorage });
  const image = store.resolveImage(rec.imageId);
  if (image === undefined) throw new HuskError('image', `container ${label}: its image ${rec.imageId} is no longer in the store`);
  const upper = join(store.root, 'containers', rec.id, 'upper');
  if (!existsSync(upper)) throw new HuskError('invalid-value', `container ${label}: its writable layer ${upper} is missing`);
  const { readXattrs } = await import('./fs-ops.js');
  return {
    rec,
    store,
    image,
    upper,
    lowerTree: new MergedTree(image.layerDirs, readXattrs),
    tree: new MergedTree([...image.layerDirs, upper], readXattrs),
  };
}
