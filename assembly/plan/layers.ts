// A layered image (docs/core-abi.md "Layers"): the image's layer directories, bottom to top,
// stacked by one OVERLAY op (docs/protocol.md "OVERLAY") under an upper directory — the stage
// tmpfs's (gone with the container) or one on disk that outlives it (REQ_UPPER).
//
//   STAGE/root  = overlay of LAYER_top … LAYER_bottom, upper STAGE/upper (or UPPER), work
//                 STAGE/work (or WORK)
//   in a user namespace the layers are seen through ONE idmapped mount: their deepest common
//   directory (the store's `layers/`) is IDMAP_TREE'd into slot 0 and attached on
//   STAGE/lower/0, and each lower is its path below that (500 layers cost two ops, not 1000,
//   and one detached mount crosses to the container instead of 500); the overlay then uses
//   `userxattr` (so its whiteouts and opaque markers are user.overlay.*). A persistent upper
//   and work are idmapped likewise (their common directory, slot 1, on STAGE/lower/1): the
//   container's root then writes files owned by 0 on disk, as a layer holds them.
//   OVERLAY adds the lowers one at a time (fsconfig lowerdir+); HUSK_OVERLAY_LEGACY (flag
//   OVERLAY_LEGACY) asks for the launcher's fallback, mount(2) with short names, for tests.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { PlanWriter } from "./encode";
import { COPY_WHITEOUTS, opaqueXattr } from "./flatten";

export const REQ_LAYER: u32 = 0x0140;
export const REQ_UPPER: u32 = 0x0141;
export const REQ_OVERLAY_OPTIONS: u32 = 0x0146;

export const IMAGE_LAYERS: u64 = 3;
/** overlayfs's own bound (OVL_MAX_STACK). */
export const LAYERS_MAX: i32 = 500;

/** OVERLAY flags (docs/protocol.md): userxattr; the mount(2) fallback forced. */
export const OVERLAY_USERXATTR: u64 = 1;
export const OVERLAY_LEGACY: u64 = 2;
/** REQ_OVERLAY_OPTIONS bits: the fallback forced (HUSK_OVERLAY_LEGACY=1). */
const OPTION_LEGACY: u64 = 1;

export class LayersRequest {
  /** Host directories, bottom → top, as REQ_LAYER frames came. */
  layers: string[] = [];
  /** Every LAYER frame counted; only the first 501 paths are kept (the rest are refused). */
  count: i32 = 0;
  hasUpper: bool = false;
  upper: string = "";
  work: string = "";
  legacy: bool = false;
  seenOptions: bool = false;
}

export function isLayersItem(type: u32): bool {
  return type == REQ_LAYER || type == REQ_UPPER || type == REQ_OVERLAY_OPTIONS;
}

export function decodeLayersItem(type: u32, ptr: usize, len: i32, index: i32, req: LayersRequest): Failure | null {
  const where = "request: frame " + index.toString();
  if (type == REQ_LAYER) {
    const f = Fields.ofFrame(ptr, len, index, "LAYER");
    const path = f.str("path", PATH_MAX);
    if (!f.finish()) return f.failure;
    // The request's 4 MiB bound the count; over 500 is refused by validateLayers.
    req.count++;
    if (req.layers.length <= LAYERS_MAX) req.layers.push(path);
  } else if (type == REQ_UPPER) {
    const f = Fields.ofFrame(ptr, len, index, "UPPER");
    const upper = f.str("upper", PATH_MAX);
    const work = f.str("work", PATH_MAX);
    if (!f.finish()) return f.failure;
    if (req.hasUpper) return malformed(where + " (UPPER): given twice");
    req.hasUpper = true;
    req.upper = upper;
    req.work = work;
  } else {
    const f = Fields.ofFrame(ptr, len, index, "OVERLAY_OPTIONS");
    const flags = f.u64("flags");
    if (!f.finish()) return f.failure;
    if (req.seenOptions) return malformed(where + " (OVERLAY_OPTIONS): given twice");
    if ((flags & ~OPTION_LEGACY) != 0) return malformed(where + " (OVERLAY_OPTIONS): flags: unknown bits 0x" + flags.toString(16));
    req.seenOptions = true;
    req.legacy = (flags & OPTION_LEGACY) != 0;
  }
  return null;
}

/** LAYER/UPPER frames only with a layered image, and a layered image has at least one layer. */
export function checkLayersShape(req: LayersRequest, layered: bool): Failure | null {
  if (!layered && (req.layers.length > 0 || req.hasUpper || req.seenOptions)) {
    return malformed("request: LAYER, UPPER and OVERLAY_OPTIONS frames need a layered image (IMAGE kind 3)");
  }
  if (layered && req.layers.length == 0) return malformed("request: a layered image without a LAYER frame");
  return null;
}

function isAbsolute(path: string): bool {
  return path.length > 0 && path.charCodeAt(0) == 0x2f;
}

/** The values (host paths from the store, a count from the image): status 2, naming them. */
export function validateLayers(req: LayersRequest): Failure | null {
  const n = req.layers.length;
  if (req.count > LAYERS_MAX) {
    return invalid("image has " + req.count.toString() + " layers; overlayfs stacks at most " + LAYERS_MAX.toString());
  }
  for (let i = 0; i < n; i++) {
    if (!isAbsolute(req.layers[i])) return invalid("layer " + i.toString() + ": not an absolute path: \"" + req.layers[i] + "\"");
  }
  if (req.hasUpper && (!isAbsolute(req.upper) || !isAbsolute(req.work))) {
    return invalid("upper: not absolute paths: \"" + req.upper + "\", \"" + req.work + "\"");
  }
  return null;
}

/**
 * The deepest directory every layer lies in (or is): the one tree idmapped for all of them.
 * "/" when they share nothing else — refused by userns validation (idmapping / is not what
 * anyone means).
 */
export function commonDirectory(layers: string[]): string {
  assert(layers.length > 0, "commonDirectory: no layer");
  let common = trimSlashes(layers[0]).split("/");
  for (let i = 1; i < layers.length; i++) {
    const parts = trimSlashes(layers[i]).split("/");
    let k = 0;
    while (k < common.length && k < parts.length && common[k] == parts[k]) k++;
    common = common.slice(0, k);
  }
  // A layer that is the common directory itself is fine (its relative path is empty).
  return common.length <= 1 ? "/" : common.join("/");
}

/** `/a//b/` → `/a/b`, split-ready: the leading "" stays as the root's component. */
function trimSlashes(path: string): string {
  const parts = path.split("/");
  let out = "";
  for (let i = 0; i < parts.length; i++) if (parts[i].length > 0) out += "/" + parts[i];
  return out.length == 0 ? "" : out;
}

/** In a user namespace: refuses layers (or upper and work) that share no directory but / (status 2). */
export function validateLayersUserns(req: LayersRequest): Failure | null {
  if (commonDirectory(req.layers) == "/") {
    return invalid("layers: in a user namespace the layers are idmapped through their common directory, and these share only /");
  }
  if (req.hasUpper && commonDirectory(upperAndWork(req)) == "/") {
    return invalid("upper: in a user namespace upper and work are idmapped through their common directory, and these share only /");
  }
  return null;
}

function upperAndWork(req: LayersRequest): string[] {
  const out = new Array<string>();
  out.push(req.upper);
  out.push(req.work);
  return out;
}

/**
 * The trees idmapped for a layered image in a user namespace, in slot order: the layers'
 * common directory (slot 0), and a persistent upper's and work's (slot 1). Through the
 * idmapped upper the container's root writes files owned by 0 on disk, as the layers hold
 * them: the upper needs no chown, and `commit` reads it as an image's layer.
 */
export function layersTrees(req: LayersRequest): string[] {
  const out = new Array<string>();
  out.push(commonDirectory(req.layers));
  if (req.hasUpper) out.push(commonDirectory(upperAndWork(req)));
  return out;
}

/** `path` below `common` (its deepest common directory with others), below `attached`. */
function under(attached: string, common: string, path: string): string {
  const clean = trimSlashes(path);
  assert(clean.startsWith(common), "under: not below the common directory");
  return attached + (common == "/" ? clean : clean.substring(common.length));
}

/**
 * The flatten fallback (./flatten.ts): `root` made on the stage, then each layer, bottom
 * first, copied into it with its whiteouts and opaque directories applied.
 */
export function layersCopyOps(plan: PlanWriter, req: LayersRequest, stage: string, root: string, userns: bool, idmapped: bool): void {
  const trees = layersTrees(req);
  if (idmapped) {
    plan.mkdir(stage + "/lower/0", 0o755);
    plan.attachTree(0, stage + "/lower/0");
  }
  plan.mkdir(root, 0o755);
  for (let i = 0; i < req.layers.length; i++) {
    const source = idmapped ? under(stage + "/lower/0", trees[0], req.layers[i]) : req.layers[i];
    plan.copyTree(source, root, opaqueXattr(userns), COPY_WHITEOUTS);
  }
}

/**
 * Lowers, upper, work, then OVERLAY on `root`. `stage` holds the default upper and work and,
 * in a user namespace, the idmapped layers at STAGE/lower/0 (slot 0, namespaces.ts).
 */
export function layersOps(plan: PlanWriter, req: LayersRequest, stage: string, root: string, userns: bool, idmapped: bool): void {
  const lowers = new Array<string>();
  const trees = layersTrees(req);
  if (idmapped) {
    for (let slot = 0; slot < trees.length; slot++) {
      plan.mkdir(stage + "/lower/" + slot.toString(), 0o755);
      plan.attachTree(<u64>slot, stage + "/lower/" + slot.toString());
    }
  }
  // Top first, as overlayfs orders lowerdir.
  for (let i = req.layers.length - 1; i >= 0; i--) {
    lowers.push(idmapped ? under(stage + "/lower/0", trees[0], req.layers[i]) : req.layers[i]);
  }
  let upper = stage + "/upper";
  let work = stage + "/work";
  if (req.hasUpper) {
    upper = idmapped ? under(stage + "/lower/1", trees[1], req.upper) : req.upper;
    work = idmapped ? under(stage + "/lower/1", trees[1], req.work) : req.work;
  } else {
    plan.mkdir(upper, 0o755);
    plan.mkdir(work, 0o755);
  }
  plan.mkdir(root, 0o755);
  // The fallback's short names live on the stage tmpfs (the launcher makes them).
  const links = stage + "/l";
  plan.mkdir(links, 0o700);
  let flags: u64 = userns ? OVERLAY_USERXATTR : 0;
  if (req.legacy) flags |= OVERLAY_LEGACY;
  plan.overlay(lowers, upper, work, root, links, flags);
}
