// Which network `husk run` without --network gets: the default one for root's container with a
// network namespace of its own, none for a user's or for one that joins another's namespace.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../ts/cli/args.js';
import type { RunFlags } from '../../ts/cli/args.js';
import { defaultNetworkOf } from '../../ts/network/default.js';

const flags = (...args: string[]): RunFlags => {
  const cmd = parseArgs(['run', ...args, 'host', 'true']);
  if (cmd.name !== 'run') throw new Error('not a run');
  return cmd.flags;
};
const root = { rootless: false, podSharesNet: false };

describe('the default network', () => {
  it('root without --network: husk; with -p, --ip, --dns too (they apply to it)', () => {
    for (const extra of [[], ['-p', '8080:80'], ['--ip', '10.88.0.9'], ['--dns', '192.0.2.1'], ['-d']]) {
      expect(defaultNetworkOf(flags(...extra), root), extra.join(' ')).toBe('husk');
    }
  });

  it('--network as typed wins, none included', () => {
    for (const v of ['none', 'host', 'private', 'husk', 'web', 'pasta', 'ns:x', 'container:y']) {
      expect(defaultNetworkOf(flags('--network', v), root), v).toBeUndefined();
      expect(defaultNetworkOf(flags('--net', v), root), v).toBeUndefined();
    }
  });

  it('a joined net namespace has no network of its own: a pod that shares net, --userns ns:', () => {
    expect(defaultNetworkOf(flags('--pod', 'p'), { rootless: false, podSharesNet: true })).toBeUndefined();
    expect(defaultNetworkOf(flags('--pod', 'p'), root)).toBe('husk'); // a pod that shares ipc only
    expect(defaultNetworkOf(flags('--userns', 'ns:u'), root)).toBeUndefined();
    // Other namespaces joined keep the container's own net namespace.
    expect(defaultNetworkOf(flags('--ipc', 'ns:x', '--uts', 'host'), root)).toBe('husk');
  });

  it('a user keeps lo only (or pasta with -p, decided elsewhere)', () => {
    expect(defaultNetworkOf(flags(), { rootless: true, podSharesNet: false })).toBeUndefined();
    expect(defaultNetworkOf(flags('-p', '8080:80'), { rootless: true, podSharesNet: false })).toBeUndefined();
  });
});
