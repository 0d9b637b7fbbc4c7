import { readFileSync } from 'node:fs';
import { packagePath } from '../runtime/paths.js';

export function versionText(): string {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
  return `husk version ${pkg.version} (protocol 1)\n`;
}
