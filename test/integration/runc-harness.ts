// husk-runc driven as an engine drives runc, for the runc-*.test.ts files: each suite gets its
// own --root (through useLeakCheck), bundles of `husk-runc spec`'s shape with a copy of the
// suite's rootfs, and a runc() whose output goes to files (a created container keeps the stdio
// it was given, so pipes would stay open until it ends).
import { closeSync, cpSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { repo, sleep, suiteDir, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

/** What engines call: the fast front (launcher-zig/runc_main.zig), which hands what it does not do itself to bin/husk-runc.js. */
export const huskRunc = join(repo, 'bin/husk-runc');
/** Node's implementation alone. */
export const huskRuncJs = join(repo, 'bin/husk-runc.js');

export interface RuncResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function useRunc() {
  const rootfs = suiteRootfs();
  const bundles = suiteDir('bundles');
  const { root } = useLeakCheck({
    // What a test left: `delete --force` of every container, as an engine would.
    cleanup: (r) => {
      for (const id of existsSync(r) ? readdirSync(r) : []) runc(['delete', '--force', id]);
    },
  });
  let bundleCount = 0;

  /** husk-runc with `--root`; `fds` are passed on as its fds 3, 4, … */
  function runc(args: string[], opts: { cwd?: string; fds?: number[]; input?: string; env?: NodeJS.ProcessEnv } = {}): RuncResult {
    const out = join(bundles, 'stdout');
    const err = join(bundles, 'stderr');
    const fds = [openSync(out, 'w'), openSync(err, 'w')];
    try {
      const stdin = opts.input === undefined ? 'ignore' : 'pipe';
      const r = spawnSync(huskRunc, ['--root', root, ...args], { stdio: [stdin, fds[0], fds[1], ...(opts.fds ?? [])], timeout: 60_000, cwd: opts.cwd, input: opts.input, env: opts.env ?? process.env });
      return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      fds.forEach(closeSync);
    }
  }

  /** A bundle: `husk-runc spec`'s config with the test's process and changes, rootfs beside it. */
  function bundle(args: string[], change: (cfg: any) => void = () => undefined): string {
    const dir = join(bundles, `b${bundleCount++}`);
    cpSync(rootfs, join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const made = runc(['spec'], { cwd: dir });
    expect(made.status, made.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    cfg.process.terminal = false;
    cfg.process.args = args;
    cfg.linux.cgroupsPath = `/${process.env.HUSK_CGROUP_PARENT}/${`c${bundleCount}`}`;
    change(cfg);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    return dir;
  }

  const stateOf = (id: string) => {
    const r = runc(['state', id]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  /** The container's own cgroup directories, as create recorded them. */
  const cgroupDirsOf = (id: string): string[] => JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupDirs;

  return { root, bundles, runc, bundle, stateOf, cgroupDirsOf };
}

export async function waitFor(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
