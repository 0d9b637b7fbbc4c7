// An image's config merged with the flags by the core, as docker merges them (the table of
// docker's "ENTRYPOINT / CMD" interaction, env override order, workdir and user defaults),
// and what the summary tells ts/ to record (the command run, the stop signal, the ports).
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreError, buildPlanAnswer, buildPlanRaw, encodeRequest } from '../../ts/core/build-plan.js';
import type { ImageConfigFacts, PlanRequest } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt, find, rootfsRequest } from './core-helpers.js';

beforeAll(() => expectCoreBuilt());

/** A request for an image with `config`, the args typed after IMAGE, and --entrypoint. */
function imageRequest(config: ImageConfigFacts, args: string[] = [], over: Partial<PlanRequest> = {}): PlanRequest {
  return rootfsRequest({ imageConfig: config, argv: args, ...over });
}

function exec(req: PlanRequest) {
  const answer = buildPlanAnswer(req);
  const ops = decodePlan(answer.plan).ops;
  return { exec: find(ops, 'EXEC')[0].args, user: find(ops, 'USER').at(-1)!.args, chdir: find(ops, 'CHDIR')[0].args.path, summary: answer.summary };
}

function refusal(req: PlanRequest): string {
  try {
    buildPlanAnswer(req);
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).status).toBe(2);
    return (err as CoreError).message;
  }
  throw new Error('the core accepted the request');
}

describe('entrypoint and cmd, docker\'s table', () => {
  const EP = ['/bin/ep', '-x'];
  const CMD = ['cmd-arg'];
  it.each([
    // [image Entrypoint, image Cmd, args typed, --entrypoint, command run]
    ['entrypoint only', EP, undefined, [], undefined, ['/bin/ep', '-x']],
    ['cmd only', undefined, ['/bin/sh', '-c', 'true'], [], undefined, ['/bin/sh', '-c', 'true']],
    ['both: cmd is the entrypoint\'s arguments', EP, CMD, [], undefined, ['/bin/ep', '-x', 'cmd-arg']],
    ['args replace cmd', EP, CMD, ['a', 'b'], undefined, ['/bin/ep', '-x', 'a', 'b']],
    ['args replace cmd without entrypoint', undefined, CMD, ['/bin/echo', 'hi'], undefined, ['/bin/echo', 'hi']],
    ['--entrypoint replaces the entrypoint and drops cmd', EP, CMD, [], '/bin/other', ['/bin/other']],
    ['--entrypoint with args', EP, CMD, ['1', '2'], '/bin/other', ['/bin/other', '1', '2']],
    ['--entrypoint \'\' clears the entrypoint; args are the command', EP, CMD, ['/bin/true'], '', ['/bin/true']],
    ['an empty Entrypoint list is none', [], CMD, [], undefined, ['cmd-arg']],
  ] as const)('%s', (_title, entrypoint, cmd, args, flag, run) => {
    const r = exec(imageRequest({ entrypoint: entrypoint as string[] | undefined, cmd: cmd as string[] | undefined }, [...args], { entrypoint: flag }));
    expect(r.exec.argv).toEqual(run);
    expect(r.exec.path).toBe(run[0]);
    expect(r.summary.command).toEqual(run);
  });

  it('no entrypoint, no cmd and no args: "no command specified", exit 125', () => {
    expect(refusal(imageRequest({}))).toMatch(/^command: no command specified/);
    expect(refusal(imageRequest({ entrypoint: ['/bin/ep'], cmd: ['x'] }, [], { entrypoint: '' }))).toMatch(/^command: no command specified/);
  });

  it('without an image config the args are the command as before, and nothing is summarized', () => {
    const r = exec(rootfsRequest({ argv: ['/bin/true'] }));
    expect(r.exec.argv).toEqual(['/bin/true']);
    expect(r.summary.command).toBeUndefined();
    expect(r.summary.stopSignal).toBeUndefined();
  });
});

describe('env, workdir and user from the image', () => {
  it('the image\'s env comes first; -e overrides a name in place; PATH from the image replaces the default', () => {
    const r = exec(imageRequest({ env: ['PATH=/img/bin:/bin', 'A=image', 'B=image'], cmd: ['x'] }, [], { env: ['B=flag', 'C=flag'] }));
    expect(r.exec.env).toEqual(['PATH=/img/bin:/bin', 'HOSTNAME=abc123def456', 'HOME=/root', 'A=image', 'B=flag', 'C=flag']);
    expect(r.exec.search).toEqual(['/img/bin', '/bin']);
  });

  it('WorkingDir is used; -w wins; empty or missing is /', () => {
    expect(exec(imageRequest({ workdir: '/srv/app', cmd: ['x'] })).chdir).toBe('/srv/app');
    expect(exec(imageRequest({ workdir: '/srv/app', cmd: ['x'] }, [], { workdir: '/other' })).chdir).toBe('/other');
    expect(exec(imageRequest({ workdir: '', cmd: ['x'] })).chdir).toBe('/');
    expect(exec(imageRequest({ cmd: ['x'] })).chdir).toBe('/');
  });

  it('a relative WorkingDir in the image is refused, naming it', () => {
    expect(refusal(imageRequest({ workdir: 'app', cmd: ['x'] }))).toBe('workdir: the image\'s WorkingDir "app" is not an absolute path');
  });

  it('User from the image (resolved ids), its passwd group when no group; -u wins', () => {
    const img = { cmd: ['x'], user: { spec: 'app', uid: 1000, primaryGid: 1001 } };
    expect(exec(imageRequest(img)).user).toEqual({ uid: 1000n, gid: 1001n, groups: [] });
    expect(exec(imageRequest({ cmd: ['x'], user: { spec: '1000:5', uid: 1000, gid: 5, primaryGid: 1001 } })).user).toEqual({ uid: 1000n, gid: 5n, groups: [] });
    expect(exec(imageRequest(img, [], { user: { uid: 7, gid: 8 } })).user).toEqual({ uid: 7n, gid: 8n, groups: [] });
    expect(exec(imageRequest(img)).exec.env).toContain('HOME=/');
  });

  it('an image User that could not be resolved is refused only when it is used', () => {
    const img = { cmd: ['x'], user: { spec: 'ghost', problem: 'unable to find user ghost: no matching entries in passwd file' } };
    expect(refusal(imageRequest(img))).toBe('user: the image\'s User "ghost": unable to find user ghost: no matching entries in passwd file');
    expect(exec(imageRequest(img, [], { user: { uid: 0 } })).user).toEqual({ uid: 0n, gid: 0n, groups: [] });
  });
});

describe('stop signal and exposed ports', () => {
  it.each([
    ['', 15, 'SIGTERM'],
    ['SIGQUIT', 3, 'SIGQUIT'],
    ['quit', 3, 'SIGQUIT'],
    ['9', 9, 'SIGKILL'],
    ['SIGRTMIN+3', 37, 'SIGRTMIN+3'],
    ['RTMAX', 64, 'SIGRTMAX'],
  ])('StopSignal %j is signal %i', (given, number, name) => {
    expect(exec(imageRequest({ cmd: ['x'], stopSignal: given })).summary.stopSignal).toEqual({ number, name });
  });

  it('a StopSignal that names no signal is refused', () => {
    expect(refusal(imageRequest({ cmd: ['x'], stopSignal: 'SIGNOPE' }))).toBe('stop-signal: the image\'s StopSignal "SIGNOPE" is not a signal');
    expect(refusal(imageRequest({ cmd: ['x'], stopSignal: '65' }))).toMatch(/^stop-signal:/);
  });

  it('ExposedPorts are recorded as PORT/PROTO, once each; a bad one is refused', () => {
    expect(exec(imageRequest({ cmd: ['x'], exposedPorts: ['80', '80/tcp', '53/udp', '8000-8010/tcp'] })).summary.exposedPorts).toEqual(['80/tcp', '53/udp', '8000-8010/tcp']);
    expect(refusal(imageRequest({ cmd: ['x'], exposedPorts: ['70000/tcp'] }))).toMatch(/^exposed-ports: "70000\/tcp"/);
    expect(refusal(imageRequest({ cmd: ['x'], exposedPorts: ['80/icmp'] }))).toMatch(/^exposed-ports:/);
  });

  it('an image item given twice is a malformed request (status 1)', () => {
    const once = encodeRequest(imageRequest({ cmd: ['x'], stopSignal: 'TERM' }));
    const frame = Buffer.from(once).indexOf(Buffer.from([0x55, 0x01])) - 4;
    const len = Buffer.from(once).readUInt32LE(frame);
    const twice = Buffer.concat([once, once.subarray(frame, frame + 8 + len)]);
    const r = buildPlanRaw(twice);
    expect(r.status).toBe(1);
    expect(Buffer.from(r.bytes).toString()).toMatch(/IMAGE_STOP_SIGNAL\): given twice/);
  });
});
