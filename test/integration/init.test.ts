// run --init: husk's init is the container's pid 1. It reaps the orphans a command leaves
// (which a command as pid 1 never waits for), forwards signals to the command (so `husk stop`
// ends a command that has no handler: 143, at once, not SIGKILL after the timeout), and shows
// in the container's own `ps` as pid 1.
import { describe, expect, it } from 'vitest';
import { husk, inspectContainer, removeAllContainers } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

function ok(args: string[]): string {
  const r = husk(root, args);
  expect(r.status, `husk ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** pid, name and state of every process in the container, from its own /proc. */
function processes(id: string): { pid: number; name: string; state: string }[] {
  const out = ok(['exec', id, 'sh', '-c', 'for f in /proc/[0-9]*/stat; do cat "$f"; echo; done']);
  return out.split('\n').filter((l) => /^\d+ \(/.test(l)).map((l) => {
    const m = /^(\d+) \((.*)\) (\S)/.exec(l)!;
    return { pid: Number(m[1]), name: m[2], state: m[3] };
  });
}

async function waitForZombieState(id: string, wantZombie: boolean): Promise<{ pid: number; name: string; state: string }[]> {
  // The orphan lives 0.1 s; give it time to end (and, under --init, to be reaped).
  const deadline = Date.now() + 5000;
  for (;;) {
    const ps = processes(id);
    const zombies = ps.filter((p) => p.state === 'Z');
    if ((zombies.length > 0) === wantZombie || Date.now() > deadline) return ps;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// An orphan: the subshell exits at once, so `sleep 0.1` is reparented to pid 1; then pid 1
// becomes `sleep`, which never waits for children.
const ORPHAN_MAKER = ['sh', '-c', '(sleep 0.1 &); exec sleep 60'];

describe('run --init', () => {
  it('without --init the orphan stays a zombie under a pid 1 that never reaps (the control)', async () => {
    const id = ok(['run', '--network', 'none', '-d', 'host', ...ORPHAN_MAKER]);
    const ps = await waitForZombieState(id, true);
    expect(ps.find((p) => p.pid === 1)?.name).toBe('sleep');
    expect(ps.filter((p) => p.state === 'Z').map((p) => p.name)).toEqual(['sleep']);
    ok(['rm', '-f', id]);
  });

  it('with --init no zombie is left, and the init is pid 1 with the command as its child', async () => {
    const id = ok(['run', '--network', 'none', '-d', '--init', 'host', ...ORPHAN_MAKER]);
    await new Promise((r) => setTimeout(r, 400));
    const ps = await waitForZombieState(id, false);
    expect(ps.filter((p) => p.state === 'Z')).toEqual([]);
    expect(ps.find((p) => p.pid === 1)?.name).toBe('husk-init');
    expect(ps.find((p) => p.pid === 2)?.name).toBe('sleep');
    const cmdline = ok(['exec', id, 'cat', '/proc/1/cmdline']).split('\0');
    expect(cmdline.slice(0, 2)).toEqual(['husk-init', '--init']);
    expect(inspectContainer(root, id).HostConfig.Init).toBe(true);
    ok(['rm', '-f', id]);
  });

  it('stop reaches a command with no handler through the init: 143 at once, not 137 after the timeout', () => {
    const id = ok(['run', '--network', 'none', '-d', '--init', 'host', 'sleep', '60']);
    const t0 = Date.now();
    ok(['stop', '-t', '10', id]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(inspectContainer(root, id).State).toMatchObject({ Status: 'exited', ExitCode: 143 });
    ok(['rm', id]);
  });

  it('kill -s forwards any signal, and the exit status is the command\'s (128+S)', () => {
    const id = ok(['run', '--network', 'none', '-d', '--init', 'host', 'sleep', '60']);
    ok(['kill', '-s', 'USR1', id]);
    expect(ok(['wait', id])).toBe(String(128 + 10));
    ok(['rm', id]);
  });

  it('a foreground run returns the command\'s status and output; create --init keeps the init across start', () => {
    const r = husk(root, ['run', '--network', 'none', '--init', 'host', 'sh', '-c', 'echo "pid $$ parent $PPID"; exit 7']);
    expect(r.status).toBe(7);
    expect(r.stdout.trim()).toBe('pid 2 parent 1');
    const id = ok(['create', '--network', 'none', '--init', 'host', 'sh', '-c', 'cat /proc/1/comm']);
    ok(['start', '-a', id]);
    expect(ok(['logs', id])).toBe('husk-init');
    ok(['rm', id]);
  });

  it('a command that cannot be found under --init is 127, as without', () => {
    const r = husk(root, ['run', '--network', 'none', '--init', 'host', 'no-such-command-husk']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/no-such-command-husk/);
  });
});
