// husk logs: the monitor writes a detached container's output as CRI lines (docs/protocol.md
// "The container log"); logs gives back both streams, each on its own, in order, with -t
// times, --tail, --since, and -f that follows until the container ends. No Node process stays
// behind the container: the launcher writes the log itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, huskAsync, removeAllContainers, sleep } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

function runDetached(args: string[]): string {
  const r = husk(root, ['run', '--network', 'none', '-d', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function waitExited(ref: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!husk(root, ['ps', '-a']).stdout.match(new RegExp(`Exited.*${ref}`))) {
    if (Date.now() > deadline) throw new Error(`${ref} did not exit`);
    await sleep(50);
  }
}

const CRI = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z (stdout|stderr) [FP] .*$/;

describe('husk logs', () => {
  it('gives both streams apart, in order, from a log of CRI lines the launcher wrote', async () => {
    const id = runDetached(['--name', 'talk', 'host', 'sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; printf "half-"; sleep 0.1; echo line; echo three']);
    await waitExited('talk');
    const lines = readFileSync(join(root, 'containers', id, 'log'), 'utf8').trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(CRI);
    expect(lines.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['stdout F one', 'stderr F two', 'stdout P half-', 'stdout F line', 'stdout F three']);
    const r = husk(root, ['logs', 'talk']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('one\nhalf-line\nthree\n');
    expect(r.stderr).toBe('two\n');
    const t = husk(root, ['logs', '-t', '--tail', '2', id.slice(0, 8)]);
    expect(t.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]{18}Z half-line\n\S+Z three\n$/);
    expect(t.stderr).toBe('');
  });

  it('keeps lines apart from output with no newline, long lines and binary bytes', async () => {
    runDetached(['--name', 'odd', 'host', 'sh', '-c', 'head -c 20000 /dev/zero | tr "\\0" x; echo; printf "\\001\\377end"']);
    await waitExited('odd');
    const r = husk(root, ['logs', 'odd']);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('x'.repeat(20000));
    expect(out[1].endsWith('end')).toBe(true);
    expect(out).toHaveLength(2);
  });

  it('follows with -f until the container ends, and --since leaves out what came before', async () => {
    runDetached(['--name', 'slow', 'host', 'sh', '-c', 'echo early; sleep 1.2; for i in 1 2 3; do echo tick$i; sleep 0.2; done']);
    await sleep(600);
    const follow = huskAsync(root, ['logs', '-f', 'slow'], 'tick1');
    await follow.ready; // printed while the container still runs
    const done = await follow.done;
    expect(done.status).toBe(0);
    expect(done.stdout).toBe('early\ntick1\ntick2\ntick3\n');
    expect(husk(root, ['logs', '--since', '2026-01-01', 'slow']).stdout).toBe('early\ntick1\ntick2\ntick3\n');
    expect(husk(root, ['logs', '--since', '1h', 'slow']).stdout).toContain('early');
    expect(husk(root, ['logs', '--since', '0.5s', 'slow']).stdout).toBe('');
  });

  it('names what is wrong: an unknown container, a bad --since, a container with no log', () => {
    const none = husk(root, ['logs', 'nope']);
    expect(none.status).toBe(125);
    expect(none.stderr).toBe('husk: no such container: nope\n');
    runDetached(['--name', 'quiet', 'host', 'sleep', '30']);
    const bad = husk(root, ['logs', '--since', 'later', 'quiet']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/^husk: invalid value "later" for --since/);
    expect(husk(root, ['logs', 'quiet']).stdout).toBe('');
  });
});
