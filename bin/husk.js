#!/usr/bin/env -S node --
import { main } from '../dist/ts/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
