// The root file system: a private stage tmpfs on the host path STAGE holds the overlay's upper
// and work dirs and the new root, so all of it vanishes with the container's mount namespace.
//
//   rootfs image      overlay lowerdir=ROOTFS,upperdir=STAGE/upper,workdir=STAGE/work on STAGE/root
//   --rootfs-rw       ROOTFS bound (recursively) on STAGE/root: writes reach ROOTFS
//   host image        STAGE/root is a directory of the tmpfs; each host dir NAME gets an overlay
//                     (lower /NAME, upper STAGE/upper/NAME, work STAGE/work/NAME) on STAGE/root/NAME,
//                     each host symlink a symlink.
//   layers image      one OVERLAY of the image's layers (./layers.ts)
//   in a user namespace each lower (ROOTFS, or /NAME) is first an idmapped copy of itself,
//                     attached on STAGE/lower/SLOT (IDMAP_TREE, ATTACH_TREE), and the overlay
//                     takes that as its lowerdir.

import { PlanWriter } from "./encode";
import { HOST_DIR_DIRECTORY, IMAGE_HOST, PlanRequest } from "./request";
import { BIND_RECURSIVE, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_REC } from "./linux";
import { IMAGE_LAYERS, layersCopyOps, layersOps } from "./layers";
import { idmapsTrees } from "./namespaces";

/** Mount data is copied from one page: at most 4095 bytes and the NUL. */
export const MOUNT_DATA_MAX: i32 = 4095;

/** `path` with `\`, `,` and `:` escaped by a backslash, as overlayfs reads its options. */
export function escapeOverlayPath(path: string): string {
  let out = "";
  let from = 0;
  let escaped = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c == 0x5c || c == 0x2c || c == 0x3a) {
      out += path.substring(from, i) + "\\";
      from = i;
      escaped = true;
    }
  }
  return escaped ? out + path.substring(from) : path;
}

/** The overlay options, or "" after reporting options too long for the kernel. */
export function overlayData(lower: string, upper: string, work: string, userns: bool): string {
  let data = "lowerdir=" + escapeOverlayPath(lower) +
    ",upperdir=" + escapeOverlayPath(upper) +
    ",workdir=" + escapeOverlayPath(work);
  if (userns) data += ",userxattr";
  return data;
}

function stripTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) == 0x2f) end--;
  return path.substring(0, end);
}

function stripLeadingSlashes(path: string): string {
  let start = 0;
  while (start < path.length && path.charCodeAt(start) == 0x2f) start++;
  return path.substring(start);
}

/** The new root's host path, STAGE/root. */
export function rootPath(req: PlanRequest): string {
  return stripTrailingSlashes(req.stage) + "/root";
}

function mountOverlay(plan: PlanWriter, field: string, lower: string, upper: string, work: string, target: string, userns: bool): void {
  const data = overlayData(lower, upper, work, userns);
  if (data.length > MOUNT_DATA_MAX) {
    plan.w.fail(field + ": overlay options of " + data.length.toString() + " bytes (the kernel takes at most 4095); use a shorter path");
    return;
  }
  plan.mount("overlay", target, "overlay", 0, data);
}

/**
 * The overlay lower for host tree `source`: itself, or in a user namespace the idmapped copy
 * IDMAP_TREE put in `slot` (namespaces.ts idmappedSources, same order), attached on
 * STAGE/lower/SLOT.
 */
function lowerOps(plan: PlanWriter, req: PlanRequest, stage: string, source: string, slot: u64): string {
  if (!idmapsTrees(req)) return source;
  const lower = stage + "/lower/" + slot.toString();
  plan.mkdir(lower, 0o755);
  plan.attachTree(slot, lower);
  return lower;
}

/** Private mount tree, stage tmpfs, the image on STAGE/root, then SET_ROOT there. */
export function rootfsOps(plan: PlanWriter, req: PlanRequest): void {
  const stage = stripTrailingSlashes(req.stage);
  // A kept layer (keep-layer.ts) is on the host's disk, made by ts/; else in the stage.
  const kept = req.keep.present;
  const upper = kept ? req.keep.upper : stage + "/upper";
  const work = kept ? req.keep.work : stage + "/work";
  const root = stage + "/root";
  plan.mount("", "/", "", MS_REC | MS_PRIVATE, "");
  plan.mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  if (req.imageKind == IMAGE_HOST) {
    if (!kept) plan.mkdir(upper, 0o755);
    if (!kept) plan.mkdir(work, 0o755);
    plan.mkdir(root, 0o755);
    let slot: u64 = 0;
    for (let i = 0; i < req.hostDirs.length; i++) {
      const d = req.hostDirs[i];
      const target = root + "/" + d.name;
      if (d.kind == HOST_DIR_DIRECTORY) {
        plan.mkdir(upper + "/" + d.name, 0o755);
        plan.mkdir(work + "/" + d.name, 0o755);
        plan.mkdir(target, 0o755);
        const lower = lowerOps(plan, req, stage, "/" + d.name, slot++);
        mountOverlay(plan, "host-dir", lower, upper + "/" + d.name, work + "/" + d.name, target, req.userns);
      } else {
        plan.symlink(d.target, target);
      }
    }
  } else if (req.imageKind == IMAGE_LAYERS) {
    // An image's own UPPER (the store's) wins; else a kept layer serves it too.
    if (kept && !req.layers.hasUpper) {
      req.layers.hasUpper = true;
      req.layers.upper = upper;
      req.layers.work = work;
    }
    if (req.flatten.copy) layersCopyOps(plan, req.layers, stage, root, req.userns, idmapsTrees(req));
    else layersOps(plan, req.layers, stage, root, req.userns, idmapsTrees(req));
  } else if (req.readwrite) {
    plan.mkdir(root, 0o755);
    plan.bind(req.rootfs, root, BIND_RECURSIVE);
  } else if (req.flatten.copy) {
    // The flatten fallback (./flatten.ts): the directory copied onto the stage.
    plan.mkdir(root, 0o755);
    plan.copyTree(lowerOps(plan, req, stage, req.rootfs, 0), root, "", 0);
  } else {
    if (!kept) plan.mkdir(upper, 0o755);
    if (!kept) plan.mkdir(work, 0o755);
    plan.mkdir(root, 0o755);
    mountOverlay(plan, "rootfs", lowerOps(plan, req, stage, req.rootfs, 0), upper, work, root, req.userns);
  }
  plan.setRoot(root);
  plan.mkdir("proc", 0o755);
  plan.mkdir("dev", 0o755);
  plan.mkdir("sys", 0o755);
  plan.mkdir("tmp", 0o755);
  // The host image has no home for root: HOME=/root must exist.
  if (req.imageKind == IMAGE_HOST) plan.mkdir("root", 0o700);
}

/** /tmp: a fresh tmpfs, as with `--tmpfs /tmp`. */
export function tmpOps(plan: PlanWriter): void {
  plan.mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

/** The working directory (made after every mount, so no mount hides it), then PIVOT_ROOT. */
export function pivotOps(plan: PlanWriter, req: PlanRequest): void {
  if (req.hasWorkdir) {
    const relative = stripLeadingSlashes(req.workdir);
    if (relative.length > 0) plan.mkdir(relative, 0o755);
  }
  plan.pivotRoot(rootPath(req));
}
