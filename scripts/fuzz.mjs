#!/usr/bin/env node
// npm run fuzz -- [--minutes N] [--seconds N] [--seed S] [--target ENTRY]
//                 [--replay CASE_SEED --target ENTRY]
// Random and structured requests through every entry point of the policy core (the targets
// registered in test/property/fuzz-harness.ts): no trap, no hang, status 0/1/2, answers that
// decode, invariants, and the same answer as the TypeScript reference. Prints executions per
// second; on a failure prints the target and the case seed, and exits 1. `--replay` runs
// that one case again and prints its request bytes.
import './register-ts.mjs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    target: { type: 'string' },
    replay: { type: 'string' },
    'keep-going': { type: 'boolean', default: false },
  },
});

const harness = await import('../test/property/fuzz-harness.ts');

if (values.replay !== undefined) {
  if (!values.target) {
    console.error('fuzz: --replay needs --target ENTRY');
    process.exit(2);
  }
  const seed = Number(values.replay) >>> 0;
  const { message, bytes } = harness.replay(values.target, seed);
  console.log(`case ${seed} of ${values.target}: ${bytes.length} bytes`);
  console.log(Buffer.from(bytes).toString('hex'));
  console.log(message === null ? 'ok' : `FAIL: ${message}`);
  process.exit(message === null ? 0 : 1);
}

const ms = values.seconds !== undefined ? Number(values.seconds) * 1000 : Number(values.minutes ?? '1') * 60_000;
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ process.pid) >>> 0;
console.log(`fuzz: seed ${seed}, ${ms / 1000} s, targets: ${harness.targets.map((t) => t.entry).join(', ')}`);
const result = harness.run({ seed, ms, only: values.target, stopAtFirst: !values['keep-going'] });
const rate = Math.round(result.executions / result.seconds);
console.log(`fuzz: ${result.executions} executions in ${result.seconds.toFixed(1)} s: ${rate} exec/s`);
for (const [entry, n] of Object.entries(result.perTarget)) console.log(`  ${entry}: ${n}`);
for (const f of result.failures) {
  console.log(`FAIL ${f.target}: ${f.message}`);
  console.log(`  run seed ${seed}; replay: npm run fuzz -- --replay ${f.seed} --target ${f.target}`);
}
process.exit(result.failures.length === 0 ? 0 : 1);
