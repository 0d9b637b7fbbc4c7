// Pinned namespaces that change what a process is, not only what it sees: a time namespace
// whose clock offsets were set before anything entered it (`ns create --time-offset`,
// `run --time ns:NAME`), and (below) a user namespace with its id maps.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, removeAllContainers } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

function cleanup(root: string): void {
  removeAllContainers(root);
  const names = new Set(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).Name));
  if (names.size) husk(root, ['ns', 'rm', '-f', ...names]);
}

const { root } = useLeakCheck({ cleanup });

function ok(args: string[]) {
  const r = husk(root, args);
  expect(r.status, `husk ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const uptime = (text: string) => Number(text.trim().split(/\s+/)[0]);

describe('a pinned time namespace', () => {
  it('keeps the offsets it was made with; containers that join it see them; ns rm refuses while one is in it', () => {
    ok(['ns', 'create', 'clock', '--time-offset', 'boottime=86400,monotonic=3600']);
    const inode = statSync(join(root, 'ns', 'clock', 'time')).ino;
    const before = uptime(readFileSync('/proc/uptime', 'utf8'));
    const out = ok(['run', '--time', 'ns:clock', 'host', 'sh', '-c', 'readlink /proc/self/ns/time; cat /proc/uptime; cat /proc/self/timens_offsets']).trim().split('\n');
    const after = uptime(readFileSync('/proc/uptime', 'utf8'));
    expect(out[0]).toBe(`time:[${inode}]`);
    // boottime (what /proc/uptime counts) is a day ahead of the host's.
    expect(uptime(out[1])).toBeGreaterThanOrEqual(before + 86400);
    expect(uptime(out[1])).toBeLessThanOrEqual(after + 86400);
    expect(out.slice(2).map((l) => l.trim().split(/\s+/))).toEqual([['monotonic', '3600', '0'], ['boottime', '86400', '0']]);

    const id = ok(['run', '-d', '--time', 'ns:clock', 'host', 'sleep', '60']).trim();
    const ls = ok(['ns', 'ls', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l)).find((n) => n.Name === 'clock');
    expect(ls).toMatchObject({ Type: 'time', Inode: inode, Pinned: true, Processes: 1, Containers: [id.slice(0, 12)] });
    const busy = husk(root, ['ns', 'rm', 'clock']);
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/^husk: cannot remove namespace clock: it is in use by 1 process\(es\)/);
    ok(['rm', '-f', id]);
    ok(['ns', 'rm', 'clock']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });

  it('refuses what cannot be, in one line with 125, and leaves nothing', () => {
    const cases: [string[], RegExp][] = [
      [['run', '--time', 'container:x', 'host', 'true'], /^husk: invalid value "container:x" for --time: expected ns:NAME/],
      [['run', '--time', 'ns:nope', 'host', 'true'], /^husk: --time ns:nope: no such namespace: nope\n/],
      [['ns', 'create', 'bad', '--time-offset', 'boottime=x'], /^husk: invalid value "boottime=x" for --time-offset/],
      [['ns', 'create', 'far', '--time-offset', 'monotonic=4611686019'], /out of range/],
    ];
    for (const [args, line] of cases) {
      const r = husk(root, args);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(line);
    }
    ok(['ns', 'create', 'clock2', '--time']);
    for (const extra of [['--timens'], ['--userns', 'auto']]) {
      const r = husk(root, ['run', ...extra, '--time', 'ns:clock2', 'host', 'true']);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr.split('\n').length).toBe(2);
    }
    ok(['ns', 'rm', 'clock2']);
    expect(husk(root, ['ns', 'ls', '--format', 'json']).stdout.trim()).toBe('');
  });
});
