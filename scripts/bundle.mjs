// The CLI as one CommonJS file, dist/husk.cjs, which bin/husk.js loads (after `tsc` has made
// dist/ts/). One file read instead of dozens, and CommonJS so that Node's builtins come in with
// a plain require() at the place they are first needed (an ES module bundle hoists every
// builtin import to its top, and Node then builds an ES module facade for each one).
//
// Whitespace and syntax are minified (names are kept, so a stack trace still names its
// functions; dist/husk.cjs.map maps it back to dist/ts/): a smaller file is read and hashed
// faster, about 0.6 ms of a cold start.
//
// The code cache bin/husk.js keeps beside the bundle (dist/husk.cache) was made from the old
// bundle: it goes here, and the next `husk run` makes a new one.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// husk-runc's Node path (bin/husk-runc.js: create, exec and what the fast path hands over)
// is bundled the same way, dist/husk-runc.cjs: each engine call is a cold start.
for (const [entry, out] of [['ts/cli/main.js', 'husk.cjs'], ['ts/runc/main.js', 'husk-runc.cjs']]) await build({
  entryPoints: [join(dist, entry)],
  outfile: join(dist, out),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // ts/runtime/paths.ts finds the package from import.meta.url; in CommonJS that is this file.
  define: { 'import.meta.url': '__husk_bundle_url' },
  banner: { js: "const __husk_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
});
rmSync(join(dist, 'husk.cache'), { force: true });
rmSync(join(dist, 'husk.mjs'), { force: true }); // the ES module bundle of earlier builds
