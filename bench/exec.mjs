#!/usr/bin/env node
// husk exec beside runc exec: the latency of running /bin/true in a container that is
// already running, N rounds each, medians and p10/p90, written to bench/results/exec.md.
//   husk exec (cold CLI)  `husk exec C /bin/true` from a shell: Node's start included
//   husk exec (warm)      the same plan built by the core and run by a launcher from a warm
//                         Node (what an API user pays): joinPlan + spawn + setns + exec + wait
//   runc exec             `runc exec ID /bin/true` on a busybox bundle started by `runc run -d`
// Run as root, under /work/it.lock on shared machines (it makes containers and cgroups):
//   node bench/exec.mjs [--rounds N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, copyFileSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 50;
const husk = join(repo, 'bin/husk.js');
const dir = mkdtempSync(join(tmpdir(), 'husk-bench-exec-'));
const root = join(dir, 'root');
const ms = (ns) => Number(ns) / 1e6;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

function timed(cmd, args) {
  const t = process.hrtime.bigint();
  run(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return ms(process.hrtime.bigint() - t);
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

function runcBundle() {
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const a of ['sh', 'sleep', 'true']) symlinkSync('busybox', join(rootfs, 'bin', a));
  run('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/sleep', '600'];
  // This host's root lacks CAP_SYS_RESOURCE: keep runc's default rlimit within the hard one.
  spec.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

const results = {};
const runcId = `husk-bench-exec-${process.pid}`;
let runcStarted = false;
try {
  run(process.execPath, [husk, '--root', root, 'run', '-d', '--network', 'none', '--name', 'bench', 'host', 'sleep', '600']);
  const bundle = runcBundle();
  // No pipe of ours: the detached container would hold it open and spawnSync would wait on it.
  run('runc', ['run', '-d', '--bundle', bundle, runcId], { stdio: 'ignore' });
  runcStarted = true;

  // The warm path: the CLI's own modules, loaded once, as the API would.
  const dist = join(repo, 'dist/ts');
  const { joinPlan } = await import(join(dist, 'core/join-plan.js'));
  const { execRequest, runningProcess } = await import(join(dist, 'runtime/exec.js'));
  const { launch } = await import(join(dist, 'runtime/launcher.js'));
  const { findContainer, sweep } = await import(join(dist, 'runtime/records.js'));
  const { cgroupHost } = await import(join(dist, 'cgroup/host.js'));
  const rec = findContainer(await sweep(root, cgroupHost), 'bench');
  const host = await cgroupHost();
  const flags = { detach: false, interactive: false, tty: false, env: [], envFiles: [], privileged: false, trace: false, container: 'bench', argv: ['/bin/true'] };

  const cold = [], warm = [], runc = [];
  for (let i = 0; i < rounds; i++) {
    cold.push(timed(process.execPath, [husk, '--root', root, 'exec', 'bench', '/bin/true']));
    const t = process.hrtime.bigint();
    const plan = joinPlan(execRequest(rec, runningProcess(rec, host, 'exec'), host, flags));
    const outcome = await launch(plan, { stdio: 'ignore' });
    if (outcome.exit.how !== 'exited' || outcome.exit.value !== 0) throw new Error(`warm exec: ${JSON.stringify(outcome.exit)}`);
    warm.push(ms(process.hrtime.bigint() - t));
    runc.push(timed('runc', ['exec', runcId, '/bin/true']));
  }
  results['husk exec (cold CLI)'] = stats(cold);
  results['husk exec (warm: core + launcher)'] = stats(warm);
  results['runc exec'] = stats(runc);
} finally {
  spawnSync(process.execPath, [husk, '--root', root, 'rm', '-f', 'bench']);
  if (runcStarted) spawnSync('runc', ['delete', '-f', runcId]);
  rmSync(dir, { recursive: true, force: true });
}

const base = results['runc exec'].median;
const lines = [
  `# husk exec beside runc exec`,
  '',
  `\`node bench/exec.mjs --rounds ${rounds}\`, ${new Date().toISOString()}, /bin/true in a running container (husk: the built-in host image on a hybrid-cgroup host, new pid, mount, uts, ipc, net and cgroup namespaces, 10 cgroup hierarchies; runc ${run('runc', ['--version']).split('\n')[0].split(' ')[2]}: a busybox bundle).`,
  '',
  '| case | median ms | p10 | p90 | × runc exec |',
  '|---|---:|---:|---:|---:|',
  ...Object.entries(results).map(([k, v]) => `| ${k} | ${v.median.toFixed(2)} | ${v.p10.toFixed(2)} | ${v.p90.toFixed(2)} | ${(v.median / base).toFixed(2)}× |`),
  '',
];
writeFileSync(join(repo, 'bench/results/exec.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
