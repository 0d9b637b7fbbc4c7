// The plan's frames (docs/protocol.md "The plan"): one method per op, each writing one frame
// with the field kinds and bounds the launcher checks. Bounds a user value can break (a long
// path, too many ops, too big a plan) become a failure, reported as status 2.

import { PATH_MAX, STR_MAX, Writer } from "../codec";

export const PLAN_MAX: i32 = 4 << 20;
export const OPS_MAX: i32 = 1024;

export const HELLO_MAGIC: u64 = 0x4b535548;
export const PROTOCOL_VERSION: u64 = 1;

export const T_HELLO: u16 = 0x0001;
export const T_END: u16 = 0x0002;
export const T_UNSHARE: u16 = 0x0010;
export const T_CLONE: u16 = 0x0011;
export const T_WRITE_FILE: u16 = 0x0012;
export const T_UID_MAP: u16 = 0x0013;
export const T_GID_MAP: u16 = 0x0014;
export const T_SETGROUPS: u16 = 0x0015;
export const T_MOUNT: u16 = 0x0020;
export const T_MKDIR: u16 = 0x0021;
export const T_TOUCH: u16 = 0x0022;
export const T_SYMLINK: u16 = 0x0023;
export const T_BIND: u16 = 0x0024;
export const T_PIVOT_ROOT: u16 = 0x0025;
export const T_MASK: u16 = 0x0026;
export const T_READONLY: u16 = 0x0027;
export const T_SET_ROOT: u16 = 0x0028;
export const T_OVERLAY: u16 = 0x0029;
export const T_SETHOSTNAME: u16 = 0x0030;
export const T_LOOPBACK_UP: u16 = 0x0031;
export const T_CHDIR: u16 = 0x0032;
export const T_RLIMIT: u16 = 0x0033;
export const T_CAPS: u16 = 0x0034;
export const T_USER: u16 = 0x0035;
export const T_NO_NEW_PRIVS: u16 = 0x0036;
export const T_CLOSE_FDS: u16 = 0x0037;
export const T_EXEC: u16 = 0x0038;
export const T_STATUS_FILE: u16 = 0x0039;
export const T_CGROUP_MKDIR: u16 = 0x0040;
export const T_CGROUP_WRITE: u16 = 0x0041;
export const T_CGROUP_ENTER: u16 = 0x0042;
export const T_CGROUP_INTO: u16 = 0x0043;
export const T_CGROUP_REPORT: u16 = 0x0044;
export const T_CGROUP_JOIN: u16 = 0x0047;
export const T_IDMAP_TREE: u16 = 0x0045;
export const T_ATTACH_TREE: u16 = 0x0046;
export const T_WAIT_START: u16 = 0x0051;
// A seccomp filter (docs/protocol.md "SECCOMP"): the program in parts of at most 1024 instructions.
export const T_SECCOMP: u16 = 0x0050;
export const T_SECCOMP_PROGRAM: u16 = 0x0055;
// Joining namespaces that exist (./join.ts; docs/protocol.md "Joining namespaces").
export const T_TARGET: u16 = 0x0080;
export const T_SETNS: u16 = 0x0081;
export const T_SETNS_FILE: u16 = 0x0082;
export const T_PIN: u16 = 0x0085;
export const T_COPY_TREE: u16 = 0x004c;
export const T_INIT: u16 = 0x00b0;
export const T_PTY: u16 = 0x00b1;
export const T_PID_FORK: u16 = 0x00b2;
export const T_LOG: u16 = 0x0052;
// runc's process model (./oci.ts; docs/protocol.md "Left waiting on a FIFO").
export const T_EXEC_FIFO: u16 = 0x00a0;
export const T_FIFO_WAIT: u16 = 0x00a1;
export const T_UMASK: u16 = 0x00a2;
export const T_AMBIENT: u16 = 0x00a3;
export const T_PRESERVE_FDS: u16 = 0x00a6;
export const T_HOOK: u16 = 0x00c0;
export const T_HOOK_SYNC: u16 = 0x00c1;
export const T_IOPRIO: u16 = 0x00c2;
export const T_MKNOD_DEV: u16 = 0x00f0;
export const T_PID_FORK_ORPHAN: u16 = 0x00f1;
export const T_SCHEDULER: u16 = 0x00c3;
export const T_PERSONALITY: u16 = 0x00c4;
export const T_CONSOLE: u16 = 0x00a4;
export const T_SECCOMP_LISTENER: u16 = 0x00c9;
export const T_IDMAP_MOUNT: u16 = 0x00ca;
export const T_TTY: u16 = 0x0053;
export const T_ATTACH: u16 = 0x0054;
// Rootless (docs/protocol.md "IDMAP_HELPER").
export const T_IDMAP_HELPER: u16 = 0x0048;
// Device rules on cgroup v2 (docs/protocol.md "CGROUP_DEVICES"): a BPF program attached to a directory.
export const T_CGROUP_DEVICES: u16 = 0x00c8;

export class PlanWriter {
  w: Writer = new Writer(PLAN_MAX);
  ops: i32 = 0;

  get ok(): bool {
    return this.w.ok;
  }

  get failure(): string {
    const f = this.w.failure;
    return f !== null ? f : "";
  }

  hello(flags: u64): void {
    // The summary frames may come first (./summary.ts): HELLO is the plan's first frame.
    assert(this.ops == 0, "hello: not first");
    this.w.begin(T_HELLO, "hello");
    this.w.u64(HELLO_MAGIC);
    this.w.u64(PROTOCOL_VERSION);
    this.w.u64(flags);
    this.w.end();
  }

  end(): void {
    this.w.begin(T_END, "end");
    this.w.end();
  }

  private op(type: u16, name: string): void {
    this.ops++;
    if (this.ops == OPS_MAX + 1) this.w.fail("plan: more than " + OPS_MAX.toString() + " ops");
    this.w.begin(type, name);
  }

  unshare(flags: u64): void {
    this.op(T_UNSHARE, "unshare");
    this.w.u64(flags);
    this.w.end();
  }

  clone(flags: u64): void {
    this.op(T_CLONE, "clone");
    this.w.u64(flags);
    this.w.end();
  }

  writeFile(path: string, content: string): void {
    this.op(T_WRITE_FILE, "write-file");
    this.w.str("path", path, PATH_MAX);
    this.w.str("content", content, STR_MAX);
    this.w.end();
  }

  uidMap(text: string): void {
    this.op(T_UID_MAP, "uid-map");
    this.w.str("text", text, STR_MAX);
    this.w.end();
  }

  gidMap(text: string): void {
    this.op(T_GID_MAP, "gid-map");
    this.w.str("text", text, STR_MAX);
    this.w.end();
  }

  setgroups(text: string): void {
    this.op(T_SETGROUPS, "setgroups");
    this.w.str("text", text, STR_MAX);
    this.w.end();
  }

  mount(source: string, target: string, fstype: string, flags: u64, data: string): void {
    this.op(T_MOUNT, "mount");
    this.w.str("source", source, PATH_MAX);
    this.w.str("target", target, PATH_MAX);
    this.w.str("fstype", fstype, STR_MAX);
    this.w.u64(flags);
    this.w.str("data", data, STR_MAX);
    this.w.end();
  }

  mkdir(path: string, mode: u64): void {
    this.op(T_MKDIR, "mkdir");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(mode);
    this.w.end();
  }

  touch(path: string, mode: u64): void {
    this.op(T_TOUCH, "touch");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(mode);
    this.w.end();
  }

  symlink(target: string, linkpath: string): void {
    this.op(T_SYMLINK, "symlink");
    this.w.str("target", target, PATH_MAX);
    this.w.str("linkpath", linkpath, PATH_MAX);
    this.w.end();
  }

  bind(source: string, target: string, flags: u64): void {
    this.op(T_BIND, "bind");
    this.w.str("source", source, PATH_MAX);
    this.w.str("target", target, PATH_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  /** A network op whose fields are all `str` (docs/protocol.md "Networks"). */
  netOp(type: u16, name: string, values: string[]): void {
    this.op(type, name);
    for (let i = 0; i < values.length; i++) this.w.str(name, values[i], STR_MAX);
    this.w.end();
  }

  /** NFT_ELEMENTS (a parent op) or NFT_DELETE (a control op): docs/protocol.md "NFT_ELEMENTS". */
  nftElements(type: u16, family: u64, table: string, set: string, flags: u64, keyWords: u64, dataWords: u64, words: u64[]): void {
    this.op(type, "nft-elements");
    this.w.u64(family);
    this.w.str("table", table, STR_MAX);
    this.w.str("set", set, STR_MAX);
    this.w.u64(flags);
    this.w.u64(keyWords);
    this.w.u64(dataWords);
    this.w.u64s("words", words);
    this.w.end();
  }

  /** The plan's bytes so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.w.len);
    memory.copy(out.dataStart, changetype<usize>(this.w.buf), <usize>this.w.len);
    return out;
  }

  /** NET_ADDR: name, address, flags. */
  netAddr(type: u16, name: string, address: string, flags: u64): void {
    this.op(type, "net-addr");
    this.w.str("name", name, STR_MAX);
    this.w.str("address", address, STR_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  pivotRoot(newroot: string): void {
    this.op(T_PIVOT_ROOT, "pivot-root");
    this.w.str("newroot", newroot, PATH_MAX);
    this.w.end();
  }

  mask(path: string): void {
    this.op(T_MASK, "mask");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  readOnly(path: string): void {
    this.op(T_READONLY, "readonly");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  setRoot(path: string): void {
    this.op(T_SET_ROOT, "set-root");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  sethostname(name: string): void {
    this.op(T_SETHOSTNAME, "sethostname");
    this.w.str("name", name, STR_MAX);
    this.w.end();
  }

  loopbackUp(): void {
    this.op(T_LOOPBACK_UP, "loopback-up");
    this.w.end();
  }

  chdir(path: string): void {
    this.op(T_CHDIR, "chdir");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  rlimit(resource: u64, soft: u64, hard: u64): void {
    this.op(T_RLIMIT, "rlimit");
    this.w.u64(resource);
    this.w.u64(soft);
    this.w.u64(hard);
    this.w.end();
  }

  caps(bounding: u64, effective: u64, permitted: u64, inheritable: u64): void {
    this.op(T_CAPS, "caps");
    this.w.u64(bounding);
    this.w.u64(effective);
    this.w.u64(permitted);
    this.w.u64(inheritable);
    this.w.end();
  }

  user(uid: u64, gid: u64, groups: u64[]): void {
    this.op(T_USER, "user");
    this.w.u64(uid);
    this.w.u64(gid);
    this.w.u64s("groups", groups);
    this.w.end();
  }

  noNewPrivs(): void {
    this.op(T_NO_NEW_PRIVS, "no-new-privs");
    this.w.end();
  }

  closeFds(): void {
    this.op(T_CLOSE_FDS, "close-fds");
    this.w.end();
  }

  /** SECCOMP_PROGRAM for every part but the last, then SECCOMP with the last and the flags. */
  seccomp(flags: u64, parts: u64[][]): void {
    assert(parts.length > 0, "seccomp: no program");
    for (let i = 0; i + 1 < parts.length; i++) {
      this.op(T_SECCOMP_PROGRAM, "seccomp-program");
      this.w.u64s("program", parts[i]);
      this.w.end();
    }
    this.op(T_SECCOMP, "seccomp");
    this.w.u64(flags);
    this.w.u64s("program", parts[parts.length - 1]);
    this.w.end();
  }

  pty(path: string): void {
    this.op(T_PTY, "pty");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  pidFork(): void {
    this.op(T_PID_FORK, "pid-fork");
    this.w.end();
  }

  /** PID_FORK whose parent exits: the child goes to the engine's subreaper (runc's model). */
  pidForkOrphan(): void {
    this.op(T_PID_FORK_ORPHAN, "pid-fork-orphan");
    this.w.end();
  }

  init(): void {
    this.op(T_INIT, "init");
    this.w.end();
  }

  waitStart(): void {
    this.op(T_WAIT_START, "wait-start");
    this.w.end();
  }

  /** The three statuses are the launcher's exit status when an op fails, when EXEC finds no
   * file (ENOENT), and when EXEC fails otherwise (docs/protocol.md, EXEC). */
  exec(path: string, argv: string[], env: string[], search: string[], failed: u8, notFound: u8, notExecutable: u8): void {
    this.op(T_EXEC, "exec");
    this.w.str("path", path, PATH_MAX);
    this.w.strs("argv", argv, STR_MAX);
    this.w.strs("env", env, STR_MAX);
    this.w.strs("search", search, STR_MAX);
    this.w.u64(<u64>failed);
    this.w.u64(<u64>notFound);
    this.w.u64(<u64>notExecutable);
    this.w.end();
  }

  // ---- cgroups and the status file (assembly/plan/cgroup.ts) ----

  statusFile(path: string): void {
    this.op(T_STATUS_FILE, "status-file");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  cgroupMkdir(path: string, flags: u64): void {
    this.op(T_CGROUP_MKDIR, "cgroup-mkdir");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  /** A BPF_PROG_TYPE_CGROUP_DEVICE program (../cgroup/devices.ts) for the v2 directory `path`. */
  cgroupDevices(path: string, program: u64[]): void {
    assert(program.length > 0, "cgroupDevices: no program");
    this.op(T_CGROUP_DEVICES, "cgroup-devices");
    this.w.str("path", path, PATH_MAX);
    this.w.u64s("program", program);
    this.w.end();
  }

  cgroupWrite(path: string, value: string): void {
    this.op(T_CGROUP_WRITE, "cgroup-write");
    this.w.str("path", path, PATH_MAX);
    this.w.str("value", value, STR_MAX);
    this.w.end();
  }

  cgroupEnter(path: string): void {
    this.op(T_CGROUP_ENTER, "cgroup-enter");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  cgroupInto(path: string): void {
    this.op(T_CGROUP_INTO, "cgroup-into");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  cgroupJoin(path: string): void {
    this.op(T_CGROUP_JOIN, "cgroup-join");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  cgroupReport(path: string): void {
    this.op(T_CGROUP_REPORT, "cgroup-report");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  // ---- the container's stdio (assembly/plan/stdio.ts) ----

  log(path: string): void {
    this.op(T_LOG, "log");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  tty(rows: u64, cols: u64): void {
    this.op(T_TTY, "tty");
    this.w.u64(rows);
    this.w.u64(cols);
    this.w.end();
  }

  attach(path: string, flags: u64): void {
    this.op(T_ATTACH, "attach");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  // ---- idmapped trees (assembly/plan/namespaces.ts, rootfs.ts) ----

  /** Parent op NET_HELPER: run `program args… PID` (pasta, ../net/usermode.ts). */
  netHelper(type: u16, program: string, args: string[]): void {
    this.op(type, "net-helper");
    this.w.str("path", program, PATH_MAX);
    this.w.strs("args", args, STR_MAX);
    this.w.end();
  }

  /** Parent op: run the setuid `helper` (newuidmap, newgidmap) as `helper PID args…`. */
  idmapHelper(helper: string, args: string[]): void {
    this.op(T_IDMAP_HELPER, "idmap-helper");
    this.w.str("path", helper, PATH_MAX);
    this.w.strs("args", args, STR_MAX);
    this.w.end();
  }

  idmapTree(source: string, slot: u64): void {
    this.op(T_IDMAP_TREE, "idmap-tree");
    this.w.str("source", source, PATH_MAX);
    this.w.u64(slot);
    this.w.end();
  }

  /** lowers top first, as overlayfs orders them (./layers.ts). */
  overlay(lowers: string[], upper: string, work: string, target: string, links: string, flags: u64): void {
    this.op(T_OVERLAY, "overlay");
    this.w.strs("lowers", lowers, PATH_MAX);
    this.w.str("upper", upper, PATH_MAX);
    this.w.str("work", work, PATH_MAX);
    this.w.str("target", target, PATH_MAX);
    this.w.str("links", links, PATH_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  /** COPY_TREE (docs/protocol.md): `source` merged into the directory `target`. */
  copyTree(source: string, target: string, opaqueXattr: string, flags: u64): void {
    this.op(T_COPY_TREE, "copy-tree");
    this.w.str("source", source, PATH_MAX);
    this.w.str("target", target, PATH_MAX);
    this.w.str("opaque_xattr", opaqueXattr, STR_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  /** Parent op: `source` idmapped through these maps (empty: the container's), sent as `slot`. */
  idmapMount(source: string, slot: u64, uidMap: string, gidMap: string, flags: u64): void {
    this.op(T_IDMAP_MOUNT, "idmap-mount");
    this.w.str("source", source, PATH_MAX);
    this.w.u64(slot);
    this.w.str("uid_map", uidMap, STR_MAX);
    this.w.str("gid_map", gidMap, STR_MAX);
    this.w.u64(flags);
    this.w.end();
  }

  attachTree(slot: u64, target: string): void {
    this.op(T_ATTACH_TREE, "attach-tree");
    this.w.u64(slot);
    this.w.str("target", target, PATH_MAX);
    this.w.end();
  }

  // ---- joining namespaces that exist (./join.ts) ----

  target(pid: u64, startTime: u64): void {
    this.op(T_TARGET, "target");
    this.w.u64(pid);
    this.w.u64(startTime);
    this.w.end();
  }

  setns(flags: u64): void {
    this.op(T_SETNS, "setns");
    this.w.u64(flags);
    this.w.end();
  }

  pin(nstype: u64, path: string): void {
    this.op(T_PIN, "pin");
    this.w.u64(nstype);
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  execFifo(path: string): void {
    this.op(T_EXEC_FIFO, "exec-fifo");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  fifoWait(): void {
    this.op(T_FIFO_WAIT, "fifo-wait");
    this.w.end();
  }

  console(path: string): void {
    this.op(T_CONSOLE, "console");
    this.w.str("path", path, PATH_MAX);
    this.w.end();
  }

  /** The SECCOMP with NEW_LISTENER sends its listener to `path` with this state (the pid between the parts). */
  seccompListener(path: string, prefix: string, middle: string, suffix: string): void {
    this.op(T_SECCOMP_LISTENER, "seccomp-listener");
    this.w.str("path", path, PATH_MAX);
    this.w.str("state_prefix", prefix, STR_MAX);
    this.w.str("state_middle", middle, STR_MAX);
    this.w.str("state_suffix", suffix, STR_MAX);
    this.w.end();
  }

  /** An OCI createContainer (3) or startContainer (4) hook, run by the container process. */
  hook(kind: u64, index: u64, path: string, args: string[], env: string[], dir: string, timeoutS: u64, statePrefix: string, stateSuffix: string): void {
    this.op(T_HOOK, "hook");
    this.w.u64(kind);
    this.w.u64(index);
    this.w.str("path", path, PATH_MAX);
    this.w.strs("args", args, STR_MAX);
    this.w.strs("env", env, STR_MAX);
    this.w.str("dir", dir, PATH_MAX);
    this.w.u64(timeoutS);
    this.w.str("state_prefix", statePrefix, STR_MAX);
    this.w.str("state_suffix", stateSuffix, STR_MAX);
    this.w.end();
  }

  /** ioprio_set(IOPRIO_WHO_PROCESS, 0, value): process.ioPriority. */
  ioprio(value: u64): void {
    this.op(T_IOPRIO, "ioprio");
    this.w.u64(value);
    this.w.end();
  }

  /** sched_setattr(0, {policy, nice, priority}): process.scheduler. */
  scheduler(policy: u64, nice: u64, priority: u64): void {
    this.op(T_SCHEDULER, "scheduler");
    this.w.u64(policy);
    this.w.u64(nice);
    this.w.u64(priority);
    this.w.end();
  }

  /** A device node or FIFO made in the root (linux.devices without a user namespace). */
  mknodDev(path: string, mode: u64, rdev: u64, uid: u64, gid: u64): void {
    this.op(T_MKNOD_DEV, "mknod-dev");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(mode);
    this.w.u64(rdev);
    this.w.u64(uid);
    this.w.u64(gid);
    this.w.end();
  }

  /** personality(persona): linux.personality. */
  personality(persona: u64): void {
    this.op(T_PERSONALITY, "personality");
    this.w.u64(persona);
    this.w.end();
  }

  hookSync(): void {
    this.op(T_HOOK_SYNC, "hook-sync");
    this.w.end();
  }

  preserveFds(count: u64): void {
    this.op(T_PRESERVE_FDS, "preserve-fds");
    this.w.u64(count);
    this.w.end();
  }

  ambient(capabilities: u64): void {
    this.op(T_AMBIENT, "ambient");
    this.w.u64(capabilities);
    this.w.end();
  }

  umask(mask: u64): void {
    this.op(T_UMASK, "umask");
    this.w.u64(mask);
    this.w.end();
  }

  setnsFile(path: string, nstype: u64): void {
    this.op(T_SETNS_FILE, "setns-file");
    this.w.str("path", path, PATH_MAX);
    this.w.u64(nstype);
    this.w.end();
  }
}
