// A layer's files written by the launcher, as a stream of records after an fs plan
// (docs/protocol.md "The write stream"): this process parses, checks and hashes the tar
// while the launcher, on the other core, makes the directories, files, links and removals
// layer-writer.ts decided. Writes block (the launcher is the slower side): the plan socket
// is made blocking; should it still say EAGAIN, short sleeps wait it out, never spinning.
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { HuskError } from '../errors.js';
import { fsPlan, type FsEntry } from '../core/fs.js';
import { launch, type LaunchOutcome } from '../runtime/launcher.js';
import { errnoName, errnoText } from '../runtime/outcome.js';

/** The op's frame type: the code of a record's ERROR. */
const WRITE_STREAM = 0x0074;
const KIND = { END: 0, DIR: 1, FILE: 2, SYMLINK: 3, LINK: 4, REMOVE: 5, OWNER: 6 } as const;
export const FLAG_CHOWN = 1;
export const FLAG_CHMOD = 2;
export const FLAG_TIMES = 4;
const FLAG_DIRECTORY = 8;
const HEADER = 32;
/** Records and small files are gathered here and written in one call. */
const ARENA = 1 << 20;
/** A chunk at least this big is written as it is, not copied. */
const DIRECT = 64 << 10;

const nap = new Int32Array(new SharedArrayBuffer(4));

export class WriteStream {
  private readonly arena = Buffer.allocUnsafe(ARENA);
  private used = 0;
  /** Each record's name, for the ERROR that points at one by number. */
  private readonly names: string[] = [];
  private broken = false;

  private constructor(private readonly fd: number, private readonly pipe: Writable, private readonly pid: number | undefined, private readonly outcome: Promise<LaunchOutcome>) {}

  /**
   * Starts a launcher on an fs plan that writes in `root` (absolute, the layer's temp dir);
   * `before`: a user namespace to write in (ts/image/rootless-layers.ts).
   */
  static start(root: string, before: FsEntry[] = []): WriteStream {
    const plan = fsPlan(root, [...before, { op: 'write-stream' }]);
    let pipe: Writable | undefined;
    let pid: number | undefined;
    const outcome = launch(plan, { stdio: 'ignore', takePlanPipe: (p) => (pipe = p), onSpawn: (p) => (pid = p) });
    const handle = (pipe as unknown as { _handle?: { fd?: number; setBlocking?: (on: boolean) => number } } | undefined)?._handle;
    const fd = handle?.fd;
    if (pipe === undefined || typeof fd !== 'number' || fd < 0) {
      outcome.catch(() => undefined);
      throw new HuskError('internal', 'internal error: no fd for the launcher\'s plan pipe');
    }
    // Writes wait in the kernel, woken the moment the launcher reads (libuv made it
    // non-blocking; only this process writes on it, with synchronous calls).
    handle?.setBlocking?.(true);
    const stream = new WriteStream(fd, pipe, pid, outcome);
    stream.put(Buffer.from(plan.buffer, plan.byteOffset, plan.byteLength));
    return stream;
  }

  dir(path: string, mode: number): void {
    this.record(KIND.DIR, 0, path, mode, 0, 0, 0, 0);
  }

  /** A file's header; its `size` bytes follow through data(). */
  file(path: string, mode: number, uid: number, gid: number, mtime: number, size: number, flags: number): void {
    this.record(KIND.FILE, flags, path, mode, uid, gid, mtime, size);
  }

  data(chunk: Buffer): void {
    if (this.broken) return;
    if (chunk.length >= DIRECT) {
      this.flush();
      this.put(chunk);
      return;
    }
    if (this.used + chunk.length > ARENA) this.flush();
    chunk.copy(this.arena, this.used);
    this.used += chunk.length;
  }

  /**
   * Records made elsewhere (the core's tarUnpack, ts/image/fast-unpack.ts), written as they
   * are; an ERROR then names its record by the path in the launcher's message.
   */
  raw(bytes: Uint8Array): void {
    if (this.broken || bytes.length === 0) return;
    this.flush();
    this.put(bytes);
  }

  symlink(path: string, target: string, uid: number, gid: number, mtime: number, flags: number): void {
    this.record(KIND.SYMLINK, flags, path, 0, uid, gid, mtime, Buffer.byteLength(target, 'latin1'));
    this.text(target);
  }

  link(path: string, target: string): void {
    this.record(KIND.LINK, 0, path, 0, 0, 0, 0, Buffer.byteLength(target, 'latin1'));
    this.text(target);
  }

  remove(path: string, dir: boolean): void {
    this.record(KIND.REMOVE, dir ? FLAG_DIRECTORY : 0, path, 0, 0, 0, 0, 0);
  }

  /** lchown of what is at `path`; with `mode`, its mode again after (a file or directory only). */
  owner(path: string, uid: number, gid: number, mode?: number): void {
    this.record(KIND.OWNER, FLAG_CHOWN | (mode === undefined ? 0 : FLAG_CHMOD), path, mode ?? 0, uid, gid, 0, 0);
  }

  /** Sends END and waits for the launcher: throws what it said about the record that failed. */
  async close(label: string): Promise<void> {
    if (!this.broken) {
      this.header(KIND.END, 0, 0, 0, 0, 0, 0, 0);
      this.flush();
    }
    this.pipe.end();
    const outcome = await this.outcome;
    if (outcome.exit.how === 'exited' && outcome.exit.value === 0 && !this.broken) return;
    const ev = outcome.error;
    if (ev === undefined) throw new HuskError('launcher', `layer ${label}: the launcher writing it ended without saying why`);
    const why = ev.errno ? `${errnoName(ev.errno)} (${errnoText(ev.errno).toLowerCase()})` : ev.message;
    // A record's ERROR has WRITE_STREAM's code and the record's number; "KIND PATH: WHAT".
    const name = ev.code === WRITE_STREAM ? this.names[ev.index] : undefined;
    if (name === undefined) throw new HuskError('host', `layer ${label}: ${ev.message}: ${why}`);
    const what = ev.message.slice(ev.message.lastIndexOf(': ') + 2);
    throw new HuskError('host', `layer ${label}: entry ${JSON.stringify(shownName(name))}: ${what}: ${why}`);
  }

  /** Stops the launcher (ours, by its pid) and waits until it is gone: nothing writes after. */
  async kill(): Promise<void> {
    this.broken = true;
    if (this.pid !== undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.pipe.destroy();
    await this.outcome.catch(() => undefined);
  }

  private record(kind: number, flags: number, path: string, mode: number, uid: number, gid: number, mtime: number, size: number): void {
    this.names.push(path);
    if (this.broken) return;
    this.header(kind, flags, Buffer.byteLength(path, 'latin1'), mode, uid, gid, mtime, size);
    this.text(path);
  }

  private header(kind: number, flags: number, pathLen: number, mode: number, uid: number, gid: number, mtime: number, size: number): void {
    if (this.used + HEADER > ARENA) this.flush();
    const a = this.arena;
    const at = this.used;
    a[at] = kind;
    a[at + 1] = flags;
    a.writeUInt16LE(pathLen, at + 2);
    a.writeUInt32LE(mode >>> 0, at + 4);
    a.writeUInt32LE(uid >>> 0, at + 8);
    a.writeUInt32LE(gid >>> 0, at + 12);
    const t = Math.floor(mtime);
    a.writeInt32LE(t | 0, at + 16); // low half, as bits
    a.writeInt32LE(Math.floor(t / 2 ** 32), at + 20);
    a.writeUInt32LE(size % 2 ** 32, at + 24);
    a.writeUInt32LE(Math.floor(size / 2 ** 32), at + 28);
    this.used += HEADER;
  }

  /** A binary (latin1) string's bytes. */
  private text(s: string): void {
    if (this.broken) return;
    if (this.used + s.length > ARENA) this.flush();
    this.used += this.arena.write(s, this.used, 'latin1');
  }

  private flush(): void {
    if (this.used === 0 || this.broken) {
      this.used = 0;
      return;
    }
    const n = this.used;
    this.used = 0;
    this.put(this.arena.subarray(0, n));
  }

  /** All of `bytes`, waiting while the socket is full; a gone launcher marks the stream broken. */
  private put(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length && !this.broken) {
      try {
        at += writeSync(this.fd, bytes, at, bytes.length - at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(nap, 0, 0, 0.2);
        else if (code === 'EPIPE' || code === 'ECONNRESET') this.broken = true;
        else throw e;
      }
    }
  }
}

/** A binary string as a person reads it: UTF-8 where it is. */
function shownName(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}
