// A rootless user's limits on a pure cgroup v2 host, planned from a fake cgroup2 tree on disk
// (a temp directory shaped as systemd's: user.slice/user@UID.service delegated, the caller in
// app.slice/term.scope): husk finds the delegated cgroup by ownership (the highest ancestor of
// its own cgroup whose cgroup.subtree_control is the caller's), puts the container under
// <delegated>/husk/<id>, enables controllers from there down only, writes the limits there;
// a controller not delegated, and a tree with nothing delegated, are refused naming why.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CgroupFacts } from '../../ts/cgroup/detect.js';
import { planCgroup } from '../../ts/cgroup/request-facts.js';
import { buildPlanAnswer } from '../../ts/core/build-plan.js';
import { decodePlan } from '../oracle/plan-codec.js';
import { expectCoreBuilt, find, rootfsRequest } from './core-helpers.js';

let tree = '';
const SERVICE = 'user.slice/user@1000.service';
const SELF = `0::/${SERVICE}/app.slice/term.scope\n`;

beforeAll(() => {
  expectCoreBuilt();
  tree = mkdtempSync(join(tmpdir(), 'husk-unit-cgroup2-'));
  // user.slice is root's (no file of the caller's: the walk up stops there); the service and
  // below are the caller's, as Delegate=yes leaves them.
  for (const dir of [SERVICE, `${SERVICE}/app.slice`, `${SERVICE}/app.slice/term.scope`]) {
    mkdirSync(join(tree, dir), { recursive: true });
    writeFileSync(join(tree, dir, 'cgroup.subtree_control'), '');
  }
  writeFileSync(join(tree, SERVICE, 'cgroup.controllers'), 'memory pids\n');
});

afterAll(() => rmSync(tree, { recursive: true, force: true }));

const facts = (): CgroupFacts => {
  const v2 = { version: 2 as const, mountpoint: tree, root: '/', controllers: ['cpu', 'io', 'memory', 'pids'] };
  return { layout: 'v2', hierarchies: [v2], controllers: { cpu: { version: 2, mountpoint: tree }, memory: { version: 2, mountpoint: tree }, pids: { version: 2, mountpoint: tree } }, unified: v2 };
};
const plan = (limits: { name: string; value: string }[], self = SELF) =>
  buildPlanAnswer(rootfsRequest({ cgroup: planCgroup(facts(), { limits }, { id: 'c1', rootless: true, selfCgroup: () => self }) }));
const writes = (answer: ReturnType<typeof plan>) => find(decodePlan(answer.plan).ops, 'CGROUP_WRITE').map((o) => `${o.args.path}=${o.args.value}`);

describe('a rootless user on a pure cgroup v2 host with a delegated subtree', () => {
  it('limits are written inside <delegated>/husk/<id>, controllers enabled from the delegated cgroup down', () => {
    const answer = plan([{ name: 'memory', value: '64m' }, { name: 'pids-limit', value: '10' }]);
    expect(answer.summary.cgroupDirs).toEqual([`${tree}/${SERVICE}/husk/c1`]);
    expect(writes(answer)).toEqual([
      `${tree}/${SERVICE}/cgroup.subtree_control=+pids +memory`,
      `${tree}/${SERVICE}/husk/cgroup.subtree_control=+pids +memory`,
      `${tree}/${SERVICE}/husk/c1/pids.max=10`,
      `${tree}/${SERVICE}/husk/c1/memory.swap.max=67108864`,
      `${tree}/${SERVICE}/husk/c1/memory.max=67108864`,
    ]);
    // Made as `mkdir -p` (existing ancestors are fine: EEXIST comes before EACCES).
    expect(find(decodePlan(answer.plan).ops, 'CGROUP_MKDIR').map((o) => o.args.path).slice(-2)).toEqual([`${tree}/${SERVICE}/husk`, `${tree}/${SERVICE}/husk/c1`]);
  });

  it('a limit on a controller the subtree was not given (cpu) is refused, naming why', () => {
    expect(() => plan([{ name: 'cpus', value: '1' }])).toThrow(/^cpus: the cpu controller is not delegated/);
  });

  it('with nothing delegated (the caller owns no cgroup of its own) limits are refused and no cgroup is made', () => {
    expect(() => plan([{ name: 'memory', value: '64m' }], '0::/system.slice/other.scope\n')).toThrow(/^--memory: husk cannot enforce limits without root here: no cgroup v2 subtree is delegated/);
    expect(plan([], '0::/system.slice/other.scope\n').summary.cgroupDirs).toEqual([]);
  });
});
