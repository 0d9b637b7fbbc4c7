// Shared by the real-kernel suites: run husk as a person would, in temp directories of the
// suite's own. (The leak check around every test is in leak-check.ts.)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

export const repo = new URL('../../', import.meta.url).pathname;
export const huskBin = join(repo, 'bin/husk.js');
export const launcherBin = join(repo, 'zig-out/bin/husk-launcher');

/** Temp entries the suites make start with this (the leak check looks for new ones); husk
 *  itself makes none in /tmp. */
export const TEMP_PREFIX = `husk-test-${process.pid}-`;

/**
 * A temp directory the calling file owns: its name is fixed now, so a suite can hold it in a
 * const; it is made (and filled) before the file's first test and removed after its last,
 * so a file that runs no test leaves nothing.
 */
export function suiteDir(what: string, opts: { mode?: number; fill?: (dir: string) => void } = {}): string {
  const dir = `/tmp/${TEMP_PREFIX}${what}-${randomBytes(4).toString('hex')}`;
  beforeAll(() => {
    mkdirSync(dir);
    if (opts.mode !== undefined) chmodSync(dir, opts.mode);
    opts.fill?.(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function husk(root: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, ['--', huskBin, '--root', root, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts husk in the background; resolves `ready` once stdout shows `marker`. */
export function huskAsync(root: string, args: string[], marker: string) {
  const child = spawn(process.execPath, ['--', huskBin, '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(marker)) resolve();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', () => reject(new Error(`husk exited before "${marker}": ${stderr}`)));
  });
  // 'close', not 'exit': the pipes are closed too, so the test process holds no fd of it.
  const done = new Promise<Result>((resolve) =>
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  ready.catch(() => undefined);
  return { child, ready, done };
}

/** A busybox rootfs (from Debian's busybox-static) for --rootfs tests, for the calling file. */
export function suiteRootfs(): string {
  return suiteDir('rootfs', { fill: fillBusybox });
}

/** What /proc/PID/exe names for a launcher: it runs from a sealed in-memory copy of
 * itself (docs/security.md), never from the file. */
export const sealedLauncherExe = '/memfd:husk-launcher (deleted)';
export const dnsBin = join(repo, 'zig-out/bin/husk-dns');

/** A name responder of this repo's (husk-dns, started by husk for a user-defined network). */
export function isResponder(pid: number): boolean {
  return readlinkSync(`/proc/${pid}/exe`) === dnsBin;
}

/** A process of this repo's launcher (its sealed copy, started as launcherBin). */
export function isLauncher(pid: number): boolean {
  if (readlinkSync(`/proc/${pid}/exe`) !== sealedLauncherExe) return false;
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === launcherBin;
}

function fillBusybox(dir: string): void {
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!bb) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  const r = spawnSync('sh', ['-c', `mkdir -p "$1/bin" "$1/etc" && cp "$2" "$1/bin/busybox" && for a in $("$2" --list); do [ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"; done && printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534::/:/bin/sh\\n' > "$1/etc/passwd" && echo hello-from-rootfs > "$1/etc/motd"`, 'sh', dir, bb], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the busybox rootfs failed: ${r.stderr}`);
}

/** `husk rm -f` of every container under `root`, as a user ends what a test left running. */
export function removeAllContainers(root: string): void {
  const ids = husk(root, ['ps', '-aq']).stdout.trim().split('\n').filter(Boolean);
  if (ids.length) husk(root, ['rm', '-f', ...ids]);
}

/** `husk inspect REF`, which must succeed, as the object docker would print. */
export function inspectContainer(root: string, ref: string): any {
  const r = husk(root, ['inspect', ref]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
