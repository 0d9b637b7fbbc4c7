import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { HuskError } from '../../ts/errors.js';

function usageError(argv: string[]): HuskError {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(HuskError);
    return err as HuskError;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('husk command line', () => {
  it('takes options before IMAGE and everything after IMAGE as the command', () => {
    const c = parseArgs(['run', '-e', 'A=1', '--hostname', 'box', 'host', 'sh', '-c', 'echo -e x']);
    expect(c.name).toBe('run');
    if (c.name !== 'run') return;
    expect(c.flags.image).toBe('host');
    expect(c.flags.argv).toEqual(['sh', '-c', 'echo -e x']);
    expect(c.flags.env).toEqual(['A=1']);
    expect(c.flags.hostname).toBe('box');
  });

  it('accepts --flag=value and a -- before the command', () => {
    const c = parseArgs(['run', '--workdir=/tmp', '--rootfs', '/r', '--', '--weird-cmd']);
    if (c.name !== 'run') throw new Error('not run');
    expect(c.flags.workdir).toBe('/tmp');
    expect(c.flags.rootfs).toBe('/r');
    expect(c.flags.image).toBeUndefined();
    expect(c.flags.argv).toEqual(['--weird-cmd']);
  });

  it('creates every namespace by default and shares the ones asked for', () => {
    const d = parseArgs(['run', 'host', 'true']);
    if (d.name !== 'run') throw new Error('not run');
    expect([d.flags.net, d.flags.pid, d.flags.ipc, d.flags.uts]).toEqual(['private', 'private', 'private', 'private']);
    const s = parseArgs(['run', '--net', 'host', '--pid=host', '--ipc', 'host', '--uts', 'host', 'host', 'true']);
    if (s.name !== 'run') throw new Error('not run');
    expect([s.flags.net, s.flags.pid, s.flags.ipc, s.flags.uts]).toEqual(['host', 'host', 'host', 'host']);
    const none = parseArgs(['run', '--network', 'none', 'host', 'true']);
    if (none.name === 'run') expect(none.flags.net).toBe('private');
  });

  it('reads --userns auto with an optional size, and time offsets', () => {
    const c = parseArgs(['run', '--userns', 'auto:size=1000', '--time-offset', 'monotonic=86400,boottime=-5', 'host', 'true']);
    if (c.name !== 'run') throw new Error('not run');
    expect(c.flags.userns).toEqual({ mode: 'auto', size: 1000 });
    expect(c.flags.timens).toBe(true);
    expect(c.flags.timeOffsets).toEqual({ monotonic: 86400, boottime: -5 });
  });

  it('reads plan --save and --format', () => {
    const c = parseArgs(['plan', '--save', 'p.bin', '--format', 'json', 'host', 'true']);
    expect(c).toMatchObject({ name: 'plan', save: 'p.bin', format: 'json' });
  });

  it('takes --root before the command', () => {
    const c = parseArgs(['--root', '/tmp/r', 'run', 'host', 'true']);
    expect(c).toMatchObject({ name: 'run', global: { root: '/tmp/r' } });
  });

  it.each([
    [['run', '--bogus', 'host', 'true'], /unknown flag: --bogus/],
    [['frobnicate'], /unknown command: frobnicate/],
    [['run', 'host'], /requires a command/],
    [['run'], /requires an IMAGE/],
    [['run', '--net', '', 'host', 'true'], /invalid value "" for --network/],
    [['run', '--network', 'web', '-p', '80', 'host', 'true'], /invalid value "80" for --publish/],
    [['run', '--network', 'web', '-p', '8080:80/sctp', 'host', 'true'], /tcp or udp/],
    [['network', 'create'], /requires exactly one NAME/],
    [['network', 'frob'], /unknown command: network frob/],
    [['run', '--userns', 'keep-me', 'host', 'true'], /--userns/],
    [['run', '--time-offset', 'realtime=5', 'host', 'true'], /--time-offset/],
    [['run', '--rootfs-rw', 'host', 'true'], /--rootfs-rw needs --rootfs/],
    [['run', '-e'], /flag needs a value: -e/],
    [['run', '--rm=yes', 'host', 'true'], /takes no value/],
    [['plan', '--format', 'yaml', 'host', 'true'], /--format/],
  ])('%j is a usage error (125) naming what is wrong', (argv, re) => {
    const err = usageError(argv as string[]);
    expect(err.message).toMatch(re);
    expect(err.exitStatus).toBe(125);
  });

  it('gives help for no arguments, --help, and COMMAND --help', () => {
    expect(parseArgs([])).toEqual({ name: 'help' });
    expect(parseArgs(['--help'])).toEqual({ name: 'help' });
    expect(parseArgs(['run', '--help'])).toEqual({ name: 'help', topic: 'run' });
    // After IMAGE, --help belongs to the command.
    const c = parseArgs(['run', 'host', 'ls', '--help']);
    if (c.name === 'run') expect(c.flags.argv).toEqual(['ls', '--help']);
    else throw new Error('not run');
  });
});

describe('network flags', () => {
  it('--network NAME attaches to a network; bridge and default mean husk; none, host, ns: and container: keep their meaning', () => {
    const run = (...a: string[]) => parseArgs(['run', ...a, 'host', 'true']) as { flags: { network?: string; net: string; publish: unknown[]; ip?: string } };
    expect(run('--network', 'web').flags).toMatchObject({ network: 'web', net: 'private' });
    expect(run('--network', 'bridge').flags.network).toBe('husk');
    expect(run('--network', 'none').flags).toMatchObject({ network: undefined, net: 'private' });
    expect(run('--network', 'host').flags).toMatchObject({ network: undefined, net: 'host' });
    expect(run('--network', 'web', '--ip', '10.1.0.9', '-p', '127.0.0.1:8080:80/udp', '-p', '9000:90').flags).toMatchObject({
      ip: '10.1.0.9',
      publish: [
        { hostIp: '127.0.0.1', hostPort: 8080, port: 80, proto: 'udp' },
        { hostIp: '', hostPort: 9000, port: 90, proto: 'tcp' },
      ],
    });
    expect(run('--network', 'web', '--ip6', 'fd00::9').flags).toMatchObject({ ip6: 'fd00::9' });
  });

  it('network create: --subnet and --gateway once per family (as docker\'s), --ipv6', () => {
    const create = (...a: string[]) => (parseArgs(['network', 'create', ...a, 'six']) as { network: object }).network;
    expect(create('--ipv6', '--subnet', '10.1.0.0/24', '--subnet', 'fd00:1::/64', '--gateway', 'fd00:1::fe')).toMatchObject({ ipv6: true, subnet: '10.1.0.0/24', subnet6: 'fd00:1::/64', gateway: undefined, gateway6: 'fd00:1::fe' });
    expect(create()).toMatchObject({ ipv6: false, subnet: undefined, subnet6: undefined });
    expect(() => create('--subnet', 'fd00:1::/64', '--subnet', 'fd00:2::/64')).toThrow('--subnet given twice for IPv6: fd00:1::/64, fd00:2::/64');
    expect(() => create('--gateway', '10.0.0.1', '--gateway', '10.0.0.2')).toThrow('--gateway given twice for IPv4: 10.0.0.1, 10.0.0.2');
  });
});
