#!/usr/bin/env -S node --liftoff-only --
// husk-runc: runc's command line over husk (docs/runc-cli.md), for engines that call a
// runtime by path (podman --runtime, containerd's runc shim). CommonJS (bin/package.json).
// It loads dist/husk-runc.cjs, one bundled file (scripts/bundle.mjs): every engine call is a
// cold start, and one file costs less to load than the dozens of dist/ts/ (about a sixth of a
// create's CPU; a V8 code cache as bin/husk.js keeps saved nothing measurable here). During
// development `tsc` alone refreshes dist/ts/ but not the bundle: then dist/ts/runc/main.js is
// loaded.
//
// The flags on the first line are Node's for every call: the front (bin/husk-runc,
// launcher-zig/runc_node.zig) reads them from there. --liftoff-only: the policy core runs once
// per call, so V8's optimizing compile of it in the background is CPU spent for nothing
// (about 15 ms of a create's CPU). The front passes NODE_EXTRA_CA_CERTS on as
// HUSK_RUNC_NODE_EXTRA_CA_CERTS, so that Node does not load the certificates at start
// (husk-runc makes no TLS connection); it is put back here for hooks and the launcher.
'use strict';
if (process.env.HUSK_RUNC_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.HUSK_RUNC_NODE_EXTRA_CA_CERTS;
  delete process.env.HUSK_RUNC_NODE_EXTRA_CA_CERTS;
}
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'husk-runc.cjs');
const modules = join(dist, 'ts', 'runc', 'main.js');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function load() {
  if (mtime(bundle) >= mtime(modules)) return Promise.resolve().then(() => require(bundle));
  return import(pathToFileURL(modules).href);
}

load().then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  },
  (err) => {
    process.stderr.write(`husk-runc: cannot load husk: ${err.message}; run npm install\n`);
    process.exitCode = 1;
  },
);
