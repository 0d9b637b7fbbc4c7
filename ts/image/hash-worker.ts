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
const buf = Buffer.allocUnsafe(4 << 20);
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
