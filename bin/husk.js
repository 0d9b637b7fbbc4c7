#!/usr/bin/env -S node --
// husk's command line: load the CLI and run main(). CommonJS (bin/package.json says so), so a
// cold start does not go through Node's ES module loader.
//
// The CLI is one bundled file, dist/husk.cjs (scripts/bundle.mjs). It is compiled with V8's
// code cache, dist/husk.cache: the bytecode of the functions the first `husk run` compiled, so
// later starts neither parse the bundle nor compile those functions again. The cache names the
// bundle it was made from (size, mtime, inode) and the Node that made it; V8 checks the rest
// and refuses a cache it cannot use, and then the bundle is compiled as usual and the next
// `husk run` writes a new cache (if dist/ is writable: the cache is trusted like the bundle,
// so it lives only beside it, never in a shared temp directory).
//
// During development `tsc` alone refreshes dist/ts/ but not the bundle: then dist/ts/ is used.
'use strict';
const { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'husk.cjs');
const cacheFile = join(dist, 'husk.cache');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function loadBundle() {
  const { Script } = require('node:vm');
  const fd = openSync(bundle, 'r');
  let source;
  let key;
  try {
    const st = fstatSync(fd);
    key = `husk code cache ${process.version} ${process.arch} ${st.size} ${st.mtimeMs} ${st.ino}\n`;
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let cachedData;
  try {
    const bytes = readFileSync(cacheFile);
    if (bytes.latin1Slice(0, key.length) === key) cachedData = bytes.subarray(key.length);
  } catch {
    // no cache yet
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, bundle, dist);
  const saveCache = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    try {
      accessSync(dist, constants.W_OK);
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: every start compiles the bundle
    }
  };
  return { cli: module.exports, saveCache };
}

// Once main() has returned nothing husk started needs this process (a detached launcher is
// unref'd), but a normal exit still frees the whole heap and waits for V8's compiler threads:
// 5-10 ms of every command (bench/network.mjs, docs/bench.md "Session 8"). So husk exits as
// soon as what it wrote is out: each empty write calls back after every earlier write to its
// stream was handed to the kernel, so a pipe read slowly still gets all of it
// (run-exit.test.ts).
function exitWhenWritten(code) {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function start() {
  if (mtime(join(dist, 'ts/cli/main.js')) > mtime(bundle)) {
    const { main } = await import(require('node:url').pathToFileURL(join(dist, 'ts/cli/main.js')).href);
    exitWhenWritten(await main(process.argv.slice(2)));
    return;
  }
  const { cli, saveCache } = loadBundle();
  const code = await cli.main(process.argv.slice(2));
  // The functions a `run` compiled are the ones worth keeping.
  if (cli.lastCommand() === 'run') saveCache();
  exitWhenWritten(code);
}

start();
