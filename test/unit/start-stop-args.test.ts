// The command lines of create, start, stop, restart, kill, wait and rm -v (pure), and the
// core's reading of a signal name for kill and stop (controlPlan's CONTROL_SIGNAL_NAME).
import { beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { controlPlan } from '../../ts/core/control.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

const G = { root: '/run/husk' };

describe('start/stop command lines', () => {
  it('parses each command with docker flags', () => {
    expect(parseArgs(['start', '-a', 'web'])).toEqual({ name: 'start', global: G, attach: true, sigProxy: true, targets: ['web'] });
    expect(parseArgs(['start', '-a', '--sig-proxy=false', 'web'])).toMatchObject({ attach: true, sigProxy: false });
    expect(parseArgs(['start', '--sig-proxy', '-a', 'web'])).toMatchObject({ attach: true, sigProxy: true });
    expect(() => parseArgs(['start', '--sig-proxy=maybe', 'web'])).toThrow(/invalid value "maybe" for --sig-proxy/);
    expect(parseArgs(['stop', '-t', '3', 'a', 'b'])).toEqual({ name: 'stop', global: G, timeout: 3, targets: ['a', 'b'] });
    expect(parseArgs(['restart', '--time=0', 'a'])).toMatchObject({ name: 'restart', timeout: 0 });
    expect(parseArgs(['kill', 'a'])).toMatchObject({ name: 'kill', signal: 'KILL' });
    expect(parseArgs(['kill', '-s', 'HUP', 'a'])).toMatchObject({ name: 'kill', signal: 'HUP' });
    expect(parseArgs(['wait', 'a', 'b'])).toMatchObject({ name: 'wait', targets: ['a', 'b'] });
    expect(parseArgs(['rm', '-fv', 'a'])).toMatchObject({ name: 'rm', force: true, targets: ['a'] });
    expect(parseArgs(['create', '--name', 'x', 'host', 'true'])).toMatchObject({ name: 'create', flags: { argv: ['true'], lifecycle: { name: 'x' } } });
  });

  it('refuses a timeout that is not whole seconds, a missing target, start -a of two', () => {
    expect(() => parseArgs(['stop', '-t', '1.5', 'a'])).toThrow(/invalid value "1.5" for --time/);
    expect(() => parseArgs(['stop'])).toThrow(/"husk stop" requires CONTAINER/);
    expect(() => parseArgs(['start', '-a', 'a', 'b'])).toThrow(/cannot start and attach multiple containers/);
    expect(() => parseArgs(['kill', '-s'])).toThrow(/flag needs a value: -s/);
  });
});

describe('signal names read by the core', () => {
  const signal = (name: string) => decodePlan(controlPlan({ action: 'signal', hierarchies: [], dirs: [], process: { pid: 5, startTime: '7' }, signal: name })!).ops[0].args;

  it.each([
    ['KILL', 9n],
    ['SIGTERM', 15n],
    ['term', 15n],
    ['10', 10n],
    ['RTMIN+3', 37n],
  ])('%s is signal %d', (name, n) => {
    expect(signal(name)).toMatchObject({ signo: n });
  });

  it('a name that is no signal is refused, naming it', () => {
    expect(() => signal('NOPE')).toThrow(/^invalid signal: NOPE$/);
    expect(() => signal('0')).toThrow(/invalid signal: 0/);
  });
});
