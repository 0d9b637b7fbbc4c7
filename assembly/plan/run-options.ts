// docker's process and mount options of `run` (items 0x030a–0x030e; docs/core-abi.md "Run
// options"): --ulimit (RLIMIT ops), --sysctl (WRITE_FILE under proc/sys, namespaced keys
// only), --oom-score-adj (WRITE_FILE /proc/self/oom_score_adj), --group-add (USER's groups)
// and --tmpfs (a tmpfs MOUNT). Values arrive as typed; the reasons name the flag.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX, STR_MAX } from "../codec";
import { PlanWriter } from "./encode";
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "./linux";
import { HostDir, HOST_DIR_DIRECTORY } from "./request";

export const REQ_ULIMIT: u32 = 0x030a;
export const REQ_SYSCTL: u32 = 0x030b;
export const REQ_OOM_SCORE_ADJ: u32 = 0x030c;
export const REQ_GROUP_ADD: u32 = 0x030d;
export const REQ_TMPFS: u32 = 0x030e;
export const REQ_READ_ONLY: u32 = 0x030f;

const ITEMS_MAX: i32 = 256;
const RLIM_INFINITY: u64 = 0xffffffffffffffff;
const ID_LIMIT: u64 = 0xfffffffe;

// getrlimit(2)'s resources, by docker's --ulimit names.
const ULIMIT_NAMES: string[] = ["cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"];

export class Rlimit {
  constructor(public resource: u64, public soft: u64, public hard: u64) {}
}

export class Sysctl {
  constructor(public key: string, public value: string) {}
}

export class Tmpfs {
  constructor(public target: string, public flags: u64, public data: string) {}
}

export class RunOptions {
  rlimits: Rlimit[] = [];
  sysctls: Sysctl[] = [];
  hasOomScoreAdj: bool = false;
  oomScoreAdj: i64 = 0;
  groups: u64[] = [];
  tmpfs: Tmpfs[] = [];
  /** --read-only: the root filesystem (and the host image's directories) read-only. */
  readOnly: bool = false;
  count: i32 = 0;
}

export function isRunOptionItem(type: u32): bool {
  return type >= REQ_ULIMIT && type <= REQ_READ_ONLY;
}

function parseNumber(text: string): i64 {
  if (text.length == 0 || text.length > 19) return -1;
  let n: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

function limitValue(text: string): i64 {
  if (text == "unlimited" || text == "-1") return -2; // RLIM_INFINITY
  return parseNumber(text);
}

/** `nofile=1024[:2048]`, as docker reads it (one value: soft and hard alike). */
function parseUlimit(text: string, out: RunOptions): Failure | null {
  const eq = text.indexOf("=");
  const name = eq < 0 ? text : text.substring(0, eq);
  const resource = ULIMIT_NAMES.indexOf(name);
  if (eq < 0 || resource < 0) return invalid("ulimit: \"" + text + "\": expected NAME=SOFT[:HARD] with NAME one of " + ULIMIT_NAMES.join(", "));
  const values = text.substring(eq + 1);
  const colon = values.indexOf(":");
  const softText = colon < 0 ? values : values.substring(0, colon);
  const hardText = colon < 0 ? values : values.substring(colon + 1);
  const soft = limitValue(softText);
  const hard = limitValue(hardText);
  if (soft == -1 || hard == -1) return invalid("ulimit: \"" + text + "\": not a number");
  const s: u64 = soft == -2 ? RLIM_INFINITY : <u64>soft;
  const h: u64 = hard == -2 ? RLIM_INFINITY : <u64>hard;
  if (s > h) return invalid("ulimit: \"" + text + "\": soft limit must be less than or equal to hard limit");
  for (let i = 0; i < out.rlimits.length; i++) {
    if (out.rlimits[i].resource == <u64>resource) return invalid("ulimit: " + name + " given twice");
  }
  out.rlimits.push(new Rlimit(<u64>resource, s, h));
  return null;
}

function parseSysctl(text: string, out: RunOptions): Failure | null {
  const eq = text.indexOf("=");
  if (eq <= 0) return invalid("sysctl: \"" + text + "\": expected KEY=VALUE");
  const key = text.substring(0, eq);
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2e || c == 0x2d;
    if (!ok || (c == 0x2e && (i == 0 || key.charCodeAt(i - 1) == 0x2e))) return invalid("sysctl: \"" + key + "\": not a sysctl name");
  }
  out.sysctls.push(new Sysctl(key, text.substring(eq + 1)));
  return null;
}

/** --tmpfs PATH[:OPTIONS]: docker's defaults noexec,nosuid,nodev; rw/ro, exec, suid, dev; the rest is tmpfs data. */
function parseTmpfs(target: string, options: string, out: RunOptions): Failure | null {
  if (target.length < 2 || target.charCodeAt(0) != 0x2f) return invalid("tmpfs: \"" + target + "\": not an absolute path below /");
  const parts = target.substring(1).split("/");
  let clean = "";
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] == "..") return invalid("tmpfs: \"" + target + "\": has a '..' component");
    if (parts[i].length == 0 || parts[i] == ".") continue;
    clean += (clean.length > 0 ? "/" : "") + parts[i];
  }
  if (clean.length == 0) return invalid("tmpfs: \"" + target + "\": not an absolute path below /");
  let flags: u64 = MS_NOEXEC | MS_NOSUID | MS_NODEV;
  let data = "";
  const opts = options.length > 0 ? options.split(",") : new Array<string>();
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    if (o == "rw") flags &= ~MS_RDONLY;
    else if (o == "ro") flags |= MS_RDONLY;
    else if (o == "exec") flags &= ~MS_NOEXEC;
    else if (o == "noexec") flags |= MS_NOEXEC;
    else if (o == "suid") flags &= ~MS_NOSUID;
    else if (o == "nosuid") flags |= MS_NOSUID;
    else if (o == "dev") flags &= ~MS_NODEV;
    else if (o == "nodev") flags |= MS_NODEV;
    else if (o.startsWith("size=") || o.startsWith("mode=") || o.startsWith("uid=") || o.startsWith("gid=") || o.startsWith("nr_inodes=") || o.startsWith("nr_blocks=")) {
      data += (data.length > 0 ? "," : "") + o;
    } else return invalid("tmpfs: \"" + o + "\": unknown option (rw, ro, exec, noexec, suid, nosuid, dev, nodev, size=, mode=, uid=, gid=, nr_inodes=)");
  }
  for (let i = 0; i < out.tmpfs.length; i++) if (out.tmpfs[i].target == clean) return invalid("tmpfs: /" + clean + " given twice");
  out.tmpfs.push(new Tmpfs(clean, flags, data));
  return null;
}

export function decodeRunOptionItem(type: u32, ptr: usize, len: i32, index: i32, out: RunOptions): Failure | null {
  const names = ["ULIMIT", "SYSCTL", "OOM_SCORE_ADJ", "GROUP_ADD", "TMPFS", "READ_ONLY"];
  const f = Fields.ofFrame(ptr, len, index, names[type - REQ_ULIMIT]);
  if (++out.count > ITEMS_MAX) return malformed(f.context + ": more than " + ITEMS_MAX.toString() + " run options");
  let failure: Failure | null = null;
  if (type == REQ_ULIMIT) {
    const text = f.str("text", STR_MAX);
    if (f.ok) failure = parseUlimit(text, out);
  } else if (type == REQ_SYSCTL) {
    const text = f.str("text", STR_MAX);
    if (f.ok) failure = parseSysctl(text, out);
  } else if (type == REQ_OOM_SCORE_ADJ) {
    if (out.hasOomScoreAdj) return malformed(f.context + ": given twice");
    out.hasOomScoreAdj = true;
    out.oomScoreAdj = <i64>f.u64("value");
    if (f.ok && (out.oomScoreAdj < -1000 || out.oomScoreAdj > 1000)) failure = invalid("oom-score-adj: " + out.oomScoreAdj.toString() + " is not between -1000 and 1000");
  } else if (type == REQ_GROUP_ADD) {
    const gids = f.u64s("gids");
    for (let i = 0; f.ok && i < gids.length; i++) {
      if (gids[i] > ID_LIMIT) return invalid("group-add: " + gids[i].toString() + " is above 4294967294");
      out.groups.push(gids[i]);
    }
  } else if (type == REQ_READ_ONLY) {
    if (out.readOnly) return malformed(f.context + ": given twice");
    out.readOnly = true;
  } else {
    const target = f.str("target", PATH_MAX);
    const options = f.str("options", STR_MAX);
    if (f.ok) failure = parseTmpfs(target, options, out);
  }
  if (!f.finish()) return f.failure;
  return failure;
}

/**
 * docker's rule (moby oci/namespaces, runc's validator): only a sysctl of a namespace the
 * container has of its own — IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), UTS
 * (kernel.domainname, kernel.hostname), net (net.*).
 */
export function checkSysctls(opts: RunOptions, namespaces: u64): Failure | null {
  for (let i = 0; i < opts.sysctls.length; i++) {
    const key = opts.sysctls[i].key;
    let ns: u64 = 0;
    if (key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" || key == "kernel.sem" || key == "kernel.shmall" ||
      key == "kernel.shmmax" || key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || key.startsWith("fs.mqueue.")) ns = CLONE_NEWIPC;
    else if (key == "kernel.domainname" || key == "kernel.hostname") ns = CLONE_NEWUTS;
    else if (key.startsWith("net.")) ns = CLONE_NEWNET;
    if (ns == 0) return invalid("sysctl: \"" + key + "\" is not allowed in a container: it is not a namespaced sysctl");
    if ((namespaces & ns) == 0) return invalid("sysctl: \"" + key + "\" is not allowed: the container shares that namespace with the host");
  }
  return null;
}

/** After proc is mounted, before proc/sys is made read-only. */
export function sysctlOps(plan: PlanWriter, opts: RunOptions): void {
  for (let i = 0; i < opts.sysctls.length; i++) {
    plan.writeFile("proc/sys/" + opts.sysctls[i].key.replaceAll(".", "/"), opts.sysctls[i].value);
  }
}

/** After /tmp: each tmpfs on its directory (made first). */
export function tmpfsOps(plan: PlanWriter, opts: RunOptions): void {
  for (let i = 0; i < opts.tmpfs.length; i++) {
    const t = opts.tmpfs[i];
    plan.mkdir(t.target, 0o755);
    plan.mount("tmpfs", t.target, "tmpfs", t.flags, t.data);
  }
}

/** Before CAPS (the process still holds every capability): rlimits, then oom_score_adj. */
export function limitOps(plan: PlanWriter, opts: RunOptions): void {
  for (let i = 0; i < opts.rlimits.length; i++) plan.rlimit(opts.rlimits[i].resource, opts.rlimits[i].soft, opts.rlimits[i].hard);
  if (opts.hasOomScoreAdj) plan.writeFile("/proc/self/oom_score_adj", opts.oomScoreAdj.toString());
}

const MS_REMOUNT: u64 = 0x20;
const MS_BIND: u64 = 0x1000;

/**
 * --read-only, after PIVOT_ROOT: the root's own mount (and each directory of the host image,
 * an overlay of its own) remounted read-only, not recursively: /proc, /dev, /sys, /tmp and
 * the --tmpfs mounts stay as they are, as docker keeps its mounts writable.
 */
export function readOnlyRootOps(plan: PlanWriter, opts: RunOptions, hostDirs: HostDir[]): void {
  if (!opts.readOnly) return;
  plan.mount("", "/", "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
  for (let i = 0; i < hostDirs.length; i++) {
    if (hostDirs[i].kind == HOST_DIR_DIRECTORY) plan.mount("", "/" + hostDirs[i].name, "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
  }
}
