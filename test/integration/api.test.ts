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

  // (api-fast.test.ts runs 200 with two in flight; these go one after another.)
  it('runs 200 containers one after another on one warm server, each with its own exit code', async () => {
    const codes: number[] = [];
    const servers = new Set<number | undefined>();
    for (let i = 0; i < 200; i++) {
      codes.push((await husk.run({ command: ['sh', '-c', `exit ${i}`], stdio: 'ignore' })).exitCode);
      servers.add(husk.serverPid);
    }
    expect(codes).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(servers.size).toBe(1);
    expect([...servers][0]).toBeGreaterThan(0);
  }, 300_000);
});
