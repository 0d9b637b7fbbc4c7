// The command lines of `network` and `port`: pure, like parseArgs, which hands them here.
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';
import { readFlags } from './args-execns.js';

export type NetworkAction =
  | { action: 'create'; name: string; subnet?: string; gateway?: string; internal: boolean; ipv6: boolean; subnet6?: string; gateway6?: string }
  | { action: 'ls'; format: 'table' | 'json'; quiet: boolean }
  | { action: 'inspect'; names: string[] }
  | { action: 'rm'; names: string[] }
  | { action: 'prune'; force: boolean }
  | { action: 'connect'; network: string; container: string; ip?: string; aliases: string[] }
  | { action: 'disconnect'; network: string; container: string };

export type NetworkCommand = { name: 'network'; global: GlobalFlags; network: NetworkAction } | { name: 'port'; global: GlobalFlags; container: string };

export const NETWORK_COMMANDS = ['network', 'port'] as const;

/** The IPv4 and the IPv6 value of a flag given once per family. */
function byFamily(flag: string, values: readonly string[]): [string | undefined, string | undefined] {
  const v4 = values.filter((v) => !v.includes(':'));
  const v6 = values.filter((v) => v.includes(':'));
  if (v4.length > 1 || v6.length > 1) throw new HuskError('usage', `--${flag} given twice for ${v4.length > 1 ? 'IPv4' : 'IPv6'}: ${(v4.length > 1 ? v4 : v6).join(', ')}`, { hint: `Give --${flag} at most once for IPv4 and once for IPv6.` });
  return [v4[0], v6[0]];
}

export function parseNetworkCommand(name: (typeof NETWORK_COMMANDS)[number], args: readonly string[], global: GlobalFlags): NetworkCommand | { name: 'help'; topic: string } {
  if (name === 'port') {
    if (args.includes('--help')) return { name: 'help', topic: 'network' };
    if (args.length !== 1) throw new HuskError('usage', '"husk port" requires exactly one CONTAINER', { hint: "See 'husk network --help'." });
    return { name, global, container: args[0] };
  }
  const [action, ...rest] = args;
  if (action === undefined || action === '--help') return { name: 'help', topic: 'network' };
  const usage = (what: string) => new HuskError('usage', `"husk network ${action}" ${what}`, { hint: "See 'husk network --help'." });
  switch (action) {
    case 'create': {
      const read = readFlags('network create', rest, { bools: { '--internal': 'internal', '--ipv6': 'ipv6' }, values: { '--subnet': 'subnet', '--gateway': 'gateway', '--driver': 'driver', '-d': 'driver' } }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length !== 1) throw usage('requires exactly one NAME');
      const driver = read.values.get('driver')?.pop();
      if (driver !== undefined && driver !== 'bridge') throw new HuskError('usage', `invalid value "${driver}" for --driver: husk has only the bridge driver`);
      // As docker's: --subnet and --gateway once per family (an IPv6 one has a colon).
      const [subnet, subnet6] = byFamily('subnet', read.values.get('subnet') ?? []);
      const [gateway, gateway6] = byFamily('gateway', read.values.get('gateway') ?? []);
      return { name, global, network: { action, name: read.rest[0], subnet, gateway, internal: read.bools.has('internal'), ipv6: read.bools.has('ipv6'), subnet6, gateway6 } };
    }
    case 'ls':
    case 'list': {
      const read = readFlags('network ls', rest, { bools: { '-q': 'quiet', '--quiet': 'quiet' }, values: { '--format': 'format' } }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length > 0) throw usage('takes no arguments');
      const f = read.values.get('format')?.pop() ?? 'table';
      if (f !== 'table' && f !== 'json') throw new HuskError('usage', `invalid value "${f}" for --format: expected table or json`);
      return { name, global, network: { action: 'ls', format: f, quiet: read.bools.has('quiet') } };
    }
    case 'inspect':
    case 'rm':
    case 'remove': {
      const read = readFlags(`network ${action}`, rest, { bools: {}, values: {} }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length === 0) throw usage('requires at least one NAME');
      return { name, global, network: { action: action === 'inspect' ? 'inspect' : 'rm', names: read.rest } };
    }
    case 'prune': {
      const read = readFlags('network prune', rest, { bools: { '-f': 'force', '--force': 'force' }, values: {} }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length > 0) throw usage('takes no arguments');
      return { name, global, network: { action, force: read.bools.has('force') } };
    }
    case 'connect': {
      const read = readFlags('network connect', rest, { bools: {}, values: { '--ip': 'ip', '--alias': 'alias' } }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length !== 2) throw usage('requires exactly 2 arguments: NETWORK CONTAINER');
      return { name, global, network: { action, network: read.rest[0], container: read.rest[1], ip: read.values.get('ip')?.pop(), aliases: read.values.get('alias') ?? [] } };
    }
    case 'disconnect': {
      const read = readFlags('network disconnect', rest, { bools: { '-f': 'force', '--force': 'force' }, values: {} }, true);
      if (read === 'help') return { name: 'help', topic: 'network' };
      if (read.rest.length !== 2) throw usage('requires exactly 2 arguments: NETWORK CONTAINER');
      return { name, global, network: { action, network: read.rest[0], container: read.rest[1] } };
    }
    default:
      throw new HuskError('usage', `unknown command: network ${action}`, { hint: "See 'husk network --help'." });
  }
}

/** `-p [HOSTIP:]HOSTPORT:PORT[/tcp|udp]` as docker reads it (a range is not taken yet). */
export function parsePublish(v: string): { hostIp: string; hostPort: number; port: number; proto: string } {
  const bad = (why: string) => new HuskError('usage', `invalid value "${v}" for --publish: ${why}`);
  const slash = v.lastIndexOf('/');
  const proto = slash === -1 ? 'tcp' : v.slice(slash + 1);
  if (proto !== 'tcp' && proto !== 'udp') throw bad('the protocol is tcp or udp');
  const parts = (slash === -1 ? v : v.slice(0, slash)).split(':');
  if (parts.length < 2 || parts.length > 3) throw bad('expected [HOSTIP:]HOSTPORT:PORT[/PROTO]');
  const hostIp = parts.length === 3 ? parts[0] : '';
  const num = (s: string) => {
    if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw bad(`${s === '' ? 'a port is empty' : `port ${s} is not 1-65535`}`);
    return Number(s);
  };
  return { hostIp, hostPort: num(parts[parts.length - 2]), port: num(parts[parts.length - 1]), proto };
}
