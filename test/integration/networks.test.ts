// Networks on the real kernel, inside a fake world the test makes: a namespace that plays
// the host (husk runs in it: its bridges, routes and nftables table are that namespace's) and
// an "uplink" namespace joined to it by a veth, with documentation addresses
// (198.51.100.0/24, and 2001:db8::/64 for IPv6) that exist only there. No packet leaves the two namespaces; the real
// host's links, routes and firewall are never touched, and both namespaces go at the end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huskBin, isResponder, repo, suiteDir } from './helpers.js';
import { buildLayout, busyboxRootfs } from './images-fixture.js';
import { useLeakCheck } from './leak-check.js';

const HOST = `husk-t${process.pid}-host`;
const UPLINK = `husk-t${process.pid}-up`;
const HOST_IP = '198.51.100.1';
const OUTSIDE_IP = '198.51.100.2';
const PY = '/usr/bin/python3';
const HOST_IP6 = '2001:db8::1';
const OUTSIDE_IP6 = '2001:db8::2';
/** `ip netns exec HOST` binds the files here over /etc: husk in the fake host reads this resolv.conf. */
const HOST_ETC = `/etc/netns/${HOST}`;
/** The fake host's resolver: a DNS server in the uplink namespace (fakeDns below). */
const RESOLVER_IP = OUTSIDE_IP;

function sh(cmd: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const inNs = (ns: string, cmd: string[], input = '') => sh(['ip', 'netns', 'exec', ns, ...cmd], input);

/** husk as a person on the fake host types it. */
function husk(root: string, args: string[]) {
  return inNs(HOST, [process.execPath, '--', huskBin, '--root', root, ...args]);
}

function cleanup(root: string): void {
  const ids = husk(root, ['ps', '-aq']).stdout.trim().split('\n').filter(Boolean);
  if (ids.length) husk(root, ['rm', '-f', ...ids]);
  for (const n of JSON.parse(husk(root, ['network', 'ls', '--format', 'json']).stdout || '[]') as { Name: string }[]) husk(root, ['network', 'rm', n.Name]);
}

const { root } = useLeakCheck({ cleanup });
/** For -P: an image with ExposedPorts, loaded into a store of this suite's own. */
const work = suiteDir('net-work');
const storage = suiteDir('net-storage');

function ok(args: string[]): string {
  const r = husk(root, args);
  expect(r.status, `${args.join(" ")}: ${r.stdout} ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A python one-liner: connect to ADDR:PORT within 2 s and print what the server says, or FAIL. */
const connect = (addr: string, port: number) =>
  `import socket\ntry:\n  s=socket.create_connection(("${addr}",${port}),timeout=2); print(s.recv(100).decode())\nexcept Exception as e: print("FAIL", e)`;
/** A server that tells each client its own address as it sees it, for `n` clients. */
const server = (port: number, n = 1) =>
  `import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",${port})); s.listen(8)\nfor _ in range(${n}):\n  c,a=s.accept(); c.sendall(("seen "+a[0]).encode()); c.close()`;

/** The same over IPv6 (a v4-mapped client shows as ::ffff:A.B.C.D). */
const server6 = (port: number, n = 1) =>
  `import socket\ns=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("::",${port})); s.listen(8)\nfor _ in range(${n}):\n  c,a=s.accept(); c.sendall(("seen "+a[0]).encode()); c.close()`;
/** Connects to NAME:PORT over IPv6 only (the name resolved with AF_INET6: an AAAA lookup). */
const connect6 = (name: string, port: number) =>
  `import socket\ntry:\n  a=socket.getaddrinfo("${name}",${port},socket.AF_INET6,socket.SOCK_STREAM)[0][4]; s=socket.socket(socket.AF_INET6); s.settimeout(2); s.connect(a); print(s.recv(100).decode())\nexcept Exception as e: print("FAIL", e)`;

/** A server in the fake outside, in the background; ends after `n` clients or at the test's end. */
function outsideServer(port: number, n = 1, six = false) {
  const child = spawn('ip', ['netns', 'exec', UPLINK, PY, '-c', six ? server6(port, n) : server(port, n)], { stdio: 'ignore' });
  return { stop: () => child.kill('SIGKILL'), done: new Promise((r) => child.once('close', r)) };
}

/**
 * A DNS server in the fake outside, the fake host's resolver: `outside.test` is 198.51.100.77,
 * any other name does not exist. Resolves once it listens.
 */
const FAKE_DNS = (ip: string, answer: number) => `import socket,struct
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("${ip}",53)); print("ready",flush=True)
while True:
  q,a=s.recvfrom(512); i=12; labels=[]
  while q[i]: labels.append(q[i+1:i+1+q[i]].decode()); i+=1+q[i]
  qt=struct.unpack(">H",q[i+1:i+3])[0]; known=".".join(labels).lower()=="outside.test"; hit=known and qt==1
  r=q[:2]+struct.pack(">HHHHH",0x8180 if known else 0x8183,1,1 if hit else 0,0,0)+q[12:i+5]
  if hit: r+=b"\\xc0\\x0c"+struct.pack(">HHIH",1,1,60,4)+bytes([198,51,100,${answer}])
  s.sendto(r,a)`;

/** The same over TCP (RFC 7766: each message after its two-byte length). */
const DNS_ASK_TCP = (ip: string, name: string, qtype = 1) => `import socket,struct
q=struct.pack(">HHHHHH",0x1234,0x0100,1,0,0,0)+b"".join(bytes([len(l)])+l.encode() for l in "${name}".split("."))+b"\\0"+struct.pack(">HH",${qtype},1)
s=socket.create_connection(("${ip}",53),timeout=2); s.sendall(struct.pack(">H",len(q))+q); r=b""
while True:
  d=s.recv(4096)
  if not d: break
  r+=d
n=struct.unpack(">H",r[:2])[0]; r=r[2:2+n]; rc=r[3]&15; an=struct.unpack(">H",r[6:8])[0]
print("NXDOMAIN" if rc==3 else ".".join(str(b) for b in r[-4:]) if an else "NODATA")`;

/** A python one-liner: one A (or `qtype`) query for NAME to IP:53; prints the address's last 4 bytes, NXDOMAIN or NODATA. */
const DNS_ASK = (ip: string, name: string, qtype = 1) => `import socket,struct
q=struct.pack(">HHHHHH",0x1234,0x0100,1,0,0,0)+b"".join(bytes([len(l)])+l.encode() for l in "${name}".split("."))+b"\\0"+struct.pack(">HH",${qtype},1)
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q,("${ip}",53)); r=s.recv(512)
rc=r[3]&15; an=struct.unpack(">H",r[6:8])[0]
print("NXDOMAIN" if rc==3 else ".".join(str(b) for b in r[-4:]) if an else "NODATA")`;

async function fakeDns(ip = RESOLVER_IP, answer = 77): Promise<{ stop: () => Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', UPLINK, PY, '-c', FAKE_DNS(ip, answer)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const closed = new Promise((r) => child.once('close', r));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('close', () => reject(new Error('the fake DNS server did not start')));
  });
  return {
    stop: async () => {
      child.kill('SIGKILL');
      await closed;
    },
  };
}

/** The pid in a network's responder pidfile (husk-dns), or undefined. */
function responderOf(network: string): number | undefined {
  try {
    return Number(readFileSync(join(root, 'networks', 'dns', `${network}.pid`), 'utf8'));
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  try {
    return isResponder(pid);
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function links(ns: string): string[] {
  return inNs(ns, ['ip', '-o', 'link']).stdout.split('\n').filter(Boolean).map((l) => l.split(': ')[1].split('@')[0]);
}

beforeAll(() => {
  // The fake host's own resolver is in the fake outside: names husk-dns forwards go nowhere else.
  mkdirSync(HOST_ETC, { recursive: true });
  writeFileSync(`${HOST_ETC}/resolv.conf`, `nameserver ${RESOLVER_IP}\n`);
  for (const cmd of [
    ['ip', 'netns', 'add', HOST],
    ['ip', 'netns', 'add', UPLINK],
    ['ip', '-n', HOST, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', UPLINK],
    ['ip', '-n', HOST, 'addr', 'add', `${HOST_IP}/24`, 'dev', 'uplink0'],
    ['ip', '-n', UPLINK, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0'],
    ['ip', '-n', HOST, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', HOST, 'link', 'set', 'uplink0', 'up'],
    ['ip', '-n', UPLINK, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', UPLINK, 'link', 'set', 'eth0', 'up'],
    // IPv6 of the fake world, without duplicate address detection (usable at once).
    ['ip', '-n', HOST, 'addr', 'add', `${HOST_IP6}/64`, 'dev', 'uplink0', 'nodad'],
    ['ip', '-n', UPLINK, 'addr', 'add', `${OUTSIDE_IP6}/64`, 'dev', 'eth0', 'nodad'],
  ]) {
    const r = sh(cmd);
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  }
});

afterAll(() => {
  // The two namespaces take every bridge, veth, route and nft table of the fake world with them.
  sh(['ip', 'netns', 'del', HOST]);
  sh(['ip', 'netns', 'del', UPLINK]);
  rmSync(HOST_ETC, { recursive: true, force: true });
  try {
    if (readdirSync('/etc/netns').length === 0) rmSync('/etc/netns', { recursive: true });
  } catch {
    // another user of ip netns keeps its files there
  }
  expect(existsSync(`/run/netns/${HOST}`) || existsSync(`/run/netns/${UPLINK}`)).toBe(false);
  // Nothing of husk's on the real host: no husk link, no husk table.
  expect(readdirSync('/sys/class/net').filter((n) => n.startsWith('husk'))).toEqual([]);
  expect(sh(['nft', 'list', 'tables']).stdout).not.toContain('husk');
});

describe('networks', () => {
  it('network create, ls, inspect and rm: a bridge with the gateway address, and nothing after rm', () => {
    ok(['network', 'create', '--subnet', '10.77.0.0/24', 'web']);
    const [net] = JSON.parse(ok(['network', 'ls', '--format', 'json']));
    expect(net).toMatchObject({ Name: 'web', Subnet: '10.77.0.0/24', Gateway: '10.77.0.1', Bridge: 'husk1' });
    expect(inNs(HOST, ['ip', '-o', '-4', 'addr', 'show', 'husk1']).stdout).toContain('10.77.0.1/24');
    const [inspected] = JSON.parse(ok(['network', 'inspect', 'web']));
    expect(inspected.IPAM.Config[0]).toEqual({ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' });
    // A name taken, an overlapping subnet: one line each, exit 125, nothing made.
    const again = husk(root, ['network', 'create', 'web']);
    expect(again.status).toBe(125);
    expect(again.stderr.trim()).toBe('husk: network with name web already exists');
    const overlap = husk(root, ['network', 'create', '--subnet', '10.77.0.128/25', 'web2']);
    expect(overlap.status).toBe(125);
    expect(overlap.stderr).toContain('overlaps network web');
    expect(inNs(HOST, ['nft', 'list', 'set', 'inet', 'husk', 'bridges']).stdout).toContain('"husk1"');
    ok(['network', 'rm', 'web']);
    expect(links(HOST).filter((l) => l.startsWith('husk'))).toEqual([]);
    expect(inNs(HOST, ['nft', 'list', 'tables']).stdout).not.toContain('husk');
  });

  it('a container on a network has eth0 with its address, a default route and its own /etc files; --network none has only lo', () => {
    ok(['network', 'create', '--subnet', '10.77.1.0/24', 'web']);
    const out = ok(['run', '--network', 'web', '--hostname', 'box', 'host', 'sh', '-c', 'ls /sys/class/net; cat /sys/class/net/eth0/address; grep -c . /proc/net/route; cat /etc/hostname; grep box /etc/hosts']);
    expect(out.split('\n')).toEqual(['eth0', 'lo', '02:42:0a:4d:01:02', '3', 'box', '10.77.1.2\tbox', '']);
    expect(ok(['run', '--network', 'none', 'host', 'ls', '/sys/class/net']).trim()).toBe('lo');
    // The host's own files are untouched: the container's are bound over them.
    expect(sh(['cat', '/etc/hostname']).stdout).not.toBe('box\n');
  });

  it('without --network, root\'s container joins the default network husk (bridge husk0), as docker\'s default bridge; one that joins another\'s namespace gets none of its own', () => {
    // run, run -d and create + start: eth0 with the first address of the default subnet.
    expect(ok(['run', 'host', 'sh', '-c', 'ls /sys/class/net; ip -4 -o addr show eth0 | grep -o "10.88.0.2/16"']).split('\n')).toEqual(['eth0', 'lo', '10.88.0.2/16', '']);
    expect(links(HOST)).toContain('husk0');
    ok(['run', '-d', '--name', 'srv', 'host', 'sleep', '60']);
    ok(['create', '--name', 'later', 'host', 'sleep', '60']);
    ok(['start', 'later']);
    const on = Object.values(JSON.parse(ok(['network', 'inspect', 'husk']))[0].Containers as Record<string, { Name: string; IPv4Address: string }>);
    expect(on.map((c) => `${c.Name} ${c.IPv4Address}`).sort()).toEqual(['later 10.88.0.3/16', 'srv 10.88.0.2/16']);
    // Joined namespaces are the other's: --net container:srv sees srv's eth0 and takes no address.
    expect(ok(['run', '--net', 'container:srv', 'host', 'sh', '-c', 'ip -4 -o addr show eth0 | grep -o "10.88.0.[0-9]*"']).trim()).toBe('10.88.0.2');
    expect(readdirSync(join(root, 'networks', 'husk.leases')).filter((n) => !n.startsWith('.')).sort()).toEqual(['10.88.0.2', '10.88.0.3']);
    // --network none keeps only lo; --net host is the host's.
    expect(ok(['run', '--network', 'none', 'host', 'ls', '/sys/class/net']).trim()).toBe('lo');
    expect(ok(['run', '--net', 'host', 'host', 'ls', '/sys/class/net']).split('\n')).toContain('uplink0');
    // -p without --network publishes from the default network, as docker's.
    ok(['run', '-d', '--name', 'pub', '-p', '8085:80', 'host', 'sleep', '60']);
    expect(ok(['port', 'pub']).trim()).toBe('80/tcp -> 0.0.0.0:8085');
  });

  it('the default network comes up once under 20 concurrent first runs: one bridge, one nft table, no error', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, () => new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const c = spawn('ip', ['netns', 'exec', HOST, process.execPath, '--', huskBin, '--root', root, 'run', 'host', 'sh', '-c', 'ip -4 -o addr show eth0 | grep -o "10.88.0.[0-9]*"'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      c.stdout!.resume();
      c.once('close', (status) => resolve({ status, stderr }));
    })));
    expect(runs.filter((r) => r.status !== 0)).toEqual([]);
    expect(runs.map((r) => r.stderr).join('')).toBe('');
    expect(links(HOST).filter((l) => /^husk\d+$/.test(l))).toEqual(['husk0']);
    expect(inNs(HOST, ['nft', 'list', 'tables']).stdout.trim().split('\n').filter((l) => l.includes('husk'))).toEqual(['table inet husk']);
    expect(JSON.parse(ok(['network', 'ls', '--format', 'json'])).map((n: { Name: string }) => n.Name)).toEqual(['husk']);
  });

  it('A reaches B by address on one network, and not from another network', async () => {
    ok(['network', 'create', '--subnet', '10.77.2.0/24', 'one']);
    ok(['network', 'create', '--subnet', '10.77.3.0/24', 'two']);
    ok(['run', '-d', '--name', 'b', '--network', 'one', 'host', PY, '-c', server(80, 2)]);
    const b = JSON.parse(ok(['inspect', 'b']))[0];
    const addr = b.NetworkSettings?.IPAddress ?? '10.77.2.2';
    await waitFor(() => inNs(HOST, ['sh', '-c', `grep -q ':0050 ' /proc/net/tcp`]).status === 0 || true, 500);
    let seen = '';
    for (let i = 0; i < 20 && !seen.startsWith('seen'); i++) seen = ok(['run', '--network', 'one', 'host', PY, '-c', connect(addr, 80)]).trim();
    expect(seen).toBe('seen 10.77.2.3');
    expect(ok(['run', '--network', 'two', 'host', PY, '-c', connect(addr, 80)])).toMatch(/^FAIL/);
  });

  it('a container reaches a server outside through NAT (it sees the host), and does not without the masquerade', async () => {
    ok(['network', 'create', '--subnet', '10.77.4.0/24', 'web']);
    const srv = outsideServer(9000, 2);
    try {
      let seen = '';
      for (let i = 0; i < 20 && !seen.startsWith('seen'); i++) seen = ok(['run', '--network', 'web', 'host', PY, '-c', connect(OUTSIDE_IP, 9000)]).trim();
      expect(seen).toBe(`seen ${HOST_IP}`);
      // The negative control: without the network's masquerade element no answer finds its way back.
      expect(inNs(HOST, ['nft', 'delete', 'element', 'inet', 'husk', 'nat_nets', '{ 10.77.4.0/24 }']).status).toBe(0);
      expect(ok(['run', '--network', 'web', 'host', PY, '-c', connect(OUTSIDE_IP, 9000)])).toMatch(/^FAIL/);
      inNs(HOST, ['nft', 'add', 'element', 'inet', 'husk', 'nat_nets', '{ 10.77.4.0/24 }']);
    } finally {
      srv.stop();
      await srv.done;
    }
  });

  it('--internal: no default route and no way out', () => {
    ok(['network', 'create', '--internal', '--subnet', '10.77.5.0/24', 'closed']);
    expect(ok(['run', '--network', 'closed', 'host', 'grep', '-c', '.', '/proc/net/route']).trim()).toBe('2');
    expect(ok(['run', '--network', 'closed', 'host', PY, '-c', connect(OUTSIDE_IP, 9000)])).toMatch(/^FAIL .*unreachable/);
  });

  it('a published port is reachable from outside, from the host\'s 127.0.0.1 and from a container (hairpin)', async () => {
    ok(['network', 'create', '--subnet', '10.77.6.0/24', 'web']);
    ok(['run', '-d', '--name', 'srv', '--network', 'web', '-p', '8080:80', 'host', PY, '-c', server(80, 10)]);
    expect(ok(['port', 'srv']).trim()).toBe('80/tcp -> 0.0.0.0:8080');
    let seen = '';
    for (let i = 0; i < 50 && !seen.startsWith('seen'); i++) seen = inNs(UPLINK, [PY, '-c', connect(HOST_IP, 8080)]).stdout.trim();
    expect(seen).toBe(`seen ${OUTSIDE_IP}`);
    expect(inNs(HOST, [PY, '-c', connect('127.0.0.1', 8080)]).stdout.trim()).toMatch(/^seen /);
    expect(ok(['run', '--network', 'web', 'host', PY, '-c', connect(HOST_IP, 8080)]).trim()).toMatch(/^seen /);
    // The port is the container's: a second one cannot take it, and nothing of it is left.
    const taken = husk(root, ['run', '--network', 'web', '-p', '8080:80', 'host', 'true']);
    expect(taken.status).toBe(125);
    expect(taken.stderr).toContain('already allocated');
    ok(['rm', '-f', 'srv']);
    expect(inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports']).stdout).not.toContain('8080');
  });

  it('100 containers started and removed on one network leave no veth, lease, file or nft element', async () => {
    ok(['network', 'create', '--subnet', '10.77.7.0/24', 'many']);
    const runs = [];
    for (let i = 0; i < 100; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => new Promise<number | null>((resolve) => {
        const c = spawn('ip', ['netns', 'exec', HOST, process.execPath, '--', huskBin, '--root', root, 'run', '--network', 'many', '-p', `${20000 + i + j}:80`, 'host', 'true'], { stdio: 'ignore' });
        c.once('close', (s) => resolve(s));
      }));
      runs.push(...(await Promise.all(batch)));
    }
    expect(runs.every((s) => s === 0)).toBe(true);
    await waitFor(() => links(HOST).every((l) => !l.startsWith('husk-')));
    expect(links(HOST).filter((l) => l.startsWith('husk-'))).toEqual([]);
    expect(readdirSync(join(root, 'networks', 'many.leases')).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports']).stdout).not.toMatch(/\d+ : /);
    // Nor a name: the records are gone, and the responder with them; nor a port claim.
    expect(existsSync(join(root, 'networks', 'many.dns'))).toBe(false);
    await waitFor(() => responderOf('many') === undefined, 10_000);
    expect(responderOf('many')).toBeUndefined();
    expect(readdirSync(join(root, 'networks', 'ports')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a container\'s ports are published and unpublished with no nft process: they come with its start and go with its end, with no husk command then', async () => {
    ok(['network', 'create', '--subnet', '10.77.19.0/24', 'quick']);
    // nft lives in /usr/sbin: without it on PATH, a husk that ran it would fail.
    const noNft = (args: string[]) => inNs(HOST, ['env', 'PATH=/usr/bin:/bin', process.execPath, '--', huskBin, '--root', root, ...args]);
    expect(sh(['sh', '-c', 'PATH=/usr/bin:/bin command -v nft']).status).not.toBe(0);
    const run = noNft(['run', '-d', '--name', 'brief', '--network', 'quick', '-p', '8090:80', '-p', '127.0.0.1:8091:81/udp', 'host', 'sleep', '2']);
    expect(run.status, run.stderr).toBe(0);
    const table = () => inNs(HOST, ['nft', 'list', 'table', 'inet', 'husk']).stdout;
    expect(table()).toContain('tcp . 8090 : 10.77.19.2 . 80');
    expect(table()).toContain('127.0.0.1 . udp . 8091 : 10.77.19.2 . 81');
    // It ends on its own: its monitor takes the elements away.
    await waitFor(() => !table().includes('809'), 8000);
    expect(table()).not.toContain('809');
    expect(noNft(['rm', 'brief']).status).toBe(0);
    // A foreground run's too, and a taken port still fails by name.
    expect(noNft(['run', '--network', 'quick', '-p', '8090:80', 'host', 'sh', '-c', 'exit 3']).status).toBe(3);
    expect(table()).not.toContain('809');
  });

  it('20 concurrent starts get 20 different addresses', async () => {
    ok(['network', 'create', '--subnet', '10.77.8.0/24', 'busy']);
    const starts = await Promise.all(Array.from({ length: 20 }, () => new Promise<number | null>((resolve) => {
      const c = spawn('ip', ['netns', 'exec', HOST, process.execPath, '--', huskBin, '--root', root, 'run', '-d', '--network', 'busy', 'host', 'sleep', '60'], { stdio: 'ignore' });
      c.once('close', (s) => resolve(s));
    })));
    expect(starts.every((s) => s === 0)).toBe(true);
    // All 20 run at once: each holds its own address (its lease, and eth0 inside).
    const leases = readdirSync(join(root, 'networks', 'busy.leases')).filter((n) => !n.startsWith('.'));
    expect(leases.length).toBe(20);
    const records = readdirSync(join(root, 'containers')).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    const addresses = records.map((f) => JSON.parse(readFileSync(join(root, 'containers', f), 'utf8')).network.address);
    expect(new Set(addresses).size).toBe(20);
    expect([...addresses].sort()).toEqual([...leases].sort());
  });

  it('a SIGKILLed monitor: the next command gives its address back; its veth is gone with its namespace', async () => {
    ok(['network', 'create', '--subnet', '10.77.9.0/24', 'web']);
    ok(['run', '-d', '--name', 'k', '--network', 'web', 'host', 'sleep', '60']);
    const [file] = readdirSync(join(root, 'containers')).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    const rec = JSON.parse(readFileSync(join(root, 'containers', file), 'utf8'));
    // Only the monitor of the container this test started, by its recorded pid.
    process.kill(rec.launcherPid, 'SIGKILL');
    await waitFor(() => links(HOST).every((l) => !l.startsWith('husk-')));
    expect(links(HOST).filter((l) => l.startsWith('husk-'))).toEqual([]);
    ok(['ps', '-a']); // the next command: the container is finished, its lease stale
    ok(['run', '--network', 'web', 'host', 'true']); // looks at the leases and reclaims it
    expect(readdirSync(join(root, 'networks', 'web.leases')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('containers on one user-defined network find each other by name, alias and short id; other names go to the host\'s resolver', async () => {
    const dns = await fakeDns();
    try {
      ok(['network', 'create', '--subnet', '10.77.10.0/24', 'names']);
      ok(['network', 'create', '--subnet', '10.77.11.0/24', 'other']);
      const id = ok(['run', '-d', '--name', 'db', '--network', 'names', '--network-alias', 'cache', '--network-alias', 'Store.Local', 'host', 'sleep', '60']).trim();
      const pid = responderOf('names');
      expect(pid !== undefined && alive(pid)).toBe(true);
      // It serves as nobody once bound, keeping only CAP_NET_BIND_SERVICE (bit 10).
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^CapEff:\t0000000000000400$/m);
      const out = ok(['run', '--network', 'names', 'host', 'sh', '-c',
        `cat /etc/resolv.conf; getent hosts db; getent hosts cache; getent hosts store.local; getent hosts ${id.slice(0, 12)}; busybox nslookup CACHE | grep -c 10.77.10.2; getent hosts outside.test; getent hosts nowhere.test || echo nowhere-not-found`]);
      expect(out.split('\n')).toEqual([
        'nameserver 10.77.10.1',
        '10.77.10.2      db',
        '10.77.10.2      cache',
        '10.77.10.2      store.local',
        `10.77.10.2      ${id.slice(0, 12)}`,
        '1',
        '198.51.100.77   outside.test',
        'nowhere-not-found',
        '',
      ]);
      // Over TCP, a forwarded name's answer comes back on the connection too.
      expect(ok(['run', '--network', 'names', 'host', PY, '-c', DNS_ASK_TCP('10.77.10.1', 'outside.test')]).trim()).toBe('198.51.100.77');
      // Names are per network: from another network db is no one's.
      expect(ok(['run', '--network', 'other', 'host', 'sh', '-c', 'getent hosts db || echo not-found']).trim()).toBe('not-found');
      // The one responder of `names` served all of it; `other` got its own.
      expect(responderOf('names')).toBe(pid);
      // The last container of the network ends: its responder, records and pidfile go.
      ok(['rm', '-f', 'db']);
      await waitFor(() => !alive(pid!), 10_000);
      expect(alive(pid!)).toBe(false);
      expect(existsSync(join(root, 'networks', 'names.dns'))).toBe(false);
      expect(existsSync(join(root, 'networks', 'dns', 'names.pid'))).toBe(false);
    } finally {
      await dns.stop();
    }
  });

  it('a container that ends on its own is no longer found by name, before any husk command; husk start leases its address again', async () => {
    ok(['network', 'create', '--internal', '--subnet', '10.77.20.0/24', 'late']);
    ok(['run', '-d', '--name', 'keeper', '--network', 'late', 'host', 'sleep', '60']);
    ok(['run', '-d', '--name', 'brief', '--network', 'late', 'host', 'sleep', '2']);
    // Asked straight of the responder from the fake host: no husk command runs in between.
    const ask = (name: string) => inNs(HOST, [PY, '-c', DNS_ASK('10.77.20.1', name)]).stdout.trim();
    expect(ask('brief')).toBe('10.77.20.3');
    await waitFor(() => ask('brief') === 'NXDOMAIN', 8000);
    expect(ask('brief')).toBe('NXDOMAIN');
    expect(ask('keeper')).toBe('10.77.20.2');
    expect(readFileSync(join(root, 'networks', 'late.dns'), 'utf8')).toContain(' brief ');
    // Started again: the same address, leased again, and its name back.
    ok(['start', 'brief']);
    expect(ask('brief')).toBe('10.77.20.3');
    expect(readdirSync(join(root, 'networks', 'late.leases')).filter((n) => !n.startsWith('.')).sort()).toEqual(['10.77.20.2', '10.77.20.3']);
    await waitFor(() => ask('brief') === 'NXDOMAIN', 8000);
    // Its address taken meanwhile: a new one, as docker's, never shared; its name follows it.
    ok(['run', '-d', '--name', 'other', '--network', 'late', 'host', 'sleep', '60']);
    expect(ask('other')).toBe('10.77.20.3');
    ok(['start', 'brief']);
    expect(ask('brief')).toBe('10.77.20.4');
    expect(ask('other')).toBe('10.77.20.3');
    ok(['wait', 'brief']);
    // Unless it was typed with --ip: then refused by name.
    ok(['run', '-d', '--name', 'fixed', '--network', 'late', '--ip', '10.77.20.9', 'host', 'true']);
    ok(['wait', 'fixed']);
    ok(['run', '-d', '--name', 'thief', '--network', 'late', '--ip', '10.77.20.9', 'host', 'sleep', '60']);
    const again = husk(root, ['start', 'fixed']);
    expect(again.status).toBe(1); // docker's start fails with 1 too
    expect(again.stderr).toBe('husk: cannot start container fixed: its address 10.77.20.9 on network late was given to another container since it stopped\nStop the container that holds it, or remove this one and run it again with another --ip.\n');
    expect(ask('thief')).toBe('10.77.20.9');
    // restart of a running one: its old veth may still be going; the new one takes its place.
    ok(['restart', 'keeper']);
    expect(ok(['exec', 'keeper', 'sh', '-c', 'ip -4 -o addr show eth0 | grep -o "10.77.20.2/24"']).trim()).toBe('10.77.20.2/24');
    expect(ask('keeper')).toBe('10.77.20.2');
  });

  it('networks joined by network connect are joined again when the container starts again, with their aliases; at a new address when another took its own', async () => {
    ok(['network', 'create', '--subnet', '10.77.21.0/24', 'front']);
    ok(['network', 'create', '--subnet', '10.77.22.0/24', 'back']);
    ok(['run', '-d', '--init', '--name', 'app', '--network', 'front', 'host', 'sleep', '60']);
    ok(['network', 'connect', '--alias', 'api', 'back', 'app']);
    ok(['run', '-d', '--init', '--name', 'peer', '--network', 'back', 'host', 'sleep', '60']);
    const inApp = () => ok(['exec', 'app', 'sh', '-c', 'ls /sys/class/net | tr "\\n" " "; ip -4 -o addr show eth1 | grep -o "10.77.22.[0-9]*/24"']).trim();
    const api = () => ok(['exec', 'peer', 'sh', '-c', 'getent hosts api || echo not-found']).trim();
    expect(inApp()).toBe('eth0 eth1 lo 10.77.22.2/24');
    ok(['restart', 'app']);
    expect(inApp()).toBe('eth0 eth1 lo 10.77.22.2/24');
    expect(api()).toBe('10.77.22.2      api');
    // Stopped, its address on back taken by another: the next start joins back at a new one.
    ok(['stop', 'app']);
    await waitFor(() => api() === 'not-found'); // its veth goes with its namespace, which the kernel ends a moment later
    expect(api()).toBe('not-found');
    ok(['run', '-d', '--name', 'taker', '--network', 'back', '--ip', '10.77.22.2', 'host', 'sleep', '60']);
    ok(['start', 'app']);
    expect(inApp()).toBe('eth0 eth1 lo 10.77.22.4/24');
    expect(api()).toBe('10.77.22.4      api');
    expect(readdirSync(join(root, 'networks', 'back.leases')).filter((n) => !n.startsWith('.')).sort()).toEqual(['10.77.22.2', '10.77.22.3', '10.77.22.4']);
    // A network it was connected to that is gone: the start is refused by name, nothing run.
    ok(['rm', '-f', 'taker', 'peer']);
    ok(['stop', 'app']);
    ok(['network', 'rm', 'back']);
    const gone = husk(root, ['start', 'app']);
    expect([gone.status, gone.stderr]).toEqual([1, 'husk: cannot start container app: network back it was connected to no longer exists\nDisconnect it first: husk network disconnect back app.\n']);
    ok(['network', 'disconnect', 'back', 'app']);
    ok(['start', 'app']);
    expect(ok(['exec', 'app', 'ls', '/sys/class/net']).split('\n').filter(Boolean)).toEqual(['eth0', 'lo']);
  });

  it('a responder stopped by the last container (2 s after it) is started again by the next one; runs in a row share one', async () => {
    ok(['network', 'create', '--subnet', '10.77.12.0/24', 'again']);
    // Containers run one after another (each the only one while it runs) share a responder:
    // it waits 2 s for the records to come back before it stops. Loose on a loaded machine:
    // of three runs in a row, two at least were served by one.
    const pids: (number | undefined)[] = [];
    for (const n of ['a1', 'a2', 'a3']) {
      ok(['run', '--name', n, '--network', 'again', 'host', 'true']);
      pids.push(responderOf('again'));
    }
    expect(pids.every((p) => p !== undefined && alive(p))).toBe(true);
    expect(new Set(pids).size).toBeLessThan(3);
    await waitFor(() => responderOf('again') === undefined, 10_000);
    expect(ok(['run', '--name', 'one', '--network', 'again', 'host', 'getent', 'hosts', 'one']).trim()).toBe('10.77.12.2      one');
    await waitFor(() => responderOf('again') === undefined, 10_000);
    expect(responderOf('again')).toBeUndefined();
    expect(ok(['run', '--name', 'two', '--network', 'again', 'host', 'getent', 'hosts', 'two']).trim()).toBe('10.77.12.2      two');
  });

  it('--network-alias: refused on the default network, without a network, and when it is no DNS name; nothing left', () => {
    const noNet = husk(root, ['run', '--network', 'none', '--network-alias', 'x', 'host', 'true']);
    expect(noNet.status).toBe(125);
    expect(noNet.stderr.trim()).toBe('husk: --network-alias needs a user-defined network: add --network NAME');
    // Named (bridge is docker's name for it) or left to the default, the default network has no names.
    for (const net of [['--network', 'bridge'], []]) {
      const onDefault = husk(root, ['run', ...net, '--network-alias', 'x', 'host', 'true']);
      expect(onDefault.status).toBe(125);
      expect(onDefault.stderr.trim()).toBe('husk: network-alias: network-scoped aliases are supported only for containers in user-defined networks (not husk)');
    }
    ok(['network', 'create', '--subnet', '10.77.13.0/24', 'web']);
    const bad = husk(root, ['run', '--network', 'web', '--network-alias', 'a b', 'host', 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr.trim()).toBe("husk: network-alias a b: only letters, digits, '-', '_' and '.' between labels are allowed");
    expect(existsSync(join(root, 'networks', 'web.leases'))).toBe(false);
    expect(responderOf('web')).toBeUndefined();
  });

  it('network connect joins a running container to one more network live (eth1, an address, its names), and disconnect takes it all away', async () => {
    ok(['network', 'create', '--subnet', '10.77.14.0/24', 'front']);
    ok(['network', 'create', '--subnet', '10.77.15.0/24', 'back']);
    ok(['run', '-d', '--name', 'app', '--network', 'front', 'host', PY, '-c', server(80, 10)]);
    ok(['run', '-d', '--name', 'db', '--network', 'back', 'host', 'sleep', '60']);
    // Before: app is not on back, so a container there cannot find it.
    expect(ok(['run', '--network', 'back', 'host', 'sh', '-c', 'getent hosts app || echo not-found']).trim()).toBe('not-found');
    ok(['network', 'connect', '--alias', 'api', 'back', 'app']);
    expect(links(HOST).filter((l) => l.startsWith('husk-'))).toHaveLength(3); // app's two, db's one
    // Inside app: eth1 with the new address; the default route is still front's.
    expect(ok(['exec', 'app', 'sh', '-c', 'ls /sys/class/net | tr "\\n" " "; ip -4 -o addr show eth1 | grep -o "10.77.15.3/24"; grep -c . /proc/net/route']).split('\n')).toEqual(['eth0 eth1 lo 10.77.15.3/24', '4', '']);
    let seen = '';
    for (let i = 0; i < 20 && !seen.includes('seen'); i++) seen = ok(['run', '--network', 'back', 'host', 'sh', '-c', `getent hosts api && ${PY} -c '${connect('api', 80).replace(/'/g, "'\\''")}'`]).trim();
    expect(seen.split('\n')).toEqual(['10.77.15.3      api', 'seen 10.77.15.4']);
    // And app finds back's names through its first network's responder (front's), as on podman.
    expect(ok(['exec', 'app', 'sh', '-c', 'getent hosts db || echo not-found']).trim()).toBe('10.77.15.2      db');
    const [net] = JSON.parse(ok(['network', 'inspect', 'back']));
    expect(Object.values(net.Containers).map((c) => (c as { Name: string }).Name).sort()).toEqual(['app', 'db']);
    // Refused: twice on one network; leaving one it is not on.
    const twice = husk(root, ['network', 'connect', 'back', 'app']);
    expect([twice.status, twice.stderr.trim()]).toEqual([125, 'husk: container app is already connected to network back']);
    ok(['network', 'disconnect', 'back', 'app']);
    const again = husk(root, ['network', 'disconnect', 'back', 'app']);
    expect([again.status, again.stderr.trim()]).toEqual([125, 'husk: container app is not connected to network back']);
    // After: the veth, the lease and the names are gone; app keeps front.
    expect(links(HOST).filter((l) => l.startsWith('husk-'))).toHaveLength(2);
    expect(readdirSync(join(root, 'networks', 'back.leases')).filter((n) => !n.startsWith('.'))).toEqual(['10.77.15.2']);
    expect(readFileSync(join(root, 'networks', 'back.dns'), 'utf8')).not.toContain('api');
    expect(ok(['run', '--network', 'back', 'host', 'sh', '-c', 'getent hosts api || echo not-found']).trim()).toBe('not-found');
    expect(ok(['exec', 'app', 'ls', '/sys/class/net']).split('\n').filter(Boolean)).toEqual(['eth0', 'lo']);
    expect(ok(['exec', 'app', 'sh', '-c', 'getent hosts db || echo not-found']).trim()).toBe('not-found');
    // Connected again, then removed: rm gives back every network's address.
    ok(['network', 'connect', 'back', 'app']);
    ok(['rm', '-f', 'app']);
    expect(readdirSync(join(root, 'networks', 'front.leases')).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(root, 'networks', 'back.leases')).filter((n) => !n.startsWith('.'))).toEqual(['10.77.15.2']);
    const gone = husk(root, ['network', 'connect', 'back', 'app']);
    expect([gone.status, gone.stderr.trim()]).toEqual([125, 'husk: no such container: app']);
  });

  it('--dns, --add-host and --mac-address; an --internal network has names but forwards nothing', async () => {
    // A second resolver in the fake outside, for --dns: it says outside.test is .88 (the host's says .77).
    expect(inNs(UPLINK, ['ip', 'addr', 'add', '198.51.100.3/24', 'dev', 'eth0']).status).toBe(0);
    const hostDns = await fakeDns();
    const ownDns = await fakeDns('198.51.100.3', 88);
    try {
      ok(['network', 'create', '--subnet', '10.77.16.0/24', 'opts']);
      const out = ok(['run', '--network', 'opts', '--dns', '198.51.100.3', '--add-host', 'gw:host-gateway', '--add-host', 'db.local=192.0.2.7', '--mac-address', '02:42:AC:11:00:99', 'host', 'sh', '-c',
        'getent hosts outside.test; getent hosts db.local; grep -c "^10.77.16.1\tgw$" /etc/hosts; cat /sys/class/net/eth0/address; cat /etc/resolv.conf']);
      expect(out.split('\n')).toEqual(['198.51.100.88   outside.test', '192.0.2.7       db.local', '1', '02:42:ac:11:00:99', 'nameserver 10.77.16.1', '']);
      // Without --dns the same network forwards to the host's resolver.
      expect(ok(['run', '--network', 'opts', 'host', 'getent', 'hosts', 'outside.test']).trim()).toBe('198.51.100.77   outside.test');
      // The default network has no responder: --dns is the container's resolv.conf.
      expect(ok(['run', '--network', 'husk', '--dns', '198.51.100.3', 'host', 'cat', '/etc/resolv.conf'])).toBe('nameserver 198.51.100.3\n');
      // --internal: names among its containers, nothing forwarded out.
      ok(['network', 'create', '--internal', '--subnet', '10.77.17.0/24', 'closed2']);
      ok(['run', '-d', '--name', 'inner', '--network', 'closed2', 'host', 'sleep', '60']);
      expect(ok(['run', '--network', 'closed2', 'host', 'sh', '-c', 'getent hosts inner; getent hosts outside.test || echo not-found']).split('\n')).toEqual(['10.77.17.2      inner', 'not-found', '']);
      for (const [args, line] of [
        [['--network', 'none', '--dns', '198.51.100.3'], 'husk: --dns needs a network: add --network NAME (husk is the default one)'],
        [['--network', 'opts', '--dns', '::1'], 'husk: dns: ::1: not an IPv4 address'],
        [['--network', 'opts', '--add-host', 'nohost'], 'husk: add-host nohost: expected NAME:IP'],
        [['--network', 'opts', '--mac-address', '03:00:00:00:00:01'], 'husk: mac-address 03:00:00:00:00:01: a multicast address, not a link\'s own'],
      ] as const) {
        const r = husk(root, ['run', ...args, 'host', 'true']);
        expect([r.status, r.stderr.trim()]).toEqual([125, line]);
      }
    } finally {
      await hostDns.stop();
      await ownDns.stop();
      inNs(UPLINK, ['ip', 'addr', 'del', '198.51.100.3/24', 'dev', 'eth0']);
    }
  });

  it('-P publishes the image\'s ExposedPorts on free host ports, each container its own; husk port lists them; nothing left after rm', async () => {
    const rootfs = join(work, 'rootfs');
    busyboxRootfs(rootfs);
    const img = buildLayout(join(work, 'exposed'), [{ dir: rootfs, compression: 'gzip' }], { tag: 'husk-test/exposed:1', config: { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9/sctp': {} } } });
    ok(['--storage', storage, 'load', '-q', '-i', img.dir]);
    ok(['network', 'create', '--subnet', '10.77.18.0/24', 'pub']);
    ok(['--storage', storage, 'run', '-d', '--name', 'p1', '--network', 'pub', '-P', 'husk-test/exposed:1', 'sleep', '60']);
    // A -p for one of them is kept; -P takes the next free port for the other.
    ok(['--storage', storage, 'run', '-d', '--name', 'p2', '--network', 'pub', '-P', '-p', '8053:53/udp', 'husk-test/exposed:1', 'sleep', '60']);
    expect(ok(['port', 'p1']).split('\n')).toEqual(['80/tcp -> 0.0.0.0:32768', '53/udp -> 0.0.0.0:32769', '']);
    expect(ok(['port', 'p2']).split('\n')).toEqual(['53/udp -> 0.0.0.0:8053', '80/tcp -> 0.0.0.0:32770', '']);
    const map = inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports']).stdout;
    for (const e of ['tcp . 32768 : 10.77.18.2 . 80', 'udp . 32769 : 10.77.18.2 . 53', 'tcp . 32770 : 10.77.18.3 . 80', 'udp . 8053 : 10.77.18.3 . 53']) expect(map).toContain(e);
    // Starts at the same instant each get ports of their own (claims under --root, asked again when taken).
    const starts = await Promise.all(Array.from({ length: 6 }, (_, i) => new Promise<number | null>((resolve) => {
      const c = spawn('ip', ['netns', 'exec', HOST, process.execPath, '--', huskBin, '--root', root, '--storage', storage, 'run', '-d', '--name', `pc${i}`, '--network', 'pub', '-P', 'husk-test/exposed:1', 'sleep', '60'], { stdio: 'ignore' });
      c.once('close', (s) => resolve(s));
    })));
    expect(starts).toEqual([0, 0, 0, 0, 0, 0]);
    // `80/tcp -> 0.0.0.0:32770` as `tcp 32770`: one port number may serve tcp and udp.
    const hostPorts = Array.from({ length: 6 }, (_, i) => ok(['port', `pc${i}`]).trim().split('\n').map((l) => l.replace(/^\d+\/(\w+) -> .*:(\d+)$/, '$1 $2'))).flat();
    expect(hostPorts.length).toBe(12);
    expect(new Set(hostPorts).size).toBe(12);
    ok(['rm', '-f', 'pc0', 'pc1', 'pc2', 'pc3', 'pc4', 'pc5']);
    const bad = husk(root, ['run', '--network', 'none', '-P', 'host', 'true']);
    expect([bad.status, bad.stderr.trim()]).toEqual([125, 'husk: --publish-all needs a network: add --network NAME (husk is the default one)']);
    ok(['rm', '-f', 'p1', 'p2']);
    expect(inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports']).stdout).not.toMatch(/\d+ : /);
  });
  it('the API puts a container on a network as run does (its address, the names there), and gives the address, files and names line back when it ends; a sandbox made ahead too', () => {
    ok(['network', 'create', '--subnet', '10.77.30.0/24', 'apinet']);
    ok(['run', '-d', '--name', 'apidb', '--network', 'apinet', 'host', 'sleep', '60']);
    const leases = () => readdirSync(join(root, 'networks', 'apinet.leases')).filter((n) => !n.startsWith('.')).sort();
    const records = () => readFileSync(join(root, 'networks', 'apinet.dns'), 'utf8').split('\n').filter(Boolean).length;
    expect([leases(), records()]).toEqual([['10.77.30.2'], 1]);
    // The API in a warm process on the fake host, as a program that starts sandboxes runs it.
    const script = `const { Husk } = await import(${JSON.stringify(join(repo, 'dist/ts/api.js'))});
      const h = new Husk({ root: ${JSON.stringify(root)} });
      const r = await h.run({ command: ['sh', '-c', 'ls /sys/class/net | tr "\\\\n" " "; ip -4 -o addr show eth0 | grep -o "10.77.30.3/24"; getent hosts apidb; getent hosts apibox'], network: 'apinet', networkAliases: ['apibox'] });
      const fs = await import('node:fs');
      const files = () => fs.readdirSync(${JSON.stringify(join(root, 'net-files'))}).length;
      const out = { run: r.exitCode, leasesAfterRun: fs.readdirSync(${JSON.stringify(join(root, 'networks', 'apinet.leases'))}).filter((n) => !n.startsWith('.')), filesAfterRun: files() };
      const box = await h.create({ command: ['true'], network: 'apinet' });
      out.leasesMadeAhead = fs.readdirSync(${JSON.stringify(join(root, 'networks', 'apinet.leases'))}).filter((n) => !n.startsWith('.')).sort();
      await box.start();
      out.sandbox = (await box.wait()).exitCode;
      out.leasesAfterSandbox = fs.readdirSync(${JSON.stringify(join(root, 'networks', 'apinet.leases'))}).filter((n) => !n.startsWith('.'));
      out.filesAfterSandbox = files();
      // stdio 'ignore': through the warm launcher server.
      out.quiet = (await h.run({ command: ['true'], network: 'apinet', stdio: 'ignore' })).exitCode;
      out.leasesAfterQuiet = fs.readdirSync(${JSON.stringify(join(root, 'networks', 'apinet.leases'))}).filter((n) => !n.startsWith('.'));
      for (const network of ['ns:x', 'nosuch']) out[network] = await h.run({ command: ['true'], network }).catch((e) => e.message);
      await h.close();
      console.log(JSON.stringify(out));`;
    const r = inNs(HOST, [process.execPath, '--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual(['eth0 lo 10.77.30.3/24', '10.77.30.2      apidb', '10.77.30.3      apibox']);
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      run: 0,
      leasesAfterRun: ['10.77.30.2'],
      filesAfterRun: 1,
      leasesMadeAhead: ['10.77.30.2', '10.77.30.3'],
      sandbox: 0,
      leasesAfterSandbox: ['10.77.30.2'],
      filesAfterSandbox: 1,
      quiet: 0,
      leasesAfterQuiet: ['10.77.30.2'],
      'ns:x': 'network: "ns:x" is not a network name (the API takes none, host or a network\'s name)',
      nosuch: 'network nosuch not found',
    });
    expect([leases(), records()]).toEqual([['10.77.30.2'], 1]);
    ok(['rm', '-f', 'apidb']);
  });
});

describe('IPv6 (dual-stack networks)', () => {
  /** The container's IPv6 addresses and their flags, from /proc/net/if_inet6 (0x02 nodad, 0x40 tentative). */
  const ADDR6_FLAGS = `for l in open("/proc/net/if_inet6"):\n  f=l.split()\n  if f[5]=="eth0" and not f[0].startswith("fe80"): print(f[0], f[4])`;

  it('network create --ipv6: the bridge has both gateways, ls and inspect show both subnets; bad input is one line, exit 125, nothing made; rm leaves no address, route or element', () => {
    ok(['network', 'create', '--ipv6', '--subnet', '10.77.30.0/24', '--subnet', 'fd00:77:30::/64', 'six']);
    expect(inNs(HOST, ['ip', '-o', '-6', 'addr', 'show', 'husk1', 'scope', 'global']).stdout).toMatch(/inet6 fd00:77:30::1\/64 scope global nodad/);
    const [listed] = JSON.parse(ok(['network', 'ls', '--format', 'json']));
    expect(listed).toMatchObject({ Name: 'six', Subnet: '10.77.30.0/24', IPv6Subnet: 'fd00:77:30::/64', IPv6Gateway: 'fd00:77:30::1' });
    const [inspected] = JSON.parse(ok(['network', 'inspect', 'six']));
    expect(inspected.EnableIPv6).toBe(true);
    expect(inspected.IPAM.Config).toEqual([{ Subnet: '10.77.30.0/24', Gateway: '10.77.30.1' }, { Subnet: 'fd00:77:30::/64', Gateway: 'fd00:77:30::1' }]);
    expect(inNs(HOST, ['nft', 'list', 'set', 'inet', 'husk', 'nat_nets6']).stdout).toContain('fd00:77:30::/64');
    for (const [args, line] of [
      [['--ipv6', '--subnet', '2001:db8:1::/64'], 'husk: subnet 2001:db8:1::/64: not a unique local IPv6 subnet (fc00::/7): husk masquerades a network\'s traffic, so its subnet is a private one (e.g. fd00:1::/64)'],
      [['--ipv6', '--subnet', 'fd00:77:30:0:8000::/65'], 'husk: subnet fd00:77:30:0:8000::/65 overlaps network six (fd00:77:30::/64)'],
      [['--ipv6', '--subnet', 'fd00::77::/64'], 'husk: subnet: invalid IPv6 CIDR address: fd00::77::/64'],
      [['--ipv6', '--subnet', 'fd00:77:31::/24'], 'husk: subnet fd00:77:31::/24: the IPv6 prefix must be /48 to /112 (a /64 is usual)'],
      [['--subnet', 'fd00:77:31::/64'], 'husk: subnet fd00:77:31::/64: an IPv6 subnet needs --ipv6'],
    ] as const) {
      const r = husk(root, ['network', 'create', ...args, 'bad']);
      expect([r.status, r.stderr.trim()]).toEqual([125, line]);
    }
    expect(links(HOST).filter((l) => l.startsWith('husk'))).toEqual(['husk1']);
    ok(['network', 'rm', 'six']);
    expect(links(HOST).filter((l) => l.startsWith('husk'))).toEqual([]);
    expect(inNs(HOST, ['ip', '-6', 'route']).stdout).not.toContain('fd00:77');
    expect(inNs(HOST, ['nft', 'list', 'tables']).stdout).not.toContain('husk');
  });

  it('A reaches B over IPv6 by address and by name (AAAA) right after it starts (no DAD wait); not from another network; a name with no IPv6 has an empty AAAA answer', () => {
    ok(['network', 'create', '--ipv6', '--subnet', '10.77.31.0/24', '--subnet', 'fd00:77:31::/64', 'one6']);
    ok(['network', 'create', '--ipv6', '--subnet', '10.77.32.0/24', '--subnet', 'fd00:77:32::/64', 'two6']);
    ok(['run', '-d', '--name', 'b', '--network', 'one6', 'host', PY, '-c', server6(80, 20)]);
    // B listening (asked from the fake host, which is on the bridge): A's first try must then work.
    let up = '';
    for (let i = 0; i < 50 && !up.startsWith('seen'); i++) up = inNs(HOST, [PY, '-c', connect6('fd00:77:31::2', 80)]).stdout.trim();
    expect(up).toBe('seen fd00:77:31::1');
    // One try each, as the container's first act: with duplicate address detection its address would still be tentative (seconds).
    const out = ok(['run', '--network', 'one6', '--ip6', 'fd00:77:31::99', 'host', 'sh', '-c', `${PY} -c '${ADDR6_FLAGS}'; ${PY} -c '${connect6('fd00:77:31::2', 80)}'; ${PY} -c '${connect6('b', 80)}'; getent ahostsv6 b | head -1`]);
    const [flags, byAddress, byName, lookup] = out.trim().split('\n');
    expect(flags).toBe('fd000077003100000000000000000099 82'); // 0x80 permanent | 0x02 nodad, not 0x40 tentative
    expect(byAddress).toBe('seen fd00:77:31::99');
    expect(byName).toBe('seen fd00:77:31::99');
    expect(lookup).toMatch(/^fd00:77:31::2\s+STREAM b$/);
    // Another network: no way to B, over IPv6 either.
    expect(ok(['run', '--network', 'two6', 'host', PY, '-c', connect6('fd00:77:31::2', 80)])).toMatch(/^FAIL/);
    // An IPv4-only network's name: AAAA has no data (NOERROR), not NXDOMAIN, so a resolver asks no further.
    ok(['network', 'create', '--subnet', '10.77.33.0/24', 'four']);
    ok(['run', '-d', '--name', 'v4only', '--network', 'four', 'host', 'sleep', '60']);
    expect(ok(['run', '--network', 'four', 'host', PY, '-c', DNS_ASK('10.77.33.1', 'v4only', 28)]).trim()).toBe('NODATA');
    expect(ok(['run', '--network', 'four', 'host', PY, '-c', DNS_ASK('10.77.33.1', 'v4only', 1)]).trim()).toBe('10.77.33.2');
    // Over TCP too (a resolver's retry after a truncated answer): the same answers.
    expect(ok(['run', '--network', 'four', 'host', PY, '-c', DNS_ASK_TCP('10.77.33.1', 'v4only', 1)]).trim()).toBe('10.77.33.2');
    expect(ok(['run', '--network', 'four', 'host', PY, '-c', DNS_ASK_TCP('10.77.33.1', 'v4only', 28)]).trim()).toBe('NODATA');
  });

  it('a container reaches the fake outside over IPv6 as the host (NAT), not without the masquerade element; --internal has no IPv6 route out; a published port answers over IPv6', async () => {
    ok(['network', 'create', '--ipv6', '--subnet', '10.77.34.0/24', '--subnet', 'fd00:77:34::/64', 'web6']);
    const srv = outsideServer(9001, 2, true);
    try {
      let seen = '';
      for (let i = 0; i < 20 && !seen.startsWith('seen'); i++) seen = ok(['run', '--network', 'web6', 'host', PY, '-c', connect6(OUTSIDE_IP6, 9001)]).trim();
      expect(seen).toBe(`seen ${HOST_IP6}`);
      // The negative control: without the network's IPv6 masquerade element no answer finds its way back.
      expect(inNs(HOST, ['nft', 'delete', 'element', 'inet', 'husk', 'nat_nets6', '{ fd00:77:34::/64 }']).status).toBe(0);
      expect(ok(['run', '--network', 'web6', 'host', PY, '-c', connect6(OUTSIDE_IP6, 9001)])).toMatch(/^FAIL/);
      inNs(HOST, ['nft', 'add', 'element', 'inet', 'husk', 'nat_nets6', '{ fd00:77:34::/64 }']);
    } finally {
      srv.stop();
      await srv.done;
    }
    ok(['network', 'create', '--internal', '--ipv6', '--subnet', '10.77.35.0/24', '--subnet', 'fd00:77:35::/64', 'closed6']);
    const closed = ok(['run', '--network', 'closed6', 'host', 'sh', '-c', `ip -6 route show default | grep -c . ; ${PY} -c '${connect6(OUTSIDE_IP6, 9001)}'`]).trim().split('\n');
    expect(closed[0]).toBe('0');
    expect(closed[1]).toMatch(/^FAIL .*unreachable/);
    // -p 8080:80 on a dual-stack network: the host's IPv6 address reaches the container's over IPv6 too.
    ok(['run', '-d', '--name', 'srv6', '--network', 'web6', '-p', '8080:80', 'host', PY, '-c', server6(80, 10)]);
    expect(inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports6']).stdout).toContain('tcp . 8080 : fd00:77:34::2 . 80');
    let seen = '';
    for (let i = 0; i < 50 && !seen.startsWith('seen'); i++) seen = inNs(UPLINK, [PY, '-c', connect6(HOST_IP6, 8080)]).stdout.trim();
    expect(seen).toBe(`seen ${OUTSIDE_IP6}`);
    ok(['rm', '-f', 'srv6']);
    expect(inNs(HOST, ['nft', 'list', 'map', 'inet', 'husk', 'ports6']).stdout).not.toContain('8080');
  });

  it('leases: each container its own IPv6 address, given back with it (nothing left after rm, a SIGKILLed monitor\'s reclaimed); --ip6 taken is refused', async () => {
    ok(['network', 'create', '--ipv6', '--subnet', '10.77.36.0/24', '--subnet', 'fd00:77:36::/64', 'lease6']);
    ok(['run', '-d', '--name', 'l1', '--network', 'lease6', 'host', 'sleep', '60']);
    ok(['run', '-d', '--name', 'l2', '--network', 'lease6', 'host', 'sleep', '60']);
    const leases = () => readdirSync(join(root, 'networks', 'lease6.leases')).filter((n) => !n.startsWith('.')).sort();
    expect(leases()).toEqual(['10.77.36.2', '10.77.36.3', 'fd00:77:36::2', 'fd00:77:36::3']);
    const taken = husk(root, ['run', '--network', 'lease6', '--ip6', 'fd00:77:36::3', 'host', 'true']);
    expect([taken.status, taken.stderr.trim()]).toEqual([125, 'husk: ip6 fd00:77:36::3: already in use on network lease6']);
    const [inspected] = JSON.parse(ok(['network', 'inspect', 'lease6']));
    expect(Object.values(inspected.Containers).map((c) => (c as { IPv6Address: string }).IPv6Address).sort()).toEqual(['fd00:77:36::2/64', 'fd00:77:36::3/64']);
    ok(['rm', '-f', 'l1']);
    expect(leases()).toEqual(['10.77.36.3', 'fd00:77:36::3']);
    const recs = readdirSync(join(root, 'containers')).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((f) => JSON.parse(readFileSync(join(root, 'containers', f), 'utf8')));
    const rec = recs.find((r) => r.name === 'l2');
    process.kill(rec.launcherPid, 'SIGKILL'); // only the monitor of the container this test started
    await waitFor(() => links(HOST).every((l) => !l.startsWith('husk-')));
    ok(['ps', '-a']);
    ok(['run', '--network', 'lease6', 'host', 'true']); // looks at the leases and reclaims both of l2's
    expect(leases()).toEqual([]);
    ok(['rm', '-f', 'l2']);
    // husk start of a stopped one leases both addresses again, and its IPv6 address is on eth0 again at once.
    ok(['run', '-d', '--name', 'r1', '--network', 'lease6', 'host', 'true']);
    ok(['wait', 'r1']);
    ok(['start', 'r1']);
    expect(leases()).toEqual(['10.77.36.2', 'fd00:77:36::2']);
    ok(['wait', 'r1']);
    // Ended again: the next start takes both of its addresses back and hands them on.
    ok(['run', '-d', '--name', 'r2', '--network', 'lease6', 'host', 'sleep', '60']);
    expect(leases()).toEqual(['10.77.36.2', 'fd00:77:36::2']);
    expect(ok(['exec', 'r2', PY, '-c', ADDR6_FLAGS]).trim()).toBe('fd000077003600000000000000000002 82');
    ok(['rm', '-f', 'r1', 'r2']);
    expect(leases()).toEqual([]);
  });
});
