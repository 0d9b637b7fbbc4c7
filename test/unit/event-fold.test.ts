// The one fold from launcher events to an outcome, and the one place exit statuses are chosen.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HuskError, exitStatusOf, messageOf, toHuskError } from '../../ts/errors.js';
import type { LauncherEvent } from '../../ts/protocol/events.js';
import { FrameError, FrameWriter } from '../../ts/protocol/frames.js';
import { foldEvent, foldEvents, lostLauncher, newOutcome } from '../../ts/runtime/event-fold.js';
import { STATUS_LOST, recordExitCode } from '../../ts/runtime/exit-status.js';
import { statusOf } from '../../ts/runtime/outcome.js';

const EXEC = 0x0038;
const MOUNT = 0x0020;
const error = (code: number, errno: number, message = 'x'): LauncherEvent => ({ kind: 'error', index: 3, code, errno, message });

describe('foldEvent', () => {
  it('folds each event kind, keeps the first error, and says true at EXIT only', () => {
    const o = newOutcome(5n);
    const events: LauncherEvent[] = [
      { kind: 'hello', version: 1n },
      { kind: 'pid', pid: 42 },
      { kind: 'op-time', index: 0, code: 1, ns: 7n },
      error(MOUNT, 13, 'first'),
      error(EXEC, 2, 'second'),
      { kind: 'cgroup-file', path: '/p', content: 'c' },
      { kind: 'ready' },
      { kind: 'started', at: 1n },
    ];
    for (const ev of events) expect(foldEvent(o, ev)).toBe(false);
    expect(foldEvent(o, { kind: 'exit', how: 'signaled', value: 9 })).toBe(true);
    expect(o).toEqual({
      exit: { how: 'signaled', value: 9 },
      error: error(MOUNT, 13, 'first'),
      pid: 42,
      opTimes: [{ kind: 'op-time', index: 0, code: 1, ns: 7n }],
      cgroupFiles: [{ path: '/p', content: 'c' }],
      spawnedAt: 5n,
    });
  });

  it('foldEvents says whether the list held an EXIT', () => {
    expect(foldEvents(newOutcome(), [{ kind: 'pid', pid: 1 }])).toBe(false);
    expect(foldEvents(newOutcome(), [{ kind: 'exit', how: 'exited', value: 0 }, { kind: 'pid', pid: 1 }])).toBe(true);
  });

  it('a lost launcher fails the outcome but keeps an earlier error', () => {
    const o = newOutcome();
    lostLauncher(o, 'gone', 3);
    expect(o.exit).toEqual({ how: 'failed', value: 3 });
    expect(o.error?.message).toBe('gone');
    const p = newOutcome();
    foldEvent(p, error(MOUNT, 1, 'mount failed'));
    lostLauncher(p, 'gone');
    expect(p.error?.message).toBe('mount failed');
    expect(p.exit).toEqual({ how: 'failed', value: 125 });
  });

  it('is the only fold: no other file under ts/ collects events into an outcome', () => {
    const dir = new URL('../../ts/', import.meta.url).pathname;
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('event-fold.ts') && /\b(cgroupFiles|opTimes)\.push\(|\.error \?\?= \{/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(dir);
    expect(offenders).toEqual([]);
  });
});

describe('exit statuses', () => {
  const ended = (exit: { how: 'exited' | 'signaled' | 'failed'; value: number }, err?: LauncherEvent) => {
    const o = newOutcome();
    if (err) foldEvent(o, err);
    o.exit = exit;
    return o;
  };
  const statusThrown = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return { status: exitStatusOf(e), message: messageOf(e) };
    }
    return undefined;
  };

  it('container exit N is N, signal S is 128+S (an OOM kill is 137)', () => {
    expect(statusOf(ended({ how: 'exited', value: 0 }), 'x')).toBe(0);
    expect(statusOf(ended({ how: 'exited', value: 7 }), 'x')).toBe(7);
    expect(statusOf(ended({ how: 'signaled', value: 9 }), 'x')).toBe(137);
    expect(statusOf(ended({ how: 'signaled', value: 15 }), 'x')).toBe(143);
  });

  it('exec ENOENT is 127, any other exec failure 126, every other failure 125', () => {
    const failed = { how: 'failed', value: 1 } as const;
    expect(statusThrown(() => statusOf(ended(failed, error(EXEC, 2)), 'nope'))).toEqual({ status: 127, message: 'exec "nope": executable file not found in $PATH' });
    expect(statusThrown(() => statusOf(ended(failed, error(EXEC, 2)), '/no/pe'))).toEqual({ status: 127, message: 'exec /no/pe: no such file or directory' });
    expect(statusThrown(() => statusOf(ended(failed, error(EXEC, 13)), '/etc'))).toEqual({ status: 126, message: 'exec "/etc": permission denied' });
    expect(statusThrown(() => statusOf(ended(failed, error(MOUNT, 1, 'mount /proc')), 'x'))?.status).toBe(125);
    expect(statusThrown(() => statusOf(ended(failed), 'x'))).toEqual({ status: 125, message: 'the launcher failed with status 1' });
  });

  it('records show 0 before the end, then their exit, and 255 when the launcher left none', () => {
    expect(recordExitCode(false, undefined)).toBe(0);
    expect(recordExitCode(true, { how: 'signaled', value: 9 })).toBe(137);
    expect(recordExitCode(true, { how: 'failed', value: STATUS_LOST })).toBe(255);
    expect(recordExitCode(true, undefined)).toBe(-1);
  });
});

describe('every error is a HuskError with a code', () => {
  it('a bad frame from the launcher is a protocol error; a FrameWriter misused is internal', () => {
    const e = new FrameError('truncated frame at byte 3');
    expect(e).toBeInstanceOf(HuskError);
    expect(e.code).toBe('protocol');
    let misuse: unknown;
    try {
      new FrameWriter().end();
    } catch (err) {
      misuse = err;
    }
    expect((misuse as HuskError).code).toBe('internal');
    expect(messageOf(misuse)).toBe('internal error: FrameWriter.end: no frame is open');
  });

  it('a failed host call names the call, the path and the errno', () => {
    let err: unknown;
    try {
      readFileSync('/nonexistent/husk-x');
    } catch (e) {
      err = e;
    }
    const h = toHuskError(err);
    expect(h.code).toBe('host');
    expect(h.message).toBe('open /nonexistent/husk-x: no such file or directory');
    expect(exitStatusOf(err)).toBe(125);
  });

  it('anything else is a bug, said as one', () => {
    expect(toHuskError(new TypeError('x is undefined')).code).toBe('internal');
    expect(messageOf(new TypeError('x is undefined'))).toBe('internal error: x is undefined');
  });
});
