// --userns, --uidmap, --gidmap, --subuid-file, --subgid-file on the command line, and what
// the run asks the core for.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import type { RunFlags } from '../../ts/cli/args.js';
import { usernsFacts } from '../../ts/runtime/userns.js';
import { buildPlanAnswer } from '../../ts/core/build-plan.js';
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
    expect(() => flags('--userns', 'nomap')).toThrow(/expected host, auto\[:size=N\], keep-id or ns:NAME/);
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

  it('a rootful run without the flags sends no user-namespace facts and reads no file', () => {
    // A directory as the file would fail the read (EISDIR): nothing is read.
    expect(usernsFacts(flags('--subuid-file', dir), root)).toBeUndefined();
    expect(usernsFacts(flags('--userns', 'host', '--subgid-file', dir), root)).toBeUndefined();
  });

  it('the flags go as typed: --uidmap alone is mode host with the maps, and the files are read', () => {
    const sub = join(dir, 'subuid-maps');
    writeFileSync(sub, 'root:400000:65536\n');
    expect(usernsFacts(flags('--uidmap', '0:1:1', '--subuid-file', sub, '--subgid-file', '/nonexistent/x'), root)).toEqual({
      mode: 'host', size: undefined, uidmap: ['0:1:1'], gidmap: [], caller: root, subuid: 'root:400000:65536\n', subgid: '',
    });
  });

  it('auto and keep-id read the subordinate files (a missing one is empty); so does any rootless run', () => {
    const sub = join(dir, 'subuid');
    writeFileSync(sub, 'alice:100000:65536\n');
    expect(usernsFacts(flags('--userns', 'auto:size=10', '--subuid-file', sub, '--subgid-file', join(dir, 'none')), root)).toMatchObject({
      mode: 'auto', size: 10, subuid: 'alice:100000:65536\n', subgid: '',
    });
    expect(usernsFacts(flags('--userns', 'auto'), root)).toMatchObject({ mode: 'auto', size: 0 });
    expect(usernsFacts(flags('--uidmap', '0:1000:1', '--subuid-file', sub), alice)).toMatchObject({ subuid: 'alice:100000:65536\n' });
    // Rootless without any flag: the facts go along (mode host), the core decides.
    expect(usernsFacts(flags('--subuid-file', sub), alice)).toMatchObject({ mode: 'host', uidmap: [], gidmap: [], caller: alice, subuid: 'alice:100000:65536\n' });
  });

  it('the core decides from the facts whether there is a user namespace (the summary says)', () => {
    expectCoreBuilt();
    const sub = join(dir, 'subuid-alice');
    writeFileSync(sub, 'alice:100000:65536\n');
    const userns = (who: typeof root, ...args: string[]) =>
      buildPlanAnswer(rootfsRequest({ userns: usernsFacts(flags('--subuid-file', sub, '--subgid-file', sub, ...args), who) })).summary.userns;
    expect(userns(alice)).toBe(true); // rootless: always a user namespace of its own
    expect(userns(root, '--userns', 'host')).toBe(false);
    expect(userns(root, '--userns', 'auto')).toBe(true);
    expect(userns(root, '--userns', 'keep-id')).toBe(true);
    expect(userns(root, '--uidmap', '0:100000:65536')).toBe(true);
    expect(userns(root, '--userns', 'host', '--gidmap', '0:100000:65536')).toBe(true);
  });

  it('keep-id without --user runs the command as the caller (the core\'s default)', () => {
    expectCoreBuilt();
    // A rootful caller whose ids are not 0 (the maps a rootless one needs want newuidmap).
    const who = { rootless: false, uid: 1000, gid: 1000, name: 'alice' };
    const lastUser = (mode: string) => find(opsOf(rootfsRequest({ userns: usernsFacts(flags('--userns', mode), who) })), 'USER').at(-1)!.args;
    expect(lastUser('keep-id')).toMatchObject({ uid: 1000n, gid: 1000n });
    expect(lastUser('auto')).toMatchObject({ uid: 0n, gid: 0n });
    const given = find(opsOf(rootfsRequest({ user: { uid: 5, gid: 6 }, userns: usernsFacts(flags('--userns', 'keep-id'), who) })), 'USER').at(-1)!.args;
    expect(given).toMatchObject({ uid: 5n, gid: 6n });
  });

  it('an unreadable subordinate file is an error naming the flag', () => {
    expect(() => usernsFacts(flags('--userns', 'auto', '--subuid-file', dir), root)).toThrow(/^--subuid-file: cannot read .*: EISDIR/);
    expect(() => usernsFacts(flags('--subgid-file', dir), alice)).toThrow(/^--subgid-file: cannot read .*: EISDIR/);
  });
});
