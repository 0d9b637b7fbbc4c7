// Many husk commands at once on one state root: each says what happened to it, records never
// come back after a removal, a name is given to exactly one container, and no temp or lock
// file is left behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { husk, huskAsync, removeAllContainers } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck({ cleanup: removeAllContainers });

/** `husk ARGS` in the background, as a shell's `&` would start it. */
function start(args: string[]) {
  return huskAsync(root, args, '\u0000never').done;
}

/** `run -d` of n containers, started at once. */
async function runDetached(n: number): Promise<string[]> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => start(['run', '--network', 'none', '-d', '--name', `c${i}`, 'host', 'sleep', '60'])));
  return results.map((r) => {
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  });
}

const stateFiles = () => readdirSync(join(root, 'containers'));

describe('20 husk commands at once', () => {
  it('rm -f of 20 running containers at once: every one succeeds and none comes back', async () => {
    const ids = await runDetached(20);
    const results = await Promise.all(ids.map((id) => start(['rm', '-f', id])));
    for (const [i, r] of results.entries()) {
      expect(r.stderr, `rm -f ${ids[i]}`).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(ids[i]);
    }
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
    expect(stateFiles()).toEqual([]);
  });

  it('rm -f of one container by 20 commands at once: one removes it, the others find it gone', async () => {
    const [id] = await runDetached(1);
    const results = await Promise.all(Array.from({ length: 20 }, () => start(['rm', '-f', id])));
    expect(results.filter((r) => r.status === 0)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 0)) {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^husk: no such container: [0-9a-f]{64}\n$/);
    }
    expect(husk(root, ['ps', '-aq']).stdout).toBe('');
    expect(stateFiles()).toEqual([]);
  });

  it('run -d --name of one name by 20 commands at once: exactly one gets it', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => start(['run', '--network', 'none', '-d', '--name', 'only', 'host', 'sleep', '60'])));
    const won = results.filter((r) => r.status === 0);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 0)) {
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/the container name "only" is already in use/);
    }
    const ps = husk(root, ['ps', '-a', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(ps.map((c) => c.Names)).toEqual(['only']);
    expect(won[0].stdout.trim().slice(0, 12)).toBe(ps[0].ID);
  });

  it('run -d of 20 different names at once: all run, each under its own name', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => start(['run', '--network', 'none', '-d', '--name', `n${i}`, 'host', 'sleep', '60'])));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const names = husk(root, ['ps', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l).Names);
    expect(names.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`).sort());
  });
});
