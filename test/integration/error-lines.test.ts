// Every error husk prints is one line, whatever the user typed: a value with a newline in it
// cannot forge a second "husk: ..." line.
import { describe, expect, it } from 'vitest';
import { husk } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

describe('errors carrying user input print on one line', () => {
  it('--rootfs with a newline in the path', () => {
    const r = husk(root, ['run', '--network', 'none', '--rootfs', '/tmp/x\nhusk: forged', 'sh']);
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('husk: rootfs /tmp/x\\nhusk: forged: no such file or directory\n');
  });

  it.each([
    ['rm', ['rm', 'no\nsuch'], 1, 'husk: no such container: no\\nsuch\n'],
    ['inspect', ['inspect', 'no\nsuch'], 1, 'husk: no such container: no\\nsuch\n'],
    ['an unknown flag', ['run', '--network', 'none', '--x\x1b[2J', 'host', 'true'], 125, "husk: unknown flag: --x\\x1b[2J\nSee 'husk run --help'.\n"],
  ] as const)('%s', (_what, args, status, stderr) => {
    const r = husk(root, [...args]);
    expect(r.status).toBe(status);
    expect(r.stderr).toBe(stderr);
  });
});
