// The real client: Debian's podman 4.3 with `--runtime` pointing at husk-runc (through a
// two-line wrapper that names the suite's own husk-runc --root), vfs storage, cgroupfs, a
// private --root/--runroot/--tmpdir under the suite's temp directory, no network (so the
// host's podman state and network are untouched). podman runs, lists, stops and removes
// containers, and gets their exit statuses; conmon is the subreaper that reaps each init.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, sleep, suiteDir, suiteRootfs } from './helpers.js';
import { cgroupMounts } from './cgroup-setup.js';
import { useLeakCheck } from './leak-check.js';

const hasPodman = spawnSync('podman', ['--version']).status === 0;
const rootfs = suiteRootfs();
const dir = suiteDir('podman');
// podman puts conmon in a cgroup of its own under --cgroup-parent: podman's, removed as a user would.
// conmon may still be on its way out when podman returns: EBUSY is retried for a while.
const { root } = useLeakCheck({
  cleanup: async () => {
    for (const mount of cgroupMounts()) {
      const conmon = join(mount, `${process.env.HUSK_CGROUP_PARENT}`, 'conmon');
      for (let tries = 0; existsSync(conmon); tries++) {
        try {
          rmdirSync(conmon);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || tries > 100) throw err;
          await sleep(50);
        }
      }
    }
  },
});
const image = 'localhost/husk-runc-test:1';

function podman(args: string[], timeout = 60_000) {
  const r = spawnSync('podman', [
    '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
    '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none',
    '--runtime', join(dir, 'husk-runc'), ...args,
  ], { encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const common = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--cgroup-parent', `/${process.env.HUSK_CGROUP_PARENT}`];

function setup(): void {
  if (existsSync(join(dir, 'husk-runc'))) return;
  writeFileSync(join(dir, 'husk-runc'), `#!/bin/sh\nHUSK_RUNC_NODE=${process.execPath} exec ${join(repo, 'bin/husk-runc')} --root ${root} "$@"\n`);
  chmodSync(join(dir, 'husk-runc'), 0o755);
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
  expect(tar.status).toBe(0);
  const imported = podman(['import', join(dir, 'rootfs.tar'), image]);
  expect(imported.status, imported.stderr).toBe(0);
}

describe.skipIf(!hasPodman)('podman --runtime husk-runc', () => {
  it('runs a container to its exit status, and removes it (--rm)', () => {
    setup();
    const r = podman(['run', '--rm', ...common, image, 'sh', '-c', 'echo "hello $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 7']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello sh -c echo "hello $(cat /proc/1/cmdline | tr "\\0" " ")"; exit 7 \n');
    expect(r.status).toBe(7);
    expect(podman(['ps', '-aq']).stdout).toBe('');
    expect(readdirSync(root)).toEqual([]);
  });

  it('run -t: conmon gets the terminal through --console-socket', () => {
    setup();
    const r = podman(['run', '--rm', '-t', ...common, image, 'sh', '-c', 'test -t 1 && echo on-a-terminal']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^on-a-terminal\r?\n$/);
  });

  it('run -d, ps, exec, stop, ps -a, rm', () => {
    setup();
    const started = podman(['run', '-d', ...common, image, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    expect(started.status, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(podman(['ps', '-q', '--no-trunc']).stdout.trim()).toBe(id);
    const exec = podman(['exec', '-e', 'FOO=bar', '-w', '/bin', id, 'sh', '-c', 'echo "$FOO $(pwd)"; exit 5']);
    expect(exec.stdout).toBe('bar /bin\n');
    expect(exec.status).toBe(5);
    const stopped = podman(['stop', '-t', '5', id]);
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(podman(['ps', '-a', '--format', '{{.Status}}']).stdout).toMatch(/^Exited \(0\)/);
    const removed = podman(['rm', id]);
    expect(removed.status, removed.stderr).toBe(0);
    expect(podman(['ps', '-aq']).stdout).toBe('');
    expect(readdirSync(root)).toEqual([]);
  });

  it('podman\'s default seccomp profile is loaded: a syscall it blocks fails inside', () => {
    setup();
    const r = podman(['run', '--rm', ...common, image, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; reboot -f; echo "reboot $?"']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Seccomp:\t2\nreboot 1\n');
    expect(r.stderr).toMatch(/Operation not permitted/);
  });
});
