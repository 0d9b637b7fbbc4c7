// unpackLayer: a layer blob (gzip, zstd or plain tar) → one directory, whole or not at all.
// The blob is read once: its sha256 (the digest) and the tar's (the diffId) are computed as
// the bytes pass (on this thread: a worker costs more to start than it saves), the tar is parsed
// as it streams (tar-reader.ts) and written with synchronous calls in checked batches
// (layer-writer.ts), into a temp directory beside `dest` that is renamed to `dest` at the
// end; on any error it is removed.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { HuskError, toHuskError } from '../errors.js';
import { applyFsOps as launcherFsOps } from '../runtime/fs-ops.js';
import { type Compression, type Decoder, decoder, findZstd, sniff, zstdReader } from './decompress.js';
import { FastBail, FastUnpack } from './fast-unpack.js';
import { type ApplyFsOps, LayerWriter } from './layer-writer.js';
import { TarError, TarReader } from './tar-reader.js';
import { type LayerUserns, layerUserns, removeTree } from './rootless-layers.js';
import { WriteStream } from './write-stream.js';

/** The default bound of a layer's uncompressed size: past it, a decompression bomb. */
export const DEFAULT_MAX_BYTES = 32 * 2 ** 30;
/** The default bound of a layer's entries (each one costs memory until the layer is done). */
export const DEFAULT_MAX_ENTRIES = 4_000_000;

export interface UnpackOptions {
  compression?: 'auto' | Compression;
  /** `sha256:<hex>` of the blob as read; a mismatch is an error and nothing is left. */
  expectDigest?: string;
  /** Bound of the uncompressed tar in bytes (default 32 GiB). */
  maxBytes?: number;
  maxEntries?: number;
  /**
   * Opaque directories as user.overlay.opaque (overlay mounted with userxattr); default: for
   * a non-root caller, whose containers mount their overlay in a user namespace (and who may
   * not set trusted.* xattrs at all).
   */
  userxattr?: boolean;
  /** Names the image/layer in errors. */
  label?: string;
  /** Runs the launcher's fs ops (tests may pass their own); default ts/runtime/fs-ops.ts. */
  applyFsOps?: ApplyFsOps;
  /** The zstd program (null: the in-process decoder); default: `zstd` on PATH. */
  zstdProgram?: string | null;
  /**
   * A non-root caller's user namespace, in which the tar's owners are set (null: none, the
   * files stay the caller's); default: rootless-layers.ts layerUserns().
   */
  userns?: LayerUserns | null;
  /** Told the size of each piece of the blob as it is read (a progress display). */
  onBytes?: (n: number) => void;
}

export interface UnpackResult {
  /** sha256 of the blob as read. */
  digest: string;
  /** sha256 of the tar. */
  diffId: string;
  /** Bytes of the tar (uncompressed). */
  size: number;
  /** Bytes of the blob as read. */
  compressedSize: number;
  entries: number;
  /** The layer went the fast path (fast-unpack.ts) all the way. */
  fast?: boolean;
}

/** Where the tar's bytes go: the full path's reader and writer, or the fast path. */
interface TarTarget {
  push(chunk: Buffer): void;
  /** Lets go of every chunk pushed (the caller reuses its buffer). */
  release(): void;
  /** The tar ended: throws if it ended inside an entry. */
  end(): void;
  /** Writes what is left; resolves when the layer is on disk. */
  finish(): Promise<void>;
  abort(): Promise<void>;
  readonly entries: number;
  /**
   * Where the next bytes of the tar may be read to be pushed without a copy (the fast path:
   * the core's own memory, valid until push); absent: any buffer.
   */
  space?(): Uint8Array;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * From this many entries on, a layer's files are written by the launcher while this process
 * reads on (ts/image/write-stream.ts); smaller layers are not worth starting it for.
 * HUSK_UNPACK_STREAM=always|never overrides (tests and bench/unpack.mjs use both).
 */
const STREAM_AFTER = 1024;

function streamAfter(): number | null {
  const how = process.env.HUSK_UNPACK_STREAM;
  if (how === 'never') return null;
  if (how === 'always') return 0;
  return STREAM_AFTER;
}

/**
 * A layer blob at least this big (or any, with HUSK_UNPACK_FAST=always) is tried on the fast
 * path (fast-unpack.ts: the core turns the tar into the launcher's records, no JavaScript per
 * entry), and started over on the full path if the core bails; HUSK_UNPACK_FAST=never: not.
 */
const FAST_AFTER_BYTES = 1 << 20;

function fastWanted(src: Readable | string, opts: UnpackOptions): boolean {
  const how = process.env.HUSK_UNPACK_FAST;
  if (how === 'never' || typeof src !== 'string') return false;
  // The fast path writes with the launcher only, and sets no owners in a user namespace.
  if (opts.applyFsOps !== undefined && opts.applyFsOps !== launcherFsOps) return false;
  if (streamAfter() === null) return false;
  if ((opts.userns === undefined ? layerUserns() : opts.userns) !== null) return false;
  if (how === 'always') return true;
  try {
    return statSync(src).size >= FAST_AFTER_BYTES;
  } catch {
    return false; // the full path says why it cannot be read
  }
}

export async function unpackLayer(src: Readable | string, dest: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const label = opts.label ?? (typeof src === 'string' ? src : 'from a stream');
  if (opts.expectDigest !== undefined && !DIGEST.test(opts.expectDigest)) {
    throw new HuskError('invalid-value', `layer ${label}: expected digest ${JSON.stringify(opts.expectDigest)} is not sha256:<64 hex digits>`);
  }
  const target = resolve(dest);
  if (exists(target)) throw new HuskError('image', `layer ${label}: ${target} already exists`);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  // Beside dest, so the rename stays on one filesystem; its name says who made it.
  const tmp = mkdtempSync(join(parent, `.husk-unpack-${process.pid}-${basename(target)}-`));
  try {
    const options = { ...opts, applyFsOps: opts.applyFsOps ?? launcherFsOps };
    let result: UnpackResult | undefined;
    if (fastWanted(src, opts)) {
      try {
        result = await extract(src, tmp, label, options, true);
      } catch (e) {
        if (!(e instanceof FastBail)) throw e;
        // Something only the full path takes: it starts over in an empty directory.
        removeTree(tmp);
        mkdirSync(tmp, { mode: 0o700 });
      }
    }
    result ??= await extract(src, tmp, label, options, false);
    renameSync(tmp, target);
    return result;
  } catch (e) {
    try {
      removeTree(tmp);
    } catch {
      // The error that stopped the unpack is the one to show.
    }
    throw e instanceof HuskError ? e : new HuskError(toHuskError(e).code === 'host' ? 'host' : 'internal', `layer ${label}: ${toHuskError(e).message}`, { cause: e });
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes read from a blob file per call (each read is a new buffer: the writer may hold it). */
const READ_CHUNK = 4 << 20;
/**
 * A file's synchronous read loop lets the event loop run once per this many bytes: a
 * progress display redraws and a pull's other downloads go on (one turn costs microseconds).
 */
const YIELD_EVERY = 4 << 20;
/**
 * Bytes of zstd's output taken per read: each chunk is parsed and written before the next
 * read, while zstd fills the socket (~208 KiB) behind it; a bigger chunk leaves it idle
 * longer, a smaller one asks the core more often for fewer entries.
 */
const ZSTD_CHUNK = 1 << 20;

/** The full path: tar-reader.ts parses, layer-writer.ts decides with the core and writes. */
function fullPath(root: string, label: string, opts: UnpackOptions): TarTarget {
  // The launcher writes big layers when it is the one that runs the fs ops (not in unit tests).
  const after = opts.applyFsOps === launcherFsOps ? streamAfter() : null;
  const writer = new LayerWriter(root, {
    label,
    userxattr: opts.userxattr ?? process.getuid?.() !== 0,
    maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES,
    applyFsOps: opts.applyFsOps,
    userns: opts.userns === undefined ? layerUserns() : opts.userns,
    stream: after === null ? undefined : () => WriteStream.start(root),
    streamAfter: after ?? undefined,
  });
  const reader = new TarReader(writer);
  return {
    push: (chunk) => reader.push(chunk),
    release: () => writer.release(),
    end: () => reader.end(),
    finish: () => writer.finish(),
    abort: () => writer.abort(),
    get entries() {
      return writer.entries;
    },
  };
}

/** The fast path (fast-unpack.ts), or null when the core is busy with another layer. */
function fastPath(root: string, label: string, opts: UnpackOptions): TarTarget | null {
  const fast = FastUnpack.start(root, opts.maxEntries ?? DEFAULT_MAX_ENTRIES);
  if (fast === null) return null;
  return {
    push: (chunk) => fast.push(chunk),
    release: () => {},
    space: () => fast.space(),
    end: () => fast.end(),
    finish: () => fast.finish(label),
    abort: () => fast.abort(),
    get entries() {
      return fast.entries;
    },
  };
}

/** The first `n` bytes of `u` as a Buffer over the same memory. */
function bufferOf(u: Uint8Array, n: number): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, n);
}

function extract(src: Readable | string, root: string, label: string, opts: UnpackOptions, fast: boolean): Promise<UnpackResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const digest = createHash('sha256');
  const diffId = createHash('sha256');
  let fastTarget: TarTarget | null = null;
  try {
    fastTarget = fast ? fastPath(root, label, opts) : null;
  } catch (e) {
    return Promise.reject(e);
  }
  const writer = fastTarget ?? fullPath(root, label, opts);
  const reader = writer;
  let compressed = 0;
  let size = 0;
  let dec: Decoder | null = null;
  /** A plain tar is hashed once: its digest is its diffId. */
  let plain = false;
  let head: Buffer[] = [];
  let failed = false;

  return new Promise<UnpackResult>((resolvePromise, reject) => {
    let closeSource: () => Promise<void> = async () => {};
    let wake: (() => void) | null = null;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      const stopped = writer.abort();
      wake?.();
      // Rejected once the blob's fd, any decoder child and the launcher writing the layer
      // are gone: nothing stays open, and nothing writes in the directory about to go.
      void Promise.all([dec ? dec.destroy() : undefined, closeSource(), stopped.catch(() => undefined)]).then(() => reject(err));
    };
    const tarError = (e: unknown) => e instanceof TarError ? new HuskError('image', `layer ${label}: ${e.message} (at byte ${e.offset} of the tar)`) : e;
    const sink = {
      data(chunk: Buffer) {
        if (failed) return;
        try {
          diffId.update(chunk); // a plain tar's is also its digest
          size += chunk.length;
          if (size > maxBytes) throw new HuskError('image', `layer ${label}: unpacks to more than ${maxBytes} bytes, the limit (a decompression bomb?)`);
          reader.push(chunk);
        } catch (e) {
          fail(tarError(e));
        }
      },
      end() {
        if (failed) return;
        finishUp();
      },
      error(message: string) {
        fail(new HuskError('image', `layer ${label}: ${message}`));
      },
    };
    const finishUp = () => {
        if (failed) return;
        try {
          reader.end();
        } catch (e) {
          fail(tarError(e));
          return;
        }
        const tarDigest = `sha256:${diffId.digest('hex')}`;
        const result: UnpackResult = {
          digest: plain ? tarDigest : `sha256:${digest.digest('hex')}`,
          diffId: tarDigest,
          size,
          compressedSize: compressed,
          entries: writer.entries,
        };
        if (fastTarget !== null) result.fast = true;
        if (opts.expectDigest !== undefined && result.digest !== opts.expectDigest) {
          fail(new HuskError('image', `layer ${label}: digest mismatch: expected ${opts.expectDigest}, the blob is ${result.digest}`));
          return;
        }
        writer.finish().then(() => resolvePromise(result), fail);
    };
    const start = (first: Buffer) => {
      const kind = opts.compression === undefined || opts.compression === 'auto' ? sniff(first) : opts.compression;
      plain = kind === 'none';
      dec = decoder(kind, sink, { zstdProgram: opts.zstdProgram });
    };
    /** One chunk of the blob. False: wait for `drain` before the next. */
    const input = (chunk: Buffer, drain: () => void): boolean => {
      if (failed) return true;
      compressed += chunk.length;
      if (dec === null && head.length === 0 && chunk.length >= 4) start(chunk);
      else if (dec === null) {
        head.push(chunk);
        const joined = Buffer.concat(head);
        if (joined.length < 4) return true;
        head = [];
        start(joined);
        chunk = joined;
      }
      if (!plain) digest.update(chunk);
      return dec!.write(chunk, drain);
    };
    const end = () => {
      if (failed) return;
      if (dec === null) start(Buffer.concat(head));
      if (head.length) {
        if (!plain) digest.update(Buffer.concat(head));
        dec!.write(Buffer.concat(head), () => {});
      }
      dec!.end();
    };
    const readError = (e: Error) => fail(new HuskError('image', `layer ${label}: cannot read it: ${e.message}`, { cause: e }));

    if (typeof src === 'string') {
      // A file is read with synchronous calls: a plain tar is then one loop with no wait,
      // and a compressed one waits only for its decoder.
      let fd = -1;
      try {
        fd = openSync(src, 'r');
      } catch (e) {
        readError(e as Error);
        return;
      }
      let closed = false;
      const close = () => {
        if (!closed) closeSync(fd);
        closed = true;
      };
      closeSource = async () => close();
      const onBytes = opts.onBytes ?? (() => {});
      /** Bytes since the event loop last ran (YIELD_EVERY). */
      let unyielded = 0;
      const turn = (n: number): Promise<void> | undefined => {
        unyielded += n;
        if (unyielded < YIELD_EVERY) return undefined;
        unyielded = 0;
        return new Promise<void>((r) => setImmediate(r));
      };
      /** The blob's next piece into its digest; false at its end. */
      const hashPiece = (buf: Buffer): boolean => {
        const n = readSync(fd, buf, 0, buf.length, null);
        digest.update(n === buf.length ? buf : buf.subarray(0, n));
        compressed += n;
        onBytes(n);
        return n > 0;
      };
      void (async () => {
        try {
          const first = Buffer.allocUnsafe(READ_CHUNK);
          const got = readSync(fd, first, 0, READ_CHUNK, null);
          onBytes(got);
          const kind = opts.compression === undefined || opts.compression === 'auto' ? sniff(first.subarray(0, got)) : opts.compression;
          const program = opts.zstdProgram === undefined ? findZstd() : opts.zstdProgram;
          if (kind === 'zstd' && program && got > 0) {
            // zstd reads the file itself, on the other core; this thread reads its output
            // into one buffer, again and again, as it reads a plain tar, and hashes the blob
            // a piece after each piece of the tar.
            const z = zstdReader(program, src);
            dec = { write: () => true, end: () => {}, destroy: () => z.destroy() };
            // The fast path's core memory when it has room, else the first half of `first`.
            const room = () => writer.space?.().subarray(0, ZSTD_CHUNK) ?? first.subarray(0, ZSTD_CHUNK);
            const blob = first.subarray(ZSTD_CHUNK, 2 * ZSTD_CHUNK);
            digest.update(first.subarray(0, got));
            compressed += got;
            let blobLeft = true;
            for (let out = room(), n = z.read(out); n > 0; out = room(), n = z.read(out)) {
              if (failed) return;
              sink.data(bufferOf(out, n));
              if (failed) return;
              writer.release();
              if (blobLeft) blobLeft = hashPiece(blob);
              const t = turn(n);
              if (t) await t;
            }
            while (blobLeft) blobLeft = hashPiece(blob);
            close();
            const why = await z.status();
            if (why === null) sink.end();
            else sink.error(`not valid zstd: ${why}`);
            return;
          }
          if (kind === 'none') {
            // A plain tar: one buffer, read into again and again; the writer lets go of each
            // chunk before the next read (release), so no memory is churned per megabyte.
            let chunk: Buffer = first.subarray(0, got);
            while (chunk.length > 0) {
              if (failed) return;
              input(chunk, () => {});
              if (failed) return;
              writer.release();
              const t = turn(chunk.length);
              if (t) await t;
              if (failed) return;
              const into = writer.space?.() ?? first;
              chunk = bufferOf(into, readSync(fd, into, 0, into.length, null));
              onBytes(chunk.length);
            }
            close();
            end();
            return;
          }
          // gzip (or zstd decoded here): zlib has read all of a chunk once it drains, so the
          // next read goes into the same buffer. A fresh 4 MiB buffer per read costs more than
          // the read (page faults: ~25 ms per 4 MiB on this kind of VM). fzstd may keep its
          // input, and a chunk taken without a drain may still be queued: those get new ones.
          const reuse = kind === 'gzip';
          let buf = first;
          let n = got;
          while (n > 0) {
            if (failed) return;
            const ok = input(n === buf.length ? buf : buf.subarray(0, n), () => wake?.());
            if (!ok) {
              await new Promise<void>((r) => (wake = r));
              wake = null;
            }
            if (failed) return;
            if (ok || !reuse) buf = Buffer.allocUnsafe(READ_CHUNK);
            n = readSync(fd, buf, 0, READ_CHUNK, null);
            onBytes(n);
          }
          close();
          end();
        } catch (e) {
          close();
          readError(e as Error);
        }
      })();
      return;
    }
    const stream = src;
    closeSource = () => {
      stream.destroy();
      return stream.closed ? Promise.resolve() : new Promise<void>((r) => stream.once('close', () => r()));
    };
    stream.on('data', (chunk: Buffer) => {
      opts.onBytes?.(chunk.length);
      if (!input(chunk, () => stream.resume())) stream.pause();
    });
    stream.on('end', end);
    stream.on('error', readError);
  });
}
