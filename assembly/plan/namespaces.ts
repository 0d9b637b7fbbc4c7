// Namespaces: the time namespace made before CLONE (its offsets can only be written before a
// process enters it), the CLONE flags, the id maps of a user namespace, and the ops that need
// a new UTS or network namespace.

import { PlanWriter } from "./encode";
import { IdmapResult } from "../idmap/compute";
import { mapText } from "../idmap/lines";
import { helperArgs } from "../idmap/entry";
import { HOST_DIR_DIRECTORY, IMAGE_HOST, PlanRequest } from "./request";
import { IMAGE_LAYERS, layersTrees } from "./layers";
import { CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS } from "./linux";
import { joinsUser } from "./joins";

/**
 * With a time offset: `unshare(CLONE_NEWTIME)` in the launcher, then its offsets for the
 * children's namespace (/proc/self/timens_offsets holds them until the first child enters).
 */
export function timeNamespaceOps(plan: PlanWriter, req: PlanRequest): void {
  if (!req.hasTimeOffset) return;
  plan.unshare(CLONE_NEWTIME);
  let text = "";
  if (req.hasMonotonic) text += "monotonic " + req.monotonic.toString() + " 0\n";
  if (req.hasBoottime) text += "boottime " + req.boottime.toString() + " 0\n";
  plan.writeFile("/proc/self/timens_offsets", text);
}

/**
 * The namespaces the container gets new. CLONE makes them, except with a joined user
 * namespace: the container process makes them itself once it is in it (build.ts), so that
 * they are that namespace's own.
 */
export function cloneFlags(req: PlanRequest): u64 {
  let flags = CLONE_NEWNS | req.namespaces;
  if (req.userns && !joinsUser(req.joins)) flags |= CLONE_NEWUSER;
  return flags;
}

/**
 * Parent ops of a user namespace: the maps ../idmap/compute.ts made, written by the launcher.
 * setgroups stays `allow` (the file's default) for a rootful caller, as with rootful podman
 * and docker userns-remap: the map was written by a privileged parent, and USER calls
 * setgroups([]) in the container. A rootless caller writing its own id (the only map it may
 * write without newuidmap) must write `deny` before gid_map (user_namespaces(7)).
 * A rootless map of subordinate ids is written by newuidmap and newgidmap (IDMAP_HELPER, with
 * the arguments the maps give). Then one IDMAP_TREE per tree the container shows through its
 * maps (idmappedSources).
 */
export function userNamespaceOps(plan: PlanWriter, req: PlanRequest, maps: IdmapResult): void {
  if (!req.userns || joinsUser(req.joins)) return; // a joined one has its maps already
  if (maps.helper) {
    // Subordinate ids: only the setuid helpers may write them (newgidmap writes setgroups).
    plan.idmapHelper(req.idmap.newuidmap, helperArgs(maps.uid));
    plan.idmapHelper(req.idmap.newgidmap, helperArgs(maps.gid));
  } else {
    plan.uidMap(mapText(maps.uid));
    if (maps.setgroupsDeny) plan.setgroups("deny");
    plan.gidMap(mapText(maps.gid));
  }
  const sources = idmappedSources(req);
  for (let i = 0; i < sources.length; i++) plan.idmapTree(sources[i], <u64>i);
}

/**
 * Whether the container's host trees are idmapped: in a user namespace made by root. A
 * rootless caller may not idmap a mount it does not own (mount_setattr needs CAP_SYS_ADMIN
 * over the mount's user namespace, the host's): its trees are bound as they are, so its own
 * files are root's inside and others' show as nobody.
 */
export function idmapsTrees(req: PlanRequest): bool {
  // A joined user namespace's trees are bound as they are too: IDMAP_TREE takes the user
  // namespace of CLONE's process, which enters the joined one only after the parent ops.
  return req.userns && !req.idmap.rootless && !joinsUser(req.joins);
}

/** At most this many idmapped trees (the launcher's slots 0–15). */
export const TREES_MAX: i32 = 16;

/**
 * The host trees a container in a user namespace sees through an idmapped mount, in slot
 * order: each lower layer of an overlay (the host image's directories, or the rootfs). Host
 * files belong to host ids the namespace does not map; idmapped, a file of host uid 0 shows
 * as the container's uid 0 and overlayfs can copy it up. --rootfs-rw binds the directory
 * itself: not idmapped (its files keep their host owners).
 */
export function idmappedSources(req: PlanRequest): string[] {
  const out = new Array<string>();
  if (!idmapsTrees(req)) return out;
  if (req.imageKind == IMAGE_HOST) {
    for (let i = 0; i < req.hostDirs.length; i++) {
      const d = req.hostDirs[i];
      if (d.kind == HOST_DIR_DIRECTORY) out.push("/" + d.name);
    }
  } else if (req.imageKind == IMAGE_LAYERS) {
    // One tree for every layer, one for a persistent upper (./layers.ts).
    const trees = layersTrees(req.layers);
    for (let i = 0; i < trees.length; i++) out.push(trees[i]);
  } else if (!req.readwrite) {
    out.push(req.rootfs);
  }
  return out;
}

/**
 * The first container op in a new user namespace: the process still has the host's ids, which
 * the namespace does not map (files it makes would fail with EOVERFLOW); it becomes root of
 * the namespace before it mounts anything (compute.ts's caller checks that 0 is mapped).
 */
export function rootInUserNamespaceOps(plan: PlanWriter, req: PlanRequest): void {
  if (!req.userns) return;
  plan.user(0, 0, new Array<u64>());
}

/**
 * After PIVOT_ROOT: the host name (a new UTS namespace only) and `lo` (a new net namespace,
 * or a joined one — a pinned namespace has no process to have brought it up — unless the
 * container's own user namespace has no power over it).
 */
export function hostOps(plan: PlanWriter, req: PlanRequest): void {
  if ((req.namespaces & CLONE_NEWUTS) != 0 && req.hasHostname) plan.sethostname(req.hostname);
  const joinedNet = (req.joins.joined & CLONE_NEWNET) != 0 && (!req.userns || joinsUser(req.joins));
  if ((req.namespaces & CLONE_NEWNET) != 0 || joinedNet) plan.loopbackUp();
}
