// config.json hooks under husk-runc, with real hook scripts that write files: each gets the
// OCI state JSON on stdin at its point of the lifecycle (prestart and createRuntime at create,
// poststart at start, poststop at delete), its args and env; a hook that fails or outlives
// its timeout fails the command with one line naming it and leaves nothing behind.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc } from './runc-harness.js';

const { root, runc, bundle, stateOf, bundles } = useRunc();

/** A hook that writes its stdin, then $MARK and its first argument, to `out`. */
const writer = (out: string, env?: string[]) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}; echo >> ${out}; echo "; $MARK $0" >> ${out}`, 'arg0'], ...(env ? { env } : {}) });
const stateIn = (file: string) => JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);

describe('husk-runc hooks', () => {
  it('prestart and createRuntime run at create, poststart at start, poststop at delete, each with the state on stdin', () => {
    const out = (n: string) => join(bundles, `hook-${n}`);
    const dir = bundle(['sleep', '60'], (c) => {
      c.hooks = {
        prestart: [writer(out('prestart'), ['MARK=pre'])],
        createRuntime: [writer(out('createRuntime'), ['MARK=cr'])],
        poststart: [writer(out('poststart'), ['MARK=ps'])],
        poststop: [writer(out('poststop'), ['MARK=stop'])],
      };
    });
    const created = runc(['create', '--bundle', dir, 'h1']);
    expect(created.status, created.stderr).toBe(0);
    const pid = stateOf('h1').pid;
    for (const kind of ['prestart', 'createRuntime']) {
      expect(stateIn(out(kind))).toMatchObject({ id: 'h1', pid, status: 'creating', bundle: dir });
    }
    expect(readFileSync(out('prestart'), 'utf8')).toMatch(/\n; pre arg0\n$/);
    // The hook sees the container's namespaces through its pid, as a network hook would.
    expect(existsSync(`/proc/${pid}/ns/net`)).toBe(true);
    expect(existsSync(out('poststart'))).toBe(false);
    expect(runc(['start', 'h1']).status).toBe(0);
    expect(stateIn(out('poststart'))).toMatchObject({ id: 'h1', pid, status: 'running' });
    expect(existsSync(out('poststop'))).toBe(false);
    expect(runc(['delete', '--force', 'h1']).status).toBe(0);
    expect(stateIn(out('poststop'))).toMatchObject({ id: 'h1', status: 'stopped' });
    expect(readFileSync(out('poststop'), 'utf8')).toMatch(/; stop arg0/);
  });

  it('in the foreground, poststart runs once the process started and poststop after it ended', () => {
    const out = (n: string) => join(bundles, `fg-${n}`);
    const dir = bundle(['sh', '-c', 'exit 5'], (c) => (c.hooks = { poststart: [writer(out('poststart'))], poststop: [writer(out('poststop'))] }));
    const r = runc(['run', '--bundle', dir, 'h2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(5);
    expect(stateIn(out('poststart'))).toMatchObject({ id: 'h2', status: 'running' });
    expect(stateIn(out('poststop'))).toMatchObject({ id: 'h2', status: 'stopped' });
    const early = bundle(['true'], (c) => (c.hooks = { createRuntime: [writer(out('never'))] }));
    expect(runc(['run', '--bundle', early, 'h3']).stderr).toMatch(/^husk-runc: hooks\.createRuntime: `run` in the foreground starts the process at once/);
  });

  it('a hook that exits without reading the state on its stdin ran: its status counts, as with runc', () => {
    // The state is larger than a pipe's buffer (an annotation), so the hook's exit breaks the pipe.
    const big = { 'org.example.big': 'x'.repeat(200_000) };
    const ok = bundle(['true'], (c) => ((c.annotations = big), (c.hooks = { poststart: [{ path: '/bin/true' }] })));
    const r = runc(['run', '--bundle', ok, 'h4']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const failing = bundle(['true'], (c) => ((c.annotations = big), (c.hooks = { poststart: [{ path: '/bin/false' }] })));
    expect(runc(['run', '--bundle', failing, 'h5']).stderr).toMatch(/^husk-runc: hooks\.poststart\[0\] \/bin\/false: exited with status 1/);
  });

  it('a hook that fails or outlives its timeout fails create, naming it; the container is gone', () => {
    const failing = bundle(['true'], (c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no network >&2; exit 3'] }] }));
    const r = runc(['create', '--bundle', failing, 'bad']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('husk-runc: hooks.createRuntime[0] /bin/sh: exited with status 3: no network\n');
    expect(readdirSync(root)).toEqual([]);
    const slow = bundle(['true'], (c) => (c.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const t = runc(['create', '--bundle', slow, 'slow']);
    expect(t.stderr).toBe('husk-runc: hooks.prestart[0] /bin/sleep: timed out after 1 s\n');
    const missing = bundle(['true'], (c) => (c.hooks = { prestart: [{ path: '/no/such/hook' }] }));
    expect(runc(['create', '--bundle', missing, 'gone']).stderr).toBe('husk-runc: hooks.prestart[0] /no/such/hook: cannot run it: ENOENT\n');
    expect(readdirSync(root)).toEqual([]);
  });

  it('hooks and list entries husk-runc cannot honour are refused by name before anything runs', () => {
    const refused = (change: (c: any) => void) => {
      const r = runc(['create', '--bundle', bundle(['true'], change), 'no']);
      expect(r.status).toBe(1);
      return r.stderr;
    };
    expect(refused((c) => (c.hooks = { createContainer: [{ path: '/bin/true' }] }))).toBe('husk-runc: hooks.createContainer: not supported by husk-runc\n');
    expect(refused((c) => (c.hooks = { poststart: [{ path: 'true' }] }))).toBe('husk-runc: hooks.poststart[0].path: "true" is not an absolute path\n');
    expect(refused((c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }))).toBe('husk-runc: hooks.poststop[0].timeout: must be at least 1 second\n');
    expect(refused((c) => c.mounts.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }))).toMatch(/^husk-runc: mounts\[\d+\]\.uidMappings: not supported by husk-runc\n$/);
    expect(readdirSync(root)).toEqual([]);
  });
});
