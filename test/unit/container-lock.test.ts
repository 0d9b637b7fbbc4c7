// ts/runtime/lock.ts: one holder at a time, a dead holder's lock taken over, a removed record
// never written back by updateRecord.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockPath, tryContainerLock, updateRecord, withContainerLock } from '../../ts/runtime/lock.js';
import { claimName } from '../../ts/runtime/names.js';
import { processStart, readRecord, removeRecord, writeRecord } from '../../ts/runtime/state.js';
import { readdirSync } from 'node:fs';

const roots: string[] = [];
function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'husk-test-lock-'));
  mkdirSync(join(root, 'containers'));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('container lock', () => {
  it('a second taker waits for the first, and the lock file goes with the last', async () => {
    const root = newRoot();
    const order: string[] = [];
    await Promise.all([
      withContainerLock(root, 'a', async () => {
        expect(await tryContainerLock(root, 'b', () => 'other key is free')).toEqual({ value: 'other key is free' });
        order.push('first in');
        await new Promise((r) => setTimeout(r, 50));
        order.push('first out');
      }),
      new Promise((r) => setTimeout(r, 5)).then(() => withContainerLock(root, 'a', () => order.push('second'))),
    ]);
    expect(order).toEqual(['first in', 'first out', 'second']);
    expect(existsSync(lockPath(root, 'a'))).toBe(false);
  });

  it('a lock whose holder is dead is taken over', async () => {
    const root = newRoot();
    writeFileSync(lockPath(root, 'x'), '999999999 12345\n'); // no such pid
    expect(await tryContainerLock(root, 'x', () => 'taken')).toEqual({ value: 'taken' });
  });

  it('updateRecord never writes back a record that was removed', () => {
    const root = newRoot();
    writeRecord(root, { id: 'abc', created: new Date().toISOString() });
    expect(updateRecord(root, 'abc', (r) => void (r.name = 'n'))?.name).toBe('n');
    removeRecord(root, 'abc');
    expect(updateRecord(root, 'abc', (r) => void (r.name = 'again'))).toBeUndefined();
    expect(readRecord(root, 'abc')).toBeUndefined();
  });

  it('of ten claims of one name at once, exactly one writes its record', async () => {
    const root = newRoot();
    const owner = { ownerPid: process.pid, ownerStart: processStart(process.pid) };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => {
        const rec = { id: `id${i}`, created: new Date().toISOString(), name: 'web', ...owner };
        return claimName(root, rec, () => writeRecord(root, rec));
      }),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/the container name "web" is already in use/);
    expect(readdirSync(join(root, 'containers')).filter((n) => n.endsWith('.json'))).toHaveLength(1);
    expect(readdirSync(join(root, 'containers')).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
