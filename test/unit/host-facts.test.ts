// ts/host/facts.ts: the host's top-level entries as facts for the core (it picks the image's).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostRootEntries } from '../../ts/host/facts.js';

// Made when the tests run, not when the file loads (a filtered run or `vitest list` would leave it).
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'husk-host-facts-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hostRootEntries', () => {
  it('lists directories and symlinks (with targets), not files', () => {
    mkdirSync(join(dir, 'usr'));
    mkdirSync(join(dir, 'home'));
    symlinkSync('usr/bin', join(dir, 'bin'));
    symlinkSync('/nowhere', join(dir, 'dangling'));
    writeFileSync(join(dir, 'file'), '');
    const got = hostRootEntries(dir).sort((a, b) => a.name.localeCompare(b.name));
    expect(got).toEqual([
      { name: 'bin', kind: 'symlink', target: 'usr/bin' },
      { name: 'dangling', kind: 'symlink', target: '/nowhere' },
      { name: 'home', kind: 'dir', target: '' },
      { name: 'usr', kind: 'dir', target: '' },
    ]);
  });
});
