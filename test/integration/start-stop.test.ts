// create, start, stop, restart, kill, wait: a container that lives on across husk commands,
// as docker's. Its files survive a stop and a start; stop sends the stop signal and SIGKILL
// after the timeout; kill and wait behave as docker's, with docker's statuses.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, huskAsync, inspectContainer, removeAllContainers, sleep, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';
import { readCriLog } from '../../ts/runtime/cri-log.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });
const rootfs = suiteRootfs();

const inspect = (ref: string) => inspectContainer(root, ref);
/** The container's output as its log holds it (CRI lines, docs/protocol.md "The container log"). */
const log = (id: string) => readCriLog(readFileSync(join(root, 'containers', id, 'log'))).map((m) => m.text).join('');

function ok(args: string[]): string {
  const r = husk(root, args);
  expect(r.status, `husk ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

async function waitFor(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const statusOf = (name: string) => husk(root, ['ps', '-a', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((c) => c.Names === name)?.Status as string | undefined;

describe('stop', () => {
  it('sends SIGTERM first: a container that handles it ends at once, with its own status', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'polite', 'host', 'sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 0.1; done']);
    await waitFor('the container to be up', () => log(id).includes('up'));
    const t0 = Date.now();
    expect(ok(['stop', 'polite'])).toBe('polite');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(log(id)).toContain('got TERM');
    expect(inspect('polite').State).toMatchObject({ Status: 'exited', ExitCode: 0 });
    expect(statusOf('polite')).toMatch(/^Exited \(0\) (Less than a second|\d+ seconds?) ago$/);
  });

  it('kills with SIGKILL after the timeout a container that ignores SIGTERM: 137', () => {
    // sleep as pid 1 of its pid namespace has no handler: SIGTERM does nothing to it.
    ok(['run', '--network', 'none', '-d', '--name', 'stubborn', 'host', 'sleep', '60']);
    const t0 = Date.now();
    expect(ok(['stop', '-t', '1', 'stubborn'])).toBe('stubborn');
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(8000);
    expect(inspect('stubborn').State).toMatchObject({ Status: 'exited', ExitCode: 137, Running: false });
    expect(statusOf('stubborn')).toMatch(/^Exited \(137\)/);
    // Stopping it again does nothing, as docker's.
    expect(ok(['stop', 'stubborn'])).toBe('stubborn');
  });
});

describe('start and restart keep the writable layer', () => {
  it('start of an exited container runs its command again on the same files', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'counter', 'host', 'sh', '-c', 'echo x >> /etc/husk-count; wc -l < /etc/husk-count']);
    await waitFor('the first run to end', () => statusOf('counter')?.startsWith('Exited') === true);
    expect(ok(['start', 'counter'])).toBe('counter');
    await waitFor('the second run to end', () => statusOf('counter')?.startsWith('Exited') === true);
    expect(log(id).trim().split('\n')).toEqual(['1', '2']);
    expect(inspect(id).RestartCount).toBe(1);
    expect(existsSync('/etc/husk-count')).toBe(false); // the layer is the container's, not the host's
  });

  it('a --userns auto container keeps its layer too (its mapped root owns it)', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'mapped', '--userns', 'auto', 'host', 'sh', '-c', 'echo x >> /etc/husk-count; wc -l < /etc/husk-count']);
    await waitFor('the first run to end', () => statusOf('mapped')?.startsWith('Exited') === true);
    ok(['start', 'mapped']);
    await waitFor('the second run to end', () => statusOf('mapped')?.startsWith('Exited') === true);
    expect(log(id).trim().split('\n')).toEqual(['1', '2']);
  });

  it('a --rootfs container keeps what it wrote across a stop and a start', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'boxed', '--rootfs', rootfs, 'sh', '-c', 'echo x >> /data; wc -l < /data; exec sleep 60']);
    await waitFor('the first run', () => log(id).includes('1'));
    ok(['stop', '-t', '0', 'boxed']);
    ok(['start', 'boxed']);
    await waitFor('the second run', () => log(id).includes('2'));
    expect(log(id).trim().split('\n').map((l) => l.trim())).toEqual(['1', '2']);
    expect(existsSync(join(rootfs, 'data'))).toBe(false);
  });

  it('restart stops a running container and starts it again, files kept', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'again', 'host', 'sh', '-c', 'echo run >> /usr/husk-runs; echo "runs $(wc -l < /usr/husk-runs)"; exec sleep 60']);
    await waitFor('the first run', () => log(id).includes('runs 1'));
    const pid = inspect('again').State.Pid;
    expect(ok(['restart', '-t', '0', 'again'])).toBe('again');
    await waitFor('the second run', () => log(id).includes('runs 2'));
    expect(inspect('again').State.Status).toBe('running');
    expect(inspect('again').State.Pid).not.toBe(pid);
  });
});

describe('create, start, kill, wait', () => {
  it('create makes a Created container that start runs; wait prints its exit code', async () => {
    const id = ok(['create', '--network', 'none', '--name', 'later', 'host', 'sh', '-c', 'sleep 2; exit 7']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(statusOf('later')).toBe('Created');
    expect(inspect('later').State).toMatchObject({ Status: 'created', Running: false, Pid: 0 });
    expect(husk(root, ['ps', '-q']).stdout).toBe('');
    const again = husk(root, ['create', '--network', 'none', '--name', 'later', 'host', 'true']);
    expect(again.status).toBe(125);
    expect(again.stderr).toMatch(/the container name "later" is already in use/);
    expect(ok(['start', 'later'])).toBe('later');
    expect(statusOf('later')).toMatch(/^Up /);
    const t0 = Date.now();
    expect(ok(['wait', 'later'])).toBe('7');
    expect(Date.now() - t0).toBeGreaterThan(100);
    expect(statusOf('later')).toMatch(/^Exited \(7\)/);
  });

  it('start -a stays with the container: its output and its exit status', () => {
    ok(['create', '--network', 'none', '--name', 'attached', 'host', 'sh', '-c', 'echo hello from inside; exit 3']);
    const r = husk(root, ['start', '-a', 'attached']);
    expect(r.stdout).toBe('hello from inside\n');
    expect(r.status).toBe(3);
  });

  it('rm removes a Created container without -f', () => {
    ok(['create', '--network', 'none', '--name', 'unused', 'host', 'true']);
    expect(ok(['rm', 'unused'])).toBe('unused');
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
  });

  it('kill sends the signal named, by name or number; the default is KILL', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--name', 'target', 'host', 'sh', '-c', 'trap "echo got USR1" USR1; echo up; while :; do sleep 0.1; done']);
    await waitFor('the container to be up', () => log(id).includes('up'));
    expect(ok(['kill', '-s', 'USR1', 'target'])).toBe('target');
    await waitFor('the trap', () => log(id).includes('got USR1'));
    expect(ok(['kill', '--signal=10', 'target'])).toBe('target');
    await waitFor('the second trap', () => log(id).split('got USR1').length === 3);
    expect(inspect('target').State.Status).toBe('running');
    expect(ok(['kill', 'target'])).toBe('target');
    expect(ok(['wait', 'target'])).toBe('137');
  });

  it('refuses what cannot be done in one line, with docker statuses, and changes nothing', async () => {
    ok(['run', '--network', 'none', '-d', '--name', 'ended', 'host', 'true']);
    await waitFor('the exit', () => statusOf('ended')?.startsWith('Exited') === true);
    const notRunning = husk(root, ['kill', 'ended']);
    expect(notRunning.status).toBe(1);
    expect(notRunning.stderr).toBe('husk: cannot kill container ended: it is not running\n');
    const bad = husk(root, ['kill', '-s', 'NOPE', 'ended']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^husk: (invalid signal: NOPE|cannot kill container ended: it is not running)\n$/);
    const missing = husk(root, ['stop', 'no-such-one']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('husk: no such container: no-such-one\n');
    const time = husk(root, ['stop', '-t', 'soon', 'ended']);
    expect(time.status).toBe(125);
    expect(time.stderr).toMatch(/^husk: invalid value "soon" for --time/);
    expect(statusOf('ended')).toMatch(/^Exited \(0\)/);
  });

  it('a running container refuses a signal name the core does not know', () => {
    ok(['run', '--network', 'none', '-d', '--name', 'alive', 'host', 'sleep', '60']);
    const bad = husk(root, ['kill', '-s', 'SIGNOPE', 'alive']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('husk: invalid signal: SIGNOPE\n');
    expect(inspect('alive').State.Status).toBe('running');
  });

  it('wait on a Created container blocks until a start has run it and it has ended (docker\'s)', async () => {
    ok(['create', '--network', 'none', '--name', 'pending', 'host', 'sh', '-c', 'sleep 0.3; exit 4']);
    const waiting = huskAsync(root, ['wait', 'pending'], '\n');
    let printed = false;
    waiting.ready.then(() => (printed = true), () => undefined);
    await sleep(1000);
    expect(printed).toBe(false); // it waits, where it used to fail "has not been started"
    expect(inspect('pending').State.Status).toBe('created');
    ok(['start', 'pending']);
    const r = await waiting.done;
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('4');
    expect(r.status).toBe(0);
  });

  it('wait on a Created container that is removed meanwhile says so', async () => {
    ok(['create', '--network', 'none', '--name', 'dropped', 'host', 'true']);
    const waiting = huskAsync(root, ['wait', 'dropped'], '\n');
    await sleep(500);
    ok(['rm', 'dropped']);
    const r = await waiting.done;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('husk: no such container: dropped\n');
  });

  it('start -a passes SIGTERM and SIGINT it receives on to the container, as docker\'s --sig-proxy', async () => {
    ok(['create', '--network', 'none', '--name', 'proxied', 'host', 'sh', '-c', 'trap "echo got INT" INT; trap "echo got TERM; exit 9" TERM; echo up; while :; do sleep 0.1; done']);
    const attached = huskAsync(root, ['start', '-a', 'proxied'], 'up\n');
    await attached.ready;
    attached.child.kill('SIGINT');
    await waitFor('the INT trap', () => log(inspect('proxied').Id).includes('got INT'));
    expect(inspect('proxied').State.Status).toBe('running');
    attached.child.kill('SIGTERM');
    const r = await attached.done;
    expect(r.stdout).toBe('up\ngot INT\ngot TERM\n');
    expect(r.status).toBe(9);
    expect(r.signal).toBe(null); // husk itself was not killed by the signals: it passed them on
  });

  it('start -a --sig-proxy=false keeps the signals: husk dies of them, the container runs on', async () => {
    ok(['create', '--network', 'none', '--name', 'unproxied', 'host', 'sh', '-c', 'trap "echo got TERM; exit 9" TERM; echo up; while :; do sleep 0.1; done']);
    const attached = huskAsync(root, ['start', '-a', '--sig-proxy=false', 'unproxied'], 'up\n');
    await attached.ready;
    attached.child.kill('SIGTERM');
    const r = await attached.done;
    expect(r.signal).toBe('SIGTERM');
    await sleep(300);
    expect(inspect('unproxied').State.Status).toBe('running');
    expect(log(inspect('unproxied').Id)).not.toContain('got TERM');
  });

  it('wait returns once a container another command stops has ended', async () => {
    ok(['run', '--network', 'none', '-d', '--name', 'waited', 'host', 'sleep', '60']);
    const waiting = huskAsync(root, ['wait', 'waited'], '\n');
    await sleep(300);
    ok(['kill', 'waited']);
    await waiting.ready;
    const r = await waiting.done;
    expect(r.stdout.trim()).toBe('137');
    expect(r.status).toBe(0);
  });
});
