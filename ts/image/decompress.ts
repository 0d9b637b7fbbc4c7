// The decompressors of a layer: gzip (node:zlib, on libuv's thread pool, so it runs beside
// the tar writing), zstd (a `zstd -dc` child when zstd is on PATH: a second core; else fzstd
// in this thread), or none. Each takes chunks and hands out chunks, and says how it failed.
import { spawn } from 'node:child_process';
import { accessSync, constants, readSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

export type Compression = 'gzip' | 'zstd' | 'none';

export interface Decoder {
  /** False: wait for `drain` before the next write. */
  write(chunk: Buffer, drain: () => void): boolean;
  end(): void;
  /** Stops it; resolves when any child process is gone. */
  destroy(): Promise<void>;
}

export interface DecoderSink {
  data(chunk: Buffer): void;
  end(): void;
  error(message: string): void;
}

/** gzip's and zstd's magic numbers; anything else is taken as a plain tar (the tar reader says if not). */
export function sniff(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

let zstdPath: string | null | undefined;

/** The zstd program on PATH, or null. */
export function findZstd(): string | null {
  if (zstdPath !== undefined) return zstdPath;
  zstdPath = null;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'zstd'), constants.X_OK);
      zstdPath = join(dir, 'zstd');
      break;
    } catch {
      // not here
    }
  }
  return zstdPath;
}

/**
 * Hands a decoder's output to `sink` on the next turn of the event loop, not inside its
 * callback: the decoder then goes on (zlib's next piece is queued on the thread pool only
 * after its callback returns) while this thread writes files. Pauses it past 8 MiB queued.
 */
function deferred(sink: DecoderSink, pause: () => void, resume: () => void): DecoderSink & { dead: boolean } {
  const queue: Buffer[] = [];
  let queued = 0;
  let scheduled = false;
  let ended = false;
  const d = {
    dead: false,
    data(c: Buffer) {
      if (d.dead) return;
      queue.push(c);
      queued += c.length;
      if (queued > 8 << 20) pause();
      schedule();
    },
    end() {
      ended = true;
      schedule();
    },
    error(message: string) {
      if (d.dead) return;
      d.dead = true;
      sink.error(message);
    },
  };
  const run = () => {
    scheduled = false;
    while (queue.length > 0 && !d.dead) {
      const c = queue.shift()!;
      queued -= c.length;
      sink.data(c);
    }
    if (d.dead) return;
    resume();
    if (ended) {
      d.dead = true;
      sink.end();
    }
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(run);
    }
  };
  return d;
}

export function decoder(kind: Compression, sink: DecoderSink, opts: { zstdProgram?: string | null; file?: string } = {}): Decoder {
  if (kind === 'gzip') return gzip(sink);
  if (kind === 'zstd') {
    const program = opts.zstdProgram === undefined ? findZstd() : opts.zstdProgram;
    return program ? zstdChild(program, sink, opts.file) : zstdInline(sink);
  }
  return {
    write: (chunk) => (sink.data(chunk), true),
    end: () => sink.end(),
    destroy: async () => {},
  };
}

function gzip(target: DecoderSink): Decoder {
  const z = createGunzip({ chunkSize: 256 << 10 });
  const sink = deferred(target, () => z.pause(), () => z.resume());
  let dead = false;
  z.on('data', (c: Buffer) => dead || sink.data(c));
  z.on('end', () => dead || sink.end());
  z.on('error', (e: Error) => dead || sink.error(`not valid gzip: ${e.message}`));
  return {
    write: (chunk, drain) => {
      const ok = z.write(chunk);
      if (!ok) z.once('drain', drain);
      return ok;
    },
    end: () => z.end(),
    destroy: async () => {
      dead = true;
      sink.dead = true;
      z.destroy();
    },
  };
}

/** `zstd -dc`, reading `file` itself when given (no pipe to feed), else its stdin. */
function zstdChild(program: string, target: DecoderSink, file?: string): Decoder {
  const child = spawn(program, file ? ['-dcq', '--', file] : ['-dcq'], { stdio: [file ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const stdout = child.stdout!;
  const stderrStream = child.stderr!;
  const sink = deferred(target, () => stdout.pause(), () => stdout.resume());
  let dead = false;
  let stderr = '';
  let ended = false;
  let status: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.on('close', (code) => {
    status = code;
    resolve();
    finish();
  }));
  const finish = () => {
    if (dead || !ended || status === undefined) return;
    if (status === 0) sink.end();
    else sink.error(`not valid zstd: ${lastLine(stderr) || `zstd exited with status ${status}`}`);
  };
  stdout.on('data', (c: Buffer) => dead || sink.data(c));
  stdout.on('end', () => {
    ended = true;
    finish();
  });
  stderrStream.setEncoding('utf8');
  stderrStream.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.on('error', (e) => dead || sink.error(`cannot run ${program}: ${e.message}`));
  // zstd stops reading when it fails: EPIPE here is its exit status's to explain.
  child.stdin?.on('error', () => {});
  return {
    write: (chunk, drain) => {
      if (!child.stdin) return true; // it reads the file
      const ok = child.stdin.write(chunk);
      if (!ok) child.stdin.once('drain', drain);
      return ok;
    },
    end: () => child.stdin?.end(),
    destroy: async () => {
      dead = true;
      sink.dead = true;
      if (status === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A `zstd -dc FILE` child whose output this thread reads with synchronous calls. */
export interface ZstdReader {
  /** Fills `buf` from zstd's output, up to its length; fewer bytes only at the end (0: the end). */
  read(buf: Uint8Array): number;
  /** Once zstd has exited: null, or what was wrong (its own last line). */
  status(): Promise<string | null>;
  /** Kills it (ours, by its pid) and resolves when it is gone. */
  destroy(): Promise<void>;
}

/**
 * `zstd -dcq -- FILE`, its output read by this thread with blocking reads into a buffer the
 * caller reuses: a plain tar's loop (read, parse, write, read again into the same memory)
 * instead of a 64 KiB chunk, a fresh buffer and an event-loop turn per read. The pipe's
 * handle is stopped before the event loop could read from it, and made blocking: this
 * thread waits in read(2) while zstd, on the other core, decodes ahead.
 */
export function zstdReader(program: string, file: string): ZstdReader {
  const child = spawn(program, ['-dcq', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = child.stdout!;
  const handle = (stdout as unknown as { _handle?: { fd?: number; readStop?: () => number; setBlocking?: (on: boolean) => number; reading?: boolean } })._handle;
  const fd = handle?.fd;
  let stderr = '';
  let failure: string | null = null;
  let exitStatus: number | null | undefined;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.on('error', (e) => (failure ??= `cannot run ${program}: ${e.message}`));
  // 'exit', not 'close': the stream of stdout is never read, so it never ends.
  const exited = new Promise<void>((resolve) => child.on('exit', (code) => {
    exitStatus = code;
    resolve();
  }));
  const stderrDone = new Promise<void>((resolve) => child.stderr!.on('close', () => resolve()));
  if (handle === undefined || typeof fd !== 'number' || fd < 0 || !handle.readStop || !handle.setBlocking) {
    child.kill('SIGKILL');
    throw new Error('no fd for zstd\'s output');
  }
  handle.readStop();
  handle.reading = false;
  handle.setBlocking(true);
  let eof = false;
  return {
    read(buf: Uint8Array): number {
      let got = 0;
      while (got < buf.length && !eof) {
        const n = readSync(fd, buf, got, buf.length - got, null);
        if (n === 0) eof = true;
        got += n;
      }
      return got;
    },
    async status() {
      await Promise.all([exited, stderrDone]);
      stdout.destroy();
      if (failure !== null) return failure;
      if (exitStatus === 0) return null;
      return lastLine(stderr) || `zstd exited with status ${exitStatus}`;
    },
    async destroy() {
      if (exitStatus === undefined) child.kill('SIGKILL');
      await exited;
      stdout.destroy();
    },
  };
}

function zstdInline(sink: DecoderSink): Decoder {
  let dead = false;
  // Loaded only here: most hosts have the zstd program.
  let d: { push(chunk: Uint8Array, final?: boolean): void } | null = null;
  const load = import('fzstd').then((m) => {
    d = new m.Decompress((chunk: Uint8Array) => {
      if (!dead) sink.data(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  });
  const queue: Buffer[] = [];
  let ending = false;
  const run = (f: () => void) => {
    if (dead) return;
    try {
      f();
    } catch (e) {
      dead = true;
      sink.error(`not valid zstd: ${(e as Error).message}`);
    }
  };
  void load.then(() => {
    for (const c of queue.splice(0)) run(() => d!.push(c));
    if (ending) run(() => (d!.push(new Uint8Array(0), true), !dead && sink.end()));
  });
  return {
    write: (chunk) => {
      if (d) run(() => d!.push(chunk));
      else queue.push(chunk);
      return true;
    },
    end: () => {
      ending = true;
      if (d) run(() => (d!.push(new Uint8Array(0), true), !dead && sink.end()));
    },
    destroy: async () => {
      dead = true;
    },
  };
}

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').replace(/^zstd: /, '').replace(/^\*\*\* /, '');
}
