import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newContainerId } from '../../ts/runtime/prepare.js';
import { readRecords, sweep } from '../../ts/runtime/records.js';
import { beingCreated, containersDir, ensureRoot, liveRecords, processStart, writeRecord } from '../../ts/runtime/state.js';
import type { ContainerRecord } from '../../ts/runtime/state.js';

const noCgroups = () => Promise.reject(new Error('no cgroup host in these tests'));

/** A pid that existed and is gone (its process was reaped). */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'husk-state-'));
  ensureRoot(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const reserving = (extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: newContainerId(),
  created: new Date().toISOString(),
  userns: { start: 100000, size: 65536 },
  ...extra,
});

describe('records of containers being started', () => {
  it('a record whose husk still lives is being created', () => {
    expect(beingCreated(reserving({ ownerPid: process.pid, ownerStart: processStart(process.pid) }))).toBe(true);
  });

  it('a record whose husk is gone is stale at once, not after 10 s', async () => {
    const rec = reserving({ ownerPid: deadPid(), ownerStart: '1' });
    expect(beingCreated(rec)).toBe(false);
    writeRecord(root, rec, { durable: false });
    expect(await sweep(root, noCgroups)).toEqual([]);
    expect(readdirSync(containersDir(root))).toEqual([]);
  });

  it('without an owner, a record younger than 10 s is being created and an older one is stale', () => {
    expect(beingCreated(reserving())).toBe(true);
    writeRecord(root, reserving({ created: new Date(Date.now() - 11_000).toISOString() }));
    expect(liveRecords(root)).toEqual([]);
    expect(readdirSync(containersDir(root))).toEqual([]);
  });

  it('a record with a launcher is judged by its launcher, not its owner', () => {
    expect(beingCreated(reserving({ ownerPid: process.pid, ownerStart: processStart(process.pid), launcherPid: deadPid() }))).toBe(false);
  });
});

describe('records written without fsync', () => {
  it('appear whole, and an empty one (what a crash of the machine can leave) is removed', () => {
    const rec = reserving({ ownerPid: process.pid, ownerStart: processStart(process.pid) });
    writeRecord(root, rec, { durable: false });
    expect(readRecords(root)).toEqual([rec]);
    const empty = join(containersDir(root), `${newContainerId()}.json`);
    writeFileSync(empty, '');
    expect(readRecords(root)).toEqual([rec]);
    expect(existsSync(empty)).toBe(false);
  });
});

describe('container ids', () => {
  it('are 64 hex digits, different each time', () => {
    const a = newContainerId();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newContainerId()).not.toBe(a);
  });
});
