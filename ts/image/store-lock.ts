// The store's lock and its writers' names. One file, `<storage>/lock`, created with O_EXCL
// and holding "pid starttime" of its holder: a holder that died (its pid gone, or reused by a
// process that started at another time) left a stale lock, which the next taker breaks. The
// lock is held only for short changes (refs, image records, holds, GC); blobs and layers are
// written without it, to temp names that carry the same "pid-starttime" so a sweep can tell a
// dead writer's leftovers from a live one's.
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { processStart } from '../runtime/state.js';

/** This process as the store names its writers: "pid-starttime". */
export function ownerToken(): string {
  const start = processStart(process.pid);
  if (start === undefined) throw new HuskError('host', 'cannot read /proc/self/stat: is /proc mounted?');
  return `${process.pid}-${start}`;
}

/** Whether the writer named by a "pid-starttime" token still runs. */
export function ownerAlive(token: string): boolean {
  const m = /^(\d+)-(\d+)$/.exec(token);
  if (!m) return false;
  return processStart(Number(m[1])) === m[2];
}

/** The owner token a temp name starts with ("123-456-..." → "123-456"). */
export function ownerOfName(name: string): string | undefined {
  return /^(\d+-\d+)-/.exec(name)?.[1];
}

const WAIT_MS_MAX = 5 * 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function readHolder(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim().replace(' ', '-');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class StoreLock {
  private depth = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly tmpDir: string,
    private readonly owner: string,
  ) {}

  /** Runs `fn` holding the lock: one process at a time, and one call at a time in this one. */
  async with<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(async () => {
      await this.acquire();
      try {
        return await fn();
      } finally {
        this.release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private tryCreate(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, `${this.owner.replace('-', ' ')}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /**
   * Breaks a lock whose holder is dead: it is renamed away first (only one taker's rename
   * can succeed), then checked: if what was renamed is not the dead holder's (a live one took
   * the lock between our read and our rename), it is put back with link(2), which refuses to
   * replace a newer lock.
   */
  private breakStale(holder: string): void {
    const aside = join(this.tmpDir, `${this.owner}-stale-lock`);
    try {
      renameSync(this.path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const taken = readHolder(aside);
    if (taken !== holder && taken !== undefined && ownerAlive(taken)) {
      try {
        linkSync(aside, this.path);
      } catch {
        // someone holds a newer lock: theirs stands; the one put aside ends with its holder
      }
    }
    unlinkSync(aside);
  }

  private async acquire(): Promise<void> {
    if (this.depth > 0) throw new Error('store lock taken twice by one call chain');
    const deadline = Date.now() + WAIT_MS_MAX;
    let wait = 2;
    for (;;) {
      if (this.tryCreate()) break;
      const holder = readHolder(this.path);
      if (holder !== undefined && !ownerAlive(holder)) {
        this.breakStale(holder);
        continue;
      }
      if (Date.now() > deadline) throw new HuskError('host', `the image store is locked by process ${holder?.split('-')[0]} (${this.path}) for more than 5 minutes`);
      await sleep(wait);
      wait = Math.min(wait * 2, 100);
    }
    this.depth = 1;
  }

  private release(): void {
    this.depth = 0;
    if (readHolder(this.path) === this.owner) unlinkSync(this.path);
  }
}
