// The container log as `husk logs` reads it (docs/protocol.md "The container log"): CRI lines,
// P pieces joined with what follows on their stream, foreign lines skipped; the times of
// --since/--until in docker's forms.
import { describe, expect, it } from 'vitest';
import { CriLogReader, readCriLog, rfc3339Ns } from '../../ts/runtime/cri-log.js';
import { parseLogTime, parseMonitor } from '../../ts/cli/args-monitor.js';

const T = '2026-12-03T07:15:00.000000042Z';
const enc = (s: string) => new TextEncoder().encode(s);

describe('the CRI log reader', () => {
  it('gives each F line as a message of its stream with its newline', () => {
    const m = readCriLog(enc(`${T} stdout F hello\n${T} stderr F oops\n`));
    expect(m.map((x) => [x.stream, x.text])).toEqual([['stdout', 'hello\n'], ['stderr', 'oops\n']]);
    expect(m[0].time).toBe(T);
    expect(m[0].timeNs).toBe(1796282100n * 1_000_000_000n + 42n);
  });

  it('joins P pieces with the F line that ends them, per stream, keeping the first time', () => {
    const log = `${T} stdout P abc\n2026-12-03T07:15:01.000000000Z stderr F between\n2026-12-03T07:15:02.000000000Z stdout F def\n`;
    const m = readCriLog(enc(log));
    expect(m.map((x) => x.text)).toEqual(['between\n', 'abcdef\n']);
    expect(m[1].time).toBe(T);
  });

  it('gives a last piece with no end as it is, without a newline', () => {
    expect(readCriLog(enc(`${T} stdout P prompt> \n`)).map((x) => x.text)).toEqual(['prompt> ']);
  });

  it('reads lines cut across chunks and skips lines that are not CRI', () => {
    const r = new CriLogReader();
    const bytes = enc(`garbage\n${T} stdout F spa ce \n${T} stdin F no\n`);
    const out = [...r.push(bytes.subarray(0, 20)), ...r.push(bytes.subarray(20, 47)), ...r.push(bytes.subarray(47)), ...r.end()];
    expect(out.map((x) => x.text)).toEqual(['spa ce \n']);
  });

  it('keeps text with tabs, quotes and multi-byte characters whole', () => {
    const bytes = enc(`${T} stdout F é\t"ü"\n`);
    const r = new CriLogReader();
    const out = [...r.push(bytes.subarray(0, 33)), ...r.push(bytes.subarray(33)), ...r.end()];
    expect(out.map((x) => x.text)).toEqual(['é\t"ü"\n']);
  });

  it('hands out a line not ended yet, then only its rest (logs -f shows a prompt at once)', () => {
    const r = new CriLogReader();
    expect(r.push(enc(`${T} stdout P login: \n`))).toEqual([]);
    expect(r.takeOpen().map((x) => x.text)).toEqual(['login: ']);
    expect(r.takeOpen()).toEqual([]);
    expect(r.push(enc(`${T} stdout F root\n`)).map((x) => x.text)).toEqual(['root\n']);
  });

  it('reads RFC 3339 times with fewer digits and offsets', () => {
    expect(rfc3339Ns('1970-01-01T00:00:01Z')).toBe(1_000_000_000n);
    expect(rfc3339Ns('1970-01-01T01:00:00.5+01:00')).toBe(500_000_000n);
    expect(rfc3339Ns('yesterday')).toBeUndefined();
  });
});

describe('--since and --until', () => {
  const now = 1_000_000n * 1_000_000_000n;
  it('takes a duration before now, Unix seconds, a time and a date', () => {
    expect(parseLogTime('--since', '10m', now)).toBe(now - 600n * 1_000_000_000n);
    expect(parseLogTime('--since', '1h30m', now)).toBe(now - 5400n * 1_000_000_000n);
    expect(parseLogTime('--since', '1796282100.5', now)).toBe(1796282100_500_000_000n);
    expect(parseLogTime('--since', '2026-12-03T07:15:00Z', now)).toBe(1796282100n * 1_000_000_000n);
    expect(parseLogTime('--since', '1970-01-02', now)).toBe(86400n * 1_000_000_000n);
  });

  it('refuses anything else with one line naming the flag', () => {
    expect(() => parseLogTime('--until', 'soon', now)).toThrow(/invalid value "soon" for --until/);
    expect(() => parseLogTime('--since', '10 m', now)).toThrow(/--since/);
  });
});

describe('husk logs command line', () => {
  const g = { root: '/run/husk' };
  it('reads -ft, --tail and the container', () => {
    expect(parseMonitor('logs', ['-ft', '--tail', '3', 'web'], g)).toMatchObject({ name: 'logs', follow: true, timestamps: true, tail: 3, target: 'web' });
    expect(parseMonitor('logs', ['-n', 'all', 'web'], g)).toMatchObject({ tail: undefined });
  });

  it('refuses a bad --tail, an unknown flag and a missing container', () => {
    expect(() => parseMonitor('logs', ['--tail', '-1', 'web'], g)).toThrow(/--tail/);
    expect(() => parseMonitor('logs', ['--bogus', 'web'], g)).toThrow(/unknown flag: --bogus/);
    expect(() => parseMonitor('logs', [], g)).toThrow(/requires exactly one CONTAINER/);
  });
});
