// Exit statuses, signals and errors of husk run, and what is left afterwards: nothing.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { husk, huskAsync, huskBin, launcherBin, suiteRootfs } from './helpers.js';
import { launcherPids, useLeakCheck } from './leak-check.js';

const leakCheck = useLeakCheck();
const { root } = leakCheck;
const rootfs = suiteRootfs();

describe('exit statuses', () => {
  it.each([0, 1, 7, 255])('passes exit %i through', (n) => {
    expect(husk(root, ['run', '--network', 'none', 'host', 'sh', '-c', `exit ${n}`]).status).toBe(n);
  });

  it('reports death by a signal as 128+S', () => {
    // Outside a new pid namespace the shell is not pid 1, so SIGKILL from itself works.
    expect(husk(root, ['run', '--network', 'none', '--pid', 'host', 'host', 'sh', '-c', 'kill -KILL $$']).status).toBe(137);
    expect(husk(root, ['run', '--network', 'none', '--pid', 'host', 'host', 'sh', '-c', 'kill -TERM $$']).status).toBe(143);
  });
});

describe('signals sent to husk reach the container', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s', async (sig) => {
    const name = sig.slice(3);
    const h = huskAsync(root, ['run', '--network', 'none', 'host', 'sh', '-c', `trap "echo got-${name}; exit 42" ${name}; echo ready; while :; do sleep 0.05; done`], 'ready');
    await h.ready;
    h.child.kill(sig);
    const r = await h.done;
    expect(r.stdout).toContain(`got-${name}`);
    expect(r.status).toBe(42);
  });
});

describe('errors: one clear line, docker exit codes, nothing left behind', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['a missing rootfs', ['run', '--network', 'none', '--rootfs', '/nonexistent/husk-rootfs', 'sh'], 125, /rootfs \/nonexistent\/husk-rootfs: no such file or directory/],
    ['a rootfs that is a file', ['run', '--network', 'none', '--rootfs', '/etc/hostname', 'sh'], 125, /rootfs \/etc\/hostname: not a directory/],
    ['an unknown image', ['run', '--network', 'none', 'no-such-image', 'sh'], 125, /unable to find image "no-such-image"/],
    ['a missing command', ['run', '--network', 'none', 'host', 'no-such-command-husk'], 127, /exec "no-such-command-husk": executable file not found in \$PATH/],
    ['a missing command by path', ['run', '--network', 'none', 'host', '/no/such/cmd'], 127, /exec \/no\/such\/cmd: no such file or directory/],
    ['a command that is not executable', ['run', '--network', 'none', 'host', '/etc/passwd'], 126, /exec "\/etc\/passwd": permission denied/],
    ['a directory as command', ['run', '--network', 'none', 'host', '/etc'], 126, /exec "\/etc"/],
    ['an unknown flag', ['run', '--network', 'none', '--frobnicate', 'host', 'true'], 125, /unknown flag: --frobnicate/],
    // Not `--net bridge`: that is docker's bridged network now, and would build husk0 on the host.
    ['a bad flag value', ['run', '--network', 'none', '--memory', 'lots', 'host', 'true'], 125, /memory: invalid size: 'lots'/],
    ['an unknown network', ['run', '--network', 'none', '--network', 'no-such-net-husk', 'host', 'true'], 125, /network no-such-net-husk not found/],
    ['a relative workdir', ['run', '--network', 'none', '-w', 'rel', 'host', 'true'], 125, /workdir/],
    ['a bad hostname', ['run', '--network', 'none', '--hostname', 'bad host!', 'host', 'true'], 125, /hostname/],
    ['an unknown user name', ['run', '--network', 'none', '-u', 'ghost-user-husk', 'host', 'true'], 125, /unable to find user ghost-user-husk/],
    ['a missing env file', ['run', '--network', 'none', '--env-file', '/nonexistent/env', 'host', 'true'], 125, /open env file \/nonexistent\/env/],
  ];
  it.each(cases)('%s', (_what, args, status, message) => {
    const r = husk(root, args);
    expect(r.status).toBe(status);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^husk: /);
    expect(lines[0]).toMatch(message);
    expect(lines.length).toBeLessThanOrEqual(2); // the line, and at most a hint
  });

  it('--env-file reaches husk, not Node, when bin/husk.js runs through its shebang', async () => {
    // Node 20 reads --env-file anywhere in argv unless `--` ends its own options.
    const r = spawnSync(huskBin, ['--root', root, 'run', '--network', 'none', '--env-file=/nonexistent/husk-env', 'host', 'true'], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: open env file \/nonexistent\/husk-env: no such file or directory/);
  });

  it("husk's own output reaches a pipe read slowly whole, and its status is kept (it exits as soon as its writes are out)", () => {
    // 8 MB of log, far more than a pipe holds: `husk logs` must not exit before the reader took it all.
    expect(husk(root, ['run', '--network', 'none', '-d', '--name', 'big', 'host', 'sh', '-c', "head -c 8000000 /dev/zero | tr '\\0' x"]).status).toBe(0);
    expect(husk(root, ['wait', 'big']).stdout.trim()).toBe('0');
    const slow = (args: string) => spawnSync('sh', ['-c', `${process.execPath} ${huskBin} --root ${root} ${args} | (sleep 1; wc -c)`], { encoding: 'utf8' });
    expect(slow('logs big').stdout.trim()).toBe('8000000');
    expect(slow('logs no-such-container 2>&1').stdout.trim()).not.toBe('0'); // its error line, through the pipe too
    expect(husk(root, ['logs', 'no-such-container']).status).toBe(125);
    expect(husk(root, ['rm', 'big']).status).toBe(0);
  });

  it('a missing command inside a --rootfs is 127 too', () => {
    const r = husk(root, ['run', '--network', 'none', '--rootfs', rootfs, 'bash']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/"bash": executable file not found/);
  });
});

describe('crashes', () => {
  it('leaves nothing when the orchestrator is killed with SIGKILL while the container runs', async () => {
    const h = huskAsync(root, ['run', '--network', 'none', '--userns', 'auto', 'host', 'sh', '-c', 'echo ready; sleep 30'], 'ready');
    await h.ready;
    expect(launcherPids().length).toBeGreaterThan(leakCheck.before.launchers.length);
    const killedAt = Date.now();
    h.child.kill('SIGKILL');
    await h.done; // the pipes close only once the container (which holds them) is gone
    // The container must not run out its 30 s: it dies with the launcher, which dies with
    // husk, even though a user namespace changed its credentials (that clears the
    // parent-death signal, so the launcher arms it again).
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    // The launcher dies with its parent, and the container with the launcher. (expectNoLeak
    // in afterEach waits for them.) The record of the dead run is swept by the next command.
    const deadline = Date.now() + 5000;
    while (launcherPids().length > leakCheck.before.launchers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(`${root}/containers`).length).toBe(1);
    expect(husk(root, ['run', '--network', 'none', '--userns', 'auto', 'host', 'true']).status).toBe(0);
    expect(readdirSync(`${root}/containers`)).toEqual([]);
  });

  it.each([0, 5, 15, 40, 80])('leaves nothing when the orchestrator is killed %i ms into a start', async (ms) => {
    const child = spawn(process.execPath, ['--', huskBin, '--root', root, 'run', '--network', 'none', '--userns', 'auto', 'host', 'sleep', '5'], { stdio: 'ignore' });
    const closed = new Promise((r) => child.once('close', r));
    await new Promise((r) => setTimeout(r, ms));
    child.kill('SIGKILL');
    await closed;
    // Whatever point the start had reached, the next command finds nothing of it but a
    // stale record, which it removes.
    const deadline = Date.now() + 5000;
    while (launcherPids().length > leakCheck.before.launchers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(husk(root, ['run', '--network', 'none', '--userns', 'auto', 'host', 'true']).status).toBe(0);
  });

  it('rejects a corrupt plan fed to the launcher alone, running nothing', async () => {
    const r = spawnSync(launcherBin, [], { input: Buffer.from([8, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]), encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^husk-launcher: /);
  });
});

describe('many runs', () => {
  it('leaks nothing over 200 runs in a row', () => {
    // Each run as a user sees it: its output, status 0, nothing on stderr. (The leak check
    // after the test compares the host before the first run and after the last.)
    const wrong: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = husk(root, ['run', '--network', 'none', 'host', 'echo', `run-${i}`]);
      if (r.status !== 0 || r.stdout !== `run-${i}\n` || r.stderr !== '') wrong.push(`run ${i}: status ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
    }
    expect(wrong).toEqual([]);
  }, 300_000);
});
