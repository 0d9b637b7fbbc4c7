// The command lines of the commands that name containers (ps, inspect, rm, pause, unpause,
// stats, top): pure, like parseArgs, which hands them here.
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';

export type LifecycleCommand =
  | { name: 'ps'; global: GlobalFlags; all: boolean; quiet: boolean; format: 'table' | 'json' }
  | { name: 'inspect'; global: GlobalFlags; targets: string[] }
  | { name: 'rm'; global: GlobalFlags; force: boolean; targets: string[] }
  | { name: 'pause' | 'unpause'; global: GlobalFlags; targets: string[] }
  | { name: 'stats'; global: GlobalFlags; stream: boolean; all: boolean; format: 'table' | 'json'; targets: string[] }
  | { name: 'top'; global: GlobalFlags; threads: boolean; target: string }
  | StartStopCommand;

/** start, stop, restart, kill, wait (ts/cli/start.ts, stop.ts, kill.ts, wait.ts). */
export type StartStopCommand =
  | { name: 'start'; global: GlobalFlags; attach: boolean; sigProxy: boolean; targets: string[] }
  | { name: 'stop' | 'restart'; global: GlobalFlags; timeout?: number; targets: string[] }
  | { name: 'kill'; global: GlobalFlags; signal: string; targets: string[] }
  | { name: 'wait'; global: GlobalFlags; targets: string[] };

export const LIFECYCLE_COMMANDS = ['ps', 'inspect', 'rm', 'pause', 'unpause', 'stats', 'top', 'start', 'stop', 'restart', 'kill', 'wait'] as const;

interface Spec {
  bools: Record<string, string>;
  values: Record<string, string>;
  /** min, max positional arguments (max -1: any). */
  positional: [number, number];
  what: string;
}

const SPECS: Record<(typeof LIFECYCLE_COMMANDS)[number], Spec> = {
  ps: { bools: { '-a': 'all', '--all': 'all', '-q': 'quiet', '--quiet': 'quiet' }, values: { '--format': 'format' }, positional: [0, 0], what: '' },
  inspect: { bools: {}, values: {}, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  // -v: docker's "anonymous volumes"; husk's only one is the writable layer, which rm removes always.
  rm: { bools: { '-f': 'force', '--force': 'force', '-v': 'volumes', '--volumes': 'volumes' }, values: {}, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  pause: { bools: {}, values: {}, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  unpause: { bools: {}, values: {}, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  stats: { bools: { '--no-stream': 'noStream', '-a': 'all', '--all': 'all' }, values: { '--format': 'format' }, positional: [0, -1], what: '' },
  top: { bools: { '-L': 'threads', '--threads': 'threads' }, values: {}, positional: [1, 1], what: 'CONTAINER' },
  // --sig-proxy (docker's, default true): with -a, signals husk receives go to the container.
  start: { bools: { '-a': 'attach', '--attach': 'attach', '--sig-proxy': 'sigProxy' }, values: { '--sig-proxy': 'sigProxy' }, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  stop: { bools: {}, values: { '-t': 'time', '--time': 'time', '--timeout': 'time' }, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  restart: { bools: {}, values: { '-t': 'time', '--time': 'time', '--timeout': 'time' }, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  kill: { bools: {}, values: { '-s': 'signal', '--signal': 'signal' }, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
  wait: { bools: {}, values: {}, positional: [1, -1], what: 'CONTAINER [CONTAINER...]' },
};

/** A docker bool flag given a value (`--sig-proxy=false`); absent or alone: true. */
function boolValue(flag: string, v: string | undefined): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new HuskError('usage', `invalid value "${v}" for ${flag}: expected true or false`);
}

/** -t SECONDS of stop and restart: a whole number, as docker's. */
function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new HuskError('usage', `invalid value "${v}" for --time: expected whole seconds`);
  return Number(v);
}

function format(v: string | undefined, table: string): 'table' | 'json' {
  if (v === undefined || v === 'table' || v === table) return 'table';
  if (v === 'json' || v === '{{json .}}') return 'json';
  throw new HuskError('usage', `invalid value "${v}" for --format: expected table or json`);
}

export function parseLifecycle(name: (typeof LIFECYCLE_COMMANDS)[number], args: readonly string[], global: GlobalFlags): LifecycleCommand | { name: 'help'; topic: string } {
  const spec = SPECS[name];
  const bools = new Set<string>();
  const values: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: name };
    if (a.startsWith('-') && a !== '-' && positional.length === 0) {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const flag = eq === -1 ? a : a.slice(0, eq);
      if (spec.bools[flag] && eq === -1) {
        bools.add(spec.bools[flag]);
        continue;
      }
      // Combined short flags: -af
      if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => spec.bools[`-${c}`])) {
        for (const c of a.slice(1)) bools.add(spec.bools[`-${c}`]);
        continue;
      }
      if (spec.values[flag]) {
        const v = eq !== -1 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new HuskError('usage', `flag needs a value: ${flag}`);
        values[spec.values[flag]] = v;
        continue;
      }
      throw new HuskError('usage', `unknown flag: ${flag}`, { hint: `See 'husk ${name} --help'.` });
    }
    positional.push(a);
  }
  const [min, max] = spec.positional;
  if (positional.length < min) throw new HuskError('usage', `"husk ${name}" requires ${spec.what}`, { hint: `See 'husk ${name} --help'.` });
  if (max >= 0 && positional.length > max) {
    throw new HuskError('usage', max === 0 ? `"husk ${name}" takes no arguments` : `"husk ${name}" takes ${spec.what}`, { hint: `See 'husk ${name} --help'.` });
  }
  switch (name) {
    case 'ps':
      return { name, global, all: bools.has('all'), quiet: bools.has('quiet'), format: format(values.format, 'table') };
    case 'inspect':
      return { name, global, targets: positional };
    case 'rm':
      return { name, global, force: bools.has('force'), targets: positional };
    case 'pause':
    case 'unpause':
      return { name, global, targets: positional };
    case 'stats':
      return { name, global, stream: !bools.has('noStream'), all: bools.has('all'), format: format(values.format, 'table'), targets: positional };
    case 'top':
      return { name, global, threads: bools.has('threads'), target: positional[0] };
    case 'start':
      if (bools.has('attach') && positional.length > 1) throw new HuskError('usage', 'you cannot start and attach multiple containers at once');
      return { name, global, attach: bools.has('attach'), sigProxy: boolValue('--sig-proxy', values.sigProxy), targets: positional };
    case 'stop':
    case 'restart':
      return { name, global, timeout: seconds(values.time), targets: positional };
    case 'kill':
      return { name, global, signal: values.signal ?? 'KILL', targets: positional };
    case 'wait':
      return { name, global, targets: positional };
  }
}
