#!/usr/bin/env zx
// bench/bench.mjs: husk's start latency beside runc, crun, bwrap, unshare(1) and a C floor,
// in one run, interleaved. `npm run bench` (full) or `npm run bench:quick` (< 5 minutes).
//
//   zx bench/bench.mjs [--quick] [--iterations N] [--warmup N] [--throughput N] [--no-save]
//
// Writes bench/results/latest.{md,json,svg} and a dated copy; prints the table. Everything it
// makes (temp dirs, cgroups, the crun mount namespace holder, containers' state) is under names
// with this process's pid and is removed at the end, also on failure or Ctrl-C.
import { $, argv, fs, path } from 'zx';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { BENCH, REPO, WORK, ROOTFS, LAYERS, OCI, OCI_1, OCI_300, STORAGE, BUNDLE, FLOOR, RUNNER, setup } from './setup.mjs';
import { buildCases, LIMITS, LAYERED } from './cases.mjs';
import { summarize, writeReports } from './report.mjs';

$.verbose = false;
const quick = Boolean(argv.quick);
const ITERS = Number(argv.iterations ?? (quick ? 40 : 200));
const WARMUP = Number(argv.warmup ?? (quick ? 5 : 20));
const THROUGHPUT = Number(argv.throughput ?? 1000);
const PARALLEL = 2;
const log = (m) => console.error(`bench: ${m}`);

const TAG = `husk-bench-${process.pid}`;
const RUN = path.join(WORK, `run-${process.pid}`);
const HUSK_ROOT = path.join(RUN, 'husk-root');
const STAGE = path.join(RUN, 'floor-stage');
const ERR = path.join(RUN, 'err');
const STATE = { runc: path.join(RUN, 'state-runc'), crun: path.join(RUN, 'state-crun') };
const CG = '/sys/fs/cgroup';
const t0run = Date.now();
const started = new Set(); // pids of long-lived processes this bench started (killed by pid)

// ---------------------------------------------------------------- cleanup (synchronous)

function quiet(fn) {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function runtimeIds(bin, root) {
  const r = spawnSync(bin, ['--root', root, 'list', '-q'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((x) => x.startsWith(`hb${process.pid}-`)) : [];
}

/** Our cgroup dirs (TAG in every hierarchy), deepest first. */
function ourCgroups() {
  const out = [];
  const walk = (dir) => {
    for (const e of quiet(() => fs.readdirSync(dir, { withFileTypes: true })) ?? []) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
    }
    out.push(dir);
  };
  for (const h of quiet(() => fs.readdirSync(CG)) ?? []) {
    const top = path.join(CG, h, TAG);
    if (fs.existsSync(top)) walk(top);
  }
  return out;
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const pid of started) quiet(() => process.kill(pid, 'SIGKILL'));
  for (const pid of started) quiet(() => spawnSync('true')); // let them go
  for (const [bin, root] of [['runc', STATE.runc], ['crun', STATE.crun]]) {
    if (!fs.existsSync(root)) continue;
    for (const id of runtimeIds(bin, root)) spawnSync(bin, ['--root', root, 'delete', '-f', id]);
  }
  for (const dir of ourCgroups()) {
    // a process left in our cgroup is one of ours: kill it by pid, then remove the dir
    for (const p of (quiet(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')) ?? '').split('\n').filter(Boolean)) {
      quiet(() => process.kill(Number(p), 'SIGKILL'));
    }
    for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
      if (quiet(() => (fs.rmdirSync(dir), true))) break;
      spawnSync('sleep', ['0.02']);
    }
  }
  // nothing is mounted under RUN on the host (every mount is in a container's private
  // namespace); check anyway before removing the tree
  const mi = quiet(() => fs.readFileSync('/proc/self/mountinfo', 'utf8')) ?? '';
  const ours = mi.split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(RUN)).sort().reverse();
  for (const m of ours) spawnSync('umount', ['-l', m]);
  quiet(() => fs.rmSync(RUN, { recursive: true, force: true }));
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- leak checks

function cgroupSnapshot() {
  // husk's own cgroups (<hierarchy>/husk/<id>) and ours
  const out = [];
  for (const h of quiet(() => fs.readdirSync(CG)) ?? []) {
    for (const top of ['husk', TAG]) {
      const d = path.join(CG, h, top);
      if (!fs.existsSync(d)) continue;
      for (const e of quiet(() => fs.readdirSync(d, { withFileTypes: true })) ?? []) if (e.isDirectory()) out.push(path.join(d, e.name));
    }
  }
  return out.sort();
}

// Every process this run starts inherits HUSK_BENCH_RUN=<pid> (containers get their own env,
// but a container outliving its runtime shows up as that runtime's leak first).
process.env.HUSK_BENCH_RUN = String(process.pid);
const MARK = `HUSK_BENCH_RUN=${process.pid}`;
function processSnapshot() {
  const out = new Map();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const environ = quiet(() => fs.readFileSync(`/proc/${p}/environ`, 'latin1')) ?? '';
    const cmdline = (quiet(() => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8')) ?? '').replace(/\0/g, ' ').trim();
    if (!environ.split('\0').includes(MARK) && !cmdline.includes(RUN)) continue;
    const comm = quiet(() => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    out.set(p, `${comm}: ${cmdline}`);
  }
  return out;
}

function snapshot() {
  return { mountinfo: fs.readFileSync('/proc/1/mountinfo', 'utf8'), cgroups: cgroupSnapshot(), procs: processSnapshot() };
}

/** What appeared since `before` and is still there (after a short grace for exits). */
async function leaks(before) {
  let after;
  for (let i = 0; i < 20; i++) {
    after = snapshot();
    const same = after.mountinfo === before.mountinfo && after.cgroups.join() === before.cgroups.join() &&
      [...after.procs.keys()].every((p) => before.procs.has(p));
    if (same) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const beforeMounts = new Set(before.mountinfo.split('\n'));
  return {
    mounts: after.mountinfo.split('\n').filter((l) => l && !beforeMounts.has(l)),
    cgroups: after.cgroups.filter((c) => !before.cgroups.includes(c)),
    processes: [...after.procs].filter(([p]) => !before.procs.has(p) && !started.has(Number(p))).map(([p, d]) => `${p} ${d}`),
  };
}

// ---------------------------------------------------------------- helpers

/** Runs argv once (the probe): status and stderr. */
function probe(argv, { stdin, mntns, timeout = 60000 } = {}) {
  let cmd = argv;
  if (mntns) cmd = ['nsenter', `--mount=${mntns}`, '--', ...argv];
  const r = spawnSync(cmd[0], cmd.slice(1), {
    input: stdin ? fs.readFileSync(stdin) : undefined,
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout,
    cwd: REPO,
  });
  const stderr = `${r.stderr ?? ''}${r.error ? String(r.error.message) : ''}`;
  return { status: r.status ?? (r.signal ? 128 : 125), stderr, stdout: r.stdout ?? '' };
}

function notSupported(msg) {
  return /unknown (flag|option)|not supported|unknown option|unsupported|unable to find image|no such image|ignores|not implemented|not yet/i.test(msg);
}

/** The line of stderr that says what went wrong (Node's stack traces start with a path). */
function firstLine(s) {
  const lines = String(s).split('\n').map((l) => l.trim()).filter(Boolean);
  const telling = lines.find((l) => /^(husk|husk-launcher|floor|runc|crun|bwrap|unshare|conmon)\b.*:|error|unknown|cannot|not found|no such|denied/i.test(l) && !/^at /.test(l));
  return (telling ?? lines[0] ?? '').slice(0, 200);
}

function readStatus(pid) {
  const s = quiet(() => fs.readFileSync(`/proc/${pid}/status`, 'utf8')) ?? '';
  const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) ?? [])[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function childrenOf(pid) {
  const out = [];
  for (const t of quiet(() => fs.readdirSync(`/proc/${pid}/task`)) ?? []) {
    out.push(...(quiet(() => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')) ?? '').split(' ').filter(Boolean).map(Number));
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts argv (a monitor and a container running `sleep 1`), samples the RSS of the process
 * we started once its container runs, and waits for it to end.
 */
async function monitorRss(argv, { stdin, waitChildren = 1 } = {}) {
  const child = spawn(argv[0], argv.slice(1), { stdio: [stdin ? fs.openSync(stdin, 'r') : 'ignore', 'ignore', 'pipe'], cwd: REPO });
  started.add(child.pid);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((r) => child.once('exit', (code) => r(code)));
  let sample = null;
  for (let i = 0; i < 80; i++) {
    await sleep(10);
    if (childrenOf(child.pid).length >= waitChildren) {
      await sleep(100);
      sample = readStatus(child.pid);
      break;
    }
  }
  const code = await Promise.race([done, sleep(10000).then(() => 'timeout')]);
  if (code === 'timeout') quiet(() => process.kill(child.pid, 'SIGKILL'));
  started.delete(child.pid);
  return sample && code === 0 ? sample : { error: firstLine(stderr) || `exit ${code}` };
}

// ---------------------------------------------------------------- the floor's cgroups

/**
 * The floor's cgroup arguments: the hierarchies mounted right under /sys/fs/cgroup, in mount
 * order (the order husk's plan takes them in), each v1 one with the mount data husk gives it
 * ("cpu", "none,name=systemd"), and the root cpuset's cpus and mems, which husk writes to its
 * cpuset cgroups. Read here once, so the floor's timed runs do not read mountinfo.
 */
function floorCgroupArgs() {
  const args = [];
  const SKIP = new Set(['rw', 'ro', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode']);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || !f[4]?.startsWith(`${CG}/`) || f[4].slice(CG.length + 1).includes('/')) continue;
    const dir = f[4].slice(CG.length + 1);
    if (f[dash + 1] === 'cgroup2') args.push('--cgroup2', dir);
    else if (f[dash + 1] === 'cgroup') {
      const opts = f[dash + 3].split(',').filter((o) => !SKIP.has(o) && !o.startsWith('release_agent='));
      const data = opts.some((o) => !o.startsWith('name=')) ? opts.join(',') : ['none', ...opts].join(',');
      args.push('--cgroup', `${dir}=${data}`);
    }
  }
  const cpus = quiet(() => fs.readFileSync(path.join(CG, 'cpuset/cpuset.cpus'), 'utf8').trim());
  const mems = quiet(() => fs.readFileSync(path.join(CG, 'cpuset/cpuset.mems'), 'utf8').trim());
  if (cpus && mems) args.push('--cpuset', `${cpus}:${mems}`);
  return args;
}

// ---------------------------------------------------------------- the run

/**
 * The bench's images into husk's store (work/storage, $HUSK_STORAGE of every husk case): the
 * 3-layer one, and the rootfs as 1 and as 300 layers. A load of an image already there only
 * checks it. A husk without `load` leaves them out: their cases report why.
 */
function loadImages() {
  process.env.HUSK_STORAGE = STORAGE;
  for (const dir of [OCI, OCI_1, OCI_300]) {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/husk.js'), 'load', '-q', '-i', dir], { encoding: 'utf8' });
    if (r.status !== 0) log(`husk load ${path.relative(BENCH, dir)}: ${(r.stderr || '').trim().split('\n')[0]}`);
  }
}

async function main() {
  const t0 = Date.now();
  await setup({ log });
  for (const d of [RUN, HUSK_ROOT, STAGE, ERR, STATE.runc, STATE.crun]) fs.mkdirSync(d, { recursive: true });
  loadImages();
  const before = snapshot();

  // the floor makes TAG (shared, like husk's `husk`) and TAG/floor-PID-N in every hierarchy;
  // runc and crun make TAG/<key> themselves. Cleanup removes TAG everywhere.
  const floorArgs = ['--stage', STAGE, '--cgroup-parent', TAG, ...floorCgroupArgs()];

  // crun 1.8 refuses hybrid cgroups: it runs in a private mount namespace where the cgroup2
  // mount is gone. The holder keeps that namespace; the runner setns()es into it per run.
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    'umount /sys/fs/cgroup/unified 2>/dev/null; echo ok; exec sleep 100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.add(holder.pid);
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve);
    holder.once('exit', () => reject(new Error('crun namespace holder exited')));
  });
  const holderNs = `/proc/${holder.pid}/ns/mnt`;

  // OCI bundles: one per runtime and variant, each with its cgroupsPath under TAG
  const base = JSON.parse(fs.readFileSync(path.join(BUNDLE, 'config.json'), 'utf8'));
  base.mounts = base.mounts.filter((m) => m.destination !== '/tmp');
  base.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  const bundles = {};
  for (const [key, limits] of [['runc', false], ['crun', false], ['runcLimits', true], ['crunLimits', true]]) {
    const dir = path.join(RUN, `bundle-${key}`);
    fs.mkdirSync(dir, { recursive: true });
    const cfg = structuredClone(base);
    cfg.linux.cgroupsPath = `/${TAG}/${key}`;
    cfg.linux.resources = { ...(cfg.linux.resources ?? {}) };
    if (limits) {
      cfg.linux.resources.memory = { limit: LIMITS.bytes };
      cfg.linux.resources.pids = { limit: LIMITS.pids };
    }
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
    bundles[key] = dir;
  }

  // saved plans for the launcher-alone cases
  const plans = { basic: path.join(RUN, 'plan.bin'), limits: path.join(RUN, 'plan-limits.bin'), layers: path.join(RUN, 'plan-layers.bin'), one: path.join(RUN, 'plan-1layer.bin'), many: path.join(RUN, 'plan-300layers.bin') };
  const cases = buildCases({
    node: process.execPath, repo: REPO, huskRoot: HUSK_ROOT, rootfs: ROOTFS, layers: LAYERS, oci: OCI,
    floor: FLOOR, floorArgs, plans, bundles, state: STATE, holderNs,
  });

  // probes: each case once; a case that fails is reported (n/a or failed), not timed
  log('probing cases');
  const huskCli = [process.execPath, path.join(REPO, 'bin/husk.js'), '--root', HUSK_ROOT];
  for (const c of cases) {
    if (c.kind === 'na') {
      c.status = 'na';
      c.reason = c.reason.replace(/^n\/a: /, '');
      continue;
    }
    if (c.plan) {
      const planFile = c.stdin;
      const r = probe([...huskCli, 'plan', '--save', planFile, ...c.plan.args, '/bin/true']);
      if (r.status !== 0 || !fs.existsSync(planFile)) {
        const m = firstLine(r.stderr) || `husk plan exited ${r.status}`;
        c.status = notSupported(m) ? 'na' : 'failed';
        c.reason = notSupported(m) ? `not supported yet: ${m}` : m;
        continue;
      }
      if (!fs.existsSync(path.join(REPO, 'zig-out/bin/husk-launcher'))) {
        c.status = 'failed';
        c.reason = 'zig-out/bin/husk-launcher not built';
        continue;
      }
    }
    if (c.kind === 'pipe') {
      c.status = 'ok'; // the runner asks the API child itself; "n/a"/"failed" lines come back from it
      continue;
    }
    const r = probe(c.argv.map((a) => a.replace('{i}', 'probe')), { stdin: c.stdin, mntns: c.mntns === undefined ? undefined : c.mntns });
    if (r.status === 0) c.status = 'ok';
    else {
      const m = firstLine(r.stderr) || `exit ${r.status}`;
      c.status = notSupported(m) ? 'na' : 'failed';
      c.reason = c.status === 'na' && c.husk ? `not supported yet: ${m}` : m;
    }
  }
  for (const [bin, root] of [['runc', STATE.runc], ['crun', STATE.crun]]) {
    for (const id of runtimeIds(bin, root)) spawnSync(bin, ['--root', root, 'delete', '-f', id]);
  }
  for (const c of cases) if (c.status !== 'ok') log(`  ${c.name}: ${c.status === 'na' ? 'n/a' : 'FAILED'} (${c.reason})`);

  // one traced husk run: where its time goes
  let trace = null;
  if (cases.find((c) => c.name === 'husk-cli')?.status === 'ok') {
    const r = probe([...huskCli, 'run', '--network', 'none', '--trace', '--rootfs', ROOTFS, '--', '/bin/true']);
    trace = r.stderr.trim() || null;
  }

  // the timed, interleaved rounds
  const timed = cases.filter((c) => c.status === 'ok');
  const spec = path.join(RUN, 'cases.tsv');
  fs.writeFileSync(spec, timed.map((c) => [c.name, c.kind, c.stdin ?? '-', c.mntns ?? '-', ...c.argv].join('\t')).join('\n') + '\n');
  log(`timing ${timed.length} cases: ${WARMUP} warm-up + ${ITERS} rounds, round-robin`);
  const samples = Object.fromEntries(cases.map((c) => [c.name, { ns: [], status: [], rssKb: [] }]));
  await new Promise((resolve, reject) => {
    const runner = spawn(RUNNER, [spec, String(WARMUP), String(ITERS), ERR], { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO });
    started.add(runner.pid);
    let buf = '';
    let lastRound = -1;
    runner.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const f = line.split('\t');
        if (f[0] === '#na') {
          const c = cases.find((x) => x.name === f[1]);
          const m = f.slice(2).join(' ');
          c.status = /^n\/a/.test(m) ? 'na' : 'failed';
          c.reason = m.replace(/^n\/a \(not supported yet\): /, 'not supported yet: ').replace(/^n\/a: /, '').replace(/^failed: /, '');
          log(`  ${c.name}: ${c.status === 'na' ? 'n/a' : 'FAILED'} (${c.reason})`);
          continue;
        }
        const s = samples[f[0]];
        if (!s) continue;
        s.ns.push(Number(f[2]));
        s.status.push(Number(f[3]));
        s.rssKb.push(Number(f[4]));
        const round = Number(f[1]);
        if (round !== lastRound && round % Math.max(1, Math.floor(ITERS / 5)) === 0) log(`  round ${round}/${ITERS}`);
        lastRound = round;
      }
    });
    runner.once('exit', (code) => {
      started.delete(runner.pid);
      code === 0 ? resolve() : reject(new Error(`runner exited ${code}`));
    });
  });
  for (const c of cases) {
    const fails = samples[c.name].status.filter((s) => s !== 0).length;
    if (c.status === 'ok' && fails > 0) {
      const err = firstLine(quiet(() => fs.readFileSync(path.join(ERR, `${c.name}.err`), 'utf8')) ?? '');
      c.failures = fails;
      c.failureNote = err;
      log(`  ${c.name}: ${fails} runs failed (${err})`);
    }
  }

  // throughput: THROUGHPUT containers, PARALLEL in flight, then nothing left behind
  log(`throughput: ${THROUGHPUT} containers, ${PARALLEL} in flight`);
  const throughput = {};
  {
    const snap = snapshot();
    const ts = Date.now();
    const r = probe([FLOOR, ...floorArgs, '--rootfs', ROOTFS, '--count', String(THROUGHPUT), '--parallel', String(PARALLEL)], { timeout: 600000 });
    const m = /in ([\d.]+) s \((\d+) failed\)/.exec(r.stdout);
    throughput.floor = m ? { count: THROUGHPUT, parallel: PARALLEL, seconds: Number(m[1]), failed: Number(m[2]), perSecond: THROUGHPUT / Number(m[1]) } : { error: firstLine(r.stderr) };
    throughput.floor.leaks = await leaks(snap);
    log(`  floor: ${throughput.floor.perSecond ? `${throughput.floor.perSecond.toFixed(0)}/s` : throughput.floor.error} (${Date.now() - ts} ms)`);
  }
  {
    const snap = snapshot();
    const ts = Date.now();
    const cfg = { root: HUSK_ROOT, rootfs: ROOTFS, variant: 'basic', mode: 'throughput', count: THROUGHPUT, parallel: PARALLEL };
    const r = probe([process.execPath, path.join(BENCH, 'api-child.mjs'), JSON.stringify(cfg)], { timeout: 600000 });
    let res;
    const last = r.stdout.trim().split('\n').pop() ?? '';
    try {
      res = JSON.parse(last);
    } catch {
      res = { error: last || firstLine(r.stderr) || 'no result' };
    }
    if (res.error) {
      const na = /^n\/a/.test(res.error);
      res = { status: na ? 'na' : 'failed', error: res.error.replace(/^(n\/a \(not supported yet\)|failed): /, '') };
    } else res.perSecond = res.count / res.seconds;
    throughput.api = res;
    throughput.api.leaks = await leaks(snap);
    log(`  api: ${res.perSecond ? `${res.perSecond.toFixed(0)}/s` : res.error} (${Date.now() - ts} ms)`);
  }

  // footprint
  log('footprint');
  const launcherBin = path.join(REPO, 'zig-out/bin/husk-launcher');
  const footprint = {
    launcher: { binaryBytes: quiet(() => fs.statSync(launcherBin).size) ?? null },
    floor: { binaryBytes: fs.statSync(FLOOR).size },
    conmon: { binaryBytes: quiet(() => fs.statSync(execFileSync('which', ['conmon'], { encoding: 'utf8' }).trim()).size) ?? null },
    runc: { binaryBytes: quiet(() => fs.statSync(execFileSync('which', ['runc'], { encoding: 'utf8' }).trim()).size) ?? null },
    crun: { binaryBytes: quiet(() => fs.statSync(execFileSync('which', ['crun'], { encoding: 'utf8' }).trim()).size) ?? null },
    bwrap: { binaryBytes: quiet(() => fs.statSync(execFileSync('which', ['bwrap'], { encoding: 'utf8' }).trim()).size) ?? null },
  };
  const sleepPlan = path.join(RUN, 'plan-sleep.bin');
  const rp = probe([...huskCli, 'plan', '--save', sleepPlan, '--rootfs', ROOTFS, '/bin/sleep', '1']);
  if (rp.status === 0 && footprint.launcher.binaryBytes) {
    footprint.launcher.monitor = await monitorRss([launcherBin], { stdin: sleepPlan });
  } else footprint.launcher.monitor = { error: firstLine(rp.stderr) || 'launcher not built' };
  {
    // runc run in the foreground stays as the container's parent: its RSS is its monitor's
    const dir = path.join(RUN, 'bundle-sleep');
    fs.mkdirSync(dir, { recursive: true });
    const cfg = structuredClone(base);
    cfg.process.args = ['/bin/sleep', '1'];
    cfg.linux.cgroupsPath = `/${TAG}/sleep`;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    footprint.runc.monitor = await monitorRss(['runc', '--root', STATE.runc, 'run', '--bundle', dir, `hb${process.pid}-sleep`]);
    footprint.bwrap.monitor = await monitorRss([...cases.find((c) => c.name === 'bwrap').argv.slice(0, -1), '/bin/sleep', '1']);
    footprint.floor.monitor = await monitorRss([FLOOR, ...floorArgs, '--rootfs', ROOTFS, '--', '/bin/sleep', '1']);
    footprint.conmon.monitor = await conmonRss(dir);
  }
  const launcherCase = samples['husk-launcher'];
  if (launcherCase?.rssKb.length) footprint.launcher.peakRssKbWait4 = Math.max(...launcherCase.rssKb);

  return { before, result: summarize({
    cases, samples, throughput, footprint, trace,
    meta: {
      date: new Date().toISOString(),
      quick, iterations: ITERS, warmup: WARMUP,
      host: {
        kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
        cpus: (await import('node:os')).cpus().length,
        node: process.version,
        runc: firstLine(probe(['runc', '--version']).stdout),
        crun: firstLine(probe(['crun', '--version']).stdout),
        bwrap: firstLine(probe(['bwrap', '--version']).stdout),
        launcher: firstLine(probe([launcherBin, '--version']).stdout) || null,
      },
      seconds: (Date.now() - t0) / 1000,
    },
  }) };
}

/**
 * conmon (podman's monitor) idles beside a runc container running `sleep 1`: conmon runs
 * `runc create`, we `runc start`, and read conmon's RSS while the container sleeps.
 */
async function conmonRss(bundleDir) {
  const bin = quiet(() => execFileSync('which', ['conmon'], { encoding: 'utf8' }).trim());
  if (!bin) return { error: 'conmon not installed (apt-get install conmon)' };
  const id = `hb${process.pid}-conmon`;
  const dir = path.join(RUN, 'conmon');
  for (const d of ['exit', 'sock']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const pidFile = path.join(dir, 'conmon.pid');
  const runc = execFileSync('which', ['runc'], { encoding: 'utf8' }).trim();
  const r = spawnSync(bin, ['--api-version', '1', '-c', id, '-u', id, '-r', runc, '-b', bundleDir, '-p', path.join(dir, 'pid'),
    '-P', pidFile, '-n', id, '--exit-dir', path.join(dir, 'exit'), '-l', `k8s-file:${path.join(dir, 'log')}`,
    '--socket-dir-path', path.join(dir, 'sock'), '--runtime-arg', `--root=${STATE.runc}`], { encoding: 'utf8', timeout: 10000 });
  const pid = Number(quiet(() => fs.readFileSync(pidFile, 'utf8').trim()));
  if (r.status !== 0 || !pid) return { error: firstLine(r.stderr ?? '') || `conmon exited ${r.status}` };
  started.add(pid);
  // conmon returns before its `runc create` is done: wait for the container to be created
  for (let i = 0; i < 150; i++) {
    const st = spawnSync('runc', ['--root', STATE.runc, 'state', id], { encoding: 'utf8' });
    if (st.status === 0 && /"status":\s*"created"/.test(st.stdout)) break;
    await sleep(20);
  }
  const start = spawnSync('runc', ['--root', STATE.runc, 'start', id], { encoding: 'utf8' });
  await sleep(300);
  const sample = readStatus(pid);
  for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`); i++) await sleep(20);
  if (fs.existsSync(`/proc/${pid}`)) quiet(() => process.kill(pid, 'SIGKILL'));
  started.delete(pid);
  spawnSync('runc', ['--root', STATE.runc, 'delete', '-f', id]);
  return start.status === 0 ? sample : { error: firstLine(start.stderr) };
}

let out;
try {
  out = await main();
} finally {
  cleanup();
  const left = ourCgroups();
  if (left.length) log(`WARNING: could not remove ${left.join(', ')}`);
}
// after our own cleanup, the host is as we found it: same mounts, no cgroup, no process left
out.result.meta.leaksAfterCleanup = await leaks(out.before);
out.result.meta.seconds = Number(((Date.now() - t0run) / 1000).toFixed(1));
console.log(writeReports(out.result, { save: argv.save !== false }));
