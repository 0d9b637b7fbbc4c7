// Where husk's own built artifacts are: found from this file's place in the package, which
// is ts/runtime/ when run from source (tests) and dist/ts/runtime/ when built.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HuskError } from '../errors.js';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'launcher-zig'))) return dir;
    dir = dirname(dir);
  }
  throw new HuskError('install', `cannot find the husk package above ${fileURLToPath(import.meta.url)}`);
}

const packageRoot = findPackageRoot();

/** root's state directory when --root (CLI) or `root` (API) is not given. */
export const DEFAULT_ROOT = '/run/husk';

/** The uid husk runs as (0: rootful). */
export function callerUid(): number {
  return process.geteuid?.() ?? 0;
}

/** A non-root caller's fallback state directory when $XDG_RUNTIME_DIR is unusable (podman's /tmp/podman-run-UID). */
export function fallbackRoot(uid: number): string {
  return `/tmp/husk-${uid}`;
}

/**
 * The state directory when --root is not given, one owner for the CLI and the API: root's
 * /run/husk; a non-root caller's $XDG_RUNTIME_DIR/husk when that directory is the caller's
 * own (pam_systemd's /run/user/UID), else /tmp/husk-UID (made 0700 and checked to be the
 * caller's by ensureRoot). A user's husk never looks in another user's place by default.
 */
export function defaultRoot(uid = callerUid(), env: NodeJS.ProcessEnv = process.env): string {
  if (uid === 0) return DEFAULT_ROOT;
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg !== undefined && xdg.startsWith('/')) {
    try {
      const st = statSync(xdg);
      if (st.isDirectory() && st.uid === uid) return `${xdg.replace(/\/+$/, '')}/husk`;
    } catch {
      // Unset in practice: fall back.
    }
  }
  return fallbackRoot(uid);
}

/** What a person reads when one of husk's built files is not there (`npm install` builds them). */
export function notBuilt(rel: string): HuskError {
  return new HuskError('install', `husk is not built: ${rel} is missing; run npm install`);
}

const LAUNCHER = 'zig-out/bin/husk-launcher';
// Checked once per process: a stat is cheap, but a launch should not pay it every time. A
// launcher deleted later still fails its spawn as 'install' (runtime/launcher.ts).
let launcherSeen = false;

/** The launcher binary (HUSK_LAUNCHER overrides it); the package's own must have been built. */
export function launcherPath(): string {
  const custom = process.env.HUSK_LAUNCHER;
  if (custom !== undefined) return custom;
  const path = join(packageRoot, LAUNCHER);
  if (!launcherSeen) {
    if (!existsSync(path)) throw notBuilt(LAUNCHER);
    launcherSeen = true;
  }
  return path;
}

export function packagePath(rel: string): string {
  return join(packageRoot, rel);
}
