// The container's stdio in the core (assembly/plan/stdio.ts): a LOG item gives the LOG op
// before CLONE; a path that is not absolute and clean is refused naming the field; the
// launcher's table (docs/protocol.md) and the core's agree on the op.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, buildPlan } from '../../ts/core/build-plan.js';
import { OP_BY_NAME } from '../../ts/protocol/ops.js';
import { describeOp } from '../../ts/protocol/describe.js';
import { expectCoreBuilt, hostRequest, opsOf } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

describe('LOG', () => {
  it('stands before CLONE, after the status file, only when asked for', () => {
    const names = opsOf(hostRequest({ statusFile: '/run/husk/containers/x/status', logFile: '/run/husk/containers/x/log' })).map((o) => o.name);
    expect(names.indexOf('LOG')).toBeGreaterThan(names.indexOf('STATUS_FILE'));
    expect(names.indexOf('LOG')).toBeLessThan(names.indexOf('CLONE'));
    expect(opsOf(hostRequest()).map((o) => o.name)).not.toContain('LOG');
    expect(OP_BY_NAME.get('LOG')).toMatchObject({ code: 0x0052, side: 'pre-clone' });
  });

  it('is described in words by husk plan', () => {
    const log = opsOf(hostRequest({ logFile: '/run/husk/containers/x/log' })).find((o) => o.name === 'LOG')!;
    expect(describeOp(log)).toBe("log the container's stdout and stderr to /run/husk/containers/x/log");
  });

  it.each([['relative'], ['/a/../b'], ['/'], ['/a//b'], ['/a/']])('refuses the log path %s with status 2', (path) => {
    let err: unknown;
    try {
      buildPlan(hostRequest({ logFile: path }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).status).toBe(2);
    expect((err as CoreError).message).toMatch(/^log: not an absolute clean file path/);
  });
});

describe('TTY and ATTACH', () => {
  const base = { logFile: '/run/husk/containers/x/log' };
  it('follow LOG before CLONE, with the window size and the attach flags', () => {
    const ops = opsOf(hostRequest({ ...base, tty: { rows: 40, cols: 120 }, attach: { path: '/run/husk/containers/x/attach', stdin: true, waitClient: true } }));
    const names = ops.map((o) => o.name);
    expect(names.slice(names.indexOf('LOG'), names.indexOf('LOG') + 3)).toEqual(['LOG', 'TTY', 'ATTACH']);
    expect(names.indexOf('ATTACH')).toBeLessThan(names.indexOf('CLONE'));
    expect(ops.find((o) => o.name === 'TTY')!.args).toEqual({ rows: 40n, cols: 120n });
    expect(ops.find((o) => o.name === 'ATTACH')!.args).toEqual({ path: '/run/husk/containers/x/attach', flags: 3n });
  });

  it('refuses a window of 0 rows (status 2) and a TTY without LOG (status 1)', () => {
    const fail = (over: object) => {
      try {
        buildPlan(hostRequest(over));
      } catch (e) {
        return e as CoreError;
      }
      throw new Error('accepted');
    };
    expect(fail({ ...base, tty: { rows: 0, cols: 80 } })).toMatchObject({ status: 2, message: expect.stringMatching(/^tty: a window of 0x80/) });
    expect(fail({ tty: { rows: 24, cols: 80 } })).toMatchObject({ status: 1 });
  });
});
