// A containerd of the suite's own, for containerd-ctr.test.ts and containerd-cri.test.ts:
// Debian's containerd 1.6 started by the test with its own config, --root, --state, socket,
// snapshotter and plugin dirs, all under one temp directory (the host's containerd, if any,
// is never touched), and an image the test builds (no network), imported with `ctr image
// import`. The runtime is husk-runc through containerd's io.containerd.runc.v2 shim, by a
// wrapper that records each call's arguments (so a test can prove the shim called it).
//
// One thing lands outside the temp directory: containerd 1.6's shim puts its socket under
// /run/containerd/s (a path compiled into the shim). The socket goes with the shim; the
// directories go in stop() if this suite made them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repo, sleep } from './helpers.js';
import { buildLayout, busyboxRootfs, sh } from './images-fixture.js';

export const hasContainerd = spawnSync('containerd', ['--version']).status === 0 && spawnSync('ctr', ['--version']).status === 0;
const SHIM_DIRS = ['/run/containerd/s', '/run/containerd'];

export interface Containerd {
  dir: string;
  address: string;
  /** husk-runc's wrapper, to name as the runc binary */
  huskRunc: string;
  /** the --root the shim gives husk-runc (containerd appends the namespace) */
  runcRoot: string;
  /** containerd's namespace the suite works in */
  namespace: string;
  /** `ctr --address … -n NAMESPACE ARGS` */
  ctr(args: string[], opts?: { timeout?: number }): { status: number | null; stdout: string; stderr: string };
  /** Every husk-runc call the shim made so far: its arguments after the global flags. */
  calls(): string[][];
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  /** containerd's namespace for ctr (the CRI plugin's is k8s.io); default husk-test */
  namespace?: string;
  /** the CRI plugin's section (TOML lines under [plugins."io.containerd.grpc.v1.cri"]), or none: CRI off */
  cri?: (dir: string) => string;
}

/**
 * husk-runc as a file the shim can exec, each call logged: bin/husk-runc (the fast path, which
 * hands the rest to bin/husk-runc.js with the suite's node), else the suite's node on bin/husk-runc.js.
 */
function writeWrapper(dir: string): string {
  const path = join(dir, 'husk-runc');
  const front = join(repo, 'bin/husk-runc');
  const run = existsSync(front) ? `HUSK_RUNC_NODE=${process.execPath} exec ${front}` : `exec ${process.execPath} -- ${join(repo, 'bin/husk-runc.js')}`;
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${join(dir, 'calls')}\n${run} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

function configToml(dir: string, opts: ContainerdOptions): string {
  const disabled = ['io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.internal.v1.tracing', 'io.containerd.tracing.processor.v1.otlp'];
  if (!opts.cri) disabled.push('io.containerd.grpc.v1.cri');
  return [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    `disabled_plugins = ${JSON.stringify(disabled)}`,
    '[grpc]',
    `  address = "${join(dir, 'containerd.sock')}"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(dir, 'opt')}"`,
    ...(opts.cri ? ['[plugins."io.containerd.grpc.v1.cri"]', opts.cri(dir)] : []),
    '',
  ].join('\n');
}

/** Mount points at or under `dir` in this mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts containerd in `dir` (which must exist and be empty) and waits for its socket. */
export async function startContainerd(dir: string, opts: ContainerdOptions = {}): Promise<Containerd> {
  const shimDirsBefore = SHIM_DIRS.filter((d) => existsSync(d));
  const huskRunc = writeWrapper(dir);
  const address = join(dir, 'containerd.sock');
  writeFileSync(join(dir, 'config.toml'), configToml(dir, opts));
  const child = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const namespace = opts.namespace ?? 'husk-test';
  const ctr: Containerd['ctr'] = (args, o = {}) => {
    const r = spawnSync('ctr', ['--address', address, '-n', namespace, ...args], { encoding: 'utf8', timeout: o.timeout ?? 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const stop = async () => {
    child.kill('SIGTERM');
    if (!(await waitExit(child, 10_000))) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
    child.stderr!.destroy();
    for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
    for (const d of SHIM_DIRS) {
      if (shimDirsBefore.includes(d) || !existsSync(d) || readdirSync(d).length > 0) continue;
      rmdirSync(d);
    }
    const left = mountsUnder(dir);
    if (left.length) throw new Error(`mounts left under containerd's dir: ${left.join(', ')}`);
  };
  for (let i = 0; !existsSync(address); i++) {
    if (child.exitCode !== null || i > 600) {
      await stop();
      throw new Error(`containerd did not start: ${output.split('\n').filter((l) => /level=(error|fatal)/.test(l)).join('\n') || output.slice(-2000)}`);
    }
    await sleep(50);
  }
  return {
    dir,
    address,
    namespace,
    huskRunc,
    runcRoot: join(dir, 'runc-root'),
    ctr,
    calls: () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).map(withoutGlobals) : []),
    stop,
  };
}

/** A call's arguments after runc's global flags (--root R --log L --log-format F ...). */
function withoutGlobals(line: string): string[] {
  const words = line.split(' ');
  let i = 0;
  while (i < words.length && words[i].startsWith('--')) i += ['--debug', '--systemd-cgroup'].includes(words[i]) ? 1 : 2;
  return words.slice(i);
}

/**
 * A busybox image as an OCI layout tar, built here (no network) and imported into the
 * suite's containerd as `name` (an OCI ref.name that is a full reference is taken as is).
 */
export function importImage(cd: Containerd, name: string, config: object = {}): void {
  const work = join(cd.dir, `image-${name.replace(/[^a-z0-9]/g, '-')}`);
  mkdirSync(work);
  busyboxRootfs(join(work, 'rootfs'));
  const layout = buildLayout(work, [{ dir: join(work, 'rootfs'), compression: 'gzip' }], { tag: name, config });
  sh('tar -C "$1" -cf "$2" .', layout.dir, `${work}.tar`);
  const r = cd.ctr(['image', 'import', `${work}.tar`]);
  expect(r.status, r.stderr).toBe(0);
  expect(cd.ctr(['image', 'ls', '-q']).stdout.split('\n')).toContain(name);
}
