// The fast path of a layer's unpack: the tar's bytes go into the policy core's memory, the
// core's tarUnpack (assembly/tar/unpack.ts) parses the headers, decides each entry's place
// and answers with the launcher's write stream records (file data included), which go to
// the launcher in one write per chunk. No JavaScript runs per entry; per chunk, one copy in,
// one core call and one write.
//
// The core takes the common layer only (files, directories, symlinks, hard links; no
// replacement, `..`, whiteout, device, xattr or link through a symlink) and answers BAIL on
// anything else: then FastBail is thrown and ts/image/unpack.ts starts over on the full path
// (tar-reader.ts and layer-writer.ts), which decides and words every refusal.
import { chmodSync, chownSync, utimesSync } from 'node:fs';
import { HuskError } from '../errors.js';
import { inPlace } from '../core/wasm.js';
import { fsPath } from './layer-disk.js';
import { WriteStream } from './write-stream.js';

const OP_BEGIN = 1;
const OP_CHUNK = 2;
const OP_FINISH = 3;
const OP_ABORT = 4;
const REQUEST_HEADER = 16;
const ANSWER_END = 1;
const ANSWER_BAIL = 2;
const ANSWER_DONE = 3;
/** Tar bytes per core call: its answer (records and data) is about as big, written at once. */
const CHUNK = 1 << 20;
const BLOCK = 512;

const isRoot = process.getuid?.() === 0;

/** The core met something only the full path takes: start over there. */
export class FastBail extends Error {}

/** One session at a time lives in the core (a second layer at once takes the full path). */
let busy = false;

interface DirMeta {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

export class FastUnpack {
  /** The end of the last chunk that did not make a whole header block. */
  private readonly carry = Buffer.alloc(BLOCK);
  private carried = 0;
  private done = false;
  private count = 0;
  private rootMeta: DirMeta | null = null;
  private dirs: DirMeta[] = [];

  private constructor(private readonly id: number, private readonly stream: WriteStream, private readonly root: string) {}

  /** A session and its launcher, or null when another unpack of this process has the core. */
  static start(root: string, maxEntries: number): FastUnpack | null {
    if (busy) return null;
    const call = inPlace(REQUEST_HEADER);
    if (call === null) return null;
    const req = call.request;
    const v = new DataView(req.buffer, req.byteOffset, REQUEST_HEADER);
    v.setUint32(0, OP_BEGIN, true);
    v.setUint32(4, 0, true);
    v.setUint32(8, isRoot ? 1 : 0, true);
    v.setUint32(12, Math.min(maxEntries, 0xffffffff), true);
    const { status, answer } = call.run('tarUnpack', REQUEST_HEADER);
    if (status !== 0 || answer.length < 8) throw new HuskError('internal', `internal error: the core's tarUnpack refused BEGIN`);
    // BEGIN answers the session's number where a chunk's answer has its bytes taken.
    const id = readU32(answer, 4);
    busy = true;
    let stream: WriteStream;
    try {
      stream = WriteStream.start(root);
    } catch (e) {
      busy = false;
      throw e;
    }
    return new FastUnpack(id, stream, root);
  }

  get entries(): number {
    return this.count;
  }

  /**
   * Room in the core's input for the next bytes of the tar, after what was carried over:
   * a read into it and a push() of the part filled copy nothing (valid until that push).
   */
  space(): Uint8Array {
    const call = inPlace(REQUEST_HEADER + BLOCK + CHUNK);
    if (call === null) throw new FastBail('no room in the core');
    const at = REQUEST_HEADER + this.carried;
    if (this.carried > 0) call.request.set(this.carry.subarray(0, this.carried), REQUEST_HEADER);
    return call.request.subarray(at, at + CHUNK);
  }

  /** A chunk of the tar: into the core, its records to the launcher. Throws FastBail. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.done) return; // after the end marker: hashed by the caller, otherwise ignored
      const take = Math.min(CHUNK, chunk.length - at);
      const len = REQUEST_HEADER + this.carried + take;
      const call = inPlace(REQUEST_HEADER + BLOCK + CHUNK);
      if (call === null) throw new FastBail('no room in the core');
      const req = call.request;
      this.head(req, OP_CHUNK);
      // Read there by space(): the carry and the bytes are in place already.
      const placed = chunk.buffer === req.buffer && chunk.byteOffset === req.byteOffset + REQUEST_HEADER + this.carried && take === chunk.length;
      if (!placed) {
        if (this.carried > 0) req.set(this.carry.subarray(0, this.carried), REQUEST_HEADER);
        req.set(take === chunk.length ? chunk : chunk.subarray(at, at + take), REQUEST_HEADER + this.carried);
      }
      const { status, answer, request } = call.run('tarUnpack', len);
      const kind = this.kind(status, answer);
      const used = readU32(answer, 4);
      this.stream.raw(answer.subarray(8));
      if (kind === ANSWER_END) this.done = true;
      // What the core left (part of a header block) comes again before the next bytes.
      const left = len - REQUEST_HEADER - used;
      if (!this.done && left > 0) {
        if (left >= BLOCK) throw new HuskError('internal', `internal error: tarUnpack left ${left} bytes`);
        const end = REQUEST_HEADER + this.carried + take;
        this.carry.set(request.subarray(end - left, end), 0);
      }
      this.carried = this.done ? 0 : left;
      at += take;
    }
  }

  /** The tar ended: throws FastBail when it did not end at an entry's end (the full path says how). */
  end(): void {
    const call = inPlace(REQUEST_HEADER);
    if (call === null) throw new FastBail('no room in the core');
    this.head(call.request, OP_FINISH);
    const { status, answer } = call.run('tarUnpack', REQUEST_HEADER);
    busy = false;
    if (this.carried > 0 && !this.done) throw new FastBail('the tar ends inside a header block');
    this.kind(status, answer);
    const v = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
    this.count = v.getUint32(8, true);
    const rootSet = v.getUint32(12, true) === 1;
    const meta = (at: number, path: string, mtimeAt: number): DirMeta => ({
      path, mode: v.getUint32(at, true), uid: v.getUint32(at + 4, true), gid: v.getUint32(at + 8, true),
      mtime: Number(v.getBigInt64(mtimeAt, true)),
    });
    if (rootSet) this.rootMeta = meta(16, '', 32);
    const n = v.getUint32(28, true);
    let at = 40;
    for (let i = 0; i < n; i++) {
      const len = v.getUint32(at + 12, true);
      const path = Buffer.from(answer.buffer, answer.byteOffset + at + 24, len).toString('latin1');
      this.dirs.push(meta(at, path, at + 16));
      at += 24 + len;
    }
  }

  /** Waits for the launcher, then sets the directories' owners, modes and times (after their contents). */
  async finish(label: string): Promise<void> {
    await this.stream.close(label);
    for (const d of this.dirs) setMeta(this.root + '/' + d.path, d);
    setMeta(this.root, this.rootMeta ?? { path: '', mode: 0o755, uid: 0, gid: 0, mtime: -1 });
  }

  /** Stops the launcher and ends the session: nothing is written after it resolves. */
  async abort(): Promise<void> {
    if (busy) {
      const call = inPlace(REQUEST_HEADER);
      if (call !== null) {
        this.head(call.request, OP_ABORT);
        try {
          call.run('tarUnpack', REQUEST_HEADER);
        } catch {
          // A core that trapped has no session left either.
        }
      }
      busy = false;
    }
    await this.stream.kill();
  }

  private head(req: Uint8Array, op: number): void {
    const v = new DataView(req.buffer, req.byteOffset, REQUEST_HEADER);
    v.setUint32(0, op, true);
    v.setUint32(4, this.id, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, 0, true);
  }

  /** The answer's kind; BAIL (or a refused request) ends the session and throws FastBail. */
  private kind(status: number, answer: Uint8Array): number {
    const kind = status === 0 && answer.length >= 8 ? readU32(answer, 0) : ANSWER_BAIL;
    if (kind === ANSWER_BAIL) {
      busy = false;
      throw new FastBail(status === 0 ? Buffer.from(answer.subarray(8)).toString('latin1') : 'a request the core refused');
    }
    if (kind > ANSWER_DONE) throw new HuskError('internal', `internal error: tarUnpack answered ${kind}`);
    return kind;
  }
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** A directory's owner, mode and times (the root's: mtime -1 keeps its time). */
function setMeta(full: string, m: DirMeta): void {
  const p = fsPath(full);
  if (isRoot && (m.uid !== 0 || m.gid !== 0)) chownSync(p, m.uid, m.gid);
  chmodSync(p, m.mode);
  if (m.mtime >= 0) utimesSync(p, m.mtime, m.mtime);
}
