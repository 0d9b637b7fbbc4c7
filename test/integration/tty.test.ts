// -t, -i, attach and the detach keys, under a real pty (python3's pty module, as a person's
// terminal): the container sees a terminal of the caller's size that follows it, the
// caller's terminal is raw while attached and exactly as before afterwards, ctrl-p ctrl-q
// leave the container running, husk attach joins it again and returns its exit status.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, huskBin, removeAllContainers, repo } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

type Step = ['write', string] | ['until', string, number] | ['resize', number, number] | ['sleep', number] | ['signal', number];

/** Runs `husk ARGS` (or a shell line, with `sh`) under a pty of rows x cols, playing the steps. */
function underPty(args: string[], steps: Step[], opts: { rows?: number; cols?: number; sh?: boolean } = {}): { output: string; status: number; timedOut: unknown } {
  const husked = `${process.execPath} -- ${huskBin} --root ${root}`;
  const argv = opts.sh ? ['sh', '-c', args.join(' ').replaceAll('HUSK', husked)] : [process.execPath, '--', huskBin, '--root', root, ...args];
  const spec = { rows: opts.rows ?? 24, cols: opts.cols ?? 80, steps, argv };
  const r = spawnSync('python3', [join(repo, 'test/integration/pty-driver.py'), JSON.stringify(spec)], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('run -t', () => {
  it('gives the container a terminal of the caller size; its exit status is husk status', () => {
    const r = underPty(['run', '--network', 'none', '-it', 'host', 'sh'], [['until', '# ', 10_000], ['write', 'test -t 0 && test -t 1 && echo "is a tty: $(stty size)"; exit 3\n']], { rows: 33, cols: 101 });
    expect(r.timedOut).toBeNull();
    expect(r.output).toContain('is a tty: 33 101');
    expect(r.status).toBe(3);
    expect(husk(root, ['ps', '-aq']).stdout).toBe(''); // removed, as a foreground run is
  });

  it('the terminal is one of the container\'s own devpts: tty names /dev/pts/0, which ls shows', () => {
    const r = underPty(['run', '--network', 'none', '-it', 'host', 'sh'], [['until', '# ', 10_000], ['write', 'echo "tty is $(tty) pts: $(ls /dev/pts | tr "\\n" " ")"; exit 4\n'], ['until', 'pts:', 5000]]);
    expect(r.timedOut).toBeNull();
    expect(r.output).toMatch(/tty is \/dev\/pts\/0 pts: 0 ptmx/);
    expect(r.output).not.toContain('not a tty');
    expect(r.status).toBe(4);
  });

  it('the same with --init and in a user namespace (the pty belongs to the container)', () => {
    const r = underPty(['run', '--network', 'none', '-t', '--init', '--userns', 'auto', 'host', 'sh', '-c', 'echo "tty is $(tty)"; stty size'], [['until', 'tty is', 10_000]], { rows: 30, cols: 70 });
    expect(r.timedOut).toBeNull();
    expect(r.output).toContain('tty is /dev/pts/0');
    expect(r.output).toContain('30 70');
    expect(r.status).toBe(0);
  });

  it('follows the caller window size (SIGWINCH) and leaves the caller terminal as it was', () => {
    const r = underPty(['stty -g; HUSK run --network none -it host sh; stty -g'], [
      ['until', '# ', 10_000],
      ['resize', 50, 132],
      ['sleep', 300],
      ['write', 'echo "size now $(stty size)"; exit\n'],
    ], { sh: true });
    expect(r.timedOut).toBeNull();
    expect(r.output).toContain('size now 50 132');
    const settings = r.output.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(l));
    expect(settings).toHaveLength(2);
    expect(settings[1]).toBe(settings[0]);
  });

  it('passes a signal sent to husk on to the container', () => {
    const r = underPty(['run', '--network', 'none', '-it', 'host', 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done'], [['until', 'ready', 10_000], ['signal', 15]]);
    expect(r.timedOut).toBeNull();
    expect(r.output).toContain('got-term');
    expect(r.status).toBe(5);
  });

  it('detaches on ctrl-p ctrl-q; attach joins again, sends input, and returns the exit status', () => {
    const first = underPty(['run', '--network', 'none', '-it', '--name', 'tty1', 'host', 'sh'], [['until', '# ', 10_000], ['write', 'echo one\n'], ['until', 'one', 5000], ['write', '\x10\x11']]);
    expect(first.timedOut).toBeNull();
    expect(first.status).toBe(0);
    expect(husk(root, ['ps']).stdout).toMatch(/Up .* tty1/);
    const again = underPty(['attach', 'tty1'], [['sleep', 300], ['write', 'echo "two $(stty size)"; exit 7\n'], ['until', 'two 40 90', 5000]], { rows: 40, cols: 90 });
    expect(again.timedOut).toBeNull();
    expect(again.status).toBe(7);
    expect(husk(root, ['ps', '-a']).stdout).toMatch(/Exited \(7\).* tty1/);
    // The pty's output is in the log too.
    expect(husk(root, ['logs', 'tty1']).stdout).toMatch(/one[\s\S]*two 40 90/);
  });

  it('custom --detach-keys detach; the default pair then goes to the container as typed', () => {
    const r = underPty(['run', '--network', 'none', '-it', '--detach-keys', 'ctrl-x,x', '--name', 'tty2', 'host', 'sh'], [['until', '# ', 10_000], ['write', '\x10\x11echo still\n'], ['until', 'still', 5000], ['write', '\x18x']]);
    expect(r.timedOut).toBeNull();
    expect(r.status).toBe(0);
    expect(husk(root, ['ps']).stdout).toMatch(/Up .* tty2/);
  });
});

describe('run -d -i and attach', () => {
  it('keeps stdin open until an attached client ends it; the output reaches the client and the log', () => {
    expect(husk(root, ['run', '--network', 'none', '-d', '-i', '--name', 'cat1', 'host', 'sh', '-c', 'cat; echo done >&2; exit 4']).status).toBe(0);
    const r = husk(root, ['attach', 'cat1'], { input: 'hello\nworld\n' });
    expect(r.stdout).toBe('hello\nworld\n');
    expect(r.stderr).toBe('done\n');
    expect(r.status).toBe(4);
    expect(husk(root, ['logs', 'cat1']).stdout).toBe('hello\nworld\n');
  });

  it('run -dit: a detached container with a pty, its prompt in the log', async () => {
    expect(husk(root, ['run', '--network', 'none', '-dit', '--name', 'sh1', 'host', 'sh']).status).toBe(0);
    const deadline = Date.now() + 5000;
    while (!husk(root, ['logs', 'sh1']).stdout.includes('# ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(husk(root, ['logs', 'sh1']).stdout).toBe('# ');
  });

  it('names what is wrong: no such container, one that has ended, a pipe for a terminal', () => {
    const none = husk(root, ['attach', 'nope']);
    expect(none.status).toBe(125);
    expect(none.stderr).toBe('husk: no such container: nope\n');
    expect(husk(root, ['run', '--network', 'none', '-d', '--name', 'gone', 'host', 'true']).status).toBe(0);
    spawnSync('sleep', ['0.5']);
    const ended = husk(root, ['attach', 'gone']);
    expect(ended.status).toBe(125);
    expect(ended.stderr).toBe('husk: cannot attach to container gone: it is not running\n');
    expect(husk(root, ['run', '--network', 'none', '-dit', '--name', 'tty3', 'host', 'sh']).status).toBe(0);
    const piped = husk(root, ['attach', 'tty3']);
    expect(piped.status).toBe(125);
    expect(piped.stderr).toMatch(/^husk: the input device is not a TTY\n/);
    const keys = husk(root, ['run', '--network', 'none', '-it', '--detach-keys', 'ctrl-', 'host', 'true']);
    expect(keys.status).toBe(125);
    expect(keys.stderr).toMatch(/invalid value "ctrl-" for --detach-keys/);
  });
});
