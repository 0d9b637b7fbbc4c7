// The launcher's exit statuses after a plan is read are the plan's (EXEC's three fields,
// chosen by the core), not its own: run with statuses no default would give.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodePlan } from '../oracle/plan-codec.js';
import type { Op } from '../oracle/plan-codec.js';
import { launcherBin } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

useLeakCheck();

const statuses = { failed_status: 42n, not_found_status: 43n, not_executable_status: 44n };

/** Runs a plan of CLONE (no namespaces), `middle`, then EXEC `path`; returns the status. */
function run(path: string, middle: Op[] = []): number | null {
  const exec: Op = { name: 'EXEC', args: { path, argv: [path], env: [], search: [], ...statuses } };
  const plan = encodePlan({ version: 1n, flags: 0n, ops: [{ name: 'CLONE', args: { flags: 0n } }, ...middle, exec] });
  return spawnSync(launcherBin, ['--plan-fd', '0'], { input: plan, encoding: 'utf8', timeout: 10_000 }).status;
}

describe("the launcher ends with the plan's statuses", () => {
  it('exits with the container status when EXEC runs', () => {
    expect(run('/bin/true')).toBe(0);
  });

  it('uses not_found_status when EXEC finds no file', () => {
    expect(run('/no/such/husk-command')).toBe(43);
  });

  it('uses not_executable_status when EXEC finds a file it cannot run', () => {
    expect(run('/etc/hostname')).toBe(44);
  });

  it('uses failed_status when an op fails', () => {
    expect(run('/bin/true', [{ name: 'CHDIR', args: { path: '/no/such/husk-dir' } }])).toBe(42);
  });
});
