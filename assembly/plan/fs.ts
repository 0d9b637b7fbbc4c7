// fsPlan: files Node cannot make, as an fs plan for the launcher (docs/core-abi.md "fsPlan",
// docs/protocol.md "Fs plans"). The request names a root (a layer's directory) and entries
// in it — device nodes and FIFOs (overlay whiteouts are char devices 0/0), xattrs to set
// (security.capability, trusted/user.overlay.opaque), xattrs to read; the answer is the plan:
// FS_ROOT, then one op per entry with its path cleaned by the pathsafe module. Paths come
// from archives strangers wrote: a refused one is status 2 and the reason names it.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, PATH_MAX, STR_MAX, Writer } from "../codec";
import { cleanInside, insideRefusal } from "../pathsafe/inside";
import { HELLO_MAGIC, OPS_MAX, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "./encode";

export const REQ_FS_ROOT: u32 = 0x0142;
export const REQ_FS_MKNOD: u32 = 0x0143;
export const REQ_FS_SETXATTR: u32 = 0x0144;
export const REQ_FS_READ_XATTRS: u32 = 0x0145;
/** The last entry: the plan ends with WRITE_STREAM, and records follow it (a layer's files). */
export const REQ_FS_WRITE_STREAM: u32 = 0x0147;
/**
 * Right after FS_ROOT (rootless layers, docs/core-abi.md "fsPlan"): the rest runs in a new
 * user namespace mapped by the helpers with the arguments idmapCompute answered.
 */
export const REQ_FS_USERNS: u32 = 0x0361;
/** A tree to remove (a rootless layer whose directories belong to subordinate ids). */
export const REQ_FS_REMOVE_TREE: u32 = 0x0362;
/** Whether an overlayfs with userxattr mounts in a user namespace (the flatten fallback's probe). */
export const REQ_FS_OVERLAY_PROBE: u32 = 0x0331;

const T_FS_ROOT: u16 = 0x0070;
const T_MKNOD: u16 = 0x0071;
const T_SETXATTR: u16 = 0x0072;
const T_READ_XATTRS: u16 = 0x0073;
const T_WRITE_STREAM: u16 = 0x0074;
const T_FS_USERNS: u16 = 0x0049;
const T_REMOVE_TREE: u16 = 0x004a;
const T_OVERLAY_PROBE: u16 = 0x004d;
/** newuidmap takes at most 340 lines of `inside outside count`. */
const HELPER_ARGS_MAX: i32 = 340 * 3;

const S_IFMT: u64 = 0o170000;
const S_IFIFO: u64 = 0o010000;
const S_IFCHR: u64 = 0o020000;
const S_IFBLK: u64 = 0o060000;
const MODE_MAX: u64 = 0o7777;
const XATTR_NAME_MAX: i32 = 255;
const XATTR_NAMESPACES: string[] = ["user.", "trusted.", "security.", "system."];

export function fsPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const w = new Writer(PLAN_MAX);
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
  const failure = writeOps(ptr, len, w);
  if (failure !== null) return fail(failure);
  w.begin(T_END, "end");
  w.end();
  const f = w.failure;
  if (f !== null) return fail(invalid(f));
  return answer(w.buf, w.len);
}

/** Reads the request frame by frame and writes an op for each; the first problem, or null. */
function writeOps(ptr: usize, len: i32, w: Writer): Failure | null {
  const r = new FrameReader(ptr, len);
  let rooted = false;
  let streamed = false;
  let ops = 0;
  while (r.next()) {
    const type = r.type;
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, nameOf(type));
    if (type != REQ_FS_ROOT && type != REQ_FS_MKNOD && type != REQ_FS_SETXATTR && type != REQ_FS_READ_XATTRS && type != REQ_FS_WRITE_STREAM &&
      type != REQ_FS_USERNS && type != REQ_FS_REMOVE_TREE && type != REQ_FS_OVERLAY_PROBE) {
      return malformed(r.where() + ": unknown type 0x" + type.toString(16));
    }
    if (type != REQ_FS_ROOT && !rooted) return malformed(r.where() + ": an entry before FS_ROOT");
    if (streamed) return malformed(r.where() + ": an entry after FS_WRITE_STREAM");
    if (++ops > OPS_MAX) return invalid("fs: more than " + OPS_MAX.toString() + " ops in one plan");
    if (type == REQ_FS_WRITE_STREAM) {
      // Its records are checked by the launcher as they come (docs/protocol.md "The write stream").
      streamed = true;
      if (!f.finish()) return f.failure;
      w.begin(T_WRITE_STREAM, "write-stream");
      w.end();
      continue;
    }
    if (type == REQ_FS_OVERLAY_PROBE) {
      if (!f.finish()) return f.failure;
      w.begin(T_OVERLAY_PROBE, "overlay-probe");
      w.end();
      continue;
    }
    if (type == REQ_FS_USERNS) {
      if (ops != 2) return malformed(r.where() + ": FS_USERNS is not right after the first FS_ROOT");
      const failure = usernsOp(w, f);
      if (failure !== null) return failure;
      continue;
    }
    const path = f.str(type == REQ_FS_ROOT ? "root" : "path", PATH_MAX);
    let failure: Failure | null = null;
    if (type == REQ_FS_ROOT) {
      rooted = true;
      if (f.ok && (path.length == 0 || path.charCodeAt(0) != 0x2f)) return malformed(r.where() + ": root " + path + ": not absolute");
      w.begin(T_FS_ROOT, "fs-root");
      w.str("path", path, PATH_MAX);
      w.end();
    } else if (type == REQ_FS_MKNOD) {
      const mode = f.u64("mode");
      const rdev = f.u64("rdev");
      if (f.ok) failure = mknodOp(w, path, mode, rdev);
    } else if (type == REQ_FS_SETXATTR) {
      const name = f.str("name", STR_MAX);
      const value = f.str("value", STR_MAX);
      if (f.ok) failure = setxattrOp(w, path, name, value);
    } else if (type == REQ_FS_REMOVE_TREE) {
      if (f.ok) {
        failure = entryRefusal("remove", path);
        if (failure === null && cleanInside(path) == ".") failure = invalid("remove " + path + ": names the root itself");
        if (failure === null) pathOp(w, T_REMOVE_TREE, "remove-tree", cleanInside(path));
      }
    } else if (f.ok) {
      failure = entryRefusal("read xattrs of", path);
      if (failure === null) pathOp(w, T_READ_XATTRS, "read-xattrs", cleanInside(path));
    }
    if (!f.finish()) return f.failure;
    if (failure !== null) return failure;
  }
  if (r.failure !== null) return r.failure;
  if (!rooted) return malformed("request: no FS_ROOT");
  return null;
}

function nameOf(type: u32): string {
  if (type == REQ_FS_ROOT) return "FS_ROOT";
  if (type == REQ_FS_MKNOD) return "FS_MKNOD";
  if (type == REQ_FS_SETXATTR) return "FS_SETXATTR";
  if (type == REQ_FS_WRITE_STREAM) return "FS_WRITE_STREAM";
  if (type == REQ_FS_USERNS) return "FS_USERNS";
  if (type == REQ_FS_REMOVE_TREE) return "FS_REMOVE_TREE";
  if (type == REQ_FS_OVERLAY_PROBE) return "FS_OVERLAY_PROBE";
  return "FS_READ_XATTRS";
}

/** FS_USERNS: the helpers' absolute paths and their `inside outside count` triples. */
function usernsOp(w: Writer, f: Fields): Failure | null {
  const newuidmap = f.str("newuidmap", PATH_MAX);
  const uidArgs = f.strs("uid_args", STR_MAX);
  const newgidmap = f.str("newgidmap", PATH_MAX);
  const gidArgs = f.strs("gid_args", STR_MAX);
  if (!f.finish()) return f.failure;
  if (newuidmap.length == 0 || newuidmap.charCodeAt(0) != 0x2f || newgidmap.length == 0 || newgidmap.charCodeAt(0) != 0x2f) {
    return invalid("fs userns: newuidmap and newgidmap must be absolute paths");
  }
  const bad = helperArgsRefusal("uid", uidArgs);
  if (bad !== null) return bad;
  const badGid = helperArgsRefusal("gid", gidArgs);
  if (badGid !== null) return badGid;
  w.begin(T_FS_USERNS, "fs-userns");
  w.str("newuidmap", newuidmap, PATH_MAX);
  w.strs("uid_args", uidArgs, STR_MAX);
  w.str("newgidmap", newgidmap, PATH_MAX);
  w.strs("gid_args", gidArgs, STR_MAX);
  w.end();
  return null;
}

function helperArgsRefusal(kind: string, args: string[]): Failure | null {
  if (args.length == 0 || args.length % 3 != 0 || args.length > HELPER_ARGS_MAX) {
    return invalid("fs userns: " + kind + " args are not 1 to 340 lines of inside outside count");
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    let digits = a.length > 0 && a.length <= 10;
    for (let j = 0; j < a.length && digits; j++) digits = a.charCodeAt(j) >= 0x30 && a.charCodeAt(j) <= 0x39;
    if (!digits) return invalid("fs userns: " + kind + " arg " + a + " is not a number");
  }
  return null;
}

function entryRefusal(what: string, path: string): Failure | null {
  const why = insideRefusal(path);
  return why.length == 0 ? null : invalid(what + " " + path + ": " + why);
}

function mknodOp(w: Writer, path: string, mode: u64, rdev: u64): Failure | null {
  const refused = entryRefusal("mknod", path);
  if (refused !== null) return refused;
  const clean = cleanInside(path);
  if (clean == ".") return invalid("mknod " + path + ": names the root itself");
  const kind = mode & S_IFMT;
  if (kind != S_IFCHR && kind != S_IFBLK && kind != S_IFIFO) {
    return invalid("mknod " + path + ": mode 0o" + mode.toString(8) + " is not a character or block device or a FIFO");
  }
  if ((mode & ~(S_IFMT | MODE_MAX)) != 0) return invalid("mknod " + path + ": mode 0o" + mode.toString(8) + " has unknown bits");
  if (rdev > 0xffffffff) return invalid("mknod " + path + ": device number " + rdev.toString() + " does not fit 32 bits");
  w.begin(T_MKNOD, "mknod");
  w.str("path", clean, PATH_MAX);
  w.u64(mode);
  w.u64(rdev);
  w.end();
  return null;
}

function setxattrOp(w: Writer, path: string, name: string, value: string): Failure | null {
  const what = "xattr " + name + " on";
  const refused = entryRefusal(what, path);
  if (refused !== null) return refused;
  if (name.length == 0 || name.length > XATTR_NAME_MAX) return invalid(what + " " + path + ": a name of 1 to 255 bytes");
  let known = false;
  for (let i = 0; i < XATTR_NAMESPACES.length; i++) {
    const ns = XATTR_NAMESPACES[i];
    if (name.startsWith(ns) && name.length > ns.length) known = true;
  }
  if (!known) return invalid(what + " " + path + ": not in the user, trusted, security or system namespace");
  // Hex in a `str`: at most 32 KiB of bytes, a bound of the framing (ts/core/fs.ts refuses more).
  if (value.length % 2 != 0 || !isLowerHex(value)) return malformed(what + " " + path + ": value is not lowercase hex");
  w.begin(T_SETXATTR, "setxattr");
  w.str("path", cleanInside(path), PATH_MAX);
  w.str("name", name, STR_MAX);
  w.str("value", value, STR_MAX);
  w.end();
  return null;
}

function isLowerHex(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function pathOp(w: Writer, type: u16, name: string, path: string): void {
  w.begin(type, name);
  w.str("path", path, PATH_MAX);
  w.end();
}
