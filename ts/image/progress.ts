// Progress of long image transfers (load, save; pull and push use it too): one task per layer
// or blob. On a terminal, bars (cli-progress) with bytes done, total and rate per task and a
// total line; elsewhere one line per finished task; nothing with -q; JSON lines (one object
// per start and end of a task, and the final result) with --format json.
//
//   const p = await createProgress({ mode: quiet ? 'quiet' : json ? 'json' : 'auto' });
//   const t = p.task('sha256:ab…', 'Loading layer ab12cd34ef56', size);
//   t.add(n) … t.done('Loaded')   // or t.done('Already exists')
//   p.stop();
import type { SingleBar } from 'cli-progress';
import { escapeControls } from '../errors.js';

export type ProgressMode = 'auto' | 'tty' | 'lines' | 'quiet' | 'json';

export interface ProgressTask {
  /** `n` more bytes done. */
  add(n: number): void;
  /** The total, once known. */
  setTotal(n: number): void;
  /** Finished: `status` says how ("Loaded", "Already exists", "Pushed"). */
  done(status?: string): void;
}

export interface Progress {
  task(id: string, label: string, total?: number): ProgressTask;
  /** A line of text for a person (above the bars on a terminal; omitted by json and quiet). */
  note(text: string): void;
  /** An object for --format json readers (nothing in the other modes). */
  json(obj: object): void;
  stop(): void;
}

export interface ProgressOptions {
  mode?: ProgressMode;
  /** Where bars and lines go (default stderr, so stdout stays the command's result). */
  stream?: NodeJS.WriteStream;
  /** Where JSON lines go (default stdout). */
  jsonStream?: NodeJS.WritableStream;
}

/** 1.5MB, 312kB, as docker prints sizes (decimal units). */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v}B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}

function rate(bytes: number, since: number): string {
  const secs = (Date.now() - since) / 1000;
  return secs > 0.05 ? `${humanBytes(Math.round(bytes / secs))}/s` : '';
}

export async function createProgress(opts: ProgressOptions = {}): Promise<Progress> {
  const stream = opts.stream ?? process.stderr;
  let mode = opts.mode ?? 'auto';
  if (mode === 'auto') mode = stream.isTTY ? 'tty' : 'lines';
  if (mode === 'quiet') return quietProgress();
  if (mode === 'json') return jsonProgress(opts.jsonStream ?? process.stdout);
  if (mode === 'lines') return lineProgress(stream);
  // Loaded only here: only a terminal pays for cli-progress.
  const { MultiBar } = await import('cli-progress');
  return barProgress(stream, MultiBar);
}

function quietProgress(): Progress {
  const task: ProgressTask = { add: () => undefined, setTotal: () => undefined, done: () => undefined };
  return { task: () => task, note: () => undefined, json: () => undefined, stop: () => undefined };
}

function jsonProgress(out: NodeJS.WritableStream): Progress {
  const write = (o: object) => out.write(`${JSON.stringify(o)}\n`);
  return {
    task(id, label, total) {
      let bytes = 0;
      let size = total;
      const start = Date.now();
      write({ id, status: 'start', label, ...(size !== undefined ? { total: size } : {}) });
      return {
        add: (n) => (bytes += n),
        setTotal: (n) => (size = n),
        done: (status = 'done') => write({ id, status, label, bytes, ...(size !== undefined ? { total: size } : {}), ms: Date.now() - start }),
      };
    },
    note: () => undefined,
    json: write,
    stop: () => undefined,
  };
}

function lineProgress(out: NodeJS.WritableStream): Progress {
  return {
    task(_id, label, total) {
      let bytes = 0;
      const start = Date.now();
      void total;
      return {
        add: (n) => (bytes += n),
        setTotal: () => undefined,
        done: (status = 'Done') => {
          const r = rate(bytes, start);
          out.write(`${escapeControls(label)}: ${status}${bytes ? ` ${humanBytes(bytes)}` : ''}${bytes && r ? ` (${r})` : ''}\n`);
        },
      };
    },
    note: (text) => out.write(`${escapeControls(text)}\n`),
    json: () => undefined,
    stop: () => undefined,
  };
}

function barProgress(out: NodeJS.WriteStream, MultiBar: typeof import('cli-progress').MultiBar): Progress {
  let totalBytes = 0;
  let totalSize = 0;
  const started = Date.now();
  const multi = new MultiBar({
    stream: out,
    format: '{label} [{bar}] {done}/{size} {rate}',
    barsize: 25,
    hideCursor: true,
    clearOnComplete: false,
    fps: 8,
  });
  const totalBar: SingleBar = multi.create(1, 0, { label: 'Total'.padEnd(28), done: '0B', size: '?', rate: '' });
  const updateTotal = () =>
    totalBar.update(totalBytes, { done: humanBytes(totalBytes), size: totalSize ? humanBytes(totalSize) : '?', rate: rate(totalBytes, started) });
  return {
    task(_id, label, total) {
      let bytes = 0;
      let size = total ?? 0;
      const start = Date.now();
      const name = escapeControls(label).slice(0, 28).padEnd(28);
      totalSize += size;
      const bar = multi.create(Math.max(size, 1), 0, { label: name, done: '0B', size: size ? humanBytes(size) : '?', rate: '' });
      totalBar.setTotal(Math.max(totalSize, 1));
      const show = () => {
        bar.update(bytes, { done: humanBytes(bytes), size: size ? humanBytes(size) : '?', rate: rate(bytes, start) });
        updateTotal();
      };
      return {
        add(n) {
          bytes += n;
          totalBytes += n;
          show();
        },
        setTotal(n) {
          totalSize += n - size;
          size = n;
          bar.setTotal(Math.max(n, 1));
          totalBar.setTotal(Math.max(totalSize, 1));
        },
        done(status = 'Done') {
          if (!size) size = bytes;
          bar.setTotal(Math.max(size, 1));
          bar.update(size, { done: humanBytes(bytes), size: status, rate: rate(bytes, start) });
          updateTotal();
        },
      };
    },
    note(text) {
      multi.log(`${escapeControls(text)}\n`);
    },
    json: () => undefined,
    stop() {
      updateTotal();
      multi.stop();
    },
  };
}

/**
 * One task per blob of a pull or push, fed by events that carry the bytes so far: `advance`
 * adds what is new since the last event, `finish` closes a blob's task once.
 */
export function blobTasks(progress: Progress): {
  advance(digest: string, total: number, current: number): void;
  finish(digest: string, status: string): void;
} {
  const tasks = new Map<string, { task: ProgressTask; seen: number; finished: boolean }>();
  const of = (digest: string, total: number) => {
    let t = tasks.get(digest);
    if (!t) {
      t = { task: progress.task(digest, digest.slice(7, 19), total), seen: 0, finished: false };
      tasks.set(digest, t);
    }
    return t;
  };
  return {
    advance(digest, total, current) {
      const t = of(digest, total);
      if (current > t.seen) {
        t.task.add(current - t.seen);
        t.seen = current;
      }
    },
    finish(digest, status) {
      const t = tasks.get(digest);
      if (!t || t.finished) return;
      t.finished = true;
      t.task.done(status);
    },
  };
}
