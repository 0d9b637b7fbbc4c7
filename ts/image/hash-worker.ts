// The sha256 of a blob file, computed on a worker thread while the main thread unpacks it:
// the main thread is the unpack's critical path (it parses, asks the core and feeds the
// launcher), and hashing 165 MB costs it 0.1–0.2 s. The worker reads the file the main thread
// has open, through /proc/self/fd/N (the same inode, whatever is renamed meanwhile), with its
// own offset: what it hashes is the file the main thread reads, as when zstd reads it itself.
// Its source is inline (eval): the bundled CLI (dist/husk.cjs) has no file of it to find.
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync } = require('node:fs');
const hash = createHash('sha256');
const buf = Buffer.allocUnsafe(1 << 20);
let size = 0;
for (;;) {
  const n = readSync(workerData.fd, buf, 0, buf.length, null);
  if (n === 0) break;
  hash.update(buf.subarray(0, n));
  size += n;
}
parentPort.postMessage({ digest: hash.digest('hex'), size });
`;

export interface FileHash {
  /** `sha256:<hex>` and the bytes hashed; rejects with the worker's error. */
  readonly done: Promise<{ digest: string; size: number }>;
  /** Stops the worker (an unpack that failed); resolves when it is gone. */
  stop(): Promise<void>;
}

/**
 * Hashes the file open at `fd` in this process, from its start, on a worker thread. The
 * worker reads its own description of the file (opened here through /proc/self/fd, so the
 * caller may close `fd` whenever it likes), which is closed here when the worker is gone.
 */
export function hashOpenFile(fd: number): FileHash {
  const own = openSync(`/proc/self/fd/${fd}`, 'r');
  let worker: Worker;
  try {
    worker = new Worker(SOURCE, { eval: true, workerData: { fd: own } });
  } catch (e) {
    closeSync(own);
    throw e;
  }
  // Settled once the worker is gone and its fd closed: nothing of it outlives the unpack.
  let answer: { digest: string; size: number } | undefined;
  let error: Error | undefined;
  worker.once('message', (m: { digest: string; size: number }) => (answer = { digest: `sha256:${m.digest}`, size: m.size }));
  worker.once('error', (e: Error) => (error = e));
  const done = new Promise<{ digest: string; size: number }>((resolve, reject) => worker.once('exit', () => {
    closeSync(own);
    if (answer !== undefined) resolve(answer);
    else reject(error ?? new Error('the hashing thread stopped'));
  }));
  done.catch(() => undefined); // awaited by the caller, unless the unpack failed first
  return {
    done,
    stop: async () => {
      await worker.terminate();
      await done.catch(() => undefined);
    },
  };
}

// The tar's sha256 (a compressed layer's diffId) on a worker thread: this thread copies each
// decoded chunk into a shared ring (a memcpy, several times cheaper than hashing it) and the
// worker hashes the ring behind it, woken when a quarter of it is full (not per 64 KiB chunk
// of a pipe: a wake-up each costs more than the hashing saved). ctl: [0] bytes in the ring, [1] ended, [2] pushes (the
// worker waits on it), [3] takes (this thread waits on it when the ring is full), [4] the
// worker stopped.
const RING_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ring = new Uint8Array(workerData.ring);
const ctl = new Int32Array(workerData.ctl);
const hash = createHash('sha256');
let at = 0;
try {
  for (;;) {
    const pushes = Atomics.load(ctl, 2);
    const held = Atomics.load(ctl, 0);
    const ended = Atomics.load(ctl, 1) === 1;
    if (held === 0 && ended) break;
    if (held < workerData.least && !ended) {
      Atomics.wait(ctl, 2, pushes);
      continue;
    }
    const n = Math.min(held, ring.length - at);
    hash.update(ring.subarray(at, at + n));
    at = (at + n) % ring.length;
    Atomics.sub(ctl, 0, n);
    Atomics.add(ctl, 3, 1);
    Atomics.notify(ctl, 3);
  }
  parentPort.postMessage(hash.digest('hex'));
} finally {
  Atomics.store(ctl, 4, 1);
  Atomics.add(ctl, 3, 1);
  Atomics.notify(ctl, 3);
}
`;

/** The ring: its pages are faulted in once (about 6 ms per MiB here), so it is kept small. */
const RING = 4 << 20;

export interface StreamHash {
  /** Hands `chunk` over (copied: the caller keeps it); waits only while the ring is full. */
  update(chunk: Uint8Array): void;
  /** `sha256:<hex>` of everything handed over, once the worker is gone. */
  digest(): Promise<string>;
  /** Stops the worker (an unpack that failed); resolves when it is gone. */
  stop(): Promise<void>;
}

/** A sha256 of a stream of chunks, computed on a worker thread. */
export function hashOnThread(): StreamHash {
  const ringBuffer = new SharedArrayBuffer(RING);
  const ring = new Uint8Array(ringBuffer);
  const ctlBuffer = new SharedArrayBuffer(5 * 4);
  const ctl = new Int32Array(ctlBuffer);
  const worker = new Worker(RING_SOURCE, { eval: true, workerData: { ring: ringBuffer, ctl: ctlBuffer, least: RING / 4 } });
  let answer: string | undefined;
  let error: Error | undefined;
  worker.once('message', (hex: string) => (answer = `sha256:${hex}`));
  worker.once('error', (e: Error) => (error = e));
  const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let at = 0;
  const update = (chunk: Uint8Array) => {
    let done = 0;
    while (done < chunk.length) {
      const takes = Atomics.load(ctl, 3);
      const room = RING - Atomics.load(ctl, 0);
      if (room === 0) {
        if (Atomics.load(ctl, 4) === 1) throw new Error('the hashing thread stopped');
        // A minute without the worker taking anything: it is gone (this thread cannot hear its exit).
        if (Atomics.wait(ctl, 3, takes, 60_000) === 'timed-out') throw new Error('the hashing thread stopped taking data');
        continue;
      }
      const n = Math.min(room, chunk.length - done, RING - at);
      ring.set(chunk.subarray(done, done + n), at);
      at = (at + n) % RING;
      done += n;
      const held = Atomics.add(ctl, 0, n) + n;
      Atomics.add(ctl, 2, 1);
      if (held >= RING / 4) Atomics.notify(ctl, 2);
    }
  };
  return {
    update,
    digest: async () => {
      Atomics.store(ctl, 1, 1);
      Atomics.add(ctl, 2, 1);
      Atomics.notify(ctl, 2);
      await gone;
      if (answer === undefined) throw error ?? new Error('the hashing thread stopped');
      return answer;
    },
    stop: async () => {
      await worker.terminate();
      await gone;
    },
  };
}
