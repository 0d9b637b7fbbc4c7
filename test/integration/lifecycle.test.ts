// The commands that name a container: run -d, ps, inspect, rm; the status a detached
// container leaves (exit code, OOM) after husk has gone; and what a crash leaves, which the
// next husk command removes (cgroups included).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { husk, huskAsync, inspectContainer, removeAllContainers, sleep } from './helpers.js';
import { containerCgroups as containerDirs, useLeakCheck } from './leak-check.js';

// Tests leave their detached containers to this cleanup, as a user's `rm -f` would.
const { root } = useLeakCheck({ cleanup: removeAllContainers });

const inspect = (ref: string) => inspectContainer(root, ref);

function runDetached(args: string[]): string {
  const r = husk(root, ['run', '--network', 'none', '-d', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function waitFor(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('run -d, ps, inspect, rm', () => {
  it('starts in the background, is listed, inspected, refused by rm, and removed by rm -f', async () => {
    const id = runDetached(['--name', 'web', '--memory', '64m', 'host', 'sleep', '60']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = husk(root, ['ps']);
    expect(ps.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+NAMES$/);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+host\\s+"sleep 60"\\s+.*\\s+Up .*\\s+web$`, 'm'));
    const json = JSON.parse(husk(root, ['ps', '--format', 'json']).stdout.trim());
    expect(json).toMatchObject({ ID: id.slice(0, 12), Names: 'web', State: 'running' });
    const info = inspect('web');
    expect(info).toMatchObject({ Id: id, Name: '/web', Path: 'sleep', Args: ['60'] });
    expect(info.State).toMatchObject({ Status: 'running', Running: true, Paused: false, OOMKilled: false, ExitCode: 0 });
    expect(alive(info.State.Pid)).toBe(true);
    expect(info.Husk.Cgroups.length).toBe(10);
    expect(husk(root, ['inspect', id.slice(0, 6)]).status).toBe(0);

    const again = husk(root, ['run', '--network', 'none', '-d', '--name', 'web', 'host', 'true']);
    expect(again.status).toBe(125);
    expect(again.stderr).toMatch(/the container name "web" is already in use/);

    const rm = husk(root, ['rm', 'web']);
    expect(rm.status).toBe(1);
    expect(rm.stderr).toMatch(/cannot remove container web: it is running/);
    expect(husk(root, ['rm', '-f', 'web']).status).toBe(0);
    expect(alive(info.State.Pid)).toBe(false);
    expect(husk(root, ['ps', '-a']).stdout.trim().split('\n')).toHaveLength(1);
    expect(husk(root, ['inspect', 'web']).status).toBe(1);
    for (const dir of info.Husk.Cgroups) expect(existsSync(dir), dir).toBe(false);
  });

  it('keeps an exited container with its exit code until rm', async () => {
    const id = runDetached(['host', 'sh', '-c', 'exit 3']);
    await waitFor('the exit', () => inspect(id).State.Status === 'exited');
    const state = inspect(id).State;
    expect(state).toMatchObject({ Running: false, ExitCode: 3, OOMKilled: false, Pid: 0 });
    expect(Date.parse(state.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(state.StartedAt) - 1000);
    expect(husk(root, ['ps']).stdout).not.toContain(id.slice(0, 12));
    expect(husk(root, ['ps', '-a']).stdout).toMatch(new RegExp(`${id.slice(0, 12)}.*Exited \\(3\\)`));
    expect(husk(root, ['rm', id]).status).toBe(0);
    expect(husk(root, ['ps', '-a', '-q']).stdout).toBe('');
  });

  it('records an OOM kill of a detached container (read from the launcher status file)', async () => {
    const id = runDetached(['--memory', '32m', 'host', 'sh', '-c', 'x=$(head -c 200m /dev/zero | tr "\\0" x)']);
    await waitFor('the exit', () => inspect(id).State.Status === 'exited');
    expect(inspect(id).State).toMatchObject({ OOMKilled: true, ExitCode: 137 });
    expect(inspect(id).Husk.MemoryLimitAtExit).toBe(32 << 20);
  });

  it('run -d --rm leaves nothing once the container has ended', async () => {
    const id = runDetached(['--rm', 'host', 'true']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await waitFor('the record to go', () => !husk(root, ['ps', '-aq']).stdout.includes(id.slice(0, 12)));
    // Gone for every command a user would try, cgroups included (not left to the cleanup).
    const gone = husk(root, ['inspect', id]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(new RegExp(`no such (container|object).*${id.slice(0, 12)}`, 'i'));
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
    expect(containerDirs()).toEqual([]);
  });

  it('reports a command that cannot start as run does, and keeps nothing', () => {
    const r = husk(root, ['run', '--network', 'none', '-d', 'host', 'no-such-command-husk']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/executable file not found/);
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
  });
});

describe('crashes leave nothing the next husk command does not remove', () => {
  it('a killed launcher of a -d container: the container dies with it; the next husk records the end and removes the cgroups', async () => {
    const id = runDetached(['host', 'sleep', '60']);
    const info = inspect(id);
    process.kill(info.Husk.LauncherPid, 'SIGKILL');
    // No container runs unwatched: it dies with its monitor (PR_SET_PDEATHSIG), with no husk command.
    await waitFor('the container to die with its monitor', () => !alive(info.State.Pid));
    expect(containerDirs().length).toBe(10); // the monitor could not remove them
    const ps = husk(root, ['ps', '-a']);
    expect(ps.stdout).toMatch(/Exited \(255\)/);
    expect(containerDirs()).toEqual([]);
    expect(inspect(id).State.Error).toMatch(/launcher ended without .* killed with its monitor/);
    // It can be started again, as any exited container.
    expect(husk(root, ['start', id]).status).toBe(0);
    expect(inspect(id).State.Status).toBe('running');
  });

  it('a killed husk start -a: the container goes on under its monitor, and ps says so', async () => {
    expect(husk(root, ['create', '--network', 'none', '--name', 'kept', 'host', 'sh', '-c', 'echo ready; exec sleep 60']).status).toBe(0);
    const attached = huskAsync(root, ['start', '-a', 'kept'], 'ready');
    await attached.ready;
    attached.child.kill('SIGKILL');
    await attached.done;
    expect(inspect('kept').State.Status).toBe('running');
    expect(alive(inspect('kept').State.Pid)).toBe(true);
    expect(husk(root, ['ps']).stdout).toMatch(/Up .*kept/);
  });

  it('a killed husk run: the launcher and container die with it; the next husk removes the cgroups and record', async () => {
    const run = huskAsync(root, ['run', '--network', 'none', 'host', 'sh', '-c', 'echo ready; sleep 60'], 'ready');
    await run.ready;
    expect(containerDirs().length).toBe(10);
    run.child.kill('SIGKILL');
    await run.done;
    await sleep(200);
    expect(husk(root, ['ps', '-a', '-q']).stdout).toBe('');
    expect(containerDirs()).toEqual([]);
  });
});
