// What a network costs a container, in one run: start → exit of /bin/true with
// `--network none`, on the default network (`husk`) and on a user-defined one with names
// (`bench`: its husk-dns responder stays up between runs, held by a -d container), by the
// three ways in:
//   cli       `husk run` from a cold shell (pays Node's start);
//   launcher  `husk-launcher < plan` alone: the plan made once by the core through ts/ (whose
//             address lease and /etc files this process holds), run again each round;
//   api       the warm API, `await husk.run()` (the launcher server), and a sandbox made ahead
//             with `husk.create()`, timed from start() to wait().
// Each is printed as its difference from `none`. Then throughput (a Node TCP pair, 1 GiB
// by default): two containers on one network, a container's published port from the host's
// 127.0.0.1, and the host's loopback; and podman's extra cost for its default bridge
// (`podman run --network none` beside `--network bridge`, runc), when podman is installed.
//
// Everything husk does runs inside a network namespace the bench makes (it plays the host:
// the real host's links and nftables are never touched), podman in a second one; both are
// removed at the end.
// --before DIR adds the cold CLI of another checkout (its bin/, dist/, build/, zig-out/), run
// in turn with this one's on the same networks: a before/after in one run.
//   node bench/network.mjs [ROUNDS] [--mb N] [--before DIR] [--no-throughput] [--no-podman]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const rounds = Number(argv.find((a, i) => /^\d+$/.test(a) && !['--mb'].includes(argv[i - 1])) ?? 30);
const before = argv.includes('--before') ? argv[argv.indexOf('--before') + 1] : undefined;
const mb = option('--mb', 1024);
const repo = new URL('..', import.meta.url).pathname;
const husk = join(repo, 'bin/husk.js');
const launcher = join(repo, 'zig-out/bin/husk-launcher');
const INNER = 'HUSK_BENCH_NET_INNER';

const sh = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal} ${r.stderr ?? ''}`);
  return r.stdout;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
// CPU of every process a run made and reaped (husk, launcher, container), summed by the kernel
// into this process's cutime + cstime: comparable while the machine is loaded.
const TICK_MS = 1000 / Number(sh('getconf', ['CLK_TCK']));
const childCpuMs = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
};

// The client and server of the TCP pair, as `node -e` programs: the host image holds /usr.
// The sink counts the bytes of each connection and answers with the count when it ends; the
// source connects (again while refused: the sink may not listen yet), sends MB MiB, and
// prints Gbit/s from connect to the answer.
const SINK = `require('net').createServer((c)=>{let n=0;c.on('data',(d)=>{n+=d.length});c.on('end',()=>c.end(String(n)))}).listen(+process.argv[1],'0.0.0.0',()=>console.log('listening'))`;
const SOURCE = `const net=require('net');const [host,port,mb]=process.argv.slice(1);const total=+mb*1048576;const buf=Buffer.alloc(1<<16,120);
let tries=0;function go(){let sent=0,answer='';const t=process.hrtime.bigint();const c=net.connect(+port,host,()=>{const w=()=>{while(sent<total){sent+=buf.length;if(!c.write(buf))return c.once('drain',w)}c.end()};w()});
c.on('data',(d)=>{answer+=d});c.on('error',(e)=>{if(e.code==='ECONNREFUSED'&&++tries<100)return setTimeout(go,50);console.error(e.message);process.exit(2)});
c.on('end',()=>{const s=Number(process.hrtime.bigint()-t)/1e9;if(+answer!==total){console.error('short: '+answer);process.exit(3)}console.log((total*8/s/1e9).toFixed(2))})}go()`;

if (process.env[INNER] === undefined) await outer();
else await inner(process.env[INNER]);

async function outer() {
  const ns = `husk-bench-${process.pid}`;
  console.log(`${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${rounds} rounds (interleaved), median ms`);
  sh('ip', ['netns', 'add', ns]);
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // The whole husk part runs in the namespace: its children (husk, launcher, API) inherit it.
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, new URL(import.meta.url).pathname, ...argv], { stdio: 'inherit', env: { ...process.env, [INNER]: ns } });
    if (r.status !== 0) process.exitCode = 1;
  } finally {
    sh('ip', ['netns', 'del', ns]);
  }
  if (!flag('--no-podman')) podmanBridge();
  console.log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

async function inner(ns) {
  const root = mkdtempSync(join(tmpdir(), 'husk-bench-net-'));
  const cli = (...args) => sh(process.execPath, [husk, '--root', root, ...args]);
  const nets = ['none', 'husk', 'bench'];
  const times = {};
  const cpu = {};
  const add = (path, net, t, c) => {
    (times[`${path} ${net}`] ??= []).push(t);
    if (c !== undefined) cpu[`${path} ${net}`] = (cpu[`${path} ${net}`] ?? 0) + c;
  };
  const { Husk } = await import(join(repo, 'dist/ts/api.js'));
  const { defaultRunFlags } = await import(join(repo, 'dist/ts/cli/args.js'));
  const { prepare } = await import(join(repo, 'dist/ts/runtime/prepare.js'));
  const { networkForRun } = await import(join(repo, 'dist/ts/network/store.js'));
  const { releaseOf } = await import(join(repo, 'dist/ts/network/leases.js'));
  const api = new Husk({ root });
  const held = [];
  let sinkHost;
  try {
    cli('run', '--network', 'husk', 'host', '/bin/true'); // makes the default network once, as a first run does
    cli('network', 'create', 'bench');
    cli('run', '-d', '--name', 'holder', '--network', 'bench', 'host', 'sleep', '3600');

    // The launcher's plans, made as `husk run` makes them (the core through ts/); the networked
    // ones hold a lease of this process's (and their /etc files) until the end. The same plan
    // runs again each round: NET_VETH deletes a host end the last run left behind.
    const plans = {};
    for (const net of nets) {
      const f = defaultRunFlags();
      f.image = 'host';
      f.argv = ['/bin/true'];
      if (net !== 'none') f.network = net;
      const network = net === 'none' ? undefined : await networkForRun(root, net);
      const p = prepare(f, { root, usedRanges: [], dieWithParent: true, network });
      if (network) held.push({ id: p.id, network: { name: net, address: p.summary.net.address } });
      plans[net] = join(root, `plan-${net}.bin`);
      writeFileSync(plans[net], p.plan);
    }
    const runLauncher = (net) => {
      const fd = openSync(plans[net], 'r');
      try {
        const r = spawnSync(launcher, [], { stdio: [fd, 'ignore', 'pipe'] });
        if (r.status !== 0) throw new Error(`husk-launcher < ${plans[net]}: ${r.status ?? r.signal} ${r.stderr}`);
      } finally {
        closeSync(fd);
      }
    };
    const opts = (net) => ({ image: 'host', command: ['/bin/true'], stdio: 'ignore', network: net });
    for (const net of nets) {
      // warm each path once: the API loads ts/network on its first networked container
      runLauncher(net);
      await api.run(opts(net));
      const box = await api.create(opts(net));
      await box.start();
      await box.wait();
    }

    for (let i = 0; i < rounds; i++) {
      for (const net of nets) {
        let c = childCpuMs();
        let t = process.hrtime.bigint();
        cli('run', '--network', net, 'host', '/bin/true');
        add('cli', net, ms(t), childCpuMs() - c);
        if (before !== undefined) {
          c = childCpuMs();
          t = process.hrtime.bigint();
          sh(process.execPath, [join(before, 'bin/husk.js'), '--root', root, 'run', '--network', net, 'host', '/bin/true']);
          add('before', net, ms(t), childCpuMs() - c);
        }
        c = childCpuMs();
        t = process.hrtime.bigint();
        runLauncher(net);
        add('launcher', net, ms(t), childCpuMs() - c);
      }
      for (const net of nets) {
        const t = process.hrtime.bigint();
        const r = await api.run(opts(net));
        add('api', net, ms(t));
        if (r.exitCode !== 0) throw new Error(`api.run on ${net}: exit ${r.exitCode}`);
      }
      for (const net of nets) {
        const box = await api.create(opts(net));
        const t = process.hrtime.bigint();
        await box.start();
        const r = await box.wait();
        add('sandbox', net, ms(t));
        if (r.exitCode !== 0) throw new Error(`sandbox on ${net}: exit ${r.exitCode}`);
      }
    }
    const what = {
      ...(before !== undefined ? { before: `husk run of ${before}` } : {}),
      cli: 'husk run (cold CLI)',
      launcher: 'husk-launcher < plan',
      api: 'API husk.run() (warm)',
      sandbox: 'API sandbox start→wait',
    };
    console.log(`start → exit of /bin/true; cpu: user+sys of every process a run made, mean`);
    console.log(`${'path'.padEnd(30)}${'none'.padStart(8)}${'husk'.padStart(16)}${'bench (names)'.padStart(18)}`);
    for (const path of Object.keys(what)) {
      const m = Object.fromEntries(nets.map((n) => [n, median(times[`${path} ${n}`])]));
      const cell = (n) => `${m[n].toFixed(1)} (${sign(m[n] - m.none)})`;
      console.log(`${what[path].padEnd(30)}${m.none.toFixed(1).padStart(8)}${cell('husk').padStart(16)}${cell('bench').padStart(18)}`);
      if (cpu[`${path} none`] !== undefined) {
        const c = Object.fromEntries(nets.map((n) => [n, cpu[`${path} ${n}`] / rounds]));
        console.log(`${'  cpu'.padEnd(30)}${c.none.toFixed(1).padStart(8)}${`${c.husk.toFixed(1)} (${sign(c.husk - c.none)})`.padStart(16)}${`${c.bench.toFixed(1)} (${sign(c.bench - c.none)})`.padStart(18)}`);
      }
    }

    if (!flag('--no-throughput')) {
      // Throughput: each pair three times, the median.
      const source = (args) => Number(sh(process.execPath, ['-e', SOURCE, ...args]).trim());
      const inContainer = (net, args) => Number(cli('run', '--network', net, 'host', process.execPath, '-e', SOURCE, ...args).trim());
      sinkHost = spawn(process.execPath, ['-e', SINK, '5002'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => sinkHost.stdout.once('data', resolve));
      cli('run', '-d', '--name', 'sink', '--network', 'bench', 'host', process.execPath, '-e', SINK, '5001');
      cli('run', '-d', '--name', 'sinkpub', '--network', 'husk', '-p', '18080:5001', 'host', process.execPath, '-e', SINK, '5001');
      const t = { loopback: [], containers: [], published: [] };
      for (let i = 0; i < 3; i++) {
        t.loopback.push(source(['127.0.0.1', '5002', String(mb)]));
        t.containers.push(inContainer('bench', ['sink', '5001', String(mb)]));
        t.published.push(source(['127.0.0.1', '18080', String(mb)]));
      }
      console.log(`throughput, Node TCP pair, ${mb} MiB a connection, median of 3, Gbit/s (connect → the sink's answer):`);
      console.log(`  host loopback (127.0.0.1 → 127.0.0.1)            ${median(t.loopback).toFixed(2)}   [${t.loopback.join(', ')}]`);
      console.log(`  container → container, one network (by name)   ${median(t.containers).toFixed(2)}   [${t.containers.join(', ')}]`);
      console.log(`  host 127.0.0.1:18080 → a container's -p port    ${median(t.published).toFixed(2)}   [${t.published.join(', ')}]`);
    }
  } finally {
    sinkHost?.kill();
    for (const rec of held) releaseOf(root, rec);
    await api.close().catch(() => undefined);
    for (const name of ['holder', 'sink', 'sinkpub']) spawnSync(process.execPath, [husk, '--root', root, 'rm', '-f', name], { stdio: 'ignore' });
    for (const net of ['bench', 'husk']) spawnSync(process.execPath, [husk, '--root', root, 'network', 'rm', net], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
}

// podman's extra cost for a bridged container: `podman run --rm` of busybox true with
// --network none beside its default bridge (netavark, runc), interleaved, in a network
// namespace of its own (its bridge podman0 and firewall rules go with it); storage in a temp
// directory (vfs), cgroupfs under /husk-bench-net-pod.
function podmanBridge() {
  if (spawnSync('podman', ['--version']).status !== 0) {
    console.log('podman: not installed, not measured');
    return;
  }
  const ns = `husk-bench-pod-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'husk-bench-netpod-'));
  const image = 'localhost/husk-bench-net:1';
  // nsenter --net, not ip netns exec: that one mounts a sysfs of the namespace over /sys,
  // which hides /sys/fs/cgroup from podman.
  const podman = (args) => [`--net=/run/netns/${ns}`, 'podman', '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
    '--network-config-dir', join(dir, 'net'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', 'runc', ...args];
  const runArgs = (net) => ['run', '--rm', '--network', net, '--cgroup-parent', '/husk-bench-net-pod', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'true'];
  sh('ip', ['netns', 'add', ns]);
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
    for (const a of ['sh', 'true']) symlinkSync('busybox', join(rootfs, 'bin', a));
    sh('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
    sh('nsenter', podman(['import', join(dir, 'rootfs.tar'), image]));
    const nets = { none: 'none', bridge: 'bridge' };
    const t = { none: [], bridge: [] };
    const c = { none: 0, bridge: 0 };
    for (const net of Object.values(nets)) sh('nsenter', podman(runArgs(net))); // warm: makes podman0 once
    const podRounds = Math.max(5, Math.floor(rounds / 3));
    for (let i = 0; i < podRounds; i++) {
      for (const net of Object.values(nets)) {
        const c0 = childCpuMs();
        const t0 = process.hrtime.bigint();
        sh('nsenter', podman(runArgs(net)));
        t[net].push(ms(t0));
        c[net] += childCpuMs() - c0;
      }
    }
    const a = median(t.none);
    const b = median(t.bridge);
    console.log(`podman 4.3 run --rm (runc, netavark), ${podRounds} rounds interleaved, median ms: --network none ${a.toFixed(1)}, bridge ${b.toFixed(1)} (${sign(b - a)}); cpu mean ${(c.none / podRounds).toFixed(1)}, ${(c.bridge / podRounds).toFixed(1)} (${sign((c.bridge - c.none) / podRounds)})`);
  } catch (err) {
    console.log(`podman: ${String(err.message).split('\n')[0]}`);
  } finally {
    spawnSync('nsenter', podman(['rm', '-a', '-f']), { stdio: 'ignore' });
    spawnSync('nsenter', podman(['rmi', '-a', '-f']), { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', ns]);
    for (const cg of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified']) {
      spawnSync('rmdir', [`/sys/fs/cgroup/${cg}/husk-bench-net-pod/conmon`, `/sys/fs/cgroup/${cg}/husk-bench-net-pod`]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
