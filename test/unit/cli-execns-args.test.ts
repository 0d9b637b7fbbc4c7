// The command lines of exec, enter, ns and pod, and run's joins: docker's shapes (flags before
// the container, combined short flags), ns and pod flags after the name too, one clear line
// for a wrong one.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import { HuskError } from '../../ts/errors.js';

const parse = (...argv: string[]) => parseArgs(argv) as any;
const refusal = (...argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(HuskError);
    return (err as HuskError).message;
  }
  throw new Error('not refused');
};

describe('exec, enter, ns, pod and run joins on the command line', () => {
  it('exec: flags before the container, -it combined, the rest is the command', () => {
    const cmd = parse('exec', '-it', '-e', 'A=1', '-u', '1000', '-w', '/srv', '--privileged', 'box', 'sh', '-c', 'echo -e x');
    expect(cmd.flags).toMatchObject({ interactive: true, tty: true, privileged: true, env: ['A=1'], user: '1000', workdir: '/srv', container: 'box', argv: ['sh', '-c', 'echo -e x'] });
    expect(refusal('exec', 'box')).toBe('"husk exec" requires a CONTAINER and a COMMAND');
    expect(refusal('exec', '-w', 'rel', 'box', 'true')).toBe('invalid value "rel" for --workdir: the working directory must be an absolute path');
    expect(refusal('exec', '--bogus', 'box', 'true')).toBe('unknown flag: --bogus');
  });

  it('ns and pod take their flags before or after the name', () => {
    expect(parse('ns', 'create', 'web', '--net', '--uts').ns).toEqual({ action: 'create', name: 'web', types: ['net', 'uts'] });
    expect(parse('ns', 'create', '--ipc', 'web').ns).toEqual({ action: 'create', name: 'web', types: ['ipc'] });
    expect(parse('ns', 'rm', 'web', '-f').ns).toEqual({ action: 'rm', force: true, names: ['web'] });
    expect(parse('ns', 'ls', '--format', 'json').ns).toEqual({ action: 'ls', format: 'json' });
    expect(parse('pod', 'create', 'p', '--share', 'net').pod).toEqual({ action: 'create', name: 'p', share: 'net' });
    expect(refusal('ns', 'frob')).toBe('unknown command: husk ns frob');
    expect(parse('ns')).toEqual({ name: 'help', topic: 'ns' });
  });

  it('enter: picks before the target; run: ns:NAME and container:OTHER join, --pod names a pod', () => {
    expect(parse('enter', '--net', '--uts', 'ns:web', 'ip', 'a').enter).toEqual({ target: 'ns:web', types: ['net', 'uts'], argv: ['ip', 'a'] });
    const run = parse('run', '--net', 'ns:web', '--ipc', 'container:db', '--pod', 'p', 'host', 'true').flags;
    expect(run.joins).toEqual([{ type: 'net', kind: 'ns', ref: 'web' }, { type: 'ipc', kind: 'container', ref: 'db' }]);
    expect(run.net).toBe('private');
    expect(run.pod).toBe('p');
    expect(refusal('run', '--net', 'ns:', 'host', 'true')).toBe('invalid value "ns:" for --net: ns: needs a name');
    expect(refusal('run', '--uts', 'bogus', 'host', 'true')).toBe('invalid value "bogus" for --uts: expected host or private');
  });
});
