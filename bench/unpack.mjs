#!/usr/bin/env node
// npm run bench:unpack: unpacking one layer of 50,000 files, husk's unpackLayer (digest and
// diffId computed, path checks by the core) against GNU tar extracting the same blob, gzip
// and zstd (and plain), each into a fresh directory, alternating, in one run; ratios of the
// medians. Each side is a fresh process (husk: node + dist/ts/image/unpack.js; GNU tar: tar
// and its gzip/zstd child), timed from spawn to exit.
//
// Options: --rounds N (default 5), --files N (default 50000), --disk (extract to the disk
// under bench/work instead of the tmpfs /dev/shm: the disk's writeback makes single runs
// vary by several times on a shared machine), --no-save. No mount is made (the integration
// suites compare the host's mount table).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const rounds = opt('--rounds', 5);
const files = opt('--files', 50_000);
const disk = args.includes('--disk');
const save = !args.includes('--no-save');

const { headerOf, padding, END } = await import(join(repo, 'dist/ts/image/tar-writer.js'));

/** The layer: `files` files of 0–16 KiB (mean ~2.5 KiB of text-like bytes) in dirs of 50. */
function makeLayer(path) {
  let seed = 2463534242;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  // Words and hex ids: about as compressible as a distribution's files (gzip ~3:1).
  const words = Array.from({ length: 20000 }, () => Math.floor(rand() * 2 ** 32).toString(rand() < 0.5 ? 36 : 16));
  const parts = [];
  const t = 1_700_000_000;
  for (let d = 0; d < files / 50; d++) {
    const dir = `usr/share/d${String(Math.floor(d / 50)).padStart(3, '0')}/s${String(d).padStart(4, '0')}`;
    if (d % 50 === 0) parts.push(headerOf({ name: `usr/share/d${String(Math.floor(d / 50)).padStart(3, '0')}/`, type: 0x35, mode: 0o755, mtime: t }));
    parts.push(headerOf({ name: `${dir}/`, type: 0x35, mode: 0o755, mtime: t }));
    for (let f = 0; f < 50; f++) {
      const size = Math.min(16384, Math.floor(-Math.log(1 - rand()) * 2500));
      let text = '';
      while (text.length < size) text += words[Math.floor(rand() * words.length)] + (rand() < 0.1 ? '\n' : ' ');
      const data = Buffer.from(text.slice(0, size));
      parts.push(headerOf({ name: `${dir}/f${f}.txt`, size, mode: f % 7 === 0 ? 0o755 : 0o644, mtime: t + f }), data, padding(size));
    }
  }
  parts.push(END);
  writeFileSync(path, Buffer.concat(parts));
}

/**
 * Runs `cmd argv` under sh, whose `times` then prints the CPU (user+sys) of the whole process
 * tree it waited for (tar and its gzip/zstd child; node, the launcher and a zstd child):
 * unlike wall time, comparable on a machine that others load.
 */
function run(cmd, argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', '"$@"; s=$?; times; exit $s', 'sh', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr || r.error}`);
  const lines = r.stdout.trimEnd().split('\n');
  const seconds = (x) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(x);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  };
  const [user, sys] = lines.pop().trim().split(/\s+/).map(seconds);
  lines.pop(); // the shell's own
  return { ms, cpuMs: Math.round((user + sys) * 1000), out: lines.join('\n') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = join(repo, 'bench/work');
mkdirSync(work, { recursive: true });
const cache = join(work, `unpack-layer-${files}`);
mkdirSync(cache, { recursive: true });
const tar = join(cache, 'layer.tar');
if (!existsSync(`${tar}.zst`)) {
  console.log(`making the layer (${files} files) in ${cache} ...`);
  makeLayer(tar);
  run('gzip', ['-kf6', tar]);
  run('zstd', ['-qf3', tar, '-o', `${tar}.zst`]);
}

const target = mkdtempSync(join(disk ? work : '/dev/shm', `husk-bench-unpack-${process.pid}-`));
const cleanup = () => rmSync(target, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
const results = [];
try {
  const child = join(repo, 'bench/unpack-child.mjs');
  const cases = [
    { name: 'gzip', blob: `${tar}.gz`, gnu: (out) => ['tar', ['-xzf', `${tar}.gz`, '-C', out]] },
    { name: 'zstd', blob: `${tar}.zst`, gnu: (out) => ['tar', ['--zstd', '-xf', `${tar}.zst`, '-C', out]] },
    { name: 'plain', blob: tar, gnu: (out) => ['tar', ['-xf', tar, '-C', out]] },
  ];
  let n = 0;
  for (const c of cases) {
    const gnu = [];
    const husk = [];
    const gnuCpu = [];
    const huskCpu = [];
    const inside = [];
    const cpu = { main: [], all: [], child: [] };
    for (let r = 0; r < rounds; r++) {
      const a = join(target, `g${n++}`);
      mkdirSync(a);
      const [cmd, argv] = c.gnu(a);
      const g = run(cmd, argv);
      gnu.push(g.ms);
      gnuCpu.push(g.cpuMs);
      rmSync(a, { recursive: true, force: true });
      const b = join(target, `h${n++}`);
      const h = run(process.execPath, [child, c.blob, b]);
      husk.push(h.ms);
      huskCpu.push(h.cpuMs);
      const o = JSON.parse(h.out);
      inside.push(o.ms);
      cpu.main.push(o.mainCpu);
      cpu.all.push(o.cpu);
      cpu.child.push(o.childCpu);
      rmSync(b, { recursive: true, force: true });
    }
    const row = {
      case: c.name,
      blobBytes: statSync(c.blob).size,
      gnuMs: median(gnu),
      huskMs: median(husk),
      huskInProcessMs: median(inside),
      ratio: median(husk) / median(gnu),
      gnuCpuMs: median(gnuCpu),
      huskCpuMs: median(huskCpu),
      cpuRatio: median(huskCpu) / median(gnuCpu),
      mainCpuMs: median(cpu.main),
      cpuMs: median(cpu.all),
      childCpuMs: median(cpu.child),
      gnuAll: gnu.map(Math.round),
      huskAll: husk.map(Math.round),
    };
    results.push(row);
    console.log(`${c.name.padEnd(6)} GNU tar ${row.gnuMs.toFixed(0).padStart(6)} ms   husk ${row.huskMs.toFixed(0).padStart(6)} ms (in-process ${row.huskInProcessMs.toFixed(0)} ms; CPU main ${row.mainCpuMs}, all threads ${row.cpuMs}, launcher+children ${row.childCpuMs})   ratio ${row.ratio.toFixed(2)}x   CPU of all processes: GNU tar ${row.gnuCpuMs} ms, husk ${row.huskCpuMs} ms, ${row.cpuRatio.toFixed(2)}x   [gnu ${row.gnuAll.join(' ')}] [husk ${row.huskAll.join(' ')}]`);
  }
} finally {
  cleanup();
}

const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const lines = [
  `# bench:unpack ${stamp}`,
  '',
  `${files} files, ${rounds} rounds, median of each; target: ${disk ? 'disk (ext4)' : 'tmpfs (/dev/shm)'}; load average ${load}; ${spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}, node ${process.version}`,
  '',
  '| layer | blob MB | GNU tar ms | husk ms (process) | husk ms (in-process) | husk / GNU tar | CPU ms of all processes: GNU tar / husk (ratio) | husk CPU ms: main thread / all threads / launcher+children |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.case} | ${(r.blobBytes / 1e6).toFixed(1)} | ${r.gnuMs.toFixed(0)} | ${r.huskMs.toFixed(0)} | ${r.huskInProcessMs.toFixed(0)} | ${r.ratio.toFixed(2)}x | ${r.gnuCpuMs} / ${r.huskCpuMs} (${r.cpuRatio.toFixed(2)}x) | ${r.mainCpuMs} / ${r.cpuMs} / ${r.childCpuMs} |`),
  '',
];
console.log('\n' + lines.join('\n'));
if (save) {
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  writeFileSync(join(repo, `bench/results/${stamp}-unpack${disk ? '-disk' : ''}.md`), lines.join('\n'));
  writeFileSync(join(repo, `bench/results/${stamp}-unpack${disk ? '-disk' : ''}.json`), JSON.stringify({ files, rounds, disk, load, results }, null, 2) + '\n');
}
