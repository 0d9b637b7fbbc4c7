// Where a layer's entries are made, once layer-writer.ts has decided each one: by this
// process with synchronous calls (small layers, and builds or tests without a launcher), or
// by the launcher from a stream of records while this process reads on (write-stream.ts).
// Both do exactly what they are told — the writer's model of the layer already knows what
// exists, so no call here is expected to fail, and any failure ends the unpack.
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lutimesSync,
  mkdirSync, openSync, rmdirSync, symlinkSync, unlinkSync, writeSync, writevSync,
} from 'node:fs';
import type { TarEntry } from './tar-reader.js';
import { FLAG_CHMOD, FLAG_CHOWN, FLAG_TIMES, WriteStream } from './write-stream.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
const CREATE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

const isRoot = process.getuid?.() === 0;
const umask = process.umask();

export interface LayerDisk {
  /** A directory, 0755 (its own mode and times are set at the end). */
  mkdir(path: string): void;
  /** A regular file with `chunks` (null: empty); with `more`, data() brings the rest of e.size. */
  file(path: string, e: TarEntry, chunks: Buffer[] | null, more: boolean): void;
  data(chunk: Buffer): void;
  /** The file that data() was filling is complete. */
  endFile(e: TarEntry): void;
  symlink(path: string, e: TarEntry): void;
  /** A hard link at `path` to `target` (both inside the layer). */
  link(path: string, target: string): void;
  remove(path: string, dir: boolean): void;
  /** Everything asked is on disk, or the error that stopped it is thrown. */
  close(label: string): Promise<void>;
  /** Stops; nothing is written after it resolves. */
  abort(): Promise<void>;
}

const NOT_ASCII = /[^\x00-\x7f]/;

/** A binary-string path as Node wants it: the string itself when ASCII, else its bytes. */
export function fsPath(s: string): string | Buffer {
  return NOT_ASCII.test(s) ? Buffer.from(s, 'latin1') : s;
}

/** Synchronous calls in this process. */
export class DirectDisk implements LayerDisk {
  private fd = -1;

  constructor(private readonly root: string) {}

  private at(path: string): string | Buffer {
    return fsPath(this.root + '/' + path);
  }

  mkdir(path: string): void {
    mkdirSync(this.at(path), 0o755);
  }

  file(path: string, e: TarEntry, chunks: Buffer[] | null, more: boolean): void {
    const fd = openSync(this.at(path), CREATE, e.mode & 0o777);
    try {
      if (chunks) writeChunks(fd, chunks, chunks.reduce((n, c) => n + c.length, 0));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (more) this.fd = fd;
    else finishFile(fd, e);
  }

  data(chunk: Buffer): void {
    writeAll(this.fd, chunk);
  }

  endFile(e: TarEntry): void {
    const fd = this.fd;
    this.fd = -1;
    finishFile(fd, e);
  }

  symlink(path: string, e: TarEntry): void {
    const where = this.at(path);
    symlinkSync(fsPath(e.linkname), where);
    if (isRoot && (e.uid !== 0 || e.gid !== 0)) lchownSync(where, e.uid, e.gid);
    lutimesSync(where, e.mtime, e.mtime);
  }

  link(path: string, target: string): void {
    linkSync(this.at(target), this.at(path));
  }

  remove(path: string, dir: boolean): void {
    if (dir) rmdirSync(this.at(path));
    else unlinkSync(this.at(path));
  }

  async close(): Promise<void> {
    await this.abort();
  }

  async abort(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Records for the launcher (write-stream.ts): it makes them while this process reads on. */
export class StreamDisk implements LayerDisk {
  constructor(private readonly stream: WriteStream) {}

  mkdir(path: string): void {
    this.stream.dir(path, 0o755);
  }

  file(path: string, e: TarEntry, chunks: Buffer[] | null, _more: boolean): void {
    // The launcher writes with umask 0: only set-id and sticky bits need a chmod (after chown).
    let flags = FLAG_TIMES;
    if (isRoot && (e.uid !== 0 || e.gid !== 0)) flags |= FLAG_CHOWN;
    if ((e.mode & 0o7000) !== 0) flags |= FLAG_CHMOD;
    this.stream.file(path, e.mode & 0o7777, e.uid, e.gid, e.mtime, e.size, flags);
    if (chunks) for (const c of chunks) this.stream.data(c);
  }

  data(chunk: Buffer): void {
    this.stream.data(chunk);
  }

  endFile(): void {
    // The launcher ends the file when its size has come.
  }

  symlink(path: string, e: TarEntry): void {
    const flags = FLAG_TIMES | (isRoot && (e.uid !== 0 || e.gid !== 0) ? FLAG_CHOWN : 0);
    this.stream.symlink(path, e.linkname, e.uid, e.gid, e.mtime, flags);
  }

  link(path: string, target: string): void {
    this.stream.link(path, target);
  }

  remove(path: string, dir: boolean): void {
    this.stream.remove(path, dir);
  }

  close(label: string): Promise<void> {
    return this.stream.close(label);
  }

  abort(): Promise<void> {
    return this.stream.kill();
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let done = 0;
  while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
}

function writeChunks(fd: number, chunks: Buffer[], size: number): void {
  if (chunks.length === 1) {
    writeAll(fd, chunks[0]);
    return;
  }
  const n = writevSync(fd, chunks);
  if (n === size) return;
  // A short write (rare on a regular file): finish chunk by chunk.
  let skip = n;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    writeAll(fd, c.subarray(skip));
    skip = 0;
  }
}

/** Owner, mode and times of a file just written, then close. */
function finishFile(fd: number, e: TarEntry): void {
  try {
    if (isRoot && (e.uid !== 0 || e.gid !== 0)) fchownSync(fd, e.uid, e.gid);
    // open() gave mode & ~umask; chown cleared set-id bits: set the mode when either matters.
    if ((e.mode & 0o7000) !== 0 || (e.mode & umask) !== 0) fchmodSync(fd, e.mode);
    futimesSync(fd, e.mtime, e.mtime);
  } finally {
    closeSync(fd);
  }
}
