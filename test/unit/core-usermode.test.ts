// User-mode networking (docs/networks.md "A user's container: pasta"): the core turns the
// program and the published ports into one NET_HELPER after the maps, with pasta's arguments
// (only the ports asked for, nothing forwarded by default, the daemon's pid on stdout).
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../../ts/core/build-plan.js';
import { expectCoreBuilt, find, planOf, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const PASTA = '/usr/bin/pasta';

function helper(ports: { hostIp: string; hostPort: number; port: number; proto: string }[], over = {}) {
  const plan = planOf(rootfsRequest({ usermode: { program: PASTA, ports }, ...over }));
  const ops = plan.ops.map((o) => o.name);
  const [op] = find(plan.ops, 'NET_HELPER');
  return { path: op.args.path, args: op.args.args as string[], after: ops.indexOf('NET_HELPER') > ops.indexOf('CLONE') };
}

function refusal(over: object): string {
  try {
    planOf(rootfsRequest(over));
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return (err as Error).message;
  }
  throw new Error('the core made a plan');
}

describe('NET_HELPER for pasta', () => {
  it('forwards exactly the ports asked for, tcp and udp apart, and nothing else', () => {
    const h = helper([{ hostIp: '127.0.0.1', hostPort: 8080, port: 80, proto: 'tcp' }, { hostIp: '', hostPort: 5353, port: 53, proto: 'udp' }]);
    expect(h.path).toBe(PASTA);
    expect(h.after).toBe(true);
    expect(h.args).toEqual(['--foreground', '--quiet', '--config-net', '-P', '/proc/self/fd/1', '-t', '127.0.0.1/8080:80', '-u', '5353:53', '-T', 'none', '-U', 'none']);
  });

  it('without ports: none forwarded (pasta\'s default would publish whatever the container binds)', () => {
    expect(helper([]).args).toEqual(['--foreground', '--quiet', '--config-net', '-P', '/proc/self/fd/1', '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none']);
  });

  it('refuses what cannot work, naming it', () => {
    const port = (p: object) => ({ usermode: { program: PASTA, ports: [{ hostIp: '', hostPort: 8080, port: 80, proto: 'tcp', ...p }] } });
    expect(refusal(port({ hostPort: 0 }))).toBe('publish 0:80/tcp: ports are 1 to 65535');
    expect(refusal(port({ proto: 'sctp' }))).toBe('publish 8080:80/sctp: the protocol is tcp or udp');
    expect(refusal(port({ hostIp: 'localhost' }))).toBe('publish 8080:80/tcp: host address localhost is not an IPv4 address');
    expect(refusal({ usermode: { program: 'pasta', ports: [] } })).toBe('network: pasta\'s path pasta is not absolute');
    expect(refusal({ usermode: { program: PASTA, ports: [] }, share: { net: true } })).toBe('network: pasta needs a network namespace of the container\'s own (not --net host or a joined one)');
  });
});
