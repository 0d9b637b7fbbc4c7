#!/usr/bin/env -S node --
// One bundled file (dist/husk.mjs): a cold start reads one module instead of dozens.
import { main } from '../dist/husk.mjs';

process.exitCode = await main(process.argv.slice(2));
