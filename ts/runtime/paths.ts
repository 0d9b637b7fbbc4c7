// Where husk's own built artifacts are, relative to this package.
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function launcherPath(): string {
  return process.env.HUSK_LAUNCHER ?? `${packageRoot}zig-out/bin/husk-launcher`;
}

export function packagePath(rel: string): string {
  return `${packageRoot}${rel}`;
}
