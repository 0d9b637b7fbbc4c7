// Control plans on a real kernel (docs/protocol.md "Control plans"): `rm -f` signals a
// recorded pid only while it still names the process the record saw start, and a record
// that names a directory outside the cgroup mounts gets no control plan at all — the core
// refuses it, so nothing there is frozen, killed or removed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

/** /proc/PID/stat field 22, as husk records it. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** A process of the test's own, and a promise of how it ended. */
function sleeper(): { child: ChildProcess; pid: number; ended: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const ended = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  return { child, pid: child.pid!, ended };
}

/** A record as `run -d` writes it, its launcher played by `launcher` (alive, so the container counts as running). */
function writeRecord(name: string, launcher: number, extra: Record<string, unknown>): string {
  const id = `${process.pid.toString(16).padStart(8, '0')}${name.padEnd(56, '0')}`.slice(0, 64).replace(/[^0-9a-f]/g, 'c');
  mkdirSync(join(root, 'containers'), { recursive: true, mode: 0o700 });
  const record = { id, created: new Date().toISOString(), name, image: 'host', argv: ['sleep', '60'], detached: true, launcherPid: launcher, launcherStart: startTime(launcher), started: new Date().toISOString(), ...extra };
  writeFileSync(join(root, 'containers', `${id}.json`), JSON.stringify(record));
  return id;
}

describe('control plans', () => {
  it('rm -f does not signal a recorded pid that now names another process', async () => {
    const launcher = sleeper();
    const other = sleeper();
    // The container's pid now names `other`, which started later than the record says.
    const recorded = String(BigInt(startTime(other.pid)) - 1n);
    writeRecord('recycled', launcher.pid, { pid: other.pid, pidStart: recorded, cgroups: [] });
    const r = husk(root, ['rm', '-f', 'recycled']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('recycled\n');
    // The recorded launcher still matched its start time: it was killed (as a launcher that
    // outlives its container is); the other process was not touched.
    expect(await launcher.ended).toBe('SIGKILL');
    expect(other.child.exitCode).toBeNull();
    expect(other.child.signalCode).toBeNull();
    expect(startTime(other.pid)).toBe(String(BigInt(recorded) + 1n));
    other.child.kill('SIGKILL');
    expect(await other.ended).toBe('SIGKILL');
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
  });

  it('a record naming a directory outside the cgroup mounts is refused by the core, and the directory is left alone', async () => {
    const launcher = sleeper();
    const outside = mkdtempSync('/tmp/husk-control-outside-');
    try {
      writeRecord('outside', launcher.pid, { cgroups: [outside] });
      const message = `husk: cgroup ${outside}: not below a cgroup mount of this host\n`;
      const paused = husk(root, ['pause', 'outside']);
      expect(paused.status).toBe(1);
      expect(paused.stderr).toBe(message);
      const removed = husk(root, ['rm', '-f', 'outside']);
      expect(removed.status).toBe(1);
      expect(removed.stderr).toBe(message);
      // Refused before any op ran: the launcher lives, the directory and the record stay.
      expect(launcher.child.exitCode).toBeNull();
      expect(existsSync(outside)).toBe(true);
      expect(husk(root, ['ps', '-aq']).stdout.trim()).not.toBe('');
      // Its launcher gone, the sweep finishes the record and still leaves the directory be.
      launcher.child.kill('SIGKILL');
      expect(await launcher.ended).toBe('SIGKILL');
      const rm = husk(root, ['rm', 'outside']);
      expect(rm.status, rm.stderr).toBe(0);
      expect(existsSync(outside)).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
