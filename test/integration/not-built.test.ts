// A husk whose build did not run (no build/core.wasm, no zig-out/bin/husk-launcher) says so in
// one line, as husk's install ('install', status 125), not as a bug in husk ("internal error").
// Run from a copy of the package's CLI files without the built artifacts.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, suiteDir } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();

/** The package without build/ and zig-out/: what bin/husk.js and dist/husk.cjs need to start. */
const pkg = suiteDir('not-built', {
  fill: (dir) => {
    for (const d of ['bin', 'dist', 'launcher-zig']) mkdirSync(join(dir, d));
    for (const f of ['package.json', 'bin/husk.js', 'bin/package.json', 'dist/husk.cjs']) copyFileSync(join(repo, f), join(dir, f));
  },
});

function huskHere(args: string[]) {
  const env = { ...process.env };
  delete env.HUSK_LAUNCHER; // the package's own launcher, which is missing
  const r = spawnSync(process.execPath, ['--', join(pkg, 'bin/husk.js'), '--root', root, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a package that was not built', () => {
  it('names the missing policy core, build/core.wasm, as an install problem', () => {
    for (const args of [['plan', 'host', 'true'], ['run', '--network', 'none', 'host', 'true']]) {
      const r = huskHere(args);
      expect(r.stderr, args.join(' ')).toBe('husk: husk is not built: build/core.wasm is missing; run npm install\n');
      expect(r.status).toBe(125);
      expect(r.stdout).toBe('');
    }
  });

  it('names a policy core that is not Wasm (a truncated build/core.wasm) as an install problem', () => {
    mkdirSync(join(pkg, 'build'), { recursive: true });
    writeFileSync(join(pkg, 'build/core.wasm'), '\0asm\x01');
    const r = huskHere(['plan', 'host', 'true']);
    expect(r.stderr).toMatch(/^husk: husk's policy core build\/core\.wasm is not a usable Wasm module \(.+\); run npm install\n$/);
    expect(r.status).toBe(125);
  });

  it('names the missing launcher, zig-out/bin/husk-launcher, the same way, for run and run -d', () => {
    mkdirSync(join(pkg, 'build'), { recursive: true });
    copyFileSync(join(repo, 'build/core.wasm'), join(pkg, 'build/core.wasm'));
    expect(huskHere(['plan', 'host', 'true']).status).toBe(0); // the core is there now
    for (const args of [['run', '--network', 'none', 'host', 'true'], ['run', '--network', 'none', '-d', 'host', 'sleep', '1']]) {
      const r = huskHere(args);
      expect(r.stderr, args.join(' ')).toBe('husk: husk is not built: zig-out/bin/husk-launcher is missing; run npm install\n');
      expect(r.status).toBe(125);
      expect(r.stdout).toBe('');
    }
  });
});
