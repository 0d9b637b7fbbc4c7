// `husk run IMAGE` for an image in the store: the image resolved (name, tag, id prefix), its
// layers as the overlay's lowers, its config as facts for the core (which merges it with the
// flags), and the users -u and the config's User name looked up in the image's own
// /etc/passwd and /etc/group, read through the merged view of its layers.
import { HuskError } from '../errors.js';
import type { ImageConfigFacts, PlanImage } from '../core/build-plan.js';
import type { RunFlags } from '../cli/args.js';
import type { ImageRecord, Store } from '../image/store.js';
import { MergedTree } from '../image/merged.js';
import { resolveUser } from './user.js';
import type { UserIds } from './user.js';

export interface RunImage {
  store: Store;
  record: ImageRecord;
  /** The image as the request names it (lowers; an upper once the caller gives one). */
  plan: Extract<PlanImage, { kind: 'layers' }>;
  config: ImageConfigFacts;
  /** -u resolved inside the image (undefined without -u). */
  user?: UserIds;
}

/** The store's image named `ref`, or the error docker gives: 125, with what to do. */
export function findImage(store: Store, ref: string): ImageRecord {
  const record = store.resolveImage(ref);
  if (record === undefined) {
    throw new HuskError('image', `unable to find image "${ref}": no such image in ${store.root}`, {
      hint: `Pull it (husk pull ${ref}) or load it (husk load -i FILE) first; husk images lists what is stored.`,
    });
  }
  return record;
}

/** A user spec reads the image's passwd (a uid's primary group too) and group files. */
function needsLookup(spec: string | undefined): boolean {
  return spec !== undefined && spec !== '';
}

/** The image's config as the core's facts; its User resolved (or why not) through `tree`. */
async function configFacts(record: ImageRecord, tree: MergedTree | undefined, used: boolean): Promise<ImageConfigFacts> {
  const c = record.config.config ?? {};
  const facts: ImageConfigFacts = {
    entrypoint: Array.isArray(c.Entrypoint) ? c.Entrypoint : undefined,
    cmd: Array.isArray(c.Cmd) ? c.Cmd : undefined,
    env: Array.isArray(c.Env) ? c.Env : undefined,
    workdir: typeof c.WorkingDir === 'string' ? c.WorkingDir : undefined,
    stopSignal: typeof c.StopSignal === 'string' ? c.StopSignal : undefined,
    exposedPorts: c.ExposedPorts && typeof c.ExposedPorts === 'object' ? Object.keys(c.ExposedPorts) : undefined,
  };
  const spec = typeof c.User === 'string' ? c.User : '';
  // Resolved only when it may be used: -u replaces it, and an unresolvable User is then no error.
  if (spec !== '' && used) {
    try {
      const ids = await tree!.settle(() => resolveUser(spec, tree!));
      facts.user = { spec, ...ids };
    } catch (err) {
      if (!(err instanceof HuskError)) throw err;
      facts.user = { spec, problem: err.message };
    }
  } else if (spec !== '') {
    facts.user = { spec, problem: 'not resolved' };
  }
  return facts;
}

/** The store, the image and the facts `husk run IMAGE` needs, before prepare() builds the plan. */
export async function runImage(store: Store, flags: RunFlags): Promise<RunImage> {
  const record = findImage(store, flags.image!);
  const imageUser = record.config.config?.User;
  // The xattr reads (opaque directories) go through the launcher: loaded only for a lookup.
  let tree: MergedTree | undefined;
  if (needsLookup(flags.user) || (flags.user === undefined && needsLookup(imageUser))) {
    const { readXattrs } = await import('./fs-ops.js');
    tree = new MergedTree(record.layerDirs, readXattrs);
  }
  const config = await configFacts(record, tree, flags.user === undefined);
  let user: UserIds | undefined;
  if (flags.user !== undefined) {
    const spec = flags.user;
    user = await tree!.settle(() => resolveUser(spec, tree!));
  }
  return { store, record, plan: { kind: 'layers', lowers: record.layerDirs }, config, user };
}
