// The command lines of exec, enter, ns and pod: pure, like parseArgs, which hands them here.
// Flags come before the container (or namespace) and everything after it is the command,
// as docker's exec; short flags combine (-it, -dit).
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';
import type { ExecFlags } from '../runtime/exec.js';

export type ExecNsCommand = { name: 'exec'; global: GlobalFlags; flags: ExecFlags };

export const EXECNS_COMMANDS = ['exec'] as const;

interface FlagTable {
  bools: Record<string, string>;
  values: Record<string, string>;
}

/**
 * Reads flags up to the first positional argument (or `--`); returns the bools set, the
 * values (repeatable ones collected) and the rest.
 */
export function readFlags(command: string, args: readonly string[], table: FlagTable): { bools: Set<string>; values: Map<string, string[]>; rest: string[] } | 'help' {
  const bools = new Set<string>();
  const values = new Map<string, string[]>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--help') return 'help';
    if (!a.startsWith('-') || a === '-') break;
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
  return { bools, values, rest: args.slice(i) };
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
  const read = readFlags(name, args, EXEC_FLAGS);
  if (read === 'help') return { name: 'help', topic: name };
  const { bools, values, rest } = read;
  if (rest.length < 2) throw new HuskError('usage', '"husk exec" requires a CONTAINER and a COMMAND', { hint: "See 'husk exec --help'." });
  const workdir = last(values, 'workdir');
  if (workdir !== undefined && !workdir.startsWith('/')) throw new HuskError('usage', `invalid value "${workdir}" for --workdir: the working directory must be an absolute path`);
  return {
    name,
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
