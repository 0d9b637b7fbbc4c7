// --userns, --uidmap, --gidmap, --subuid-file, --subgid-file on the command line, and what
// the run asks the core for.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import type { RunFlags } from '../../ts/cli/args.js';
import { usernsSpec } from '../../ts/runtime/userns.js';
import { expectCoreBuilt, find, opsOf, rootfsRequest } from './core-helpers.js';

function flags(...args: string[]): RunFlags {
  const c = parseArgs(['run', ...args, 'host', 'true']);
  if (c.name !== 'run') throw new Error(c.name);
  return c.flags;
}

// Made when the tests run, not when the file loads: a filtered run or `vitest list` collects
// this file without running its hooks, and would leave the directory behind.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'husk-idmap-flags-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsing', () => {
  it('--userns host, auto, auto:size=N, keep-id', () => {
    expect(flags().userns).toEqual({ mode: 'host' });
    expect(flags('--userns', 'auto').userns).toEqual({ mode: 'auto' });
    expect(flags('--userns=auto:size=4096').userns).toEqual({ mode: 'auto', size: 4096 });
    expect(flags('--userns', 'keep-id').userns).toEqual({ mode: 'keep-id' });
    expect(() => flags('--userns', 'nomap')).toThrow(/expected host, auto\[:size=N\] or keep-id/);
    expect(() => flags('--userns', 'auto:size=0')).toThrow(/size must be at least 1/);
  });

  it('--uidmap and --gidmap repeat and keep their order; the files default to /etc/subuid and /etc/subgid', () => {
    const f = flags('--uidmap', '0:200000:1000', '--uidmap=1000:300000:1', '--gidmap', '0:5:1');
    expect(f.idmap).toEqual({ uidmap: ['0:200000:1000', '1000:300000:1'], gidmap: ['0:5:1'], subuidFile: '/etc/subuid', subgidFile: '/etc/subgid' });
    expect(flags('--subuid-file', '/a', '--subgid-file=/b').idmap).toMatchObject({ subuidFile: '/a', subgidFile: '/b' });
    expect(() => flags('--subuid-file=')).toThrow(/needs a value/);
  });
});

describe('the request', () => {
  const root = { rootless: false, uid: 0, gid: 0, name: 'root' };
  const alice = { rootless: true, uid: 1000, gid: 1000, name: 'alice' };

  it('no user namespace without --userns or a map', () => {
    expect(usernsSpec(flags(), root)).toBeUndefined();
  });

  it('--uidmap alone means a user namespace with those maps; rootful maps need no subordinate file', () => {
    expect(usernsSpec(flags('--uidmap', '0:1:1', '--subuid-file', '/nonexistent/x'), root)).toEqual({
      mode: 'maps', size: undefined, uidmap: ['0:1:1'], gidmap: [], caller: root,
    });
  });

  it('auto and keep-id read the subordinate files (a missing one is empty); so does any rootless run', () => {
    const sub = join(dir, 'subuid');
    writeFileSync(sub, 'alice:100000:65536\n');
    expect(usernsSpec(flags('--userns', 'auto:size=10', '--subuid-file', sub, '--subgid-file', join(dir, 'none')), root)).toMatchObject({
      mode: 'auto', size: 10, subuid: 'alice:100000:65536\n', subgid: '',
    });
    expect(usernsSpec(flags('--uidmap', '0:1000:1', '--subuid-file', sub), alice)).toMatchObject({ subuid: 'alice:100000:65536\n' });
  });

  it('keep-id without --user runs the command as the caller (the core\'s default)', () => {
    expectCoreBuilt();
    // A rootful caller whose ids are not 0 (the maps a rootless one needs want newuidmap).
    const who = { rootless: false, uid: 1000, gid: 1000, name: 'alice' };
    const lastUser = (mode: string) => find(opsOf(rootfsRequest({ newUserns: true, userns: usernsSpec(flags('--userns', mode), who) })), 'USER').at(-1)!.args;
    expect(lastUser('keep-id')).toMatchObject({ uid: 1000n, gid: 1000n });
    expect(lastUser('auto')).toMatchObject({ uid: 0n, gid: 0n });
    const given = find(opsOf(rootfsRequest({ newUserns: true, user: { uid: 5, gid: 6 }, userns: usernsSpec(flags('--userns', 'keep-id'), who) })), 'USER').at(-1)!.args;
    expect(given).toMatchObject({ uid: 5n, gid: 6n });
  });

  it('an unreadable subordinate file is an error naming the flag', () => {
    expect(() => usernsSpec(flags('--userns', 'auto', '--subuid-file', dir), root)).toThrow(/^--subuid-file: cannot read .*: EISDIR/);
  });
});
