// Start → exit of /bin/true on the default network, and on a user-defined one (names: its
// husk-dns responder stays up between runs, held by a -d container), beside --network none, through the husk
// CLI (cold: each run pays Node's start) and through the launcher alone (the plan saved once
// by `husk plan --save`... not here: a networked plan holds a leased address, so the CLI is
// what is measured). Runs inside a network namespace of its own, which plays the host: the
// real host's links and nftables are never touched; the namespace is removed at the end.
//   node bench/network.mjs [ROUNDS]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rounds = Number(process.argv[2] ?? 30);
const ns = `husk-bench-${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'husk-bench-net-'));
const husk = join(new URL('..', import.meta.url).pathname, 'bin/husk.js');
const sh = (...cmd) => {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
// CPU time of every process a run made (husk, launcher, container, ip netns exec), summed by
// the kernel into this process's cutime + cstime as they are reaped: comparable while the
// machine is loaded, unlike the wall clock.
const TICK_MS = 1000 / Number(sh('getconf', 'CLK_TCK'));
const childCpuMs = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS; // fields 16 and 17: cutime, cstime
};
const cpu = { none: 0, husk: 0, bench: 0 };
const run = (net) => {
  const c = childCpuMs();
  const t = process.hrtime.bigint();
  sh('ip', 'netns', 'exec', ns, process.execPath, husk, '--root', root, 'run', '--network', net, 'host', '/bin/true');
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  cpu[net] += childCpuMs() - c;
  return ms;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

sh('ip', 'netns', 'add', ns);
try {
  sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  run('husk'); // makes the default network (bridge husk0, nft table) once, as a first run does
  sh('ip', 'netns', 'exec', ns, process.execPath, husk, '--root', root, 'network', 'create', 'bench');
  sh('ip', 'netns', 'exec', ns, process.execPath, husk, '--root', root, 'run', '-d', '--name', 'holder', '--network', 'bench', 'host', 'sleep', '3600');
  const none = [];
  const bridged = [];
  const named = [];
  for (let i = 0; i < rounds; i++) {
    none.push(run('none'));
    bridged.push(run('husk'));
    named.push(run('bench'));
  }
  const a = median(none);
  const b = median(bridged);
  console.log(`rounds ${rounds} (interleaved), husk CLI, start → exit of /bin/true, median ms`);
  console.log(`--network none  ${a.toFixed(1)}`);
  console.log(`--network husk  ${b.toFixed(1)}   (+${(b - a).toFixed(1)} ms, ratio ${(b / a).toFixed(2)})`);
  const c = median(named);
  console.log(`--network bench ${c.toFixed(1)}   (+${(c - a).toFixed(1)} ms: a user-defined network with names)`);
  const per = (k) => cpu[k] / rounds;
  console.log(`CPU (user+sys of every process a run made, mean ms): none ${per('none').toFixed(1)}, husk ${per('husk').toFixed(1)} (+${(per('husk') - per('none')).toFixed(1)}), bench ${per('bench').toFixed(1)} (+${(per('bench') - per('none')).toFixed(1)})`);
} finally {
  spawnSync('ip', ['netns', 'exec', ns, process.execPath, husk, '--root', root, 'rm', '-f', 'holder'], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'exec', ns, process.execPath, husk, '--root', root, 'network', 'rm', 'bench'], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'exec', ns, process.execPath, husk, '--root', root, 'network', 'rm', 'husk'], { stdio: 'ignore' });
  sh('ip', 'netns', 'del', ns);
  rmSync(root, { recursive: true, force: true });
}
