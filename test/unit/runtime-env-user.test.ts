import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEnv, parseEnvFile } from '../../ts/runtime/env.js';
import { resolveUser } from '../../ts/runtime/user.js';
import { expectCoreBuilt, find, opsOf, rootfsRequest } from './core-helpers.js';

// Made when the tests run, not when the file loads: a filtered run or `vitest list` collects
// this file without running its hooks, and would leave the directory behind.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'husk-env-user-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('environment', () => {
  it('reads env files as docker does: comments, blanks, KEY alone copied from husk', () => {
    const text = '# comment\n\nA=1\nB = spaced\nHOME_COPY\nC=x=y\r\n';
    expect(() => parseEnvFile('f', text, {})).toThrow(/whitespace/);
    expect(parseEnvFile('f', '# c\n\nA=1\nCOPY\nMISSING\nC=x=y\r\n', { COPY: 'v' })).toEqual(['A=1', 'COPY=v', 'C=x=y']);
  });

  it('puts env files before -e flags, so flags win', () => {
    const f = join(dir, 'env');
    writeFileSync(f, 'A=file\nB=file\n');
    expect(collectEnv(['A=flag', 'X'], [f], { X: 'host' })).toEqual(['A=file', 'B=file', 'A=flag', 'X=host']);
  });

  it('names a missing env file', () => {
    expect(() => collectEnv([], [join(dir, 'nope')])).toThrow(/open env file .*nope: no such file or directory/);
  });
});

describe('--user', () => {
  let root: string;
  beforeAll(() => {
    root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
  });

  // The ids the container runs with: the facts resolveUser reads, the gid the core picks.
  const ids = (spec: string) => {
    const args = find(opsOf(rootfsRequest({ user: resolveUser(spec, root) })), 'USER').at(-1)!.args;
    return { uid: Number(args.uid), gid: Number(args.gid) };
  };

  it('takes numbers as they are', () => {
    expectCoreBuilt();
    expect(ids('4242:7')).toEqual({ uid: 4242, gid: 7 });
    expect(ids('4242')).toEqual({ uid: 4242, gid: 0 });
  });
  it("looks names up in the image's passwd and group files", () => {
    expect(ids('app')).toEqual({ uid: 1000, gid: 1001 });
    expect(ids('1000')).toEqual({ uid: 1000, gid: 1001 });
    expect(ids('app:staff')).toEqual({ uid: 1000, gid: 50 });
    expect(resolveUser('app:staff', root)).toEqual({ uid: 1000, gid: 50, primaryGid: 1001 });
  });
  it('names what it cannot find', () => {
    expect(() => resolveUser('ghost', root)).toThrow(/unable to find user ghost/);
    expect(() => resolveUser('app:ghosts', root)).toThrow(/unable to find group ghosts/);
    expect(() => resolveUser('1:2:3', root)).toThrow(/--user/);
    expect(() => resolveUser('4294967295', root)).toThrow(/above/);
  });
});
