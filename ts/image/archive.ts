// An image archive as files by path: a tar (docker-archive, or an OCI layout in a tar) read
// once from start to end, or an OCI layout directory. A tar's regular files are streamed into
// the store's tmp/ while hashed, so a layer is read once and later renamed into blobs/
// without copying; its symlinks and hardlinks are kept as names to resolve. Every path an
// archive's JSON names is resolved inside the archive's own namespace (no file of the host is
// ever opened by a name from the archive), and a name that leaves it is an error.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { posix, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { HuskError } from '../errors.js';
import { decompressor, sniffCompression } from './compression.js';

/** Files (not directories) an image archive may hold: far more than any real one. */
export const ARCHIVE_FILES_MAX = 10_000;
/** manifest.json, index.json, an image manifest or config: docker's own limit is 4 MiB. */
export const JSON_BYTES_MAX = 4 << 20;
const LINK_HOPS_MAX = 16;

export interface ArchiveBlob {
  /** a temp file under the store's tmp/ (tar) or a file of the layout directory */
  path: string;
  /** known for a tar's files (hashed while read); a directory's are hashed when stored */
  digest?: string;
  size: number;
  /** the archive path it was found under */
  name: string;
}

export interface ArchiveSource {
  readonly label: string;
  has(path: string): boolean;
  /** A JSON file of at most `max` bytes, parsed; a missing or bad one is an error naming `what`. */
  readJson(path: string, what: string, max?: number): { value: unknown; bytes: Buffer };
  blob(path: string, what: string): ArchiveBlob;
}

type Entry = { kind: 'file'; tmp: string; digest: string; size: number } | { kind: 'symlink'; target: string } | { kind: 'hardlink'; target: string };

/** A path from the archive, as a name inside it ("a/b"), or undefined if it leaves it. */
export function insidePath(p: string): string | undefined {
  if (p === '' || p.startsWith('/') || p.includes('\0')) return undefined;
  const n = posix.normalize(p).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../') || n === '.' || n === '') return undefined;
  return n;
}

function shown(p: string): string {
  return JSON.stringify(p.length > 120 ? `${p.slice(0, 120)}…` : p);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HuskError('image', `${what} is not valid JSON`);
  }
}

/** A tar archive read into `dir` (the store's tmp/): files by path, links by their targets. */
export class TarSource implements ArchiveSource {
  private readonly entries = new Map<string, Entry>();

  private constructor(
    readonly label: string,
    private readonly dir: string,
  ) {}

  /**
   * Reads the whole archive (gzip- or zstd-compressed as a whole is fine, as docker load
   * takes it). `onBytes` counts archive bytes as they are read.
   */
  static async read(src: Readable, dir: string, label: string, onBytes?: (n: number) => void): Promise<TarSource> {
    const me = new TarSource(label, dir);
    mkdirSync(dir, { mode: 0o700 });
    const head = await peek(src);
    const kind = sniffCompression(head.first);
    if (kind === 'bzip2' || kind === 'xz') throw new HuskError('image', `${label}: ${kind}-compressed archives are not supported (gzip, zstd or none)`);
    const ex = extract();
    let files = 0;
    const counted = new PassThrough();
    if (onBytes) counted.on('data', (c: Buffer) => onBytes(c.length));
    const feeding = pipeline(head.stream, counted, decompressor(kind), ex);
    feeding.catch(() => undefined); // awaited below; the loop may throw first
    try {
      for await (const entry of ex) {
        const h = entry.header;
        const name = insidePath(h.name);
        if (name === undefined || h.type === 'directory') {
          entry.resume();
          continue;
        }
        if (h.type === 'symlink' || h.type === 'link') {
          me.entries.set(name, { kind: h.type === 'symlink' ? 'symlink' : 'hardlink', target: h.linkname });
          entry.resume();
          continue;
        }
        if (h.type !== 'file' && h.type !== 'contiguous-file') {
          entry.resume();
          continue;
        }
        if (++files > ARCHIVE_FILES_MAX) throw new HuskError('image', `${label}: more than ${ARCHIVE_FILES_MAX} files: not an image archive`);
        const tmp = join(dir, String(files));
        const hash = createHash('sha256');
        const fd = openSync(tmp, 'wx', 0o600);
        let size = 0;
        try {
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            hash.update(chunk);
            size += chunk.length;
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off);
          }
        } finally {
          closeSync(fd);
        }
        me.entries.set(name, { kind: 'file', tmp, digest: `sha256:${hash.digest('hex')}`, size });
      }
      await feeding;
    } catch (err) {
      if (err instanceof HuskError) throw err;
      throw new HuskError('image', `${label}: not a readable tar archive (${(err as Error).message})`, { cause: err });
    }
    if (me.entries.size === 0) throw new HuskError('image', `${label}: empty or not a tar archive`);
    return me;
  }

  has(path: string): boolean {
    const p = insidePath(path);
    return p !== undefined && this.entries.has(p);
  }

  /** The file `path` names, following the archive's own links, never leaving it. */
  private resolve(path: string, what: string): { name: string; e: Extract<Entry, { kind: 'file' }> } {
    const first = insidePath(path);
    if (first === undefined) throw new HuskError('image', `${what} names a path outside the archive: ${shown(path)}`);
    let name: string = first;
    for (let hop = 0; hop <= LINK_HOPS_MAX; hop++) {
      const e = this.entries.get(name);
      if (!e) throw new HuskError('image', `${what} names ${shown(name)}, which is not in the archive`);
      if (e.kind === 'file') return { name, e };
      const next: string | undefined = e.kind === 'symlink' ? (e.target.startsWith('/') ? undefined : insidePath(posix.join(posix.dirname(name), e.target))) : insidePath(e.target);
      if (next === undefined) throw new HuskError('image', `${what}: ${shown(name)} links outside the archive (to ${shown(e.target)})`);
      name = next;
    }
    throw new HuskError('image', `${what}: too many links from ${shown(path)}`);
  }

  readJson(path: string, what: string, max = JSON_BYTES_MAX): { value: unknown; bytes: Buffer } {
    const { e } = this.resolve(path, what);
    if (e.size > max) throw new HuskError('image', `${what} is ${e.size} bytes, more than the ${max} an image's JSON may have`);
    const bytes = readFileSync(e.tmp);
    return { value: parseJson(bytes, what), bytes };
  }

  blob(path: string, what: string): ArchiveBlob {
    const { name, e } = this.resolve(path, what);
    return { path: e.tmp, digest: e.digest, size: e.size, name };
  }
}

/** The first bytes of a stream (to tell its compression) and the stream whole again. */
async function peek(src: Readable): Promise<{ first: Buffer; stream: Readable }> {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let first = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const detach = () => {
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', reject);
    };
    const onData = (c: Buffer) => {
      first = Buffer.concat([first, c]);
      if (first.length < 8) return;
      detach();
      src.pause();
      out.write(first);
      src.on('error', (err) => out.destroy(err));
      src.pipe(out);
      resolve({ first, stream: out });
    };
    const onEnd = () => {
      detach();
      out.end(first);
      resolve({ first, stream: out });
    };
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('error', reject);
  });
}

/** An OCI image layout directory: files opened without following a last symlink, regular only. */
export class DirSource implements ArchiveSource {
  constructor(readonly label: string) {}

  private open(path: string, what: string): { fd: number; size: number; full: string } {
    const p = insidePath(path);
    if (p === undefined) throw new HuskError('image', `${what} names a path outside the layout: ${shown(path)}`);
    const full = join(this.label, p);
    let fd: number;
    try {
      fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new HuskError('image', `${what} names ${shown(p)}, which is not in the layout`);
      if (code === 'ELOOP') throw new HuskError('image', `${what}: ${shown(p)} is a symlink (a layout's files must be regular files)`);
      throw err;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new HuskError('image', `${what}: ${shown(p)} is not a regular file`);
    }
    return { fd, size: st.size, full };
  }

  has(path: string): boolean {
    try {
      closeSync(this.open(path, path).fd);
      return true;
    } catch {
      return false;
    }
  }

  readJson(path: string, what: string, max = JSON_BYTES_MAX): { value: unknown; bytes: Buffer } {
    const { fd, size } = this.open(path, what);
    try {
      if (size > max) throw new HuskError('image', `${what} is ${size} bytes, more than the ${max} an image's JSON may have`);
      const bytes = Buffer.alloc(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, bytes, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return { value: parseJson(bytes.subarray(0, off), what), bytes: bytes.subarray(0, off) };
    } finally {
      closeSync(fd);
    }
  }

  blob(path: string, what: string): ArchiveBlob {
    const { fd, size, full } = this.open(path, what);
    closeSync(fd);
    return { path: full, size, name: path };
  }
}

/** A layout file as a stream, opened again without following a last symlink. */
export function openBlobStream(path: string): Readable {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  return createReadStream('', { fd, highWaterMark: 1 << 20 });
}
