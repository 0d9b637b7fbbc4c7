// husk killed (SIGKILL) at the two instants of a detached start where the record does not yet
// say what runs (docs/architecture.md "Crashes"): the next command shows the truth, and no
// container runs unsupervised or untracked. The kill comes from a test-only crash point
// (HUSK_TEST_CRASH, ts/runtime/crash-point.ts), so the instant is exact, not a race.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { husk, removeAllContainers } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

const crashAt = (point: string) => ({ ...process.env, HUSK_TEST_CRASH: point });
const psRow = (name: string) => husk(root, ['ps', '-a', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((c) => c.Names === name);

/** Pids of processes whose argv is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      return readFileSync(`/proc/${n}/cmdline`, 'utf8') === want;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('husk killed in the middle of run -d', () => {
  it('after the container started but before its record had its pid: the next command adopts it', () => {
    const argv = ['sleep', '7301'];
    const r = husk(root, ['run', '--network', 'none', '-d', '--name', 'cw-started', 'host', ...argv], { env: crashAt('started-unrecorded') });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const [pid] = processesRunning(argv);
    expect(pid).toBeGreaterThan(0); // it runs, under its monitor
    const row = psRow('cw-started');
    expect(row, 'ps lists it').toBeDefined();
    expect(row.State).toBe('running');
    expect(row.Status).toMatch(/^Up /);
    const info = JSON.parse(husk(root, ['inspect', 'cw-started']).stdout)[0];
    expect(info.State.Running).toBe(true);
    expect(info.State.Pid).toBe(pid);
    const exec = husk(root, ['exec', 'cw-started', 'sh', '-c', 'echo in-$$']);
    expect(exec.status, exec.stderr).toBe(0);
    const rm = husk(root, ['rm', 'cw-started']);
    expect(rm.status).toBe(1);
    expect(rm.stderr).toMatch(/it is running/);
    expect(husk(root, ['rm', '-f', 'cw-started']).status).toBe(0);
    expect(processesRunning(argv)).toEqual([]);
  });

  it('after the launcher was spawned but before the record named it: nothing runs, it is Created, start runs it', () => {
    const argv = ['sleep', '7302'];
    const r = husk(root, ['run', '--network', 'none', '-d', '--name', 'cw-spawned', 'host', ...argv], { env: crashAt('spawned-unrecorded') });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    // The plan is sent only after the record names the launcher: this one read EOF.
    expect(processesRunning(argv)).toEqual([]);
    const row = psRow('cw-spawned');
    expect(row?.State).toBe('created');
    expect(processesRunning(argv)).toEqual([]);
    expect(husk(root, ['start', 'cw-spawned']).status).toBe(0);
    expect(psRow('cw-spawned')?.State).toBe('running');
    expect(processesRunning(argv).length).toBe(1);
    expect(husk(root, ['rm', '-f', 'cw-spawned']).status).toBe(0);
  });

  it('a restart killed after it started the container again: adopted, not shown Exited', () => {
    const argv = ['sleep', '7303'];
    const id = husk(root, ['run', '--network', 'none', '-d', '--name', 'cw-again', 'host', ...argv]).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(husk(root, ['kill', 'cw-again']).status).toBe(0);
    expect(husk(root, ['wait', 'cw-again']).status).toBe(0);
    const r = husk(root, ['start', 'cw-again'], { env: crashAt('started-unrecorded') });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(psRow('cw-again')?.State).toBe('running');
    expect(processesRunning(argv).length).toBe(1);
    expect(husk(root, ['rm', '-f', 'cw-again']).status).toBe(0);
    expect(processesRunning(argv)).toEqual([]);
  });
});
