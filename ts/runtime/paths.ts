// Where husk's own built artifacts are: found from this file's place in the package, which
// is ts/runtime/ when run from source (tests) and dist/ts/runtime/ when built.
import { existsSync } from 'node:fs';
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

/** The state directory when --root (CLI) or `root` (API) is not given: one owner for both. */
export const DEFAULT_ROOT = '/run/husk';

export function launcherPath(): string {
  return process.env.HUSK_LAUNCHER ?? join(packageRoot, 'zig-out/bin/husk-launcher');
}

export function packagePath(rel: string): string {
  return join(packageRoot, rel);
}
