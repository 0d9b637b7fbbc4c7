// The command lines of the commands that read or join a container's stdio through its
// monitor (logs, attach): pure, like parseArgs, which hands them here.
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';
import { parseDetachKeys } from './flags-stdio.js';

export type MonitorCommand =
  | { name: 'logs'; global: GlobalFlags; follow: boolean; timestamps: boolean; tail?: number; since?: bigint; until?: bigint; target: string }
  | { name: 'attach'; global: GlobalFlags; detachKeys?: string; noStdin: boolean; target: string };

export const MONITOR_COMMANDS = ['logs', 'attach'] as const;

const BOOLS: Record<string, Record<string, string>> = {
  logs: { '-f': 'follow', '--follow': 'follow', '-t': 'timestamps', '--timestamps': 'timestamps' },
  attach: { '--no-stdin': 'noStdin' },
};
const VALUES: Record<string, Record<string, string>> = {
  logs: { '--tail': 'tail', '-n': 'tail', '--since': 'since', '--until': 'until' },
  attach: { '--detach-keys': 'detachKeys' },
};

/** Go's duration units, as docker's --since takes them (`10m`, `1h30m`, `1.5s`). */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * A --since/--until value as docker reads it: an RFC 3339 time (`2026-12-03T07:15:00Z`, a
 * date alone is midnight UTC), Unix seconds (`1796282100.5`), or a duration before `nowNs`
 * (`10m`). Nanoseconds since 1970.
 */
export function parseLogTime(flag: string, v: string, nowNs: bigint): bigint {
  const bad = () => new HuskError('usage', `invalid value "${v}" for ${flag}: expected a time (2026-12-03T07:15:00Z), Unix seconds, or a duration such as 10m`);
  if (/^\d+(\.\d{1,9})?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
  }
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    let ns = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * UNIT_NS[m[2]];
    return nowNs - BigInt(Math.round(ns));
  }
  const date = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(date);
  if (!m) throw bad();
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) throw bad();
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function parseTail(v: string): number | undefined {
  if (v === 'all') return undefined;
  if (!/^\d+$/.test(v)) throw new HuskError('usage', `invalid value "${v}" for --tail: expected a number of lines or "all"`);
  return Number(v);
}

export function parseMonitor(name: (typeof MONITOR_COMMANDS)[number], args: readonly string[], global: GlobalFlags, nowNs = BigInt(Date.now()) * 1_000_000n): MonitorCommand | { name: 'help'; topic: string } {
  const bools = new Set<string>();
  const values: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: name };
    if (!a.startsWith('-') || a === '-' || positional.length > 0) {
      positional.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq === -1 ? a : a.slice(0, eq);
    if (BOOLS[name][flag] && eq === -1) {
      bools.add(BOOLS[name][flag]);
    } else if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => BOOLS[name][`-${c}`])) {
      for (const c of a.slice(1)) bools.add(BOOLS[name][`-${c}`]); // -ft
    } else if (VALUES[name][flag]) {
      const v = eq !== -1 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new HuskError('usage', `flag needs a value: ${flag}`);
      values[VALUES[name][flag]] = v;
    } else {
      throw new HuskError('usage', `unknown flag: ${flag}`, { hint: `See 'husk ${name} --help'.` });
    }
  }
  if (positional.length !== 1) {
    throw new HuskError('usage', `"husk ${name}" requires exactly one CONTAINER`, { hint: `See 'husk ${name} --help'.` });
  }
  const target = positional[0];
  if (name === 'attach') {
    if (values.detachKeys !== undefined) parseDetachKeys(values.detachKeys);
    return { name, global, detachKeys: values.detachKeys, noStdin: bools.has('noStdin'), target };
  }
  return {
    name,
    global,
    follow: bools.has('follow'),
    timestamps: bools.has('timestamps'),
    tail: values.tail !== undefined ? parseTail(values.tail) : undefined,
    since: values.since !== undefined ? parseLogTime('--since', values.since, nowNs) : undefined,
    until: values.until !== undefined ? parseLogTime('--until', values.until, nowNs) : undefined,
    target,
  };
}
