// tarUnpack(len): a layer's tar, chunk after chunk, straight into the records of the
// launcher's write stream (docs/protocol.md "The write stream"), with no JavaScript per
// entry (docs/core-abi.md "tarUnpack", docs/layers.md "The fast path").
//
// It takes the common layer only: files, directories, symlinks and hard links, named by
// ustar, GNU long-name or PAX (path, linkpath, size, uid, gid, mtime) headers, none of which
// replaces an earlier entry, climbs with `..`, lies under a symlink of the layer or is a
// whiteout. On anything else it answers BAIL and its reason, and the orchestrator starts
// over on the full path (ts/image/layer-writer.ts, tar-reader.ts), which decides and words
// every refusal. So what this accepts is a subset of what the full path accepts, written to
// the same tree: every name is cleaned lexically, and with no `..` and no symlink among its
// parents (this layer's model says what each parent is) the clean name is the place the
// path verdicts of the full path would give.
//
// A session lives in this module's globals from BEGIN to FINISH (or ABORT): the model of
// the layer (path → what is there), the directories' metadata, the tar state between
// chunks. One session at a time; its number guards against a caller that lost track.

import { answer, badLength, inputPointer } from "../abi";
import { Arena, cleanInto, FNV_OFFSET, hashBytes, SpanTable } from "../pathsafe/bytes";

const OP_BEGIN: u32 = 1;
const OP_CHUNK: u32 = 2;
const OP_FINISH: u32 = 3;
const OP_ABORT: u32 = 4;
/** The request: op, session, then per op (BEGIN: flags, max entries; CHUNK: flags). */
const REQUEST_HEADER: i32 = 16;
const BEGIN_ROOT: u32 = 1;

export const ANSWER_MORE: u32 = 0;
export const ANSWER_END: u32 = 1;
export const ANSWER_BAIL: u32 = 2;
export const ANSWER_DONE: u32 = 3;

const BLOCK: i32 = 512;
const NAME_MAX: i32 = 4095;
/**
 * The model's bounds: past them the layer goes to the full path, so that the session stays
 * far below the core's 128 MiB (the table's arrays double at half full; keys are copied).
 */
const MODEL_PATHS_MAX: i32 = 400_000;
const MODEL_BYTES_MAX: i64 = 16 << 20;
/**
 * A name deeper than this goes to the full path: each missing parent is a record and a key
 * of its own, so a deep name costs the square of its length (2000 levels: ~4 MiB of each).
 */
const DEPTH_MAX: i32 = 128;
/** An answer past this bails (with the bounds above, it is never reached by a real layer). */
const ANSWER_MAX: i32 = 16 << 20;
/** PAX and GNU long-name records bigger than this go to the full path. */
const META_MAX: i32 = 64 << 10;

// Write stream record kinds and flags (launcher-zig/write_stream.zig).
const REC_DIR: u8 = 1;
const REC_FILE: u8 = 2;
const REC_SYMLINK: u8 = 3;
const REC_LINK: u8 = 4;
const FLAG_CHOWN: u8 = 1;
const FLAG_CHMOD: u8 = 2;
const FLAG_TIMES: u8 = 4;
const RECORD: i32 = 32;

// What the model knows is at a path (value's low 2 bits; a directory's metadata index + 1 above).
const K_DIR: i64 = 1;
const K_FILE: i64 = 2;
const K_SYMLINK: i64 = 3;

const S_HEADER: i32 = 0;
const S_DATA: i32 = 1;
const S_PAD: i32 = 2;
const S_META: i32 = 3;
const S_END: i32 = 4;

const T_FILE: u8 = 0x30;
const T_HARDLINK: u8 = 0x31;
const T_SYMLINK: u8 = 0x32;
const T_DIR: u8 = 0x35;
const T_CONTIGUOUS: u8 = 0x37;
const T_PAX: u8 = 0x78;
const T_LONGNAME: u8 = 0x4c;
const T_LONGLINK: u8 = 0x4b;

class Session {
  id: u32 = 0;
  root: bool = false;
  maxEntries: u32 = 0;
  entries: u32 = 0;
  state: i32 = S_HEADER;
  /** Bytes left of the entry's data (or meta record), then of its padding. */
  left: u64 = 0;
  pad: i32 = 0;
  zeroBlocks: i32 = 0;
  metaType: u8 = 0;
  meta: ArrayBuffer = new ArrayBuffer(META_MAX);
  metaLen: i32 = 0;
  /** Records waiting for the next entry (PAX, GNU long names). */
  paxPath: ArrayBuffer | null = null;
  paxLink: ArrayBuffer | null = null;
  longName: ArrayBuffer | null = null;
  longLink: ArrayBuffer | null = null;
  paxSize: i64 = -1;
  paxUid: i64 = -1;
  paxGid: i64 = -1;
  paxMtime: i64 = -1;
  hasPaxMtime: bool = false;
  /** Path → K_*; keys live in `keys`, which is never reset during the session. */
  model: SpanTable = new SpanTable();
  keys: Arena = new Arena();
  keyBytes: i64 = 0;
  /** Directories named by the tar: their path (packed span) and metadata, set at the end. */
  dirPaths: Array<u64> = new Array<u64>();
  dirMeta: Array<u64> = new Array<u64>(); // mode | uid << 32
  dirGid: Array<u32> = new Array<u32>();
  dirTime: Array<i64> = new Array<i64>();
  rootSet: bool = false;
  rootMode: u32 = 0;
  rootUid: u32 = 0;
  rootGid: u32 = 0;
  rootTime: i64 = 0;
  lastParent: ArrayBuffer = new ArrayBuffer(NAME_MAX + 1);
  lastParentLen: i32 = -1;
  /** Scratch for names being cleaned. */
  clean: ArrayBuffer = new ArrayBuffer(NAME_MAX + 1);
  cleanTarget: ArrayBuffer = new ArrayBuffer(NAME_MAX + 1);
  name: ArrayBuffer = new ArrayBuffer(NAME_MAX + 160);
  /** The answer. */
  out: ArrayBuffer = new ArrayBuffer(1 << 16);
  outLen: i32 = 0;

  constructor() {
    this.model.reset(4096);
    this.keys.reset(1 << 20);
  }
}

let session: Session | null = null;
let nextId: u32 = 1;
let bailReason: string = "";

export function tarUnpack(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0 || len < REQUEST_HEADER) return badLength(len);
  const op = load<u32>(ptr);
  const id = load<u32>(ptr + 4);
  if (op == OP_BEGIN) {
    const s = new Session();
    s.id = nextId++;
    s.root = (load<u32>(ptr + 8) & BEGIN_ROOT) != 0;
    s.maxEntries = load<u32>(ptr + 12);
    session = s;
    return reply(s, ANSWER_MORE, <i32>s.id); // the session's number where a chunk has its bytes taken
  }
  const s = session;
  if (s === null || s.id != id) {
    // Another session began, or this instance is new (the last one trapped).
    const none = new Session();
    bailReason = "no such session";
    return reply(none, ANSWER_BAIL, 0);
  }
  if (op == OP_ABORT) {
    session = null;
    return reply(s, ANSWER_DONE, 0);
  }
  if (op == OP_FINISH) return finish(s);
  if (op != OP_CHUNK) {
    session = null;
    bailReason = "unknown op";
    return reply(s, ANSWER_BAIL, 0);
  }
  s.outLen = 0;
  room(s, len + (len >> 3) + 4096);
  bailReason = "";
  const used = chunk(s, ptr + <usize>REQUEST_HEADER, len - REQUEST_HEADER);
  if (used < 0) {
    session = null;
    return reply(s, ANSWER_BAIL, 0);
  }
  return reply(s, s.state == S_END ? ANSWER_END : ANSWER_MORE, used);
}

/** The answer: kind, bytes of the chunk taken, then records (or a BAIL's reason). */
function reply(s: Session, kind: u32, used: i32): i32 {
  if (kind == ANSWER_BAIL) {
    s.outLen = 0;
    room(s, 8 + bailReason.length);
    const base = changetype<usize>(s.out);
    store<u32>(base, kind);
    store<u32>(base + 4, 0);
    for (let i = 0; i < bailReason.length; i++) store<u8>(base + 8 + <usize>i, <u8>bailReason.charCodeAt(i));
    return answer(s.out, 8 + bailReason.length);
  }
  if (kind != ANSWER_DONE || s.outLen == 0) {
    if (s.outLen == 0) {
      room(s, 8);
      s.outLen = 8;
    }
  }
  const base = changetype<usize>(s.out);
  store<u32>(base, kind);
  store<u32>(base + 4, <u32>used);
  return answer(s.out, s.outLen);
}

function bail(reason: string): i32 {
  bailReason = reason;
  return -1;
}

/** Room for `n` more answer bytes (after the 8-byte answer header). */
function room(s: Session, n: i32): void {
  const start = s.outLen == 0 ? 8 : s.outLen;
  const need = start + n;
  if (need > s.out.byteLength) {
    let capacity = s.out.byteLength;
    while (capacity < need) capacity <<= 1;
    const grown = new ArrayBuffer(capacity);
    memory.copy(changetype<usize>(grown), changetype<usize>(s.out), <usize>s.outLen);
    s.out = grown;
  }
  if (s.outLen == 0) s.outLen = 8;
}

/** Takes what it can of the `n` tar bytes at `p`; returns how many (a split header waits), or -1: BAIL. */
function chunk(s: Session, p: usize, n: i32): i32 {
  let i = 0;
  while (i < n) {
    const state = s.state;
    if (state == S_HEADER) {
      if (n - i < BLOCK) return i;
      if (header(s, p + <usize>i) < 0) return -1;
      i += BLOCK;
    } else if (state == S_DATA) {
      let take = n - i;
      if (<u64>take > s.left) take = <i32>s.left;
      room(s, take);
      memory.copy(changetype<usize>(s.out) + <usize>s.outLen, p + <usize>i, <usize>take);
      s.outLen += take;
      i += take;
      s.left -= <u64>take;
      if (s.left == 0) s.state = s.pad > 0 ? S_PAD : S_HEADER;
    } else if (state == S_META) {
      let take = n - i;
      if (<u64>take > s.left) take = <i32>s.left;
      memory.copy(changetype<usize>(s.meta) + <usize>s.metaLen, p + <usize>i, <usize>take);
      s.metaLen += take;
      i += take;
      s.left -= <u64>take;
      if (s.left == 0) {
        if (metaDone(s) < 0) return -1;
        s.state = s.pad > 0 ? S_PAD : S_HEADER;
      }
    } else if (state == S_PAD) {
      let take = n - i;
      if (take > s.pad) take = s.pad;
      i += take;
      s.pad -= take;
      if (s.pad == 0) s.state = S_HEADER;
    } else {
      return n; // after the end marker: hashed by the caller, otherwise ignored
    }
  }
  return i;
}

function zeroBlock(b: usize): bool {
  for (let k: usize = 0; k < <usize>BLOCK; k += 8) if (load<u64>(b + k) != 0) return false;
  return true;
}

/** An octal field (leading spaces, then digits, then NUL or spaces), or -1: anything else. */
function octal(b: usize, len: i32): i64 {
  let i = 0;
  while (i < len && load<u8>(b + <usize>i) == 0x20) i++;
  let v: i64 = 0;
  let digits = 0;
  for (; i < len; i++) {
    const c = load<u8>(b + <usize>i);
    if (c == 0 || c == 0x20) break;
    if (c < 0x30 || c > 0x37) return -1;
    v = v * 8 + <i64>(c - 0x30);
    digits++;
    if (digits > 17) return -1; // past 2^51: the full path says what
  }
  for (; i < len; i++) {
    const c = load<u8>(b + <usize>i);
    if (c != 0 && c != 0x20) return -1;
  }
  return v;
}

/** The unsigned sum of the header, its checksum field counted as spaces. */
function checksum(b: usize): i64 {
  let sum: i64 = 8 * 0x20;
  for (let k: usize = 0; k < 148; k++) sum += <i64>load<u8>(b + k);
  for (let k: usize = 156; k < <usize>BLOCK; k++) sum += <i64>load<u8>(b + k);
  return sum;
}

/** Length of the NUL-terminated string in a field. */
function cstrLen(b: usize, len: i32): i32 {
  let n = 0;
  while (n < len && load<u8>(b + <usize>n) != 0) n++;
  return n;
}

function header(s: Session, b: usize): i32 {
  if (zeroBlock(b)) {
    s.zeroBlocks++;
    if (s.zeroBlocks == 2) s.state = S_END;
    return 0;
  }
  if (s.zeroBlocks > 0) return bail("a header after an empty block");
  const want = octal(b + 148, 8);
  if (want < 0 || want != checksum(b)) return bail("header checksum (not the unsigned sum)");
  let type = load<u8>(b + 156);
  if (type == 0 || type == T_CONTIGUOUS) type = T_FILE;
  // base-256 numbers (a top bit set) are not octal: octal() gives -1 for them.
  const size = octal(b + 124, 12);
  if (size < 0) return bail("size field");
  const padding = <i32>((<i64>BLOCK - size % <i64>BLOCK) % <i64>BLOCK);
  if (type == T_PAX || type == T_LONGNAME || type == T_LONGLINK) {
    if (size > <i64>META_MAX) return bail("a big PAX or long-name record");
    s.metaType = type;
    s.metaLen = 0;
    s.left = <u64>size;
    s.pad = padding;
    if (size == 0) {
      if (metaDone(s) < 0) return -1;
      s.state = padding > 0 ? S_PAD : S_HEADER;
    } else s.state = S_META;
    return 0;
  }
  if (type != T_FILE && type != T_DIR && type != T_SYMLINK && type != T_HARDLINK) return bail("entry type");
  let mode = octal(b + 100, 8);
  let uid = octal(b + 108, 8);
  let gid = octal(b + 116, 8);
  let mtime = octal(b + 136, 12);
  if (mode < 0 || uid < 0 || gid < 0 || mtime < 0) return bail("a numeric field");
  let entrySize = size;
  if (s.paxSize >= 0) entrySize = s.paxSize;
  if (s.paxUid >= 0) uid = s.paxUid;
  if (s.paxGid >= 0) gid = s.paxGid;
  if (s.hasPaxMtime) mtime = s.paxMtime;
  if (uid > 0xffffffff || gid > 0xffffffff) return bail("an owner over 2^32");
  // The name: PAX path, else GNU long name, else the header's (with the POSIX prefix).
  const name = changetype<usize>(s.name);
  let nameLen = 0;
  const paxPath = s.paxPath;
  const longName = s.longName;
  // Checked before the copy: `name` holds NAME_MAX bytes and a ustar name.
  if ((paxPath !== null && paxPath.byteLength > NAME_MAX) || (longName !== null && longName.byteLength > NAME_MAX)) {
    return bail("a name over 4095 bytes");
  }
  if (paxPath !== null) {
    nameLen = paxPath.byteLength;
    memory.copy(name, changetype<usize>(paxPath), <usize>nameLen);
  } else if (longName !== null) {
    nameLen = longName.byteLength;
    memory.copy(name, changetype<usize>(longName), <usize>nameLen);
  } else {
    const base = cstrLen(b, 100);
    const posix = load<u32>(b + 257) == 0x61747375 && load<u8>(b + 261) == 0x72 && load<u8>(b + 262) == 0; // "ustar\0"
    if (posix && load<u8>(b + 345) != 0) {
      const prefix = cstrLen(b + 345, 155);
      memory.copy(name, b + 345, <usize>prefix);
      store<u8>(name + <usize>prefix, 0x2f);
      memory.copy(name + <usize>prefix + 1, b, <usize>base);
      nameLen = prefix + 1 + base;
    } else {
      memory.copy(name, b, <usize>base);
      nameLen = base;
    }
  }
  // The link target stays where it is: the header, or a PAX/long-link record.
  let link: usize = b + 157;
  let linkLen = cstrLen(b + 157, 100);
  const paxLink = s.paxLink;
  const longLink = s.longLink;
  if (paxLink !== null) {
    link = changetype<usize>(paxLink);
    linkLen = paxLink.byteLength;
  } else if (longLink !== null) {
    link = changetype<usize>(longLink);
    linkLen = longLink.byteLength;
  }
  s.entries++;
  if (s.entries > s.maxEntries) return bail("more entries than the limit");
  const r = entry(s, type, name, nameLen, link, linkLen, <u32>(mode & 0o7777), <u32>uid, <u32>gid, mtime, entrySize);
  // The records were for this entry only.
  s.paxPath = null;
  s.paxLink = null;
  s.longName = null;
  s.longLink = null;
  s.paxSize = -1;
  s.paxUid = -1;
  s.paxGid = -1;
  s.hasPaxMtime = false;
  if (r < 0) return -1;
  s.left = <u64>entrySize;
  s.pad = <i32>((<i64>BLOCK - entrySize % <i64>BLOCK) % <i64>BLOCK);
  if (entrySize == 0) s.state = s.pad > 0 ? S_PAD : S_HEADER;
  else s.state = S_DATA;
  return 0;
}

function copyOf(p: usize, n: i32): ArrayBuffer {
  const b = new ArrayBuffer(n);
  memory.copy(changetype<usize>(b), p, <usize>n);
  return b;
}

/** A PAX or GNU long-name record is complete: kept for the next entry. */
function metaDone(s: Session): i32 {
  const p = changetype<usize>(s.meta);
  const n = s.metaLen;
  if (s.metaType != T_PAX) {
    const value = copyOf(p, cstrLen(p, n));
    if (s.metaType == T_LONGNAME) s.longName = value;
    else s.longLink = value;
    return 0;
  }
  let i = 0;
  while (i < n) {
    if (load<u8>(p + <usize>i) == 0) break; // padding some writers leave
    let len = 0;
    let j = i;
    while (j < n && j - i < 10) {
      const c = load<u8>(p + <usize>j);
      if (c < 0x30 || c > 0x39) break;
      len = len * 10 + <i32>(c - 0x30);
      j++;
    }
    if (j == i || j >= n || load<u8>(p + <usize>j) != 0x20 || len <= j - i + 1 || i + len > n || load<u8>(p + <usize>(i + len - 1)) != 0x0a) {
      return bail("a malformed PAX record");
    }
    const key = p + <usize>j + 1;
    const end = p + <usize>(i + len - 1);
    let eq = key;
    while (eq < end && load<u8>(eq) != 0x3d) eq++;
    if (eq == end || eq == key) return bail("a malformed PAX record");
    const keyLen = <i32>(eq - key);
    const value = eq + 1;
    const valueLen = <i32>(end - value);
    if (keyIs(key, keyLen, "path")) s.paxPath = copyOf(value, valueLen);
    else if (keyIs(key, keyLen, "linkpath")) s.paxLink = copyOf(value, valueLen);
    else if (keyIs(key, keyLen, "size")) {
      if ((s.paxSize = decimal(value, valueLen, false)) < 0) return bail("PAX size");
    } else if (keyIs(key, keyLen, "uid")) {
      if ((s.paxUid = decimal(value, valueLen, false)) < 0) return bail("PAX uid");
    } else if (keyIs(key, keyLen, "gid")) {
      if ((s.paxGid = decimal(value, valueLen, false)) < 0) return bail("PAX gid");
    } else if (keyIs(key, keyLen, "mtime")) {
      if ((s.paxMtime = decimal(value, valueLen, true)) < 0) return bail("PAX mtime");
      s.hasPaxMtime = true;
    } else if (keyStarts(key, keyLen, "SCHILY.xattr.") || keyStarts(key, keyLen, "GNU.sparse.")) {
      return bail("xattrs or a sparse file");
    }
    // Any other key is ignored, as the full path ignores it.
    i += len;
  }
  return 0;
}

function keyIs(p: usize, n: i32, literal: string): bool {
  return n == literal.length && keyStarts(p, n, literal);
}

function keyStarts(p: usize, n: i32, literal: string): bool {
  if (n < literal.length) return false;
  for (let i = 0; i < literal.length; i++) if (<i32>load<u8>(p + <usize>i) != literal.charCodeAt(i)) return false;
  return true;
}

/**
 * A PAX decimal of 1–15 digits, or -1. With `fraction` (seconds), a fraction of zeros only:
 * the full path keeps a real fraction for some entries and not others, so it decides.
 */
function decimal(p: usize, n: i32, fraction: bool): i64 {
  let v: i64 = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + <i64>(c - 0x30);
  }
  if (i == 0 || i > 15) return -1;
  if (i == n) return v;
  if (!fraction || load<u8>(p + <usize>i) != 0x2e || n - i - 1 > 9) return -1;
  for (let k = i + 1; k < n; k++) {
    const c = load<u8>(p + <usize>k);
    if (c != 0x30) return -1;
  }
  return v;
}

/** Any component `..`, or starting with `.wh.`: for the full path. */
function unusual(p: usize, n: i32): bool {
  let start = 0;
  while (start <= n) {
    let end = start;
    while (end < n && load<u8>(p + <usize>end) != 0x2f) end++;
    const k = end - start;
    const c = p + <usize>start;
    if (k == 2 && load<u16>(c) == 0x2e2e) return true;
    if (k >= 4 && load<u32>(c) == 0x2e68772e) return true; // ".wh."
    start = end + 1;
  }
  return false;
}

function hasNul(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0) return true;
  return false;
}

/** The model's value at the path, or 0. */
@inline function kindAt(s: Session, p: usize, n: i32): i64 {
  return s.model.get(hashBytes(FNV_OFFSET, p, n), p, n, 0);
}

/** Records the path (its bytes copied to the session's keys) with value `v`. */
function remember(s: Session, p: usize, n: i32, v: i64): u64 {
  s.keyBytes += <i64>n;
  const key = s.keys.alloc(n);
  memory.copy(key, p, <usize>n);
  s.model.set(hashBytes(FNV_OFFSET, key, n), key, n, v);
  return (<u64>n << 32) | <u64>(<u32>key);
}

function entry(s: Session, type: u8, name: usize, nameLen: i32, link: usize, linkLen: i32, mode: u32, uid: u32, gid: u32, mtime: i64, size: i64): i32 {
  if (nameLen == 0 || nameLen > NAME_MAX || hasNul(name, nameLen)) return bail("the name");
  if (unusual(name, nameLen)) return bail("a `..` or whiteout in the name");
  const path = changetype<usize>(s.clean);
  const pathLen = cleanInto(name, nameLen, path);
  if (pathLen < 0) return bail("the name climbs out");
  if (type != T_FILE && size != 0) return bail("data on an entry that is not a file");
  if (pathLen == 0) {
    // The layer's root: a directory's metadata, set at the end; anything else, the full path's.
    if (type != T_DIR) return bail("the root is not a directory");
    s.rootSet = true;
    s.rootMode = mode;
    s.rootUid = uid;
    s.rootGid = gid;
    s.rootTime = mtime;
    return 0;
  }
  if (s.model.size >= MODEL_PATHS_MAX || s.keyBytes >= MODEL_BYTES_MAX || s.outLen >= ANSWER_MAX) return bail("more paths than the fast path holds");
  let depth = 0;
  for (let i = 0; i < pathLen; i++) if (load<u8>(path + <usize>i) == 0x2f) depth++;
  if (depth >= DEPTH_MAX) return bail("a name deeper than 128 directories");
  const there = kindAt(s, path, pathLen);
  if (type == T_DIR) {
    if (there != 0 && (there & 3) != K_DIR) return bail("a directory replaces an entry");
    let index = <i32>(there >> 2) - 1;
    if (there == 0) {
      if (parents(s, path, pathLen) < 0) return -1;
      record(s, REC_DIR, 0, path, pathLen, 0o755, 0, 0, 0, 0);
    }
    if (index < 0) {
      index = s.dirPaths.length;
      const key = remember(s, path, pathLen, K_DIR | (<i64>(index + 1) << 2));
      s.dirPaths.push(key);
      s.dirMeta.push(<u64>mode | (<u64>uid << 32));
      s.dirGid.push(gid);
      s.dirTime.push(mtime);
    } else {
      unchecked((s.dirMeta[index] = <u64>mode | (<u64>uid << 32)));
      unchecked((s.dirGid[index] = gid));
      unchecked((s.dirTime[index] = mtime));
    }
    return 0;
  }
  if (there != 0) return bail("an entry replaces another");
  const chown: u8 = s.root && (uid != 0 || gid != 0) ? FLAG_CHOWN : 0;
  if (type == T_FILE) {
    if (parents(s, path, pathLen) < 0) return -1;
    const flags = FLAG_TIMES | chown | ((mode & 0o7000) != 0 ? FLAG_CHMOD : 0);
    record(s, REC_FILE, flags, path, pathLen, mode, uid, gid, mtime, size);
    remember(s, path, pathLen, K_FILE);
    return 0;
  }
  if (linkLen == 0 || linkLen > NAME_MAX || hasNul(link, linkLen)) return bail("the link target");
  if (type == T_SYMLINK) {
    if (parents(s, path, pathLen) < 0) return -1;
    record(s, REC_SYMLINK, FLAG_TIMES | chown, path, pathLen, 0, uid, gid, mtime, linkLen);
    room(s, linkLen);
    memory.copy(changetype<usize>(s.out) + <usize>s.outLen, link, <usize>linkLen);
    s.outLen += linkLen;
    remember(s, path, pathLen, K_SYMLINK);
    return 0;
  }
  // A hard link: to a regular file this layer made, at its clean name.
  if (unusual(link, linkLen)) return bail("a `..` or whiteout in a hardlink's target");
  const target = changetype<usize>(s.cleanTarget);
  const targetLen = cleanInto(link, linkLen, target);
  if (targetLen <= 0) return bail("a hardlink to the root or outside");
  if (kindAt(s, target, targetLen) != K_FILE) return bail("a hardlink to something not a file of this layer");
  if (targetLen == pathLen && memory.compare(target, path, <usize>pathLen) == 0) return bail("a hardlink to itself");
  if (parents(s, path, pathLen) < 0) return -1;
  record(s, REC_LINK, 0, path, pathLen, 0, 0, 0, 0, targetLen);
  room(s, targetLen);
  memory.copy(changetype<usize>(s.out) + <usize>s.outLen, target, <usize>targetLen);
  s.outLen += targetLen;
  remember(s, path, pathLen, K_FILE);
  return 0;
}

/** Makes the missing parents of the path (0755, as tar does); a parent that is not a directory: BAIL. */
function parents(s: Session, path: usize, n: i32): i32 {
  let slash = n - 1;
  while (slash >= 0 && load<u8>(path + <usize>slash) != 0x2f) slash--;
  if (slash < 0) return 0;
  const last = changetype<usize>(s.lastParent);
  if (slash == s.lastParentLen && memory.compare(last, path, <usize>slash) == 0) return 0;
  for (let at = 0; at <= slash; at++) {
    if (load<u8>(path + <usize>at) != 0x2f) continue;
    const k = kindAt(s, path, at);
    if (k != 0) {
      if ((k & 3) != K_DIR) return bail("a parent is not a directory");
      continue;
    }
    record(s, REC_DIR, 0, path, at, 0o755, 0, 0, 0, 0);
    remember(s, path, at, K_DIR);
  }
  memory.copy(last, path, <usize>slash);
  s.lastParentLen = slash;
  return 0;
}

/** One write stream record's header and path (a link's target or a file's data follows). */
function record(s: Session, kind: u8, flags: u8, path: usize, pathLen: i32, mode: u32, uid: u32, gid: u32, mtime: i64, size: i64): void {
  room(s, RECORD + pathLen);
  const r = changetype<usize>(s.out) + <usize>s.outLen;
  store<u8>(r, kind);
  store<u8>(r + 1, flags);
  store<u16>(r + 2, <u16>pathLen);
  store<u32>(r + 4, mode);
  store<u32>(r + 8, uid);
  store<u32>(r + 12, gid);
  store<i64>(r + 16, mtime);
  store<i64>(r + 24, size);
  memory.copy(r + <usize>RECORD, path, <usize>pathLen);
  s.outLen += RECORD + pathLen;
}

/**
 * The stream ended: DONE with the directories' metadata (the root's first), or BAIL when
 * it ended anywhere but at an entry's end (the full path words what is wrong).
 */
function finish(s: Session): i32 {
  session = null;
  if (s.state != S_END) {
    const clean = s.state == S_HEADER && s.paxPath === null && s.paxLink === null && s.longName === null &&
      s.longLink === null && s.paxSize < 0 && s.paxUid < 0 && s.paxGid < 0 && !s.hasPaxMtime && s.entries > 0;
    if (!clean) {
      bailReason = "the tar ends inside an entry, or is empty";
      return reply(s, ANSWER_BAIL, 0);
    }
  }
  // entries, root flag + meta, count, then per directory: mode, uid, gid, mtime, path length, path.
  s.outLen = 0;
  let bytes = 40;
  for (let i = 0; i < s.dirPaths.length; i++) bytes += 24 + <i32>(unchecked(s.dirPaths[i]) >>> 32);
  room(s, bytes);
  let at = changetype<usize>(s.out) + 8;
  store<u32>(at, s.entries);
  store<u32>(at + 4, s.rootSet ? 1 : 0);
  store<u32>(at + 8, s.rootMode);
  store<u32>(at + 12, s.rootUid);
  store<u32>(at + 16, s.rootGid);
  store<u32>(at + 20, s.dirPaths.length);
  store<i64>(at + 24, s.rootTime);
  at += 32;
  for (let i = 0; i < s.dirPaths.length; i++) {
    const span = unchecked(s.dirPaths[i]);
    const meta = unchecked(s.dirMeta[i]);
    const n = <i32>(span >>> 32);
    store<u32>(at, <u32>meta);
    store<u32>(at + 4, <u32>(meta >>> 32));
    store<u32>(at + 8, unchecked(s.dirGid[i]));
    store<u32>(at + 12, <u32>n);
    store<i64>(at + 16, unchecked(s.dirTime[i]));
    memory.copy(at + 24, <usize>(<u32>span), <usize>n);
    at += 24 + <usize>n;
  }
  s.outLen = <i32>(at - changetype<usize>(s.out));
  return reply(s, ANSWER_DONE, 0);
}
