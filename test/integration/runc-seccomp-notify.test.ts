// SCMP_ACT_NOTIFY under husk-runc, with a real seccomp agent (seccomp-agent.py, python3 on a
// unix socket): the listener fd and the container process state reach the agent at
// linux.seccomp.listenerPath before the process runs, and what the agent answers is what the
// container's mkdir sees. A config that cannot work is one line naming the field.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repo } from './helpers.js';
import { useRunc, waitFor } from './runc-harness.js';

const { root, runc, bundle, stateOf, bundles } = useRunc();
const agentScript = join(repo, 'test/integration/seccomp-agent.py');
const EDQUOT = 122;

let agents: ChildProcess[] = [];
afterEach(async () => {
  for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
  for (const a of agents) if (a.exitCode === null && a.signalCode === null) await new Promise((r) => a.once('exit', r));
  agents = [];
});

let agentCount = 0;
/** An agent listening at a fresh socket: mkdir gets `errno` (0: success, nothing made). */
async function startAgent(errno: number): Promise<{ socket: string; stateFile: string; agent: ChildProcess }> {
  const n = agentCount++;
  const socket = join(bundles, `agent${n}.sock`);
  const stateFile = join(bundles, `agent${n}.json`);
  const agent = spawn('python3', [agentScript, socket, stateFile, String(errno)], { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(agent);
  await waitFor('the agent to listen', () => existsSync(socket));
  return { socket, stateFile, agent };
}

const notifyMkdir = (listenerPath: string | undefined, extra: Record<string, unknown> = {}) => (c: any) => {
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    ...(listenerPath === undefined ? {} : { listenerPath }),
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    ...extra,
  };
};

describe('SCMP_ACT_NOTIFY with linux.seccomp.listenerPath', () => {
  it('run: the agent gets the listener and the state, and its errno is what mkdir sees', async () => {
    const { socket, stateFile } = await startAgent(EDQUOT);
    const dir = bundle(['sh', '-c', 'mkdir /tmp/made; echo "status $?"; test -d /tmp/made && echo exists || echo absent'], notifyMkdir(socket, { listenerMetadata: 'hello agent' }));
    const r = runc(['run', '--bundle', dir, 'n1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('status 1\nabsent\n');
    expect(r.stderr).toBe("mkdir: can't create directory '/tmp/made': Disk quota exceeded\n"); // EDQUOT, the agent's
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state).toMatchObject({ ociVersion: '1.0.2', fds: ['seccompFd'], metadata: 'hello agent', received_fds: 1 });
    expect(state.state).toMatchObject({ id: 'n1', status: 'creating', bundle: dir, annotations: {} });
    expect(state.pid).toBeGreaterThan(1);
    expect(state.state.pid).toBe(state.pid);
  });

  it('create, start: the agent has the listener at create; a "success" it answers makes nothing', async () => {
    const { socket, stateFile } = await startAgent(0);
    const out = join(bundles, 'n2.out');
    const dir = bundle(['sh', '-c', `mkdir /tmp/made && echo made > /out; test -d /tmp/made && echo exists >> /out || echo absent >> /out`], (c) => {
      notifyMkdir(socket)(c);
      c.annotations = { 'org.example': 'x' };
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['bind'] });
    });
    writeFileSync(out, '');
    const created = runc(['create', '--bundle', dir, 'n2']);
    expect(created.status, created.stderr).toBe(0);
    // Handed over before create returned: the process has not run its command yet.
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.pid).toBe(stateOf('n2').pid);
    expect(state.state).toMatchObject({ id: 'n2', annotations: { 'org.example': 'x' } });
    expect(state.metadata).toBeUndefined();
    expect(runc(['start', 'n2']).status).toBe(0);
    await waitFor('the container to stop', () => stateOf('n2').status === 'stopped');
    expect(readFileSync(out, 'utf8')).toBe('made\nabsent\n');
    expect(runc(['delete', 'n2']).status).toBe(0);
  });

  it('an agent that is not there fails create, naming the path; nothing is left', async () => {
    const socket = join(bundles, 'nobody.sock');
    const dir = bundle(['true'], notifyMkdir(socket));
    const r = runc(['create', '--bundle', dir, 'n3']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`send the seccomp listener to ${socket}: connect`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(root, 'n3'))).toBe(false);
  });

  it('NOTIFY without listenerPath, as the default action, or on write is refused by name', () => {
    const cases: [(c: any) => void, string][] = [
      [notifyMkdir(undefined), 'husk-runc: linux.seccomp.listenerPath: missing; SCMP_ACT_NOTIFY needs a seccomp agent\'s socket to send the listener to\n'],
      [(c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x.sock' }), 'husk-runc: linux.seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule\'s)\n'],
      [(c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x.sock', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }), 'husk-runc: linux.seccomp: syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for write (the listener is handed over with it)\n'],
      [notifyMkdir('relative.sock'), 'husk-runc: linux.seccomp.listenerPath: "relative.sock" is not an absolute path\n'],
      [(c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'm' }), 'husk-runc: linux.seccomp.listenerMetadata: given without listenerPath\n'],
    ];
    cases.forEach(([change, line], i) => {
      const r = runc(['create', '--bundle', bundle(['true'], change), `bad${i}`]);
      expect(r.stderr).toBe(line);
      expect(r.status).toBe(1);
    });
    const features = JSON.parse(runc(['features']).stdout);
    expect(features.linux.seccomp.actions).toContain('SCMP_ACT_NOTIFY');
    // Without NOTIFY the path is ignored (the spec's rule).
    const plain = runc(['run', '--bundle', bundle(['true'], (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nowhere.sock' })), 'ok1']);
    expect(plain.stderr).toBe('');
    expect(plain.status).toBe(0);
  });

});
