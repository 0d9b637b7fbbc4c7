// Collecting a unit test file makes nothing on disk: `vitest list`, or a run filtered to other
// tests, loads every file but runs no hooks, so a temp directory made when a file loads (and
// removed in its afterAll) would be left behind in /tmp for good.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'husk-collect-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The unit test files that make temp entries at all (listing only these keeps the test quick). */
function filesUsingTemp(): string[] {
  const dir = join(repo, 'test/unit');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') && f !== 'collect-no-temp.test.ts')
    .filter((f) => /mkdtemp|tmpdir\(\)/.test(readFileSync(join(dir, f), 'utf8')))
    .map((f) => `test/unit/${f}`);
}

it('`vitest list` of the files that use temp directories leaves none behind', () => {
  const files = filesUsingTemp();
  expect(files).toContain('test/unit/idmap-flags.test.ts');
  expect(files).toContain('test/unit/runtime-env-user.test.ts');
  // A private TMPDIR: os.tmpdir() in the child is this directory, and nothing else writes here.
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'list', '--project', 'unit', ...files], {
    cwd: repo,
    env: { ...process.env, TMPDIR: tmp },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/idmap-flags\.test\.ts > /);
  expect(readdirSync(tmp)).toEqual([]);
});
