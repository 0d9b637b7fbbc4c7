#!/usr/bin/env -S node --
// One bundled file (dist/husk.mjs) makes a cold start read one module instead of dozens.
// During development `tsc` alone refreshes dist/ts/ but not the bundle: then use dist/ts/.
import { statSync } from 'node:fs';

const bundle = new URL('../dist/husk.mjs', import.meta.url);
const modules = new URL('../dist/ts/cli/main.js', import.meta.url);
const mtime = (u) => {
  try {
    return statSync(u).mtimeMs;
  } catch {
    return -1;
  }
};
const entry = mtime(bundle) >= mtime(modules) ? bundle : modules;
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
