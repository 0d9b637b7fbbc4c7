#!/usr/bin/env node
// A cold `husk run` beside `node -e 0`: what husk adds to Node's own start (issue 6's goal:
// at most 10 ms). Each command is run in turn, round after round (so a busy moment on the
// machine falls on all of them alike), after warm-up rounds that are thrown away; it prints
// the median, p10 and p90 wall time of each, the median user+system CPU time, and each
// command's median minus node's. CPU is the mean user+system time (from 10 ms ticks).
//
//   node bench/cold-cli.mjs [--runs N] [--warmup N] [--root DIR] [-- extra commands...]
//
// Run as root (husk run needs it). Extra commands are shell-free argv strings split on spaces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', 40));
const warmup = Number(opt('--warmup', 5));
const dash = args.indexOf('--');
const root = opt('--root', undefined) ?? mkdtempSync(join(tmpdir(), 'husk-cold-'));
const husk = `${join(repo, 'bin/husk.js')} --root ${root}`;
const commands = [
  'node -e 0',
  `${husk} run host true`,
  `${husk} run --net host --pid host --ipc host --uts host host true`,
  ...(dash >= 0 ? args.slice(dash + 1) : []),
];

// One run: wall time from just before the fork to just after the wait, and the child's CPU.
function once(cmd) {
  const [file, ...argv] = cmd.split(' ');
  const before = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}: ${r.stderr}`);
  return { wall, cpu: cpuOfChildren() - before.childCpu };
}

// getrusage(RUSAGE_CHILDREN) is not exposed by Node; read our own /proc stat's cutime+cstime.
import { readFileSync } from 'node:fs';
const tick = 100; // USER_HZ
function cpuOfChildren() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / tick; // cutime + cstime, ms
}
process.resourceUsage = ((orig) => () => ({ ...orig(), childCpu: cpuOfChildren() }))(process.resourceUsage);

const samples = commands.map(() => ({ wall: [], cpu: [] }));
try {
  for (let round = 0; round < warmup + runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const s = once(commands[i]);
      if (round >= warmup) {
        samples[i].wall.push(s.wall);
        samples[i].cpu.push(s.cpu);
      }
    }
  }
} finally {
  if (opt('--root', undefined) === undefined) rmSync(root, { recursive: true, force: true });
}

const q = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const base = q(samples[0].wall, 0.5);
const w = (x) => x.toFixed(1).padStart(7);
console.log(`${runs} runs each after ${warmup} warm-up rounds, interleaved (ms)`);
console.log(`${'median'.padStart(7)} ${'p10'.padStart(7)} ${'p90'.padStart(7)} ${'cpu'.padStart(7)} ${'+node'.padStart(7)}  command`);
commands.forEach((cmd, i) => {
  const m = q(samples[i].wall, 0.5);
  console.log(`${w(m)} ${w(q(samples[i].wall, 0.1))} ${w(q(samples[i].wall, 0.9))} ${w(samples[i].cpu.reduce((a, b) => a + b, 0) / samples[i].cpu.length)} ${w(m - base)}  ${cmd.replace(husk, 'husk')}`);
});
