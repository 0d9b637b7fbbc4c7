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
