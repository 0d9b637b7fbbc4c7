// The API's fast paths on a real kernel: run() through the warm launcher server, and sandboxes
// made ahead of time (create → start → wait). Nothing may leak: no fd, mount or process, and no
// container once the server is gone.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Husk, HuskError } from '../../ts/api.js';
import { isLauncher, suiteDir } from './helpers.js';
import { launcherPids, useLeakCheck } from './leak-check.js';

let husk: Husk;
const { root } = useLeakCheck({ cleanup: () => husk.close() });
/** A rootfs whose `proc` is a file: the launcher's `mkdir -p proc` fails (status 125). */
const brokenRootfs = suiteDir('rootfs-broken', { fill: (dir) => writeFileSync(join(dir, 'proc'), '') });
beforeEach(() => {
  husk = new Husk({ root });
});

const quiet = { stdio: 'ignore' as const };

async function statusOf(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HuskError);
  return (err as HuskError).exitStatus;
}

function gone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('run() through the launcher server', () => {
  it('returns exit codes, with one server for many containers', async () => {
    const first = await husk.run({ command: ['true'], ...quiet });
    expect(first.exitCode).toBe(0);
    // A quiet RUN (docs/protocol.md "Server mode"): the PID comes with the last events.
    expect(first.pid).toBeGreaterThan(0);
    const server = husk.serverPid;
    expect(server).toBeGreaterThan(0);
    expect((await husk.run({ command: ['sh', '-c', 'exit 3'], ...quiet })).exitCode).toBe(3);
    expect((await husk.run({ command: ['sh', '-c', 'kill -9 $$'], pid: 'host', ...quiet })).exitCode).toBe(137);
    expect(husk.serverPid).toBe(server);
  });

  it('rejects with the docker statuses: 125, 126, 127', async () => {
    expect(await statusOf(husk.run({ command: ['/bin/true'], rootfs: brokenRootfs, ...quiet }))).toBe(125);
    expect(await statusOf(husk.run({ command: ['/etc/passwd'], ...quiet }))).toBe(126);
    expect(await statusOf(husk.run({ command: ['no-such-command-husk'], ...quiet }))).toBe(127);
    expect(await statusOf(husk.run({ command: ['/no/such/husk'], ...quiet }))).toBe(127);
  });

  it('runs 200 containers, two in flight, leaking no fd, mount or process', async () => {
    let next = 0;
    const codes: number[] = [];
    const worker = async () => {
      while (next < 200) {
        const i = next++;
        codes.push((await husk.run({ command: ['sh', '-c', `exit ${i % 4}`], ...quiet })).exitCode);
      }
    };
    await Promise.all([worker(), worker()]);
    expect(codes.length).toBe(200);
    expect(codes.filter((c) => c === 3).length).toBe(50);
  }, 120_000);
});

describe('sandboxes made ahead: create → start → wait', () => {
  it('waits before exec until start(), then runs the command', async () => {
    const box = await husk.create({ command: ['sh', '-c', 'exit 7'] });
    const pid = box.pid!;
    expect(pid).toBeGreaterThan(0);
    // Created: the container process is still the launcher, waiting right before exec.
    expect(isLauncher(pid)).toBe(true);
    await box.start();
    expect(await box.wait()).toEqual({ exitCode: 7 });
  });

  it('rejects start() with 127 when the command does not exist', async () => {
    const box = await husk.create({ command: ['no-such-command-husk'] });
    expect(await statusOf(box.start())).toBe(127);
    expect(await statusOf(box.wait())).toBe(127);
  });

  it('rejects create() with 125 when the setup fails', async () => {
    expect(await statusOf(husk.create({ command: ['/bin/true'], rootfs: brokenRootfs }))).toBe(125);
  });

  it('kills a started container', async () => {
    const box = await husk.create({ command: ['sleep', '30'] });
    await box.start();
    box.kill('SIGKILL');
    expect(await box.wait()).toEqual({ exitCode: 137 });
  });

  it('cleans up a sandbox never started: by kill(), and by close()', async () => {
    const killed = await husk.create({ command: ['sleep', '30'] });
    const closed = await husk.create({ command: ['sleep', '30'] });
    const pids = [killed.pid!, closed.pid!];
    killed.kill('SIGTERM'); // before start, any signal means: never run
    expect(await killed.wait()).toEqual({ exitCode: 137 });
    await husk.close();
    expect(await closed.wait()).toEqual({ exitCode: 137 });
    expect(pids.every(gone)).toBe(true);
  });

  it('leaves no container when the server is killed', async () => {
    const waiting = await husk.create({ command: ['sleep', '30'] });
    const running = await husk.create({ command: ['sleep', '30'] });
    await running.start();
    const pids = [waiting.pid!, running.pid!];
    const server = husk.serverPid!;
    expect(launcherPids()).toContain(server);
    process.kill(server, 'SIGKILL');
    expect(await statusOf(running.wait())).toBe(125);
    expect(await statusOf(waiting.wait())).toBe(125);
    expect(await until(() => pids.every(gone))).toBe(true);
    // The next container gets a new server.
    expect((await husk.run({ command: ['true'], ...quiet })).exitCode).toBe(0);
    expect(husk.serverPid).not.toBe(server);
  });
});
