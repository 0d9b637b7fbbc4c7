// config.json's `mounts`, `linux.maskedPaths` and `linux.readonlyPaths` as plan ops. Every
// destination is made relative to the bundle's rootfs (SET_ROOT), so the launcher resolves it
// there (RESOLVE_IN_ROOT: a symlink in the image cannot send a mount onto the host); a `..`
// component is refused rather than cleaned away. Options are runc's: the mount(2) flags by
// name, propagation by name, the rest passed to the filesystem as data.

import { Failure, invalid } from "../abi";
import { CgroupRequest, containerDir, insideName } from "./cgroup";
import { PlanWriter } from "./encode";
import { BIND_CREATE, BIND_READONLY, BIND_RECURSIVE, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC } from "./linux";
import { OciIdMap, OciMount } from "./oci-request";

const MS_SYNCHRONOUS: u64 = 16;
const MS_MANDLOCK: u64 = 64;
const MS_DIRSYNC: u64 = 128;
const MS_NOATIME: u64 = 1024;
const MS_NODIRATIME: u64 = 2048;
const MS_BIND: u64 = 4096;
const MS_UNBINDABLE: u64 = 1 << 17;
const MS_SLAVE: u64 = 1 << 19;
const MS_SHARED: u64 = 1 << 20;
const MS_RELATIME: u64 = 1 << 21;
const MS_STRICTATIME: u64 = 1 << 24;
export const MS_REMOUNT: u64 = 32;
const PROPAGATION: u64 = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;
/** BIND op bits 3-9 (docs/protocol.md BIND). */
const BIND_NOSUID: u64 = 8;
const BIND_NODEV: u64 = 16;
const BIND_NOEXEC: u64 = 32;
const BIND_NOATIME: u64 = 64;
const BIND_STRICTATIME: u64 = 128;
const BIND_RELATIME: u64 = 256;
const BIND_NODIRATIME: u64 = 512;
const ATIME_FLAGS: u64 = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/** The host devices every container gets (runc's default devices), bound from the host. */
const DEVICES: string[] = ["null", "zero", "full", "random", "urandom", "tty"];
const FILESYSTEMS: string[] = ["proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "bind", "none"];

/** A mount's options, read. */
class Options {
  flags: u64 = 0;
  /** Flags named to be cleared (rw, suid, ...): only meaningful against a default. */
  cleared: u64 = 0;
  propagation: u64 = 0;
  data: string[] = [];
  bind: bool = false;
  recursive: bool = false;
  /** `idmap` or `ridmap` (runc 1.2): an idmapped mount; ridmap idmaps every mount of the tree. */
  idmap: bool = false;
  ridmap: bool = false;
  unsupported: string = "";
}

function flagOf(option: string): u64 {
  if (option == "ro") return MS_RDONLY;
  if (option == "nosuid") return MS_NOSUID;
  if (option == "nodev") return MS_NODEV;
  if (option == "noexec") return MS_NOEXEC;
  if (option == "sync") return MS_SYNCHRONOUS;
  if (option == "dirsync") return MS_DIRSYNC;
  if (option == "mand") return MS_MANDLOCK;
  if (option == "noatime") return MS_NOATIME;
  if (option == "nodiratime") return MS_NODIRATIME;
  if (option == "relatime") return MS_RELATIME;
  if (option == "strictatime") return MS_STRICTATIME;
  return 0;
}

function clearedOf(option: string): u64 {
  if (option == "rw") return MS_RDONLY;
  if (option == "suid") return MS_NOSUID;
  if (option == "dev") return MS_NODEV;
  if (option == "exec") return MS_NOEXEC;
  if (option == "async") return MS_SYNCHRONOUS;
  if (option == "nomand") return MS_MANDLOCK;
  if (option == "atime") return MS_NOATIME;
  if (option == "diratime") return MS_NODIRATIME;
  if (option == "norelatime") return MS_RELATIME;
  if (option == "nostrictatime") return MS_STRICTATIME;
  return 0;
}

export function propagationOf(option: string): u64 {
  if (option == "private") return MS_PRIVATE;
  if (option == "rprivate") return MS_PRIVATE | MS_REC;
  if (option == "slave") return MS_SLAVE;
  if (option == "rslave") return MS_SLAVE | MS_REC;
  if (option == "shared") return MS_SHARED;
  if (option == "rshared") return MS_SHARED | MS_REC;
  if (option == "unbindable") return MS_UNBINDABLE;
  if (option == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

function readOptions(list: string[]): Options {
  const o = new Options();
  for (let i = 0; i < list.length; i++) {
    const option = list[i];
    if (option == "bind" || option == "rbind") {
      o.bind = true;
      if (option == "rbind") o.recursive = true;
    } else if (flagOf(option) != 0) {
      o.flags |= flagOf(option);
      o.cleared &= ~flagOf(option);
    } else if (clearedOf(option) != 0) {
      o.cleared |= clearedOf(option);
      o.flags &= ~clearedOf(option);
    } else if (propagationOf(option) != 0) {
      o.propagation = propagationOf(option);
    } else if (option == "idmap" || option == "ridmap") {
      o.idmap = true;
      o.ridmap = option == "ridmap";
    } else if (option == "remount" || option == "tmpcopyup" || option.startsWith("X-mount.")) {
      if (o.unsupported.length == 0) o.unsupported = option;
    } else if (option.length > 0) {
      o.data.push(option);
    }
  }
  return o;
}

/** Every option name readOptions knows (`husk-runc features`). */
export function mountOptionNames(): string[] {
  return [
    "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync",
    "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime",
    "nostrictatime", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
    "idmap", "ridmap",
  ];
}

/** `/a//b/./c` → `a/b/c`; null when a component is `..` or nothing is left. */
export function insideRoot(path: string): string | null {
  const parts = path.split("/");
  const kept = new Array<string>();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == ".") continue;
    if (p == "..") return null;
    kept.push(p);
  }
  if (kept.length == 0) return null;
  return kept.join("/");
}

function field(index: i32): string {
  return "mounts[" + index.toString() + "]";
}

/** Whether config.json mounts a tmpfs on /dev (then husk-runc fills it as runc does). */
export function mountsDev(mounts: OciMount[]): bool {
  for (let i = 0; i < mounts.length; i++) {
    if (insideRoot(mounts[i].destination) == "dev") return true;
  }
  return false;
}

/** Values (status 2) of every mount, before any op is written. */
export function checkMounts(mounts: OciMount[], cgroupNs: bool): Failure | null {
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i];
    if (m.destination.length == 0 || m.destination.charCodeAt(0) != 0x2f) return invalid(field(i) + ".destination: \"" + m.destination + "\" is not an absolute path");
    if (insideRoot(m.destination) === null) return invalid(field(i) + ".destination: \"" + m.destination + "\" is not a path inside the rootfs");
    const o = readOptions(m.options);
    if (o.unsupported.length > 0) return invalid(field(i) + ".options: \"" + o.unsupported + "\" is not supported by husk-runc");
    const type = o.bind ? "bind" : m.type;
    if (!FILESYSTEMS.includes(type)) return invalid(field(i) + ".type: \"" + m.type + "\" is not supported by husk-runc");
    if (type == "bind" || type == "none") {
      if (!o.bind) return invalid(field(i) + ".options: a \"" + m.type + "\" mount needs \"bind\" or \"rbind\"");
      if (m.source.length == 0) return invalid(field(i) + ".source: empty");
      const other = o.flags & ~(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | ATIME_FLAGS);
      if (other != 0) return invalid(field(i) + ".options: only ro, nosuid, nodev, noexec, the atime options and propagation are supported on a bind mount by husk-runc");
      if (popcnt(o.flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) > 1) return invalid(field(i) + ".options: more than one of noatime, strictatime and relatime");
    }
    if (type == "cgroup" || type == "cgroup2") {
      if (insideRoot(m.destination) != "sys/fs/cgroup") return invalid(field(i) + ".destination: husk-runc mounts cgroups only on /sys/fs/cgroup");
      if ((o.flags & MS_RDONLY) == 0) return invalid(field(i) + ": a read-write cgroup mount is not supported by husk-runc");
    }
    if (type == "cgroup2" && !cgroupNs) return invalid(field(i) + ": a cgroup2 mount needs a new cgroup namespace here");
  }
  return null;
}

/** The mount ops of `mounts`, in their order; SET_ROOT has made the rootfs the current root. */
export function mountOps(plan: PlanWriter, mounts: OciMount[], bundle: string, cg: CgroupRequest, cgroupNs: bool): void {
  let slot: u64 = 0;
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i];
    const target = <string>insideRoot(m.destination);
    const o = readOptions(m.options);
    if (m.idmapped) {
      idmappedOps(plan, m, target, o, slot++);
    } else if (o.bind) {
      bindOps(plan, m, target, o, bundle);
    } else if (m.type == "cgroup" || m.type == "cgroup2") {
      cgroupOps(plan, cg, target, cgroupNs);
    } else {
      plan.mkdir(target, 0o755);
      plan.mount(m.source.length > 0 ? m.source : m.type, target, m.type, o.flags, o.data.join(","));
      if (o.propagation != 0) plan.mount("", target, "", o.propagation, "");
    }
  }
}

/** A source relative to the bundle is the bundle's (runc reads it from the bundle directory). */
function sourceOf(m: OciMount, bundle: string): string {
  return m.source.charCodeAt(0) == 0x2f ? m.source : bundle + "/" + m.source;
}

/** IDMAP_MOUNT flags (docs/protocol.md "Idmapped trees") for a mount's options. */
function idmapFlags(o: Options): u64 {
  let flags: u64 = 0;
  if (o.recursive) flags |= BIND_RECURSIVE;
  if ((o.flags & MS_RDONLY) != 0) flags |= BIND_READONLY;
  if ((o.flags & MS_NOSUID) != 0) flags |= BIND_NOSUID;
  if ((o.flags & MS_NODEV) != 0) flags |= BIND_NODEV;
  if ((o.flags & MS_NOEXEC) != 0) flags |= BIND_NOEXEC;
  if (o.ridmap) flags |= IDMAP_RECURSIVE;
  return flags;
}
const IDMAP_RECURSIVE: u64 = 64;
/** At most this many idmapped mounts (the launcher's tree slots). */
const IDMAPPED_MAX: i32 = 16;

/**
 * The parent ops of the idmapped mounts (IDMAP_MOUNT, one slot each in config order): their
 * maps as the kernel's text, or none for `idmap`/`ridmap` without maps (the container's).
 */
export function idmapMountOps(plan: PlanWriter, mounts: OciMount[], bundle: string): void {
  let slot: u64 = 0;
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i];
    if (!m.idmapped) continue;
    plan.idmapMount(sourceOf(m, bundle), slot++, mapText(m.uidMaps), mapText(m.gidMaps), idmapFlags(readOptions(m.options)));
  }
}

function mapText(maps: OciIdMap[]): string {
  let text = "";
  for (let i = 0; i < maps.length; i++) text += maps[i].container.toString() + " " + maps[i].host.toString() + " " + maps[i].size.toString() + "\n";
  return text;
}

/** The target made (a directory for a directory source, else a file), then the tree moved on it. */
function idmappedOps(plan: PlanWriter, m: OciMount, target: string, o: Options, slot: u64): void {
  if (m.sourceDir) plan.mkdir(target, 0o755);
  else plan.touch(target, 0o644);
  plan.attachTree(slot, target);
  if (o.propagation != 0) plan.mount("", target, "", o.propagation, "");
}

/**
 * Idmapped mounts (runc 1.2's rules): bind mounts only; uidMappings with gidMappings; without
 * maps (`idmap`, `ridmap` alone) the container's own, so a new user namespace; maps the kernel
 * takes (at most 340 ranges, each ≥ 1 id inside 0 to 4294967294, none overlapping); at most 16.
 */
export function checkIdmapped(mounts: OciMount[], userns: bool, joinedUser: bool): Failure | null {
  let count = 0;
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i];
    if (!m.idmapped) continue;
    const o = readOptions(m.options);
    if (!o.bind) return invalid(field(i) + ": an idmapped mount (uidMappings, idmap) must be a bind mount");
    if (m.uidMaps.length > 0 && m.gidMaps.length == 0) return invalid(field(i) + ".gidMappings: missing (uidMappings needs it)");
    if (m.gidMaps.length > 0 && m.uidMaps.length == 0) return invalid(field(i) + ".uidMappings: missing (gidMappings needs it)");
    if (m.uidMaps.length == 0) {
      if (!userns) return invalid(field(i) + ".options: \"idmap\" without uidMappings and gidMappings needs a user namespace (linux.namespaces) to take the mappings of");
      if (joinedUser) return invalid(field(i) + ".options: \"idmap\" without mappings in a user namespace joined by path is not supported by husk-runc");
    }
    let failure = checkMountMaps(field(i) + ".uidMappings", m.uidMaps);
    if (failure === null) failure = checkMountMaps(field(i) + ".gidMappings", m.gidMaps);
    if (failure !== null) return failure;
    if (++count > IDMAPPED_MAX) return invalid(field(i) + ": more than " + IDMAPPED_MAX.toString() + " idmapped mounts are not supported by husk-runc");
  }
  return null;
}

const ID_END: u64 = 0xffffffff;

function checkMountMaps(name: string, maps: OciIdMap[]): Failure | null {
  if (maps.length > 340) return invalid(name + ": " + maps.length.toString() + " ranges (at most 340)");
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    const at = name + "[" + i.toString() + "]";
    if (m.size == 0 || m.container >= ID_END || m.host >= ID_END || m.size > ID_END - m.container || m.size > ID_END - m.host) return invalid(at + ": not a range of ids (size of at least 1, inside 0 to 4294967294)");
    for (let k = 0; k < i; k++) {
      const o = maps[k];
      if (m.container < o.container + o.size && o.container < m.container + m.size) return invalid(at + ": container ids overlap " + name + "[" + k.toString() + "]");
      if (m.host < o.host + o.size && o.host < m.host + m.size) return invalid(at + ": host ids overlap " + name + "[" + k.toString() + "]");
    }
  }
  return null;
}

function bindOps(plan: PlanWriter, m: OciMount, target: string, o: Options, bundle: string): void {
  const source = sourceOf(m, bundle);
  let flags = BIND_CREATE;
  if (o.recursive) flags |= BIND_RECURSIVE;
  if ((o.flags & MS_RDONLY) != 0) flags |= BIND_READONLY;
  if ((o.flags & MS_NOSUID) != 0) flags |= BIND_NOSUID;
  if ((o.flags & MS_NODEV) != 0) flags |= BIND_NODEV;
  if ((o.flags & MS_NOEXEC) != 0) flags |= BIND_NOEXEC;
  // The atime options take effect on the bind as runc's remount gives them; a bind has no
  // data of its own (the kernel ignores mode=, size= there, as it does when runc passes them).
  if ((o.flags & MS_NOATIME) != 0) flags |= BIND_NOATIME;
  if ((o.flags & MS_STRICTATIME) != 0) flags |= BIND_STRICTATIME;
  if ((o.flags & MS_RELATIME) != 0) flags |= BIND_RELATIME;
  if ((o.flags & MS_NODIRATIME) != 0) flags |= BIND_NODIRATIME;
  plan.bind(source, target, flags);
  if (o.propagation != 0) plan.mount("", target, "", o.propagation, "");
}

/**
 * The container's own cgroups, read-only, at sys/fs/cgroup: with a new cgroup namespace the
 * hierarchies themselves (buildPlan's way, ./cgroup.ts); without one, each hierarchy's
 * container directory bound on a tmpfs (what runc shows).
 */
function cgroupOps(plan: PlanWriter, cg: CgroupRequest, target: string, cgroupNs: bool): void {
  plan.mkdir(target, 0o755);
  if (!cg.present || cg.used.length == 0) {
    plan.mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=755");
    return;
  }
  if (cgroupNs && cg.intoV2) {
    plan.mount("cgroup2", target, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "");
    return;
  }
  plan.mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  for (let i = 0; i < cg.used.length; i++) {
    const h = cg.used[i];
    const name = insideName(h);
    if (cgroupNs) {
      plan.mkdir(target + "/" + name, 0o755);
      if (h.version == 2) plan.mount("cgroup2", target + "/" + name, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "");
      else plan.mount("cgroup", target + "/" + name, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, v1Data(h.controllers));
    } else {
      plan.bind(containerDir(cg, h), target + "/" + name, BIND_CREATE | BIND_READONLY | BIND_NOSUID | BIND_NODEV | BIND_NOEXEC);
    }
    if (h.version == 1 && name.indexOf(",") >= 0) {
      for (let k = 0; k < h.controllers.length; k++) {
        const c = h.controllers[k];
        if (!c.startsWith("name=") && c != name) plan.symlink(name, target + "/" + c);
      }
    }
  }
  plan.readOnly(target);
}

function v1Data(controllers: string[]): string {
  const out = new Array<string>();
  for (let i = 0; i < controllers.length; i++) {
    const c = controllers[i];
    if (c.startsWith("name=")) {
      out.push("none");
      out.push(c);
    } else {
      out.push(c);
    }
  }
  return out.join(",");
}

/**
 * runc's default devices: the host's harmless character devices bound in, and with a /dev
 * tmpfs of the config's, the usual symlinks (/dev/ptmx to the container's own devpts).
 */
export function deviceOps(plan: PlanWriter, devTmpfs: bool, hasDevpts: bool): void {
  for (let i = 0; i < DEVICES.length; i++) plan.bind("/dev/" + DEVICES[i], "dev/" + DEVICES[i], BIND_CREATE);
  if (!devTmpfs) return;
  if (hasDevpts) plan.symlink("pts/ptmx", "dev/ptmx");
  plan.symlink("/proc/self/fd", "dev/fd");
  plan.symlink("/proc/self/fd/0", "dev/stdin");
  plan.symlink("/proc/self/fd/1", "dev/stdout");
  plan.symlink("/proc/self/fd/2", "dev/stderr");
}

/** maskedPaths and readonlyPaths (absolute in config.json), relative to the rootfs. */
export function pathOps(plan: PlanWriter, masked: string[], readonly: string[]): void {
  for (let i = 0; i < masked.length; i++) {
    const p = insideRoot(masked[i]);
    if (p !== null) plan.mask(p);
  }
  for (let i = 0; i < readonly.length; i++) {
    const p = insideRoot(readonly[i]);
    if (p !== null) plan.readOnly(p);
  }
}

/** Why a masked or read-only path is refused, or null. */
export function checkPaths(name: string, paths: string[]): Failure | null {
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    if (p.length == 0 || p.charCodeAt(0) != 0x2f || insideRoot(p) === null) {
      return invalid("linux." + name + "[" + i.toString() + "]: \"" + p + "\" is not an absolute path inside the rootfs");
    }
  }
  return null;
}
