// Networks in the core (docs/core-abi.md "Networks"): the subnet and bridge a network gets,
// what is refused, and for a container its address, MAC, veth, files and the ops in order.
import { beforeAll, describe, expect, it } from 'vitest';
import { networkConnect, networkDisconnectPlan, networkPlan } from '../../ts/core/network.js';
import { buildPlanAnswer, CoreError } from '../../ts/core/build-plan.js';
import type { NetAttach, PlanRequest } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const refused = (fn: () => unknown): CoreError => {
  try {
    fn();
  } catch (err) {
    return err as CoreError;
  }
  throw new Error('not refused');
};
const create = (name: string, extra: object = {}, taken: { name: string; bridge: string; subnet: string }[] = [], routes: string[] = []) =>
  networkPlan({ create: { name, ...extra }, facts: { taken, routes } });

describe('networkPlan', () => {
  it('the default network is husk0 on 10.88.0.0/16, or the next /16 a route does not hold', () => {
    expect(create('husk', { isDefault: true }).network).toMatchObject({ bridge: 'husk0', subnet: '10.88.0.0/16', gateway: '10.88.0.1' });
    expect(create('husk', { isDefault: true }, [], ['0.0.0.0/0', '10.88.3.0/24']).network?.subnet).toBe('10.89.0.0/16');
  });

  it('other networks get the lowest free bridge number and /24, avoiding networks and routes', () => {
    const taken = [{ name: 'a', bridge: 'husk1', subnet: '10.89.0.0/24' }];
    expect(create('b', {}, taken, ['10.89.1.0/24']).network).toMatchObject({ bridge: 'husk2', subnet: '10.89.2.0/24', gateway: '10.89.2.1' });
  });

  it('its control plan makes the bridge with the gateway address; internal ones do not forward', () => {
    const names = (internal: boolean) => decodePlan(create('web', { subnet: '10.7.0.0/24', gateway: '10.7.0.9', internal }).plan).ops.map((o) => [o.name, ...Object.values(o.args)]);
    expect(names(false)).toEqual([
      ['NET_SYSCTL', 'net/ipv4/ip_forward', '1'],
      ['NET_BRIDGE', 'husk1', '10.7.0.9/24'],
      ['NET_SYSCTL', 'net/ipv4/conf/husk1/route_localnet', '1'],
    ]);
    expect(names(true).map((o) => o[0])).toEqual(['NET_BRIDGE', 'NET_SYSCTL']);
    const nft = create('web', { subnet: '10.7.0.0/24' }).nft;
    expect(nft).toContain('add element inet husk nat_nets { 10.7.0.0/24 }');
    expect(nft).toContain('table inet husk {');
    expect(nft).not.toMatch(/table (ip|inet) (?!husk)/);
  });

  it('refuses a taken name, a bad or overlapping subnet, a gateway outside it, a bad name', () => {
    const taken = [{ name: 'web', bridge: 'husk1', subnet: '10.7.0.0/24' }];
    expect(refused(() => create('web', {}, taken)).message).toBe('network with name web already exists');
    expect(refused(() => create('x', { subnet: '10.7.0.128/25' }, taken)).message).toBe('subnet 10.7.0.128/25 overlaps network web (10.7.0.0/24)');
    expect(refused(() => create('x', { subnet: '192.0.2.0/25' }, [], ['192.0.2.0/24'])).message).toContain('overlaps a route of this host');
    expect(refused(() => create('x', { subnet: '10.1.2.3' })).message).toBe('subnet: invalid CIDR address: 10.1.2.3');
    expect(refused(() => create('x', { subnet: '10.1.0.0/24', gateway: '10.2.0.1' })).message).toContain('not a host address of 10.1.0.0/24');
    expect(refused(() => create('-x')).message).toContain('only [a-zA-Z0-9]');
    expect(refused(() => create('host')).message).toContain('reserved');
  });

  it('removing the last network removes the table; otherwise only its elements', () => {
    const last = networkPlan({ remove: { name: 'web', bridge: 'husk1', subnet: '10.7.0.0/24', last: true } });
    expect(last.nft).toBe('delete table inet husk\n');
    expect(decodePlan(last.plan).ops.map((o) => o.name)).toEqual(['NET_LINK_DEL']);
    expect(networkPlan({ remove: { name: 'web', bridge: 'husk1', subnet: '10.7.0.0/24', last: false } }).nft).toContain('delete element inet husk bridges { "husk1" }');
  });
});

describe('a container on a network', () => {
  const base = (network: Partial<NetAttach> = {}): PlanRequest => ({
    image: { kind: 'rootfs', path: '/srv/rootfs' },
    stage: '/run/husk/stage',
    id: '0123456789abcdef0123456789abcdef',
    argv: ['true'],
    network: { name: 'web', bridge: 'husk1', subnet: '10.7.0.0/24', gateway: '10.7.0.1', used: [], filesDir: '/run/husk/net-files/0123', nameservers: ['127.0.0.53', '192.0.2.53'], ...network },
  });

  it('gets the lowest free address, its MAC and veth, and the ops in order', () => {
    const answer = buildPlanAnswer(base({ used: ['10.7.0.2', '10.7.0.4'] }));
    expect(answer.summary.net).toMatchObject({ address: '10.7.0.3', prefix: 24, mac: '02:42:0a:07:00:03', veth: 'husk-0123456789', gateway: '10.7.0.1' });
    const files = Object.fromEntries(answer.summary.net!.files.map((f) => [f.name, f.content]));
    // A user-defined network has names: the container asks husk-dns on the gateway.
    expect(files['resolv.conf']).toBe('nameserver 10.7.0.1\n');
    expect(answer.summary.net!.dns).toEqual({ listen: '10.7.0.1', upstreams: ['127.0.0.53', '192.0.2.53'], record: '10.7.0.3 0123456789ab #0123456789ab %husk-0123456789\n' });
    expect(files.hosts).toContain('10.7.0.3\t0123456789ab\n');
    const ops = decodePlan(answer.plan).ops;
    const net = ops.filter((o) => o.name.startsWith('NET_')).map((o) => [o.name, ...Object.values(o.args)]);
    expect(net).toEqual([
      ['NET_VETH', 'husk-0123456789', 'eth0', 'husk1', '02:42:0a:07:00:03'],
      ['NET_LINK_UP', 'eth0'],
      ['NET_ADDR', 'eth0', '10.7.0.3/24', 0n],
      ['NET_ROUTE', '10.7.0.1', 'eth0'],
    ]);
    const names = ops.map((o) => o.name);
    expect(names.indexOf('NET_VETH')).toBe(names.indexOf('CLONE') + 1);
    expect(names.indexOf('NET_LINK_UP')).toBe(names.indexOf('LOOPBACK_UP') + 1);
    expect(ops.filter((o) => o.name === 'BIND' && String(o.args.target).startsWith('etc/')).map((o) => [o.args.source, o.args.target])).toEqual([
      ['/run/husk/net-files/0123/hosts', 'etc/hosts'],
      ['/run/husk/net-files/0123/hostname', 'etc/hostname'],
      ['/run/husk/net-files/0123/resolv.conf', 'etc/resolv.conf'],
    ]);
  });

  it('the default network has no names: the host\'s resolvers but loopback ones, and no responder', () => {
    const answer = buildPlanAnswer(base({ name: 'husk', bridge: 'husk0', search: ['example.org'] }));
    const files = Object.fromEntries(answer.summary.net!.files.map((f) => [f.name, f.content]));
    expect(files['resolv.conf']).toBe('search example.org\nnameserver 192.0.2.53\n');
    expect(answer.summary.net!.dns).toBeUndefined();
    expect(() => buildPlanAnswer(base({ name: 'husk', names: { name: '', aliases: ['x'] } }))).toThrow('network-alias: network-scoped aliases are supported only for containers in user-defined networks (not husk)');
  });

  it('names: --name, the short id and each alias once, lowercase; an internal network forwards nowhere', () => {
    const answer = buildPlanAnswer(base({ names: { name: 'Web_1', aliases: ['Cache', 'cache', 'db.local'] } }));
    expect(answer.summary.net!.dns!.record).toBe('10.7.0.2 web_1 0123456789ab cache db.local #0123456789ab %husk-0123456789\n');
    const internal = buildPlanAnswer(base({ internal: true }));
    expect(internal.summary.net!.dns!.upstreams).toEqual([]);
    for (const [alias, why] of [
      ['', 'empty'],
      ['a..b', 'an empty label'],
      ['a.', 'an empty label'],
      ['a b', "only letters, digits, '-', '_' and '.' between labels are allowed"],
      ['x'.repeat(64), 'a label longer than 63 bytes'],
    ]) {
      expect(() => buildPlanAnswer(base({ names: { name: '', aliases: [alias] } }))).toThrow(`network-alias ${alias}: ${why}`);
    }
    expect(buildPlanAnswer(base({ names: { name: '', aliases: ['x'.repeat(63)] } })).summary.net!.dns!.record).toContain('x'.repeat(63));
  });

  it('--dns, --add-host and --mac-address: the files, the veth MAC, this container\'s forwarders; refusals name the flag', () => {
    const options = (o: Partial<NonNullable<NetAttach['options']>>) => ({ options: { dns: [], addHosts: [], mac: '', ...o } });
    const a = buildPlanAnswer(base({ ...options({ dns: ['192.0.2.9'], addHosts: ['gw:host-gateway', 'db=192.0.2.7'], mac: '02:AA:00:00:00:01' }) }));
    const files = Object.fromEntries(a.summary.net!.files.map((f) => [f.name, f.content]));
    expect(files.hosts.endsWith('10.7.0.1\tgw\n192.0.2.7\tdb\n')).toBe(true);
    expect(files['resolv.conf']).toBe('nameserver 10.7.0.1\n');
    expect(a.summary.net!.mac).toBe('02:aa:00:00:00:01');
    expect(a.summary.net!.dns!.record).toBe('10.7.0.2 0123456789ab #0123456789ab %husk-0123456789\n>10.7.0.2 192.0.2.9\n');
    expect(decodePlan(a.plan).ops.find((o) => o.name === 'NET_VETH')!.args.mac).toBe('02:aa:00:00:00:01');
    const onDefault = buildPlanAnswer(base({ name: 'husk', ...options({ dns: ['192.0.2.9'] }) }));
    expect(onDefault.summary.net!.files.find((f) => f.name === 'resolv.conf')!.content).toBe('nameserver 192.0.2.9\n');
    expect(buildPlanAnswer(base({ internal: true, ...options({ dns: ['192.0.2.9'] }) })).summary.net!.dns!.record).toBe('10.7.0.2 0123456789ab #0123456789ab %husk-0123456789\n');
    for (const [o, why] of [
      [{ dns: ['fe80::1'] }, 'dns: fe80::1: not an IPv4 address'],
      [{ addHosts: ['x'] }, 'add-host x: expected NAME:IP'],
      [{ addHosts: ['a b:1.2.3.4'] }, "add-host a b:1.2.3.4: a b: only letters, digits, '-', '_' and '.' between labels are allowed"],
      [{ addHosts: ['h:1.2.3'] }, 'add-host h:1.2.3: 1.2.3: not an IPv4 address (or host-gateway)'],
      [{ mac: '02:42:0a' }, 'mac-address 02:42:0a: not a MAC address xx:xx:xx:xx:xx:xx'],
      [{ mac: '01:00:5e:00:00:01' }, "mac-address 01:00:5e:00:00:01: a multicast address, not a link's own"],
    ] as const) {
      expect(refused(() => buildPlanAnswer(base(options(o)))).message).toBe(why);
    }
  });

  it('an internal network has no default route; --ip is taken as asked, or refused', () => {
    expect(decodePlan(buildPlanAnswer(base({ internal: true })).plan).ops.some((o) => o.name === 'NET_ROUTE')).toBe(false);
    expect(buildPlanAnswer(base({ ip: '10.7.0.200' })).summary.net?.address).toBe('10.7.0.200');
    expect(refused(() => buildPlanAnswer(base({ ip: '10.7.0.1' }))).message).toBe('ip 10.7.0.1: is the gateway of network web');
    expect(refused(() => buildPlanAnswer(base({ ip: '10.8.0.1' }))).message).toContain('not a host address of network web');
    expect(refused(() => buildPlanAnswer(base({ ip: '10.7.0.9', used: ['10.7.0.9'] }))).message).toBe('ip 10.7.0.9: already in use on network web');
  });

  it('a full subnet, a shared net namespace and a port that cannot be published are refused', () => {
    const all = Array.from({ length: 253 }, (_, i) => `10.7.0.${i + 2}`);
    expect(refused(() => buildPlanAnswer(base({ used: all }))).message).toBe('network web: no free address left in 10.7.0.0/24');
    expect(refused(() => buildPlanAnswer({ ...base(), share: { net: true } })).message).toContain('cannot be attached to a network');
    expect(refused(() => buildPlanAnswer(base({ ports: [{ hostIp: '', hostPort: 80, port: 80, proto: 'sctp' }] }))).message).toContain('only tcp and udp');
  });

  it('published ports become NFT_ELEMENTS right after NET_VETH (in nft register words), and an unpublish control plan', () => {
    const answer = buildPlanAnswer(base({ ports: [{ hostIp: '', hostPort: 8080, port: 80, proto: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 53, port: 53, proto: 'udp' }] }));
    const ops = decodePlan(answer.plan).ops;
    const at = ops.findIndex((o) => o.name === 'NET_VETH');
    // Each part of a concatenation in whole 32-bit words, value first: as `nft --debug=netlink` shows them.
    expect(ops.slice(at + 1, at + 3).map((o) => [o.name, ...Object.values(o.args)])).toEqual([
      ['NFT_ELEMENTS', 1n, 'husk', 'ports', 1n, 2n, 2n, [0x06000000n, 0x1f900000n, 0x0a070002n, 0x00500000n]],
      ['NFT_ELEMENTS', 1n, 'husk', 'ports_ip', 1n, 3n, 2n, [0x7f000001n, 0x11000000n, 0x00350000n, 0x0a070002n, 0x00350000n]],
    ]);
    const unpublish = decodePlan(Buffer.from(answer.summary.net!.ports!.unpublish, 'hex')).ops;
    expect(unpublish.map((o) => [o.name, o.args.set, o.args.flags, o.args.words])).toEqual([
      ['NFT_DELETE', 'ports', 0n, [0x06000000n, 0x1f900000n, 0x0a070002n, 0x00500000n]],
      ['NFT_DELETE', 'ports_ip', 0n, [0x7f000001n, 0x11000000n, 0x00350000n, 0x0a070002n, 0x00350000n]],
    ]);
    expect(buildPlanAnswer(base()).summary.net?.ports).toBeUndefined();
  });
});

describe('network connect and disconnect of a running container', () => {
  const attach: NetAttach = { name: 'back', bridge: 'husk2', subnet: '10.8.0.0/24', gateway: '10.8.0.1', used: ['10.8.0.2'], filesDir: '/run/husk/net-files/0123', nameservers: ['192.0.2.53'], names: { name: 'app', aliases: ['api'] } };
  const ask = (extra: Partial<Parameters<typeof networkConnect>[0]> = {}) =>
    networkConnect({ attach, id: '0123456789abcdef0123', pid: 4242, startTime: '777', links: ['eth0'], networks: ['front'], ...extra });

  it('gets the next free address and ethN, a veth name of its own, its names, and one NET_CONNECT', () => {
    const a = ask();
    expect(a.chosen).toEqual({ network: 'back', address: '10.8.0.3', prefix: 24, mac: '02:42:0a:08:00:03', veth: 'husk-01234567.1', gateway: '10.8.0.1', peer: 'eth1' });
    expect(a.dns).toEqual({ listen: '10.8.0.1', upstreams: ['192.0.2.53'], record: '10.8.0.3 app 0123456789ab api #0123456789ab %husk-01234567.1\n' });
    const ops = decodePlan(a.plan).ops;
    expect(ops.map((o) => [o.name, ...Object.values(o.args)])).toEqual([['NET_CONNECT', 'husk-01234567.1', 'eth1', 'husk2', '02:42:0a:08:00:03', '10.8.0.3/24', 4242n, 777n]]);
    expect(ask({ links: ['eth0', 'eth1'] }).chosen.peer).toBe('eth2');
  });

  it('refuses a network it is on, an eleventh network, and ports; disconnect deletes the host end', () => {
    expect(refused(() => ask({ networks: ['front', 'back'] })).message).toBe('container app is already connected to network back');
    expect(refused(() => ask({ links: Array.from({ length: 10 }, (_, i) => `eth${i}`) })).message).toBe('container app is on 10 networks already');
    expect(refused(() => ask({ attach: { ...attach, ports: [{ hostIp: '', hostPort: 8080, port: 80, proto: 'tcp' }] } })).message).toContain('ports are published by run -p');
    expect(decodePlan(networkDisconnectPlan('husk-01234567.1')).ops.map((o) => [o.name, o.args.name])).toEqual([['NET_LINK_DEL', 'husk-01234567.1']]);
    expect(refused(() => networkDisconnectPlan('eth0')).message).toContain("the record's link is not husk's");
  });
});

describe('dual-stack networks (IPv6)', () => {
  const create6 = (ipv6: { enable: boolean; subnet?: string; gateway?: string }, taken: { name: string; bridge: string; subnet: string; subnet6?: string }[] = [], routes6: string[] = [], extra: object = {}) =>
    networkPlan({ create: { name: 'six', subnet: '10.9.0.0/24', ipv6, ...extra }, facts: { taken, routes: [], routes6 } });

  it('--ipv6 with a ULA subnet: the gateway ::1 on the bridge beside the IPv4 one, forwarding, no DAD on the bridge, a masquerade element', () => {
    const answer = create6({ enable: true, subnet: 'FD00:0:0:7::/64' });
    expect(answer.network).toMatchObject({ subnet: '10.9.0.0/24', gateway: '10.9.0.1', subnet6: 'fd00:0:0:7::/64', gateway6: 'fd00:0:0:7::1' });
    expect(decodePlan(answer.plan).ops.map((o) => [o.name, ...Object.values(o.args)])).toEqual([
      ['NET_SYSCTL', 'net/ipv4/ip_forward', '1'],
      ['NET_SYSCTL', 'net/ipv6/conf/all/forwarding', '1'],
      ['NET_BRIDGE', 'husk1', '10.9.0.1/24'],
      ['NET_SYSCTL', 'net/ipv4/conf/husk1/route_localnet', '1'],
      ['NET_SYSCTL', 'net/ipv6/conf/husk1/accept_dad', '0'],
      ['NET_BRIDGE', 'husk1', 'fd00:0:0:7::1/64'],
    ]);
    expect(answer.nft).toContain('add element inet husk nat_nets6 { fd00:0:0:7::/64 }');
    expect(answer.nft).toContain('ip6 saddr @nat_nets6 oifname != @bridges masquerade');
    // An internal one: neither forwarding nor masquerade, for either family.
    const internal = create6({ enable: true, subnet: 'fd00:0:0:7::/64' }, [], [], { internal: true });
    expect(decodePlan(internal.plan).ops.map((o) => o.name)).toEqual(['NET_BRIDGE', 'NET_SYSCTL', 'NET_SYSCTL', 'NET_BRIDGE']);
    expect(internal.nft).not.toContain('element inet husk nat_nets6');
    // Removing it takes its IPv6 element too.
    expect(networkPlan({ remove: { name: 'six', bridge: 'husk1', subnet: '10.9.0.0/24', subnet6: 'fd00:0:0:7::/64', last: false } }).nft).toContain('delete element inet husk nat_nets6 { fd00:0:0:7::/64 }');
  });

  it('without --subnet of IPv6: the first free /64 of husk\'s own fd68:7573:6b00::/48; a gateway of its own is kept', () => {
    const taken = [{ name: 'a', bridge: 'husk1', subnet: '10.8.0.0/24', subnet6: 'fd68:7573:6b00::/64' }];
    expect(create6({ enable: true }, taken, ['fd68:7573:6b00:1::/64']).network).toMatchObject({ bridge: 'husk2', subnet6: 'fd68:7573:6b00:2::/64', gateway6: 'fd68:7573:6b00:2::1' });
    expect(create6({ enable: true, subnet: 'fd00:1::/64', gateway: 'fd00:1::fe' }).network?.gateway6).toBe('fd00:1::fe');
    expect(create6({ enable: false }).network?.subnet6).toBeUndefined();
  });

  it('refuses, by name: a malformed CIDR, not a ULA, a prefix out of /48–/112, overlaps, a gateway outside, IPv6 values without --ipv6', () => {
    const taken = [{ name: 'a', bridge: 'husk1', subnet: '10.8.0.0/24', subnet6: 'fd00:1::/64' }];
    for (const [ipv6, why] of [
      [{ enable: true, subnet: 'fd00::1::/64' }, 'subnet: invalid IPv6 CIDR address: fd00::1::/64'],
      [{ enable: true, subnet: 'fd00::/129' }, 'subnet: invalid IPv6 CIDR address: fd00::/129'],
      [{ enable: true, subnet: 'fd00::' }, 'subnet: invalid IPv6 CIDR address: fd00::'],
      [{ enable: true, subnet: '2001:db8::/64' }, 'subnet 2001:db8::/64: not a unique local IPv6 subnet (fc00::/7): husk masquerades a network\'s traffic, so its subnet is a private one (e.g. fd00:1::/64)'],
      [{ enable: true, subnet: 'fd00::/32' }, 'subnet fd00::/32: the IPv6 prefix must be /48 to /112 (a /64 is usual)'],
      [{ enable: true, subnet: 'fd00::/120' }, 'subnet fd00::/120: the IPv6 prefix must be /48 to /112 (a /64 is usual)'],
      [{ enable: true, subnet: 'fd00:1::/48' }, 'subnet fd00:1::/48 overlaps network a (fd00:1::/64)'],
      [{ enable: true, subnet: 'fd00:2::/64', gateway: 'fd00:3::1' }, 'gateway fd00:3::1: not a host address of fd00:2::/64'],
      [{ enable: true, subnet: 'fd00:2::/64', gateway: 'fd00:2::x' }, 'gateway: invalid IPv6 address: fd00:2::x'],
      [{ enable: false, subnet: 'fd00:2::/64' }, 'subnet fd00:2::/64: an IPv6 subnet needs --ipv6'],
    ] as const) {
      expect(refused(() => create6(ipv6, taken)).message).toBe(why);
    }
    expect(refused(() => create6({ enable: true, subnet: 'fd00:9::/64' }, [], ['fd00:9::/56'])).message).toBe('subnet fd00:9::/64 overlaps a route of this host (fd00:9::/56)');
  });
});

describe('a container on a dual-stack network', () => {
  const base = (network: Partial<NetAttach> = {}): PlanRequest => ({
    image: { kind: 'rootfs', path: '/srv/rootfs' },
    stage: '/run/husk/stage',
    id: '0123456789abcdef0123456789abcdef',
    argv: ['true'],
    network: { name: 'web', bridge: 'husk1', subnet: '10.7.0.0/24', gateway: '10.7.0.1', used: [], filesDir: '/run/husk/net-files/0123', nameservers: [], subnet6: 'fd00:7::/64', gateway6: 'fd00:7::1', used6: [], ...network },
  });

  it('gets the lowest free IPv6 address too: NET_ADDR with NODAD, a default route of each family, a hosts line, +ADDR6 in its records line', () => {
    const answer = buildPlanAnswer(base({ used6: ['fd00:7::2', 'FD00:7:0:0::3'] }));
    expect(answer.summary.net).toMatchObject({ address: '10.7.0.2', address6: 'fd00:7::4', prefix6: 64, gateway6: 'fd00:7::1' });
    const net = decodePlan(answer.plan).ops.filter((o) => o.name.startsWith('NET_') && o.name !== 'NET_VETH').map((o) => [o.name, ...Object.values(o.args)]);
    expect(net).toEqual([
      ['NET_LINK_UP', 'eth0'],
      ['NET_ADDR', 'eth0', '10.7.0.2/24', 0n],
      ['NET_ADDR', 'eth0', 'fd00:7::4/64', 1n],
      ['NET_ROUTE', '10.7.0.1', 'eth0'],
      ['NET_ROUTE', 'fd00:7::1', 'eth0'],
    ]);
    expect(answer.summary.net!.files.find((f) => f.name === 'hosts')!.content).toContain('10.7.0.2\t0123456789ab\nfd00:7::4\t0123456789ab\n');
    expect(answer.summary.net!.dns!.record).toBe('10.7.0.2 0123456789ab +fd00:7::4 #0123456789ab %husk-0123456789\n');
    // Internal: no route of either family.
    expect(decodePlan(buildPlanAnswer(base({ internal: true })).plan).ops.filter((o) => o.name === 'NET_ROUTE')).toEqual([]);
  });

  it('--ip6 is taken as asked, or refused by name; on an IPv4-only network it is refused', () => {
    expect(buildPlanAnswer(base({ ip6: 'fd00:7::abcd' })).summary.net?.address6).toBe('fd00:7::abcd');
    for (const [extra, why] of [
      [{ ip6: 'fd00:7::1' }, 'ip6 fd00:7::1: is the gateway of network web'],
      [{ ip6: 'fd00:8::5' }, 'ip6 fd00:8::5: not a host address of network web (fd00:7::/64)'],
      [{ ip6: 'fd00:7::' }, 'ip6 fd00:7::: not a host address of network web (fd00:7::/64)'],
      [{ ip6: 'nonsense' }, 'ip6: invalid IPv6 address: nonsense'],
      [{ ip6: 'fd00:7::9', used6: ['fd00:7::9'] }, 'ip6 fd00:7::9: already in use on network web'],
      [{ ip6: 'fd00:7::9', subnet6: undefined, gateway6: undefined }, 'ip6 fd00:7::9: network web has no IPv6 subnet (make it with network create --ipv6)'],
    ] as const) {
      expect(refused(() => buildPlanAnswer(base(extra))).message).toBe(why);
    }
  });

  it('a port published on any host address is an element of ports6 too (seven words); one on an IPv4 host address is not', () => {
    const answer = buildPlanAnswer(base({ ports: [{ hostIp: '', hostPort: 8080, port: 80, proto: 'tcp' }, { hostIp: '127.0.0.1', hostPort: 53, port: 53, proto: 'udp' }] }));
    const nft = decodePlan(answer.plan).ops.filter((o) => o.name === 'NFT_ELEMENTS').map((o) => [o.args.set, o.args.key_words ?? Object.values(o.args)[4], o.args.words]);
    expect(nft.map((e) => e[0])).toEqual(['ports', 'ports_ip', 'ports6']);
    expect(nft[2][2]).toEqual([0x06000000n, 0x1f900000n, 0xfd000007n, 0n, 0n, 2n, 0x00500000n]);
    const unpublish = decodePlan(Buffer.from(answer.summary.net!.ports!.unpublish, 'hex')).ops;
    expect(unpublish.map((o) => o.args.set)).toEqual(['ports', 'ports_ip', 'ports6']);
  });
});
