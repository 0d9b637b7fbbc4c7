// config.json hooks under husk-runc, with real hook scripts that write files: each gets the
// OCI state JSON on stdin at its point of the lifecycle (prestart, createRuntime and, in the
// container's namespaces, createContainer at create; startContainer, in the container, and
// poststart at start; poststop at delete), its args and env; a hook that fails or outlives
// its timeout fails the command with one line naming it and leaves nothing behind.
import { chmodSync, existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRunc, waitFor } from './runc-harness.js';

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

  it('poststart reads the started container\'s state (running, its pid) even when its process has already ended', () => {
    const out = (n: string) => join(bundles, `hook-quick-${n}`);
    const dir = bundle(['true'], (c) => (c.hooks = { poststart: [writer(out('poststart'))] }));
    expect(runc(['create', '--bundle', dir, 'hq']).status).toBe(0);
    const pid = stateOf('hq').pid;
    // `true` has ended by the time start (Node's path: it has a poststart hook) reads the state
    // (runtime-tools' hooks_stdin saw `stopped` and pid 0 there).
    const started = runc(['start', 'hq']);
    expect(started.status, started.stderr).toBe(0);
    expect(stateIn(out('poststart'))).toMatchObject({ id: 'hq', pid, status: 'running' });
    expect(runc(['delete', '--force', 'hq']).status).toBe(0);
  });

  it('in the foreground, poststart runs once the process started and poststop after it ended', () => {
    const out = (n: string) => join(bundles, `fg-${n}`);
    const dir = bundle(['sh', '-c', 'exit 5'], (c) => (c.hooks = { poststart: [writer(out('poststart'))], poststop: [writer(out('poststop'))] }));
    const r = runc(['run', '--bundle', dir, 'h2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(5);
    expect(stateIn(out('poststart'))).toMatchObject({ id: 'h2', status: 'running' });
    expect(stateIn(out('poststop'))).toMatchObject({ id: 'h2', status: 'stopped' });
    // createRuntime too: the process waits for it (HOOK_SYNC) as under create.
    const early = bundle(['sh', '-c', 'echo ran'], (c) => (c.hooks = { createRuntime: [writer(out('createRuntime'))] }));
    const e = runc(['run', '--bundle', early, 'h3']);
    expect(e.stderr).toBe('');
    expect(e.stdout).toBe('ran\n');
    expect(stateIn(out('createRuntime'))).toMatchObject({ id: 'h3', status: 'creating' });
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
    // A hook path that is not absolute would be looked up wherever the hook runs: refused.
    expect(refused((c) => (c.hooks = { createContainer: [{ path: 'bin/true' }] }))).toBe('husk-runc: hooks.createContainer[0].path: "bin/true" is not an absolute path\n');
    expect(refused((c) => (c.hooks = { startContainer: [{ path: '../true' }] }))).toBe('husk-runc: hooks.startContainer[0].path: "../true" is not an absolute path\n');
    expect(refused((c) => (c.hooks = { poststart: [{ path: 'true' }] }))).toBe('husk-runc: hooks.poststart[0].path: "true" is not an absolute path\n');
    expect(refused((c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }))).toBe('husk-runc: hooks.poststop[0].timeout: must be at least 1 second\n');
    // A key of a list entry husk-runc does not know (mounts[N].uidMappings was one until idmapped mounts came).
    expect(refused((c) => c.mounts.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['bind'], clearFlags: ['ro'] }))).toMatch(/^husk-runc: mounts\[\d+\]\.clearFlags: not supported by husk-runc\n$/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('every kind runs in runc\'s order; createContainer and startContainer in the container\'s namespaces, startContainer as its process', async () => {
    /** Appends what the hook saw: its kind, the state's status and pid, cwd, namespaces, uid, root. */
    const seen = (kind: string, log: string) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `read -r s; echo "$0 $(echo "$s" | grep -o '"status":"[a-z]*"' | cut -d'"' -f4) $(echo "$s" | grep -o '"pid":[0-9]*' | cut -d: -f2) $(pwd) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid) $(id -u) $(test -e /rootfs-mark && echo container || echo host)" >> ${log}`, kind],
    });
    const dir = bundle(['sh', '-c', 'echo process >> /order; exec sleep 60'], (c) => {
      const host = (kind: string) => seen(kind, '$BUNDLE_ROOTFS/order');
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.cwd = '/tmp';
      c.root.readonly = false; // the process and startContainer append to /order
      c.hooks = {
        prestart: [host('prestart')],
        createRuntime: [host('createRuntime')],
        createContainer: [host('createContainer')],
        startContainer: [seen('startContainer', '/order')],
        poststart: [host('poststart')],
        poststop: [host('poststop')],
      };
    });
    // The rootfs path is only known now: the runtime-namespace hooks write to it from outside.
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    const rootfs = join(dir, 'rootfs');
    for (const list of Object.values(cfg.hooks) as any[]) for (const h of list) h.args[2] = h.args[2].replace('$BUNDLE_ROOTFS', rootfs);
    writeFileSync(cfgPath, JSON.stringify(cfg));
    writeFileSync(join(rootfs, 'rootfs-mark'), '');
    writeFileSync(join(rootfs, 'order'), '');
    chmodSync(join(rootfs, 'order'), 0o666); // the process's user (1000) appends to it
    const order = join(rootfs, 'order');
    const lines = () => readFileSync(order, 'utf8').trim().split('\n').map((l) => l.split(' '));
    expect(runc(['create', '--bundle', dir, 'all']).status).toBe(0);
    const pid = stateOf('all').pid;
    const ns = (p: number | string, t: string) => readlinkSync(`/proc/${p}/ns/${t}`);
    expect(lines().map((l) => l[0])).toEqual(['prestart', 'createRuntime', 'createContainer']);
    const [pre, cr, cc] = lines();
    // Runtime hooks: husk-runc's namespaces, the container's host pid, creating.
    for (const l of [pre, cr]) expect(l.slice(1, 3).concat(l.slice(4, 8))).toEqual(['creating', String(pid), ns('self', 'mnt'), ns('self', 'pid'), '0', 'host']);
    // createContainer: the container's mount and pid namespaces (pid 1 there, runc's getpid()),
    // before pivot_root (the host's tree at /), in the bundle directory, still root.
    expect(cc).toEqual(['createContainer', 'creating', '1', dir, ns(pid, 'mnt'), ns(pid, 'pid'), '0', 'host']);
    expect(runc(['start', 'all']).status).toBe(0);
    await waitFor('the process', () => lines().length >= 6);
    expect(lines().map((l) => l[0])).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'process', 'poststart']);
    // startContainer: inside the container's root, its cwd and its user, right before exec.
    expect(lines()[3]).toEqual(['startContainer', 'created', '1', '/tmp', ns(pid, 'mnt'), ns(pid, 'pid'), '1000', 'container']);
    expect(lines()[5].slice(1, 3)).toEqual(['running', String(pid)]);
    expect(runc(['delete', '--force', 'all']).status).toBe(0);
    expect(lines().map((l) => l[0])).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'process', 'poststart', 'poststop']);
    expect(lines()[6][1]).toBe('stopped');
  });

  it('a createContainer or startContainer hook that fails or times out fails create or run, naming it; nothing is left', () => {
    const failing = bundle(['true'], (c) => (c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no mount >&2; exit 3'] }] }));
    const r = runc(['create', '--bundle', failing, 'cc']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('husk-runc: cannot create the container: hooks.createContainer[0] /bin/sh: exited with status 3: no mount\n');
    expect(readdirSync(root)).toEqual([]);
    const slow = bundle(['true'], (c) => (c.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    expect(runc(['create', '--bundle', slow, 'cc2']).stderr).toBe('husk-runc: cannot create the container: hooks.createContainer[0] /bin/sleep: timed out after 1 s\n');
    const missing = bundle(['true'], (c) => (c.hooks = { createContainer: [{ path: '/no/such/hook' }] }));
    expect(runc(['create', '--bundle', missing, 'cc3']).stderr).toBe('husk-runc: cannot create the container: hooks.createContainer[0] /no/such/hook: cannot run it: ENOENT\n');
    // startContainer in the foreground: the process never runs.
    const late = bundle(['sh', '-c', 'echo ran'], (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] }));
    const s = runc(['run', '--bundle', late, 'sc']);
    expect(s.stderr).toBe('husk-runc: cannot create the container: hooks.startContainer[0] /bin/sh: exited with status 4\n');
    expect(s.stdout).toBe('');
    expect(s.status).toBe(1);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a failing startContainer hook after create: start returns, the process never runs, the container stops (runc\'s)', async () => {
    const dir = bundle(['sh', '-c', 'touch /ran'], (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] }));
    expect(runc(['create', '--bundle', dir, 'sc2']).status).toBe(0);
    expect(runc(['start', 'sc2']).status).toBe(0);
    await waitFor('sc2 to stop', () => stateOf('sc2').status === 'stopped');
    expect(existsSync(join(dir, 'rootfs/ran'))).toBe(false);
    expect(runc(['delete', 'sc2']).status).toBe(0);
  });
});
