// A network's records file (the names husk-dns serves) written from its leases: after a claim
// from the scan the command made for the core, and rewritten when the leases changed in
// between. Leases and container records are plain files under a temp --root.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimLease, recordsWith, refreshRecords, releaseLease, scanLeases } from '../../ts/network/leases.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'husk-unit-records-'));
  mkdirSync(join(root, 'containers'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A container whose record says it runs (finished: it ended). */
function container(id: string, finished = false): { id: string; pid: number; dns: string } {
  writeFileSync(join(root, 'containers', `${id}.json`), JSON.stringify({ id, created: '', ...(finished ? { finished: '' } : {}) }));
  return { id, pid: process.pid, dns: `${id} line\n` };
}
const records = () => (existsSync(join(root, 'networks', 'n.dns')) ? readFileSync(join(root, 'networks', 'n.dns'), 'utf8') : '');

describe('network records', () => {
  it('after a claim, the records are the scan the core was given plus the new line', () => {
    expect(claimLease(root, 'n', '10.0.0.2', container('a'))).toBe(true);
    const scan = scanLeases(root, 'n');
    expect(scan.used).toEqual(['10.0.0.2']);
    expect(claimLease(root, 'n', '10.0.0.3', container('b'))).toBe(true);
    expect(refreshRecords(root, 'n', recordsWith(scan, { '10.0.0.3': 'b line\n' }))).toBe(true);
    expect(records()).toBe('a line\nb line\n');
  });

  it('an address given back and taken by another container after the scan: its new line is written, not the old', () => {
    const a = container('a');
    claimLease(root, 'n', '10.0.0.2', a);
    const scan = scanLeases(root, 'n');
    // Meanwhile a ends and c takes its address: same lease file name, another line.
    writeFileSync(join(root, 'containers', 'a.json'), JSON.stringify({ id: 'a', created: '', finished: '' }));
    releaseLease(root, 'n', '10.0.0.2', a);
    claimLease(root, 'n', '10.0.0.2', container('c'));
    claimLease(root, 'n', '10.0.0.3', container('b'));
    refreshRecords(root, 'n', recordsWith(scan, { '10.0.0.3': 'b line\n' }));
    expect(records()).toBe('c line\nb line\n');
  });

  it('a lease that went stale is left out, and the last one given back takes the file with it', () => {
    const b = container('b');
    claimLease(root, 'n', '10.0.0.2', container('a', true));
    claimLease(root, 'n', '10.0.0.3', b);
    expect(refreshRecords(root, 'n')).toBe(true);
    expect(records()).toBe('b line\n');
    scanLeases(root, 'n'); // gives the stale one back
    releaseLease(root, 'n', '10.0.0.3', b);
    expect(records()).toBe('');
    expect(existsSync(join(root, 'networks', 'n.dns'))).toBe(false);
  });
});
