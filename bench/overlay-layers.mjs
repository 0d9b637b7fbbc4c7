#!/usr/bin/env node
// How long the OVERLAY op takes to stack N layers (docs/protocol.md "OVERLAY"), added one at
// a time with fsconfig "lowerdir+" and with the mount(2) fallback (short names), and what a
// whole container start (`/bin/true`, the launcher spawned per run) costs at each N.
//   node bench/overlay-layers.mjs [--rounds 15]      (as root, after npm run build)
// The op's time is the launcher's own (OP_TIME with --trace); the start is wall time from
// spawn to EXIT. Prints a markdown table and writes it to bench/results/overlay-layers.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../dist/ts/cli/args.js';
import { buildPlanAnswer } from '../dist/ts/core/build-plan.js';
import { prepare } from '../dist/ts/runtime/prepare.js';
import { launch } from '../dist/ts/runtime/launcher.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 15) || 15;
const COUNTS = [1, 10, 100, 300, 500];
const OVERLAY = 0x0029;

const dir = mkdtempSync('/tmp/husk-bench-overlay-');
try {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
  execFileSync('cp', [bb, join(rootfs, 'bin/busybox')]);
  execFileSync('ln', ['-s', 'busybox', join(rootfs, 'bin/true')]);
  const layers = [rootfs];
  for (let i = 1; i < Math.max(...COUNTS); i++) {
    const l = join(dir, 'layers', String(i));
    mkdirSync(l, { recursive: true });
    writeFileSync(join(l, `f${i}`), '');
    layers.push(l);
  }
  const root = join(dir, 'state');
  mkdirSync(join(root, 'stage'), { recursive: true });

  async function once(count, legacyOverlay) {
    const cmd = parseArgs(['run', '--trace', '--rootfs', rootfs, '/bin/true']);
    const prepared = prepare(cmd.flags, { root, usedRanges: [], dieWithParent: true });
    const plan = buildPlanAnswer({ ...prepared.request, image: { kind: 'layers', lowers: layers.slice(0, count), legacyOverlay } }).plan;
    let overlayNs = 0n;
    let error;
    const t0 = process.hrtime.bigint();
    const outcome = await launch(plan, {
      stdio: 'ignore',
      onEvent: (ev) => {
        if (ev.kind === 'op-time' && ev.code === OVERLAY) overlayNs = ev.ns;
        if (ev.kind === 'error') error ??= ev.message;
      },
    });
    const wall = process.hrtime.bigint() - t0;
    if (error || outcome.exit.how !== 'exited' || outcome.exit.value !== 0) throw new Error(`${count} layers: ${error ?? JSON.stringify(outcome.exit)}`);
    return { overlay: Number(overlayNs) / 1e6, wall: Number(wall) / 1e6 };
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const count of COUNTS) {
    const row = { count };
    for (const legacy of [false, true]) {
      await once(count, legacy); // warm-up
      const runs = [];
      for (let r = 0; r < rounds; r++) runs.push(await once(count, legacy));
      row[legacy ? 'legacy' : 'plus'] = { overlay: median(runs.map((x) => x.overlay)), wall: median(runs.map((x) => x.wall)) };
    }
    rows.push(row);
  }
  const f = (x) => x.toFixed(2);
  const table = [
    `Medians of ${rounds} runs, ${new Date().toISOString()}, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`,
    '',
    '| layers | OVERLAY op, lowerdir+ (ms) | OVERLAY op, mount(2) short names (ms) | container start, lowerdir+ (ms) | container start, mount(2) (ms) |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.count} | ${f(r.plus.overlay)} | ${f(r.legacy.overlay)} | ${f(r.plus.wall)} | ${f(r.legacy.wall)} |`),
    '',
  ].join('\n');
  console.log(table);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/overlay-layers.md', import.meta.url), `# OVERLAY: stacking N layers\n\n\`node bench/overlay-layers.mjs --rounds ${rounds}\`\n\n${table}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
