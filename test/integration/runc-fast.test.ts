// husk-runc's fast front (launcher-zig/runc_main.zig): start, state, kill, delete, pause,
// resume and ps --format json are done without starting Node, with Node's own output. Node
// is made unable to start (NODE_OPTIONS requires a module that does not exist), so a call
// that reached Node fails: each fast call succeeding proves Node was not started, and its
// output is compared with Node's (bin/husk-runc.js) for the same container in the same state.
// What the front does not do (ps(1)'s table, errors) still goes to Node, which the poisoned
// environment shows by failing.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerCgroups } from './leak-check.js';
import { huskRuncJs, useRunc, waitFor } from './runc-harness.js';

const { root, runc, bundle, bundles } = useRunc();
const noNode = { ...process.env, NODE_OPTIONS: '--require=/nonexistent/husk-fast-path-must-not-start-node' };
const fast = (args: string[]) => runc(args, { env: noNode });
/** The same call through Node's implementation alone. */
function viaNode(args: string[]) {
  const r = spawnSync(process.execPath, ['--', huskRuncJs, '--root', root, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fast call and Node's give the same bytes and status (the container does not change between them). */
function same(args: string[]) {
  const f = fast(args);
  const n = viaNode(args);
  expect(f.stderr).toBe('');
  expect(f.status).toBe(0);
  expect({ status: f.status, stdout: f.stdout, stderr: f.stderr }).toEqual(n);
  return f.stdout;
}

describe('husk-runc calls that need no decision run without Node', () => {
  it('the poisoned environment does stop Node: a call the front hands over fails', () => {
    const dir = bundle(['sleep', '60']);
    expect(runc(['create', '--bundle', dir, 'poison']).status).toBe(0);
    const table = fast(['ps', 'poison']);
    expect(table.status).not.toBe(0);
    expect(table.stderr).toMatch(/husk-fast-path-must-not-start-node/);
    expect(fast(['state', 'nothere']).stderr).toMatch(/husk-fast-path-must-not-start-node/);
    expect(runc(['state', 'nothere']).stderr).toBe('husk-runc: container does not exist: nothere\n');
    expect(fast(['delete', 'poison']).status).toBe(0); // created: killed, its cgroups removed, no Node
    expect(existsSync(join(root, 'poison'))).toBe(false);
    expect(containerCgroups()).toEqual([]);
  });

  it('state, start, ps --format json, pause, resume, kill and delete: Node\'s output, no Node', async () => {
    const dir = bundle(['sh', '-c', 'echo started > /mark; exec sleep 60'], (c) => {
      c.root.readonly = false;
      c.annotations = { 'org.example/a': 'x "quoted" \\ \u0001 é', b: '' };
    });
    expect(runc(['create', '--bundle', dir, 'quick']).status).toBe(0);
    expect(JSON.parse(same(['state', 'quick'])).status).toBe('created');

    const started = fast(['start', 'quick']);
    expect(started.status, started.stderr).toBe(0);
    expect(started.stdout + started.stderr).toBe('');
    await waitFor('the process to run', () => existsSync(join(dir, 'rootfs/mark')));
    expect(JSON.parse(same(['state', 'quick'])).status).toBe('running');
    const pids = JSON.parse(same(['ps', '--format', 'json', 'quick']));
    expect(pids.length).toBe(1);

    expect(fast(['pause', 'quick']).status).toBe(0);
    expect(JSON.parse(same(['state', 'quick'])).status).toBe('paused');
    expect(readFileSync(`/proc/${pids[0]}/status`, 'utf8')).toMatch(/^State:\s+[SD]/m);
    expect(fast(['resume', 'quick']).status).toBe(0);
    expect(JSON.parse(same(['state', 'quick'])).status).toBe('running');

    expect(fast(['kill', 'quick', 'SIGKILL']).status).toBe(0);
    await waitFor('the init to end', () => JSON.parse(fast(['state', 'quick']).stdout).status === 'stopped');
    expect(JSON.parse(same(['state', 'quick'])).pid).toBe(0);
    const deleted = fast(['delete', 'quick']);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(existsSync(join(root, 'quick'))).toBe(false);
    expect(containerCgroups()).toEqual([]);
    expect(fast(['delete', '--force', 'quick']).status).toBe(0);
  });

  it('kill --all KILL ends every process of the container; delete --force ends a running one', async () => {
    const dir = bundle(['sh', '-c', 'sleep 60 & sleep 60 & echo up > /mark; wait'], (c) => (c.root.readonly = false));
    expect(runc(['run', '-d', '--bundle', dir, 'many']).status).toBe(0);
    await waitFor('the processes to run', () => existsSync(join(dir, 'rootfs/mark')));
    expect(JSON.parse(same(['ps', '--format', 'json', 'many'])).length).toBe(3);
    expect(fast(['kill', '--all', 'many', 'KILL']).status).toBe(0);
    await waitFor('the init to end', () => JSON.parse(fast(['state', 'many']).stdout).status === 'stopped');
    expect(fast(['delete', 'many']).status).toBe(0);

    const other = bundle(['sleep', '60']);
    expect(runc(['run', '-d', '--bundle', other, 'forced']).status).toBe(0);
    expect(fast(['delete', 'forced']).stderr).toMatch(/husk-fast-path-must-not-start-node/); // running, no --force: Node's error
    expect(runc(['delete', 'forced']).stderr).toBe('husk-runc: cannot delete container forced that is not stopped: running\n');
    const forced = fast(['delete', '--force', 'forced']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(existsSync(join(root, 'forced'))).toBe(false);
    expect(containerCgroups()).toEqual([]);
  });

  // The front hands create to node itself (launcher-zig/runc_node.zig), with the flags of
  // bin/husk-runc.js's first line, and keeps NODE_EXTRA_CA_CERTS from Node's start (Node
  // loads that file as it starts; a missing one makes it print a warning) while the hooks,
  // run by that Node, still get it under its own name.
  it('create runs node with the script\'s flags, without loading NODE_EXTRA_CA_CERTS, which the hooks still see', () => {
    const out = join(bundles, 'hook-env');
    const dir = bundle(['sleep', '60'], (c) => {
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `env > ${out}.env; tr '\\0' '\\n' < /proc/$PPID/cmdline > ${out}.cmdline`] }] };
    });
    const certs = join(bundles, 'no-such-ca.pem');
    const made = runc(['create', '--bundle', dir, 'certs'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: certs } });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toBe(''); // Node warns "Ignoring extra certs from ..." when it loads the file
    const env = readFileSync(`${out}.env`, 'utf8').split('\n');
    expect(env).toContain(`NODE_EXTRA_CA_CERTS=${certs}`);
    expect(env.filter((l) => l.startsWith('HUSK_RUNC_'))).toEqual([]);
    const flags = readFileSync(huskRuncJs, 'utf8').split('\n')[0].replace('#!/usr/bin/env -S node ', '').split(' ');
    const cmdline = readFileSync(`${out}.cmdline`, 'utf8').split('\n').filter((a) => a !== '');
    expect(cmdline.slice(1, 2 + flags.length)).toEqual([...flags, huskRuncJs]);
    expect(flags).toContain('--liftoff-only');
    expect(fast(['delete', '--force', 'certs']).status).toBe(0);

    // Node itself does load the file: the same create through the script's own #! line warns.
    // (stderr to a file: the created container keeps it open)
    const errFile = join(bundles, 'direct-stderr');
    const errFd = openSync(errFile, 'w');
    try {
      spawnSync(huskRuncJs, ['--root', root, 'create', '--bundle', dir, 'certs2'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: certs }, stdio: ['ignore', 'ignore', errFd], timeout: 60_000 });
    } finally {
      closeSync(errFd);
    }
    expect(readFileSync(errFile, 'utf8')).toMatch(/Ignoring extra certs/);
    expect(fast(['delete', '--force', 'certs2']).status).toBe(0);
    expect(containerCgroups()).toEqual([]);
  });
});
