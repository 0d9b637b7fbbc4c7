// One husk command at a time acts on a container (or takes a name): a lock file per key,
// `<root>/containers/.<key>.lock`, holding "PID STARTTIME TOKEN" of the husk that holds it.
//
// Taking it is one link(2) of a file already written, so the lock appears whole or not at
// all and exactly one of many takers gets it. A holder that died (its pid is gone, or names a
// process that started at another time) cannot release it: the next taker breaks it by
// renaming it to a name of its own (one rename wins) and checks that what it moved is the dead
// holder's lock; if a live lock was moved instead (another taker broke the dead one and took
// the key in between), it is linked back. Released by its holder only (the token says whose).
//
// Every change to a record is made under its container's lock with updateRecord, which reads
// the record again first: a record another command removed is never written back.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HuskError } from '../errors.js';
import { containersDir, processStart, readRecord, tempName, writeRecord } from './state.js';
import type { ContainerRecord } from './state.js';

/** How long a command waits for another one acting on the same container. */
const WAIT_MS = 60_000;

export function lockPath(root: string, key: string): string {
  return join(containersDir(root), `.${key}.lock`);
}

/** The lock of a container's name (`run --name`, `create --name`). */
export function nameKey(name: string): string {
  return `name:${name}`;
}

/** Tells this process's locks apart (with the pid, its start time and the clock). */
let taken = 0;

interface Held {
  path: string;
  content: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** "PID STARTTIME TOKEN": alive while that pid still names the process that started then. */
function holderAlive(content: string): boolean {
  const [pid, start] = content.trim().split(' ');
  return /^\d+$/.test(pid ?? '') && start !== undefined && processStart(Number(pid)) === start;
}

/** Takes the lock now, or says who holds it. */
function tryTake(path: string): { held: Held } | { holder: string } {
  const content = `${process.pid} ${processStart(process.pid)} ${process.hrtime.bigint()}.${(taken++).toString(16)}\n`;
  const tmp = join(dirname(path), tempName(basename(path).slice(1)));
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        linkSync(tmp, path);
        return { held: { path, content } };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = readText(path);
      if (seen === undefined) continue; // released just now
      if (holderAlive(seen)) return { holder: seen };
      breakDead(path, seen);
    }
    return { holder: readText(path) ?? '' };
  } finally {
    unlinkQuiet(tmp);
  }
}

/** Removes a dead holder's lock, and only that one. */
function breakDead(path: string, dead: string): void {
  const aside = join(dirname(path), tempName(basename(path).slice(1), 'stale'));
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another taker broke it
    throw err;
  }
  if (readText(aside) !== dead) {
    // A live lock taken in between: put it back where its holder left it.
    try {
      linkSync(aside, path);
    } catch {
      // a third taker holds the key now; the moved lock's holder will find its lock gone
    }
  }
  unlinkQuiet(aside);
}

function release(held: Held): void {
  // Only our own lock: a holder whose lock was broken must not remove the next one.
  if (readText(held.path) === held.content) unlinkQuiet(held.path);
}

function describeHolder(holder: string): string {
  const pid = holder.trim().split(' ')[0];
  return /^\d+$/.test(pid ?? '') ? `husk process ${pid}` : 'another husk command';
}

/** Runs `fn` holding `key`'s lock, waiting (up to a minute) while another command holds it. */
export async function withContainerLock<T>(root: string, key: string, fn: () => T | Promise<T>): Promise<T> {
  const path = lockPath(root, key);
  const deadline = Date.now() + WAIT_MS;
  let pause = 2;
  for (;;) {
    const got = tryTake(path);
    if ('held' in got) {
      try {
        return await fn();
      } finally {
        release(got.held);
      }
    }
    if (Date.now() > deadline) {
      throw new HuskError('host', `container ${key} is still locked by ${describeHolder(got.holder)} after ${WAIT_MS / 1000} s`, { hint: `The lock is ${path}.` });
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 50);
  }
}

/** Runs `fn` if `key`'s lock is free now; undefined (fn not run) when another command holds it. */
export async function tryContainerLock<T>(root: string, key: string, fn: () => T | Promise<T>): Promise<{ value: T } | undefined> {
  const got = tryTake(lockPath(root, key));
  if (!('held' in got)) return undefined;
  try {
    return { value: await fn() };
  } finally {
    release(got.held);
  }
}

/**
 * Reads the record again, changes it with `fn` and writes it: undefined, and nothing
 * written, when the record is gone. Call it holding the container's lock.
 */
export function updateRecord(root: string, id: string, fn: (rec: ContainerRecord) => void, opts: { durable?: boolean } = {}): ContainerRecord | undefined {
  const rec = readRecord(root, id);
  if (rec === undefined) return undefined;
  fn(rec);
  writeRecord(root, rec, opts);
  return rec;
}

/** A lock file left by a husk that died holding it (the sweep removes it). */
export function isDeadLock(root: string, name: string): boolean {
  if (!name.startsWith('.') || !name.endsWith('.lock')) return false;
  const content = readText(join(containersDir(root), name));
  return content !== undefined && content !== '' && !holderAlive(content);
}

/** Removes a dead holder's lock file found by isDeadLock. */
export function removeDeadLock(root: string, name: string): void {
  const path = join(containersDir(root), name);
  const content = readText(path);
  if (content !== undefined && !holderAlive(content)) breakDead(path, content);
}
