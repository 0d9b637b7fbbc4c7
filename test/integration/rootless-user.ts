// A throwaway non-root user for the rootless suites: made with useradd (no subordinate ids of
// its own), given ranges by writing /etc/subuid and /etc/subgid, and removed with its entries
// at the end, the two files (and their `-` backups) restored byte for byte. Commands run as
// it through setpriv, with a HOME and an XDG_RUNTIME_DIR of its own under a suite temp dir.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TEMP_PREFIX, huskBin } from './helpers.js';
import type { Result } from './helpers.js';

const SUBID_FILES = ['/etc/subuid', '/etc/subgid', '/etc/subuid-', '/etc/subgid-'];

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Its HOME (0700, its own) with `run/` as its XDG_RUNTIME_DIR. */
  home: string;
  /** `husk ARGS` as the user; `env` adds to (or with undefined, removes from) its environment. */
  /**
   * `husk ARGS` as the user; `env` adds to (or with undefined, removes from) its environment;
   * `tun`: in a mount namespace of its own where /dev/net/tun is 0666, as on most distributions
   * (this host's is 0600), so that pasta can open it; the host's node is not touched.
   * `cgroup`: a cgroup2 directory the command starts in (moved there by root before it drops
   * to the user, as a login under systemd starts in the user's delegated cgroup).
   */
  husk(args: string[], opts?: { env?: Record<string, string | undefined>; input?: string; tun?: boolean; cgroup?: string }): Result;
  /** Any command as the user. */
  run(argv: string[]): Result;
  /** Its subordinate ranges: `start:count` for both files, or none. */
  setRanges(range: { start: number; count: number } | undefined): void;
}

function sh(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** Made before the file's first test, removed (with everything it owns) after its last. */
export function useTestUser(): TestUser {
  const name = `huskrl${process.pid % 100000}`;
  const home = `/tmp/${TEMP_PREFIX}rl-home`;
  const saved = new Map<string, Buffer | undefined>();
  const user: TestUser = {
    name,
    uid: -1,
    gid: -1,
    home,
    husk(args, opts = {}) {
      const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', HOME: home, XDG_RUNTIME_DIR: join(home, 'run') };
      for (const [k, v] of Object.entries(opts.env ?? {})) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      return asUser(user, [process.execPath, '--', huskBin, ...args], env, opts.input, opts.tun, opts.cgroup);
    },
    run(argv) {
      return asUser(user, argv, { PATH: '/usr/bin:/bin', HOME: home });
    },
    setRanges(range) {
      for (const file of ['/etc/subuid', '/etc/subgid']) {
        const base = saved.get(file)?.toString('utf8') ?? '';
        writeFileSync(file, range ? `${base}${name}:${range.start}:${range.count}\n` : base);
      }
    },
  };
  beforeAll(() => {
    for (const f of SUBID_FILES) saved.set(f, existsSync(f) ? readFileSync(f) : undefined);
    // No ranges from login.defs: each test says which it has.
    sh(['useradd', '-M', '-d', home, '-s', '/usr/sbin/nologin', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
    const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
    user.uid = id('-u');
    user.gid = id('-g');
    mkdirSync(join(home, 'run'), { recursive: true });
    for (const dir of [home, join(home, 'run')]) {
      chownSync(dir, user.uid, user.gid);
      chmodSync(dir, 0o700);
    }
  });
  afterAll(() => {
    // Whatever the user still runs goes first (a failed test's container: only this suite
    // runs anything as this user), by pid, then the user.
    for (const pid of pidsOf(user.uid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(home, { recursive: true, force: true });
    rmSync(`/tmp/husk-${user.uid}`, { recursive: true, force: true });
    spawnSync('userdel', [name]);
    for (const [f, bytes] of saved) {
      if (bytes === undefined) rmSync(f, { force: true });
      else writeFileSync(f, bytes);
    }
  });
  return user;
}

/** The pids whose real uid is `uid`. */
export function pidsOf(uid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) out.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** The mount namespace of `tun`: a tmpfs on /dev/net with a tun node anyone may open. */
const TUN_NAMESPACE = ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
  'mount -t tmpfs -o mode=755,size=64k husk-test-tun /dev/net && mknod -m 666 /dev/net/tun c 10 200 && exec "$@"', 'sh'];

function asUser(user: TestUser, argv: string[], env: NodeJS.ProcessEnv, input?: string, tun?: boolean, cgroup?: string): Result {
  const setpriv = ['setpriv', '--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--', ...argv];
  const moved = cgroup ? ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cgroup, ...setpriv] : setpriv;
  const full = tun ? [...TUN_NAMESPACE, ...moved] : moved;
  const r = spawnSync(full[0], full.slice(1), {
    encoding: 'utf8',
    env,
    cwd: '/',
    input: input ?? '',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
