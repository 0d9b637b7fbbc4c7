#!/usr/bin/env -S node --
// husk-runc: runc's command line over husk (docs/runc-cli.md), for engines that call a
// runtime by path (podman --runtime, containerd's runc shim). CommonJS (bin/package.json),
// loading the compiled dist/ts/runc/main.js.
'use strict';
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

import(pathToFileURL(join(__dirname, '..', 'dist', 'ts', 'runc', 'main.js')).href).then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  },
  (err) => {
    process.stderr.write(`husk-runc: cannot load husk: ${err.message}; run npm install\n`);
    process.exitCode = 1;
  },
);
