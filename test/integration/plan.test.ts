// husk plan shows how a container is made; a saved plan runs in the launcher alone.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { husk, launcherBin } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

describe('husk plan', () => {
  it('prints every op in words, in order, without running anything', () => {
    const r = husk(root, ['plan', '--network', 'none', '--hostname', 'box', 'host', 'echo', 'hi']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^plan v1, \d+ ops/);
    const text = r.stdout;
    const order = ['clone the container process into new', 'mount proc', 'pivot_root into', 'set hostname box', 'bring lo up', 'exec echo hi'];
    let at = 0;
    for (const o of order) {
      const i = text.indexOf(o, at);
      expect(i, o).toBeGreaterThanOrEqual(0);
      at = i;
    }
    expect(lines[lines.length - 1]).toMatch(/container {2}exec echo hi/);
    // Nothing ran: no container record, no stage mount.
    expect(existsSync(`${root}/containers`)).toBe(false);
  });

  it('changes with the flags: --net host has no lo op and binds /sys', () => {
    const r = husk(root, ['plan', '--net', 'host', 'host', 'true']);
    expect(r.stdout).not.toMatch(/bring lo up/);
    expect(r.stdout).toMatch(/bind \/sys on sys/);
    const clone = r.stdout.split('\n').find((l) => l.includes('clone the container process'));
    expect(clone).toBeDefined();
    expect(clone).not.toMatch(/\bnet\b/);
  });

  it('speaks JSON with --format json', () => {
    const r = husk(root, ['plan', '--network', 'none', '--format', 'json', 'host', 'true']);
    const plan = JSON.parse(r.stdout);
    expect(plan.version).toBe(1);
    expect(plan.ops.at(-1)).toMatchObject({ name: 'EXEC', args: { argv: ['true'] } });
  });

  it('saves a plan that husk-launcher runs alone', () => {
    const file = `${root}/plan.bin`;
    const s = husk(root, ['plan', '--network', 'none', '--save', file, '--hostname', 'alone', 'host', 'sh', '-c', 'echo $$ $(hostname)']);
    expect(s.status).toBe(0);
    expect(s.stderr).toMatch(/plan saved to/);
    const r = spawnSync('sh', ['-c', `"${launcherBin}" < "${file}"`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 alone\n');
    expect(r.status).toBe(0);
    rmSync(file);
  });

  it('shows the cgroup writes a host of another layout would get, with --host-cgroups', () => {
    const v2 = husk(root, ['plan', '--network', 'none', '--host-cgroups', 'v2', '--memory', '64m', '--cpus', '0.5', '--cpu-shares', '1024', 'host', 'true']);
    expect(v2.status).toBe(0);
    expect(v2.stdout).toMatch(/write 67108864 to \/sys\/fs\/cgroup\/[^ ]+\/[0-9a-f]{64}\/memory\.max/);
    expect(v2.stdout).toMatch(/write "50000 100000" to .*\/cpu\.max/);
    expect(v2.stdout).toMatch(/write 100 to .*\/cpu\.weight/); // runc's 2025 formula: 1024 → 100
    const v1 = husk(root, ['plan', '--network', 'none', '--host-cgroups', 'v1', '--memory', '64m', 'host', 'true']);
    expect(v1.stdout).toMatch(/write 67108864 to \/sys\/fs\/cgroup\/memory\/[^ ]+\/[0-9a-f]{64}\/memory\.limit_in_bytes/);
    expect(v1.stdout).not.toMatch(/unified/);
    const bad = husk(root, ['plan', '--network', 'none', '--host-cgroups', 'v3', 'host', 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/invalid value "v3" for --host-cgroups/);
  });

  it('reports bad values from the core as one line with status 125', () => {
    const r = husk(root, ['plan', '--network', 'none', '--hostname', 'x'.repeat(70), 'host', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^husk: hostname: /);
  });
});
