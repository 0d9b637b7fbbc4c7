// husk-runc driven as an engine drives runc: a busybox bundle of `husk-runc spec`'s shape,
// create (the init waits, husk-runc exits, the pid file names the init), state, start, kill,
// delete; run in the foreground with its exit status; a config with a field husk-runc does not
// support is one line naming the field, exit 1, and leaves nothing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers.js';
import { containerCgroups } from './leak-check.js';
import { huskRunc, useRunc, waitFor } from './runc-harness.js';

const { root, runc, bundle, stateOf } = useRunc();

describe('husk-runc on a bundle', () => {
  it('create leaves the init waiting and exits; start runs it; kill and delete end it', async () => {
    const dir = bundle(['sh', '-c', 'echo started > /mark; exec sleep 60'], (c) => (c.root.readonly = false));
    const pidFile = join(dir, 'pid');
    const created = runc(['create', '--bundle', dir, '--pid-file', pidFile, 'box']);
    expect(created.status, created.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const st = stateOf('box');
    expect(st).toMatchObject({ ociVersion: expect.any(String), id: 'box', status: 'created', pid, bundle: dir });
    // Not husk-runc's child: the init was left to whoever reaps orphans (an engine's subreaper).
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    expect(ppid).not.toBe(process.pid);
    expect(existsSync(join(dir, 'rootfs/mark'))).toBe(false);
    expect(containerCgroups().length).toBeGreaterThan(0);
    const listed = JSON.parse(runc(['list', '--format', 'json']).stdout);
    expect(listed.map((s: any) => [s.id, s.status])).toEqual([['box', 'created']]);

    const started = runc(['start', 'box']);
    expect(started.status, started.stderr).toBe(0);
    await waitFor('the process to run', () => existsSync(join(dir, 'rootfs/mark')));
    expect(stateOf('box').status).toBe('running');
    expect(runc(['start', 'box']).stderr).toMatch(/already running/);
    const refused = runc(['delete', 'box']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/not stopped: running/);

    expect(runc(['kill', 'box', 'KILL']).status).toBe(0);
    await waitFor('the init to end', () => stateOf('box').status === 'stopped');
    expect(stateOf('box').pid).toBe(0);
    expect(runc(['kill', 'box', 'TERM']).stderr).toMatch(/not running/);
    const deleted = runc(['delete', 'box']);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(containerCgroups()).toEqual([]);
    expect(runc(['state', 'box']).stderr).toMatch(/does not exist/);
  });

  it('exec runs a process in the running container: its status in the foreground, left to the caller with -d', async () => {
    const dir = bundle(['sleep', '60'], (c) => (c.hostname = 'execbox'));
    expect(runc(['run', '-d', '--bundle', dir, 'ex']).status).toBe(0);
    const fg = runc(['exec', '--env', 'FOO=bar', '--cwd', '/bin', 'ex', 'sh', '-c', 'echo "$(hostname) $FOO $(pwd) $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 4']);
    expect(fg.stderr).toBe('');
    expect(fg.stdout).toBe('execbox bar /bin sleep 60 \n');
    expect(fg.status).toBe(4);
    writeFileSync(join(dir, 'process.json'), JSON.stringify({ args: ['sleep', '60'], env: ['PATH=/bin'], cwd: '/', user: { uid: 65534, gid: 65534 } }));
    const pidFile = join(dir, 'exec.pid');
    const bg = runc(['exec', '-d', '--process', join(dir, 'process.json'), '--pid-file', pidFile, 'ex']);
    expect(bg.status, bg.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s/m);
    expect(runc(['exec', 'nosuch', 'true']).stderr).toMatch(/does not exist/);
    expect(runc(['delete', '--force', 'ex']).status).toBe(0);
    await waitFor('the exec\'d process to end with its container', () => !existsSync(`/proc/${pid}/status`) || /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')));
  });

  it('process.terminal: the pty master goes to --console-socket, the process runs on its slave', async () => {
    const dir = bundle(['sh', '-c', 'test -t 0 && test -t 1 && echo on-a-terminal'], (c) => (c.process.terminal = true));
    const socket = join(dir, 'console.sock');
    const receiver = spawn('python3', [join(repo, 'test/integration/console-receiver.py'), socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    receiver.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise((r) => receiver.once('close', r));
    try {
      await waitFor('the receiver to listen', () => existsSync(socket));
      expect(runc(['create', '--bundle', dir, '--console-socket', socket, 'tty']).stderr).toBe('');
      expect(runc(['start', 'tty']).status).toBe(0);
      await done;
    } finally {
      if (receiver.exitCode === null) receiver.kill();
      await done;
    }
    expect(out).toMatch(/ready\non-a-terminal/);
    expect(runc(['delete', '--force', 'tty']).status).toBe(0);
    expect(runc(['create', '--bundle', bundle(['true'], (c) => (c.process.terminal = true)), 'notty']).stderr).toBe('husk-runc: process.terminal: a terminal needs --console-socket\n');
  });

  it('delete of a created container ends its waiting init', async () => {
    const dir = bundle(['true']);
    expect(runc(['create', '--bundle', dir, 'waiting']).status).toBe(0);
    const pid = stateOf('waiting').pid;
    const r = runc(['delete', 'waiting']);
    expect(r.status, r.stderr).toBe(0);
    await waitFor('the init to be reaped', () => !existsSync(`/proc/${pid}`));
  });

  it('run in the foreground passes the exit status, the config\'s hostname, env, user, cwd and rlimits', () => {
    const dir = bundle(['sh', '-c', 'echo "$(hostname) $FOO $(id -u):$(id -g) $(pwd) $(ulimit -n)"; exit 3'], (c) => {
      c.hostname = 'from-config';
      c.process.env.push('FOO=bar');
      c.process.user = { uid: 65534, gid: 65534 };
      c.process.cwd = '/work';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
    });
    const r = runc(['run', '--bundle', dir, 'fg']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('from-config bar 65534:65534 /work 512');
    expect(r.status).toBe(3);
    expect(runc(['state', 'fg']).status).toBe(1);
  });

  it('linux.namespaces joined by path: another container\'s /proc/PID/ns/TYPE (as containerd\'s CRI joins a pod\'s)', () => {
    const pod = bundle(['sleep', '60'], (c) => (c.hostname = 'the-pod'));
    const created = runc(['create', '--bundle', pod, '--pid-file', join(pod, 'pid'), 'pod']);
    expect(created.status, created.stderr).toBe(0);
    const pid = Number(readFileSync(join(pod, 'pid'), 'utf8'));
    const dir = bundle(['sh', '-c', 'hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc'], (c) => {
      for (const ns of c.linux.namespaces) if (ns.type === 'uts' || ns.type === 'ipc') ns.path = `/proc/${pid}/ns/${ns.type}`;
      delete c.hostname;
    });
    const r = runc(['run', '--bundle', dir, 'member']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`the-pod\n${readlinkSync(`/proc/${pid}/ns/uts`)}\n${readlinkSync(`/proc/${pid}/ns/ipc`)}\n`);
    expect(r.status).toBe(0);
    expect(runc(['delete', '--force', 'pod']).status).toBe(0);
  });

  it('the capability sets, no_new_privs, masked and read-only paths are the config\'s', () => {
    const dir = bundle(['sh', '-c', 'grep -E "^(CapBnd|CapEff|NoNewPrivs)" /proc/self/status; cat /proc/keys 2>&1 | wc -c; echo x > /proc/sys/kernel/domainname 2>&1 || echo ro'], (c) => {
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_SYS_ADMIN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      c.process.noNewPrivileges = true;
    });
    const r = runc(['run', '--bundle', dir, 'caps']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CapBnd:\s+0000000000200020/);
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000020/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(r.stdout).toMatch(/^0$/m); // /proc/keys masked: empty
    expect(r.stdout).toMatch(/ro/);
  });

  it('a program that does not exist: create succeeds and start fails it with 127, as runc 1.1.5 does (runtime-tools creates bundles whose program comes later)', async () => {
    const dir = bundle(['/no/such/program']);
    const created = runc(['create', '--bundle', dir, 'missing']);
    expect(created.status, created.stderr).toBe(0);
    expect(stateOf('missing').status).toBe('created');
    expect(runc(['start', 'missing']).status).toBe(0);
    await waitFor('the init to end', () => stateOf('missing').status === 'stopped');
    expect(runc(['delete', 'missing']).status).toBe(0);
  });

  it('kill right after start reaches the program, not the init on its way to exec: start returns once the program runs', async () => {
    for (const signal of ['TERM', 'USR1', 'USR2']) {
      const dir = bundle(['sh', '-c', `trap 'touch /${signal}' ${signal}; sleep 10 & wait $!`], (c) => (c.root.readonly = false));
      const id = `sig-${signal.toLowerCase()}`;
      expect(runc(['create', '--bundle', dir, id]).status).toBe(0);
      expect(runc(['start', id]).status).toBe(0);
      // The shell still needs a moment to set its trap after exec: runtime-tools' killsig asks
      // `state` first (one call), as here.
      expect(stateOf(id).status).toBe('running');
      expect(runc(['kill', id, signal]).status).toBe(0);
      await waitFor(`${id} to stop`, () => stateOf(id).status === 'stopped');
      expect(existsSync(join(dir, 'rootfs', signal)), signal).toBe(true);
      expect(runc(['delete', id]).status).toBe(0);
    }
  });

  it('an unknown capability name is ignored with a warning, as runc 1.1 ignores it; the known ones are set', () => {
    const dir = bundle(['sh', '-c', 'grep -E "^CapBnd" /proc/self/status'], (c) => {
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_TEST'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_TEST'] };
    });
    const r = runc(['run', '--bundle', dir, 'capunknown']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('husk-runc: warning: process.capabilities: ignoring unknown capabilities CAP_TEST\n');
    expect(r.stdout).toMatch(/CapBnd:\s+0000000000000020/);
  });

  it('an unknown top-level property runs with a warning (runtime-spec); ociVersion "invalid" is refused before anything is made', () => {
    const dir = bundle(['true'], (c) => (c.unknown = 'unknown'));
    const r = runc(['run', '--bundle', dir, 'propunknown']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('husk-runc: warning: unknown: unknown property ignored, as runtime-spec says\n');
    const bad = runc(['create', '--bundle', bundle(['true'], (c) => (c.ociVersion = 'invalid')), 'badversion']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('husk-runc: ociVersion: "invalid" is not a SemVer version (runtime-spec: MAJOR.MINOR.PATCH)\n');
    expect(runc(['state', 'badversion']).status).toBe(1);
  });

  it('linux.seccomp: a syscall the profile refuses fails with its errno', () => {
    const dir = bundle(['sh', '-c', 'mkdir /made || echo refused; grep ^Seccomp: /proc/self/status'], (c) => {
      c.root.readonly = false;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
    });
    const r = runc(['run', '--bundle', dir, 'filtered']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('refused\nSeccomp:\t2\n');
    expect(r.stderr).toMatch(/Permission denied/);
    expect(existsSync(join(dir, 'rootfs/made'))).toBe(false);
  });

  it('linux.seccomp older than close_range (refused with EPERM), without no_new_privs: the container still starts', () => {
    const dir = bundle(['sh', '-c', 'grep ^Seccomp: /proc/self/status'], (c) => {
      c.process.noNewPrivileges = false;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['close_range'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    const r = runc(['run', '--bundle', dir, 'old-profile']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Seccomp:\t2\n');
    expect(r.status).toBe(0);
  });

  it('a config field husk-runc does not support is one line naming it, exit 1, nothing left', () => {
    const dir = bundle(['true'], (c) => (c.linux.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] }));
    const r = runc(['create', '--bundle', dir, 'bad']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('husk-runc: linux.personality.flags: not supported by husk-runc\n');
    expect(readdirSync(root)).toEqual([]);
    const mount = bundle(['true'], (c) => c.mounts.push({ destination: '/x/../../etc', type: 'bind', source: '/etc', options: ['bind'] }));
    const m = runc(['run', '--bundle', mount, 'bad']);
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/^husk-runc: mounts\[\d+\]\.destination: "\/x\/\.\.\/\.\.\/etc" is not a path inside the rootfs\n$/);
    const exec = bundle(['/no/such/program']);
    const e = runc(['run', '--bundle', exec, 'bad']);
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/^husk-runc: cannot create the container: exec \/no\/such\/program: ENOENT/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a taken id, a bad id and --systemd-cgroup are refused', () => {
    const dir = bundle(['true']);
    expect(runc(['create', '--bundle', dir, 'twice']).status).toBe(0);
    const again = runc(['create', '--bundle', dir, 'twice']);
    expect(again.stderr).toBe('husk-runc: container with id exists: twice\n');
    expect(runc(['delete', 'twice']).status).toBe(0);
    expect(runc(['create', '--bundle', dir, 'a/b']).stderr).toMatch(/invalid container id/);
    const sd = spawnSync(huskRunc, ['--systemd-cgroup', '--root', root, 'list'], { encoding: 'utf8' });
    expect(sd.status).toBe(1);
    expect(sd.stderr).toMatch(/^husk-runc: --systemd-cgroup: /);
  });
});
