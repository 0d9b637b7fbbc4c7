// The leak check itself must be able to fail: each kind of leak it looks for, made on purpose
// (or, for the host's mount table and launchers, which a test must not touch, shown to it in
// a snapshot), is named in its report. Each test undoes its leak before the check runs.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMP_PREFIX } from './helpers.js';
import { findLeaks, leaksBetween, leftovers, snapshot, useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

describe('the leak check names what a test left', () => {
  it('nothing, when nothing was left', async () => {
    expect(await findLeaks(snapshot(), 0)).toEqual([]);
  });

  it('a child process, with its command line', async () => {
    const before = snapshot();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const leaks = await findLeaks(before, 200);
      expect(leaks).toEqual([`child processes left: ${child.pid} (sleep 30)`]);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('an fd left open, with the file it points at', async () => {
    const before = snapshot();
    const fd = openSync('/proc/self/status', 'r');
    try {
      const leaks = await findLeaks(before, 0);
      expect(leaks).toHaveLength(1);
      expect(leaks[0]).toMatch(/^fds left open in the test process: 1 more; .*→ \/proc\/\d+\/status/);
    } finally {
      closeSync(fd);
    }
  });

  it('a temp entry of the suites', async () => {
    const before = snapshot();
    const dir = `/tmp/${TEMP_PREFIX}leak-check-probe`;
    mkdirSync(dir);
    try {
      expect(await findLeaks(before, 0)).toEqual([`temp entries left: ${dir}`]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('a mount added to or removed from the host, and a launcher left', () => {
    const before = snapshot();
    const now = { ...before, mounts: [...before.mounts.slice(1), '/ /tmp/husk-probe'], launchers: [...before.launchers, 999_999_999] };
    expect(leaksBetween(before, now)).toEqual([
      `host mount table changed: added [/ /tmp/husk-probe], removed [${before.mounts[0]}]`,
      'launcher processes left: 999999999',
    ]);
  });

  it('a file in the state root, but not husk\'s own empty directories', () => {
    mkdirSync(join(root, 'containers', 'empty'), { recursive: true });
    expect(leftovers(root)).toEqual([]);
    writeFileSync(join(root, 'containers', 'record.json'), '{}');
    try {
      expect(leftovers(root)).toEqual([join(root, 'containers', 'record.json')]);
    } finally {
      rmSync(join(root, 'containers'), { recursive: true });
    }
  });
});
