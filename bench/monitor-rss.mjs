#!/usr/bin/env node
// bench/monitor-rss.mjs: what each running container's monitor costs in memory, husk's
// launcher beside podman's conmon, both doing the same job: the container (busybox sh)
// prints a line every 0.2 s, the monitor logs it to a file in the CRI/k8s-file format, holds
// the container's exit status and an attach socket. N containers each; for every monitor
// process we read VmRSS (resident, shared pages counted in full) and Pss (shared pages split
// among the processes sharing them) from /proc, and print the medians.
//
//   node bench/monitor-rss.mjs [N]        (as root; needs runc and conmon: apt-get install conmon)
//
// Leaves nothing behind: husk rm -f, runc delete -f, the cgroups and temp dirs removed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const N = Number(process.argv[2] ?? 5);
const LOOP = 'while :; do echo tick; sleep 0.2; done';
const work = mkdtempSync(join(tmpdir(), 'husk-bench-rss-'));
const rootfs = join(work, 'rootfs');
const huskRoot = join(work, 'husk');
const runcRoot = join(work, 'runc');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const which = (cmd) => spawnSync('which', [cmd], { encoding: 'utf8' }).stdout.trim();

function buildRootfs() {
  const busybox = execFileSync('readlink', ['-f', which('busybox')], { encoding: 'utf8' }).trim();
  for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin/busybox'));
  for (const a of ['sh', 'sleep', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', a));
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb(status, 'VmRSS'), pssKb: kb(rollup, 'Pss') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function husk(flags) {
  const bin = join(REPO, 'bin/husk.js');
  const pids = [];
  for (let i = 0; i < N; i++) {
    const id = execFileSync(process.execPath, [bin, '--root', huskRoot, 'run', '--network', 'none', ...flags, '--rootfs', rootfs, 'sh', '-c', LOOP], { encoding: 'utf8' }).trim();
    const info = JSON.parse(execFileSync(process.execPath, [bin, '--root', huskRoot, 'inspect', id], { encoding: 'utf8' }))[0];
    pids.push(info.Husk.LauncherPid);
  }
  await sleep(1500); // a few log lines written
  const m = pids.map(memory);
  const ids = execFileSync(process.execPath, [bin, '--root', huskRoot, 'ps', '-aq'], { encoding: 'utf8' }).trim().split('\n');
  execFileSync(process.execPath, [bin, '--root', huskRoot, 'rm', '-f', ...ids]);
  return m;
}

async function conmon() {
  const bin = which('conmon');
  const runc = which('runc');
  if (!bin || !runc) return undefined;
  const out = [];
  const made = [];
  try {
    for (let i = 0; i < N; i++) {
      const id = `husk-bench-rss-${process.pid}-${i}`;
      const bundle = join(work, id);
      mkdirSync(join(bundle, 'sock'), { recursive: true });
      mkdirSync(join(bundle, 'exit'), { recursive: true });
      execFileSync(runc, ['spec'], { cwd: bundle });
      const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      cfg.root = { path: rootfs, readonly: true };
      cfg.process.terminal = false;
      cfg.process.args = ['sh', '-c', LOOP];
      cfg.linux.cgroupsPath = `/husk-bench-rss/${id}`;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(cfg));
      const pidFile = join(bundle, 'conmon.pid');
      const r = spawnSync(bin, ['--api-version', '1', '-c', id, '-u', id, '-r', runc, '-b', bundle, '-p', join(bundle, 'pid'), '-P', pidFile,
        '-n', id, '--exit-dir', join(bundle, 'exit'), '-l', `k8s-file:${join(bundle, 'log')}`, '--socket-dir-path', join(bundle, 'sock'),
        '--runtime-arg', `--root=${runcRoot}`], { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`conmon: ${r.stderr}`);
      made.push(id);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      for (let t = 0; t < 150; t++) {
        const st = spawnSync(runc, ['--root', runcRoot, 'state', id], { encoding: 'utf8' });
        if (/"status":\s*"created"/.test(st.stdout)) break;
        await sleep(20);
      }
      execFileSync(runc, ['--root', runcRoot, 'start', id]);
      out.push(pid);
    }
    await sleep(1500);
    return out.map(memory);
  } finally {
    for (const id of made) {
      spawnSync(runc, ['--root', runcRoot, 'delete', '-f', id]);
    }
    await sleep(300); // the conmons see their containers go and exit
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified']) {
      const d = `/sys/fs/cgroup/${c}/husk-bench-rss`;
      if (existsSync(d)) try { rmdirSync(d); } catch { /* busy: reported below */ }
    }
  }
}

function row(name, m) {
  if (!m) return `| ${name} | n/a | n/a |`;
  return `| ${name} | ${median(m.map((x) => x.rssKb))} KiB | ${median(m.map((x) => x.pssKb))} KiB |`;
}

buildRootfs();
try {
  const results = {
    'husk run -d (launcher: log + attach socket)': await husk(['-d']),
    'husk run -dit (launcher: pty + log + attach socket)': await husk(['-dit']),
    'conmon + runc (k8s-file log, attach socket)': await conmon(),
  };
  const lines = [
    `Monitor memory per running container, ${N} containers each (median), ${new Date().toISOString()}, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
    `${which('conmon') ? execFileSync('conmon', ['--version'], { encoding: 'utf8' }).split('\n')[0] : 'conmon: not installed'}`,
    '',
    '| monitor | VmRSS | Pss |',
    '|---|---:|---:|',
    ...Object.entries(results).map(([k, v]) => row(k, v)),
  ];
  console.log(lines.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
