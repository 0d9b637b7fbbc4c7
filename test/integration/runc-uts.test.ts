// husk-runc and `hostname` with a uts namespace joined by path: as runc, the name is set in
// the joined namespace (its other members see it); with the host's (no uts entry) it is refused.
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { runc, bundle, stateOf } = useRunc();

describe('husk-runc hostname and the uts namespace', () => {
  it('a second container joins the first one\'s uts namespace by path and sets the name the first sees', () => {
    const first = bundle(['sleep', '30'], (cfg) => (cfg.hostname = 'first'));
    const r1 = runc(['run', '-d', '--bundle', first, 'h1']);
    expect(r1.status, r1.stderr).toBe(0);
    const pid = stateOf('h1').pid;
    const second = bundle(['true'], (cfg) => {
      cfg.hostname = 'joined';
      cfg.linux.namespaces = cfg.linux.namespaces.map((n: { type: string }) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${pid}/ns/uts` } : n));
    });
    const r2 = runc(['run', '--bundle', second, 'h2']);
    expect(r2.status, r2.stderr).toBe(0);
    const seen = runc(['exec', 'h1', 'cat', '/proc/sys/kernel/hostname']);
    expect(seen.status, seen.stderr).toBe(0);
    expect(seen.stdout).toBe('joined\n');
    expect(runc(['delete', '--force', 'h1']).status).toBe(0);
  });

  it('hostname with the host\'s uts namespace (no uts entry) is still refused by name', () => {
    const dir = bundle(['true'], (cfg) => {
      cfg.hostname = 'nope';
      cfg.linux.namespaces = cfg.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    });
    const r = runc(['create', '--bundle', dir, 'h3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/hostname: needs a new uts namespace, or one joined by path/);
  });
});
