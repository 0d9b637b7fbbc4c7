// Control plans on the TS side of the protocol (docs/protocol.md "Control plans"): the
// decoder's order rules mirror the launcher's, and `husk plan`'s words name each op.
import { describe, expect, it } from 'vitest';
import { describeOp } from '../../ts/protocol/describe.js';
import { decodePlan, encodePlan } from '../oracle/plan-codec.js';
import type { Op } from '../oracle/plan-codec.js';

const kill: Op = { name: 'CGROUP_KILL', args: { path: '/sys/fs/cgroup/unified/husk/c1' } };
const clone: Op = { name: 'CLONE', args: { flags: 0x20000n } };
const exec: Op = { name: 'EXEC', args: { path: '/bin/true', argv: ['true'], env: [], search: [], failed_status: 125n, not_found_status: 127n, not_executable_status: 126n } };
const plan = (ops: Op[]) => encodePlan({ version: 1n, flags: 0n, ops });

describe('control plans', () => {
  it('control ops only: no CLONE, no EXEC', () => {
    expect(decodePlan(plan([kill, kill])).ops).toEqual([kill, kill]);
    expect(() => decodePlan(plan([kill, clone, exec]))).toThrow('op 1 (CLONE): a container op in a control plan');
    expect(() => decodePlan(plan([clone, kill, exec]))).toThrow('op 1 (CGROUP_KILL): a control op in a container plan');
    expect(() => decodePlan(plan([]))).toThrow(/CLONE/);
  });

  it('each op in words', () => {
    expect(describeOp({ name: 'CGROUP_FREEZE', args: { path: '/x/y', frozen: 0n } })).toBe('thaw cgroup /x/y (wait until the kernel says so)');
    expect(describeOp({ name: 'SIGNAL_PROCESS', args: { pid: 7n, start_time: 99n, signo: 15n } })).toBe('send signal 15 to pid 7 if it started at 99');
  });
});
