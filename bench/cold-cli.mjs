#!/usr/bin/env node
// A cold `husk run` beside `node -e 0`: what husk adds to Node's own start (issue 6's goal:
// at most 10 ms). Each command is run in turn, round after round, starting each round at a
// different command (so a busy moment on the machine falls on all of them alike), after
// warm-up rounds that are thrown away. It prints each command's median, p10 and p90 wall time
// (fork to wait), its mean CPU time (user + system, from the kernel's 10 ms ticks) and its
// median minus node's.
//
//   node bench/cold-cli.mjs [--runs N] [--warmup N] [--root DIR] [--before CHECKOUT] [-- extra commands...]
//
// Run as root (husk run needs it). --before adds the same husk commands from another built
// checkout (say, an export of an older commit), in the same rounds and with the same --root.
// Extra commands are argv strings split on spaces (no shell).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && (dash < 0 || i < dash) ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', 40));
const warmup = Number(opt('--warmup', 5));
const givenRoot = opt('--root', undefined);
const root = givenRoot ?? mkdtempSync(join(tmpdir(), 'husk-cold-'));
const checkouts = [['husk', repo]];
if (opt('--before', undefined)) checkouts.push(['before: husk', opt('--before', undefined)]);

const commands = [{ name: 'node -e 0', argv: ['node', '-e', '0'] }];
for (const [label, dir] of checkouts) {
  const bin = [join(dir, 'bin/husk.js'), '--root', root];
  commands.push({ name: `${label} run --network none host true`, argv: [...bin, 'run', '--network', 'none', 'host', 'true'] });
  commands.push({ name: `${label} run --net host --pid host --ipc host --uts host host true`, argv: [...bin, 'run', '--net', 'host', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'host', 'true'] });
}
for (const extra of dash >= 0 ? args.slice(dash + 1) : []) commands.push({ name: extra, argv: extra.split(' ') });

/** CPU time (ms) of this process's waited-for children: cutime + cstime in /proc/self/stat. */
function childrenCpu() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // USER_HZ = 100
}

function once({ name, argv }) {
  const cpu0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
  return { wall, cpu: childrenCpu() - cpu0 };
}

const samples = commands.map(() => ({ wall: [], cpu: [] }));
try {
  for (let round = 0; round < warmup + runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const s = once(commands[i]);
      if (round < warmup) continue;
      samples[i].wall.push(s.wall);
      samples[i].cpu.push(s.cpu);
    }
  }
} finally {
  if (givenRoot === undefined) rmSync(root, { recursive: true, force: true });
}

const quantile = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x) => x.toFixed(1).padStart(7);
const node = quantile(samples[0].wall, 0.5);
console.log(`${runs} runs each after ${warmup} warm-up rounds, interleaved (ms)`);
console.log(`${'median'.padStart(7)} ${'p10'.padStart(7)} ${'p90'.padStart(7)} ${'cpu'.padStart(7)} ${'+node'.padStart(7)}  command`);
commands.forEach(({ name }, i) => {
  const { wall, cpu } = samples[i];
  const median = quantile(wall, 0.5);
  console.log(`${ms(median)} ${ms(quantile(wall, 0.1))} ${ms(quantile(wall, 0.9))} ${ms(mean(cpu))} ${ms(median - node)}  ${name}`);
});
