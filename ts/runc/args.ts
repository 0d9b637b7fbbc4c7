import { resolve } from 'node:path';
// husk-runc's command line, runc's (docs/runc-cli.md): global flags, then a command and its
// flags. Pure: argv in, a command out, or a RuncError naming what is wrong.

export class RuncError extends Error {
  /** runc exits 1 for every error of its own. */
  readonly status: number;
  constructor(message: string, status = 1) {
    super(message);
    this.name = 'RuncError';
    this.status = status;
  }
}

export interface RuncGlobal {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
}

export type RuncCommand =
  | { name: 'version' }
  | { name: 'help'; topic?: string }
  | { name: 'create' | 'run'; id: string; bundle: string; pidFile?: string; consoleSocket?: string; detach: boolean; preserveFds: number; noPivot: boolean; noNewKeyring: boolean; keep: boolean }
  | { name: 'exec'; id: string; args: string[]; process?: string; detach: boolean; pidFile?: string; consoleSocket?: string; tty: boolean; cwd?: string; env: string[]; user?: string; caps: string[]; noNewPrivs: boolean; preserveFds: number; additionalGids: number[] }
  | { name: 'start'; id: string }
  | { name: 'state'; id: string }
  | { name: 'kill'; id: string; signal: string; all: boolean }
  | { name: 'delete'; id: string; force: boolean }
  | { name: 'list'; format: 'table' | 'json'; quiet: boolean }
  | { name: 'pause' | 'resume'; id: string }
  | { name: 'ps'; id: string; format: 'table' | 'json'; psArgs: string[] }
  | { name: 'update'; id: string; resources?: string; flags: Record<string, string> }
  | { name: 'events'; id: string; stats: boolean; intervalMs: number }
  | { name: 'spec'; bundle: string; rootless: boolean }
  | { name: 'features' };

export const DEFAULT_RUNC_ROOT = '/run/husk-runc';

/** runc update's flags besides --resources, each a linux.resources field (ts/runc/update.ts). */
export const UPDATE_FLAGS = ['memory', 'memory-reservation', 'memory-swap', 'cpu-shares', 'cpu-quota', 'cpu-period', 'cpuset-cpus', 'cpuset-mems', 'pids-limit', 'blkio-weight'] as const;

/** runc's rule for an id: letters, digits, `_+-.`, not `.` or `..`. */
export function checkId(id: string): void {
  if (id === '') throw new RuncError('container id cannot be empty');
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..' || id.length > 1024) throw new RuncError(`invalid container id format: ${id}`);
}

/** Flags of one command: `--name value`, `--name=value`, booleans; the rest positional. */
interface FlagSpec {
  values: readonly string[];
  booleans: readonly string[];
  /** Flags that may be given more than once (`--env A=1 --env B=2`). */
  lists?: readonly string[];
}

function readFlags(argv: readonly string[], spec: FlagSpec, command: string): { flags: Map<string, string>; rest: string[]; lists: Map<string, string[]> } {
  const flags = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-' || rest.length > 0) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a : a.slice(0, eq)).replace(/^--?/, '');
    if (spec.lists?.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new RuncError(`${command}: flag needs an argument: --${name}`);
      lists.set(name, [...(lists.get(name) ?? []), value]);
    } else if (spec.booleans.includes(name)) {
      flags.set(name, eq < 0 ? 'true' : a.slice(eq + 1));
    } else if (spec.values.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new RuncError(`${command}: flag needs an argument: --${name}`);
      flags.set(name, value);
    } else {
      throw new RuncError(`${command}: flag provided but not defined: ${a}`);
    }
  }
  return { flags, rest, lists };
}

function oneId(rest: readonly string[], command: string, max = 1): string {
  if (rest.length < 1) throw new RuncError(`"${command}" requires a container id`);
  if (rest.length > max) throw new RuncError(`"${command}" takes ${max === 1 ? 'one argument' : 'at most two arguments'}, got ${rest.length}`);
  checkId(rest[0]);
  return rest[0];
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== 'false';
}

export function parseRuncArgs(argv: readonly string[], cwd = '/'): { global: RuncGlobal; command: RuncCommand } {
  const global: RuncGlobal = { root: DEFAULT_RUNC_ROOT, logFormat: 'text', debug: false, systemdCgroup: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = (): string => {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new RuncError(`flag needs an argument: ${name}`);
      return v;
    };
    switch (name) {
      case '--root': global.root = value(); break;
      case '--log': global.log = value(); break;
      case '--log-format': {
        const f = value();
        if (f !== 'text' && f !== 'json') throw new RuncError(`invalid log-format: ${f}`);
        global.logFormat = f;
        break;
      }
      case '--debug': global.debug = eq < 0 || truthy(a.slice(eq + 1)); break;
      case '--systemd-cgroup': global.systemdCgroup = eq < 0 || truthy(a.slice(eq + 1)); break;
      case '--criu': case '--rootless': value(); break; // accepted as runc does; husk-runc needs neither
      case '-v': case '--version': return { global, command: { name: 'version' } };
      case '-h': case '--help': return { global, command: { name: 'help' } };
      default: throw new RuncError(`flag provided but not defined: ${a}`);
    }
  }
  global.root = resolve(cwd, global.root);
  const name = argv[i];
  const args = argv.slice(i + 1);
  if (name === undefined) return { global, command: { name: 'help' } };
  return { global, command: parseCommand(name, args, cwd) };
}

function absolute(path: string, cwd: string): string {
  return resolve(cwd, path);
}

function parseCommand(name: string, args: readonly string[], cwd: string): RuncCommand {
  switch (name) {
    case 'create':
    case 'run': {
      const { flags, rest } = readFlags(args, { values: ['bundle', 'b', 'pid-file', 'console-socket', 'preserve-fds'], booleans: ['no-pivot', 'no-new-keyring', 'detach', 'd', 'keep', 'no-subreaper'] }, name);
      const preserve = flags.get('preserve-fds') ?? '0';
      if (!/^\d+$/.test(preserve)) throw new RuncError(`${name}: --preserve-fds: not a number: ${preserve}`);
      const pidFile = flags.get('pid-file');
      return {
        name: name as 'create' | 'run',
        id: oneId(rest, name),
        bundle: absolute(flags.get('bundle') ?? flags.get('b') ?? '.', cwd),
        pidFile: pidFile === undefined ? undefined : absolute(pidFile, cwd),
        consoleSocket: flags.get('console-socket'),
        detach: name === 'create' || truthy(flags.get('detach')) || truthy(flags.get('d')),
        preserveFds: Number(preserve),
        noPivot: truthy(flags.get('no-pivot')),
        noNewKeyring: truthy(flags.get('no-new-keyring')),
        keep: truthy(flags.get('keep')),
      };
    }
    case 'exec': {
      const { flags, rest, lists } = readFlags(args, { values: ['process', 'p', 'pid-file', 'console-socket', 'cwd', 'user', 'u', 'process-label', 'apparmor', 'preserve-fds', 'cgroup'], booleans: ['detach', 'd', 'tty', 't', 'no-new-privs', 'ignore-paused'], lists: ['env', 'e', 'cap', 'c', 'additional-gids', 'g'] }, name);
      if (rest.length < 1) throw new RuncError('"exec" requires a container id');
      checkId(rest[0]);
      const process = flags.get('process') ?? flags.get('p');
      if (process === undefined && rest.length < 2) throw new RuncError('exec: no command given (and no --process)');
      for (const unsupported of ['process-label', 'apparmor', 'cgroup']) if (flags.has(unsupported)) throw new RuncError(`exec: --${unsupported} is not supported by husk-runc`);
      const preserve = flags.get('preserve-fds') ?? '0';
      if (!/^\d+$/.test(preserve)) throw new RuncError(`exec: --preserve-fds: not a number: ${preserve}`);
      // runc takes each -g once or as a comma list.
      const gids = [...(lists.get('additional-gids') ?? []), ...(lists.get('g') ?? [])].flatMap((g) => g.split(','));
      for (const g of gids) if (!/^\d+$/.test(g)) throw new RuncError(`exec: --additional-gids: not a number: ${g}`);
      const pidFile = flags.get('pid-file');
      return {
        name,
        id: rest[0],
        args: rest.slice(1),
        process: process === undefined ? undefined : absolute(process, cwd),
        detach: truthy(flags.get('detach')) || truthy(flags.get('d')),
        pidFile: pidFile === undefined ? undefined : absolute(pidFile, cwd),
        consoleSocket: flags.get('console-socket'),
        tty: truthy(flags.get('tty')) || truthy(flags.get('t')),
        cwd: flags.get('cwd'),
        env: [...(lists.get('env') ?? []), ...(lists.get('e') ?? [])],
        user: flags.get('user') ?? flags.get('u'),
        caps: [...(lists.get('cap') ?? []), ...(lists.get('c') ?? [])],
        noNewPrivs: truthy(flags.get('no-new-privs')),
        preserveFds: Number(preserve),
        additionalGids: gids.map(Number),
      };
    }
    case 'start':
    case 'state':
      return { name, id: oneId(readFlags(args, { values: [], booleans: [] }, name).rest, name) };
    case 'pause':
    case 'resume':
      return { name, id: oneId(readFlags(args, { values: [], booleans: [] }, name).rest, name) };
    case 'ps': {
      const { flags, rest } = readFlags(args, { values: ['format', 'f'], booleans: [] }, name);
      if (rest.length < 1) throw new RuncError('"ps" requires a container id');
      checkId(rest[0]);
      const format = flags.get('format') ?? flags.get('f') ?? 'table';
      if (format !== 'table' && format !== 'json') throw new RuncError(`invalid format option: ${format}`);
      const psArgs = rest.slice(1);
      if (format === 'json' && psArgs.length > 0) throw new RuncError('ps: arguments for ps(1) cannot be used with --format json');
      return { name, id: rest[0], format, psArgs };
    }
    case 'update': {
      const { flags, rest } = readFlags(args, { values: ['resources', 'r', ...UPDATE_FLAGS], booleans: [] }, name);
      const id = oneId(rest, name);
      const resources = flags.get('resources') ?? flags.get('r');
      const rest_: Record<string, string> = {};
      for (const f of UPDATE_FLAGS) if (flags.has(f)) rest_[f] = flags.get(f)!;
      if (resources !== undefined && Object.keys(rest_).length > 0) throw new RuncError('update: --resources cannot be combined with other resource flags');
      return { name, id, resources: resources === undefined || resources === '-' ? resources : absolute(resources, cwd), flags: rest_ };
    }
    case 'events': {
      const { flags, rest } = readFlags(args, { values: ['interval'], booleans: ['stats'] }, name);
      const id = oneId(rest, name);
      const interval = flags.get('interval') ?? '5s';
      const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(interval);
      if (m === null || Number(m[1]) <= 0) throw new RuncError(`events: --interval ${interval}: a duration such as 5s or 500ms`);
      const intervalMs = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60000);
      return { name, id, stats: truthy(flags.get('stats')), intervalMs };
    }
    case 'kill': {
      const { flags, rest } = readFlags(args, { values: [], booleans: ['all', 'a'] }, name);
      const id = oneId(rest, name, 2);
      return { name, id, signal: rest[1] ?? 'SIGTERM', all: truthy(flags.get('all')) || truthy(flags.get('a')) };
    }
    case 'delete': {
      const { flags, rest } = readFlags(args, { values: [], booleans: ['force', 'f'] }, name);
      return { name, id: oneId(rest, name), force: truthy(flags.get('force')) || truthy(flags.get('f')) };
    }
    case 'list': {
      const { flags, rest } = readFlags(args, { values: ['format', 'f'], booleans: ['quiet', 'q'] }, name);
      if (rest.length > 0) throw new RuncError('"list" takes no arguments');
      const format = flags.get('format') ?? flags.get('f') ?? 'table';
      if (format !== 'table' && format !== 'json') throw new RuncError(`invalid format option: ${format}`);
      return { name, format, quiet: truthy(flags.get('quiet')) || truthy(flags.get('q')) };
    }
    case 'spec': {
      const { flags, rest } = readFlags(args, { values: ['bundle', 'b'], booleans: ['rootless'] }, name);
      if (rest.length > 0) throw new RuncError('"spec" takes no arguments');
      return { name, bundle: absolute(flags.get('bundle') ?? flags.get('b') ?? '.', cwd), rootless: truthy(flags.get('rootless')) };
    }
    case 'features':
      readFlags(args, { values: [], booleans: [] }, name);
      return { name };
    case 'help':
      return { name, topic: args[0] };
    default:
      throw new RuncError(`command "${name}" is not supported by husk-runc (create, start, run, exec, state, kill, delete, pause, resume, ps, update, events, list, spec, features)`);
  }
}
