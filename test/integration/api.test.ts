// The TypeScript API: a warm orchestrator starting many containers.
import { beforeAll, describe, expect, it } from 'vitest';
import { Husk, HuskError } from '../../ts/api.js';
import { useLeakCheck } from './leak-check.js';

let husk: Husk;
// The warm launcher server (stdio 'ignore') ends with its containers.
const { root } = useLeakCheck({ cleanup: () => husk.close() });
beforeAll(() => {
  husk = new Husk({ root });
});

describe('Husk API', () => {
  it('runs a container and returns its exit code', async () => {
    expect((await husk.run({ command: ['sh', '-c', 'exit 3'], stdio: 'ignore' })).exitCode).toBe(3);
  });

  it('rejects with a HuskError carrying the docker exit status', async () => {
    const err = await husk.run({ command: ['no-such-command-husk'], stdio: 'ignore' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HuskError);
    expect((err as HuskError).exitStatus).toBe(127);
  });

  it('describes the plan it would run', () => {
    expect(husk.describe({ command: ['true'], hostname: 'api' })).toMatch(/set hostname api/);
  });

  it('runs 200 containers, two in flight, leaking no fd, mount or process', async () => {
    let next = 0;
    const worker = async () => {
      while (next < 200) {
        next++;
        const r = await husk.run({ command: ['true'], stdio: 'ignore' });
        expect(r.exitCode).toBe(0);
      }
    };
    await Promise.all([worker(), worker()]);
  }, 300_000);
});
