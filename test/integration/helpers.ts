// Shared by the real-kernel suites: run husk as a person would, and prove nothing leaked.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const repo = new URL('../../', import.meta.url).pathname;
export const huskBin = join(repo, 'bin/husk.js');
export const launcherBin = join(repo, 'zig-out/bin/husk-launcher');

/** A state root of the suite's own, with husk in its name so a leak is easy to see. */
export function testRoot(): string {
  const dir = mkdtempSync(`/tmp/husk-test-${process.pid}-`);
  chmodSync(dir, 0o711); // a user-namespaced container's root must be able to reach its stage
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

function pidsWhere(pred: (pid: number) => boolean): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (pred(Number(name))) out.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** What /proc/PID/exe names for a launcher: it runs from a sealed in-memory copy of
 * itself (docs/security.md), never from the file. */
export const sealedLauncherExe = '/memfd:husk-launcher (deleted)';

/** A process of this repo's launcher (its sealed copy, started as launcherBin). */
export function isLauncher(pid: number): boolean {
  if (readlinkSync(`/proc/${pid}/exe`) !== sealedLauncherExe) return false;
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === launcherBin;
}

export function launcherPids(): number[] {
  return pidsWhere(isLauncher);
}

function childPids(of: number): number[] {
  return pidsWhere((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === of;
  });
}

export interface HostSnapshot {
  mounts: string[];
  launchers: number[];
  children: number[];
  fds: number;
}

/** What a leak would change: the host's mount table, launchers, our children, our fds. */
export function snapshot(): HostSnapshot {
  return {
    mounts: readFileSync('/proc/1/mountinfo', 'utf8').split('\n').map((l) => l.split(' ').slice(3, 5).join(' ')).sort(),
    launchers: launcherPids(),
    children: childPids(process.pid),
    fds: readdirSync('/proc/self/fd').length,
  };
}

/** Waits up to `ms` for processes to be reaped, then checks nothing new is left. */
export async function expectNoLeak(before: HostSnapshot, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  let now = snapshot();
  while (Date.now() < deadline && (now.launchers.length > before.launchers.length || now.children.length > before.children.length)) {
    await new Promise((r) => setTimeout(r, 50));
    now = snapshot();
  }
  expect(now.mounts, 'host mount table').toEqual(before.mounts);
  expect(now.launchers.filter((p) => !before.launchers.includes(p)), 'launcher processes left').toEqual([]);
  expect(now.children.filter((p) => !before.children.includes(p)), 'child processes left').toEqual([]);
  expect(now.fds, 'fds open in the test process').toBeLessThanOrEqual(before.fds);
}

/** What is left under a state root besides husk's own empty directories. */
export function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (readdirSync(p).length === 0) continue;
        walk(p);
      } else out.push(p);
    }
  };
  walk(root);
  return out;
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** A busybox rootfs (from Debian's busybox-static) for --rootfs tests. */
export function busyboxRootfs(): string {
  const dir = mkdtempSync('/tmp/husk-test-rootfs-');
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!bb) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  const r = spawnSync('sh', ['-c', `mkdir -p "$1/bin" "$1/etc" && cp "$2" "$1/bin/busybox" && for a in $("$2" --list); do [ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"; done && printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534::/:/bin/sh\\n' > "$1/etc/passwd" && echo hello-from-rootfs > "$1/etc/motd"`, 'sh', dir, bb], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the busybox rootfs failed: ${r.stderr}`);
  return dir;
}
