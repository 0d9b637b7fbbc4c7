// The command lines of exec, enter, ns and pod: pure, like parseArgs, which hands them here.
// Flags come before the container (or namespace) and everything after it is the command,
// as docker's exec; short flags combine (-it, -dit).
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';
import type { ExecFlags } from '../runtime/exec.js';
import { parseTimeOffsets } from './flags-execns.js';

export type NsCommand =
  | { action: 'create'; name: string; types: string[]; timeOffsets?: { monotonic?: number; boottime?: number }; uidmap?: string[]; gidmap?: string[] }
  | { action: 'ls'; format: 'table' | 'json' }
  | { action: 'inspect'; names: string[] }
  | { action: 'rm'; force: boolean; names: string[] };

export type PodCommand =
  | { action: 'create'; name: string; share?: string }
  | { action: 'ls'; format: 'table' | 'json' }
  | { action: 'rm'; force: boolean; names: string[] };

export interface EnterFlags {
  target: string;
  /** The namespaces picked (--net, --uts...); none: all of the target's. */
  types: string[];
  argv: string[];
}

export type ExecNsCommand =
  | { name: 'exec'; global: GlobalFlags; flags: ExecFlags }
  | { name: 'ns'; global: GlobalFlags; ns: NsCommand }
  | { name: 'pod'; global: GlobalFlags; pod: PodCommand }
  | { name: 'enter'; global: GlobalFlags; enter: EnterFlags };

export const EXECNS_COMMANDS = ['exec', 'ns', 'pod', 'enter'] as const;

function parsePod(args: readonly string[]): PodCommand | 'help' {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help') return 'help';
  const usage = (what: string) => new HuskError('usage', `"husk pod ${action}" ${what}`, { hint: "See 'husk pod --help'." });
  switch (action) {
    case 'create': {
      const read = readFlags('pod create', rest, { bools: {}, values: { '--share': 'share' } }, true);
      if (read === 'help') return 'help';
      if (read.rest.length !== 1) throw usage('requires exactly one NAME');
      return { action, name: read.rest[0], share: read.values.get('share')?.pop() };
    }
    case 'ls':
    case 'list':
    case 'ps': {
      const read = readFlags('pod ls', rest, { bools: {}, values: { '--format': 'format' } }, true);
      if (read === 'help') return 'help';
      if (read.rest.length > 0) throw usage('takes no arguments');
      const f = read.values.get('format')?.pop() ?? 'table';
      if (f !== 'table' && f !== 'json') throw new HuskError('usage', `invalid value "${f}" for --format: expected table or json`);
      return { action: 'ls', format: f };
    }
    case 'rm': {
      const read = readFlags('pod rm', rest, { bools: { '-f': 'force', '--force': 'force' }, values: {} }, true);
      if (read === 'help') return 'help';
      if (read.rest.length === 0) throw usage('requires at least one NAME');
      return { action, force: read.bools.has('force'), names: read.rest };
    }
  }
  throw new HuskError('usage', `unknown command: husk pod ${action}`, { hint: "See 'husk pod --help'." });
}

const NS_TYPE_FLAGS: Record<string, string> = { '--net': 'net', '--uts': 'uts', '--ipc': 'ipc', '--cgroup': 'cgroup', '--user': 'user', '--mnt': 'mnt', '--pid': 'pid', '--time': 'time' };

function parseNs(args: readonly string[]): NsCommand | 'help' {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help') return 'help';
  const usage = (what: string) => new HuskError('usage', `"husk ns ${action}" ${what}`, { hint: "See 'husk ns --help'." });
  switch (action) {
    case 'create': {
      const read = readFlags('ns create', rest, { bools: NS_TYPE_FLAGS, values: { '--time-offset': 'timeOffset', '--uidmap': 'uidmap', '--gidmap': 'gidmap' } }, true);
      if (read === 'help') return 'help';
      if (read.rest.length !== 1) throw usage('requires exactly one NAME');
      const types = new Set(read.bools);
      const offsets = read.values.get('timeOffset');
      // As run's: an offset implies a new time namespace, a map a new user namespace.
      const timeOffsets: { monotonic?: number; boottime?: number } | undefined = offsets ? {} : undefined;
      for (const v of offsets ?? []) parseTimeOffsets(v, timeOffsets!);
      if (offsets) types.add('time');
      const uidmap = read.values.get('uidmap');
      const gidmap = read.values.get('gidmap');
      if (uidmap || gidmap) types.add('user');
      return { action, name: read.rest[0], types: [...types], timeOffsets, uidmap, gidmap };
    }
    case 'ls':
    case 'list': {
      const read = readFlags('ns ls', rest, { bools: {}, values: { '--format': 'format' } }, true);
      if (read === 'help') return 'help';
      if (read.rest.length > 0) throw usage('takes no arguments');
      const f = read.values.get('format')?.pop() ?? 'table';
      if (f !== 'table' && f !== 'json') throw new HuskError('usage', `invalid value "${f}" for --format: expected table or json`);
      return { action: 'ls', format: f };
    }
    case 'inspect': {
      const read = readFlags('ns inspect', rest, { bools: {}, values: {} }, true);
      if (read === 'help') return 'help';
      if (read.rest.length === 0) throw usage('requires at least one NAME');
      return { action, names: read.rest };
    }
    case 'rm': {
      const read = readFlags('ns rm', rest, { bools: { '-f': 'force', '--force': 'force' }, values: {} }, true);
      if (read === 'help') return 'help';
      if (read.rest.length === 0) throw usage('requires at least one NAME');
      return { action, force: read.bools.has('force'), names: read.rest };
    }
  }
  throw new HuskError('usage', `unknown command: husk ns ${action}`, { hint: "See 'husk ns --help'." });
}

interface FlagTable {
  bools: Record<string, string>;
  values: Record<string, string>;
}

/**
 * Reads flags up to the first positional argument (or `--`); returns the bools set, the
 * values (repeatable ones collected) and the rest.
 */
export function readFlags(command: string, args: readonly string[], table: FlagTable, interleaved = false): { bools: Set<string>; values: Map<string, string[]>; rest: string[] } | 'help' {
  const bools = new Set<string>();
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--help') return 'help';
    if (!a.startsWith('-') || a === '-') {
      // ns and pod take flags after their names too (`ns create NAME --net`).
      if (!interleaved) break;
      positional.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq === -1 ? a : a.slice(0, eq);
    if (table.bools[flag] && eq === -1) {
      bools.add(table.bools[flag]);
      continue;
    }
    if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => table.bools[`-${c}`])) {
      for (const c of a.slice(1)) bools.add(table.bools[`-${c}`]);
      continue;
    }
    const key = table.values[flag];
    if (key) {
      const v = eq !== -1 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new HuskError('usage', `flag needs a value: ${flag}`);
      values.set(key, [...(values.get(key) ?? []), v]);
      continue;
    }
    throw new HuskError('usage', `unknown flag: ${flag}`, { hint: `See 'husk ${command} --help'.` });
  }
  return { bools, values, rest: [...positional, ...args.slice(i)] };
}

const EXEC_FLAGS: FlagTable = {
  bools: { '-d': 'detach', '--detach': 'detach', '-i': 'interactive', '--interactive': 'interactive', '-t': 'tty', '--tty': 'tty', '--privileged': 'privileged', '--trace': 'trace' },
  values: { '-e': 'env', '--env': 'env', '--env-file': 'envFile', '-u': 'user', '--user': 'user', '-w': 'workdir', '--workdir': 'workdir' },
};

function last(values: Map<string, string[]>, key: string): string | undefined {
  const list = values.get(key);
  return list?.[list.length - 1];
}

export function parseExecNs(name: (typeof EXECNS_COMMANDS)[number], args: readonly string[], global: GlobalFlags): ExecNsCommand | { name: 'help'; topic: string } {
  if (name === 'ns') {
    const ns = parseNs(args);
    return ns === 'help' ? { name: 'help', topic: 'ns' } : { name, global, ns };
  }
  if (name === 'pod') {
    const pod = parsePod(args);
    return pod === 'help' ? { name: 'help', topic: 'pod' } : { name, global, pod };
  }
  if (name === 'enter') {
    const read = readFlags('enter', args, { bools: NS_TYPE_FLAGS, values: {} });
    if (read === 'help') return { name: 'help', topic: 'enter' };
    if (read.rest.length === 0) throw new HuskError('usage', '"husk enter" requires a CONTAINER, ns:NAME or PID', { hint: "See 'husk enter --help'." });
    return { name, global, enter: { target: read.rest[0], types: [...read.bools], argv: read.rest.slice(1) } };
  }
  const read = readFlags(name, args, EXEC_FLAGS);
  if (read === 'help') return { name: 'help', topic: name };
  const { bools, values, rest } = read;
  if (rest.length < 2) throw new HuskError('usage', '"husk exec" requires a CONTAINER and a COMMAND', { hint: "See 'husk exec --help'." });
  const workdir = last(values, 'workdir');
  if (workdir !== undefined && !workdir.startsWith('/')) throw new HuskError('usage', `invalid value "${workdir}" for --workdir: the working directory must be an absolute path`);
  return {
    name: 'exec',
    global,
    flags: {
      detach: bools.has('detach'),
      interactive: bools.has('interactive'),
      tty: bools.has('tty'),
      privileged: bools.has('privileged'),
      trace: bools.has('trace'),
      env: values.get('env') ?? [],
      envFiles: values.get('envFile') ?? [],
      user: last(values, 'user'),
      workdir,
      container: rest[0],
      argv: rest.slice(1),
    },
  };
}
