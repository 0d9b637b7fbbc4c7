// config.json's bind mounts with the atime options and data options engines and
// runtime-tools pass: the atime mode is set on the bind (runc sets it on its remount), data
// such as mode= or size= is dropped as the kernel drops it on a bind, and two atime modes at
// once are refused by name.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle } = useRunc();

/** The per-mount options mountinfo shows for each of `targets`, in the container. */
function optionsIn(stdout: string, target: string): string[] {
  const line = stdout.split('\n').find((l) => l.split(' ')[4] === target);
  expect(line, `${target} in mountinfo`).toBeDefined();
  return line!.split(' ')[5].split(',');
}

describe('husk-runc bind mounts with atime and data options', () => {
  it('strictatime, noatime, nodiratime are set on the bind; mode= and size= do not stop it', () => {
    const dir = bundle(['cat', '/proc/self/mountinfo'], (c) => {
      const source = '/etc';
      c.mounts.push(
        { destination: '/mnt/strict', type: 'bind', source, options: ['bind', 'nosuid', 'strictatime', 'mode=755', 'size=1k'] },
        { destination: '/mnt/noatime', type: 'bind', source, options: ['rbind', 'noatime', 'nodiratime', 'ro'] },
        { destination: '/mnt/plain', type: 'bind', source, options: ['bind'] },
      );
    });
    const r = runc(['run', '--bundle', dir, 'atime']);
    expect(r.status, r.stderr).toBe(0);
    const strict = optionsIn(r.stdout, '/mnt/strict');
    expect(strict).toContain('nosuid');
    expect(strict).not.toContain('relatime');
    expect(strict).not.toContain('noatime');
    expect(optionsIn(r.stdout, '/mnt/noatime')).toEqual(expect.arrayContaining(['ro', 'noatime', 'nodiratime']));
    expect(optionsIn(r.stdout, '/mnt/plain')).toContain('relatime');
  });

  it('an unbindable bind (and an runbindable rbind) is still there after pivot_root, as runc leaves it', () => {
    const dir = bundle(['cat', '/proc/self/mountinfo'], (c) => c.mounts.push(
      { destination: '/mnt/unbindable', type: 'bind', source: '/etc', options: ['bind', 'unbindable'] },
      { destination: '/mnt/runbindable', type: 'bind', source: '/etc', options: ['rbind', 'runbindable'] },
    ));
    const r = runc(['run', '--bundle', dir, 'unbind']);
    expect(r.status, r.stderr).toBe(0);
    for (const target of ['/mnt/unbindable', '/mnt/runbindable']) {
      const line = r.stdout.split('\n').find((l) => l.split(' ')[4] === target);
      expect(line, target).toBeDefined();
      expect(line).toMatch(/ unbindable /);
    }
  });

  it('two atime modes on one bind are refused by name, leaving nothing', () => {
    const dir = bundle(['true'], (c) => c.mounts.push({ destination: '/mnt/x', type: 'bind', source: '/etc', options: ['bind', 'noatime', 'strictatime'] }));
    mkdirSync(join(dir, 'rootfs/mnt'), { recursive: true });
    const r = runc(['create', '--bundle', dir, 'two']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`husk-runc: mounts[7].options: more than one of noatime, strictatime and relatime\n`);
    expect(readdirSync(root)).toEqual([]);
  });
});
