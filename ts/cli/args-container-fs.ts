// The command lines of the commands that read or write a container's files (diff, commit,
// export, cp): pure, like parseArgs, which hands them here.
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';

export type ContainerFsCommand =
  | { name: 'diff'; global: GlobalFlags; target: string }
  | { name: 'commit'; global: GlobalFlags; target: string; ref?: string; message?: string; author?: string }
  | { name: 'export'; global: GlobalFlags; target: string; output?: string }
  | { name: 'cp'; global: GlobalFlags; from: CpPath; to: CpPath; followLink: boolean };

/** One side of `husk cp`: a host path, or CONTAINER:PATH. */
export type CpPath = { container?: undefined; path: string } | { container: string; path: string };

export const CONTAINER_FS_COMMANDS = ['diff', 'commit', 'export', 'cp'] as const;

const USAGE: Record<(typeof CONTAINER_FS_COMMANDS)[number], string> = {
  diff: 'CONTAINER',
  commit: 'CONTAINER [REPOSITORY[:TAG]]',
  export: 'CONTAINER',
  cp: 'CONTAINER:SRC_PATH DEST_PATH, or SRC_PATH CONTAINER:DEST_PATH',
};

/** docker's rule: CONTAINER:PATH unless the part before ':' holds a '/' or is empty (a local path). */
export function parseCpPath(arg: string): CpPath {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.slice(0, colon).includes('/')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export function parseContainerFs(name: (typeof CONTAINER_FS_COMMANDS)[number], args: readonly string[], global: GlobalFlags): ContainerFsCommand | { name: 'help'; topic: string } {
  const values: Record<string, string> = {};
  const positional: string[] = [];
  let followLink = false;
  const valueFlags: Record<string, Record<string, string>> = {
    commit: { '-m': 'message', '--message': 'message', '-a': 'author', '--author': 'author' },
    export: { '-o': 'output', '--output': 'output' },
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: name };
    if (a.startsWith('-') && a !== '-' && positional.length === 0) {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const flag = eq === -1 ? a : a.slice(0, eq);
      if (name === 'cp' && (flag === '-L' || flag === '--follow-link') && eq === -1) {
        followLink = true;
        continue;
      }
      const key = valueFlags[name]?.[flag];
      if (key === undefined) throw new HuskError('usage', `unknown flag: ${flag}`, { hint: `See 'husk ${name} --help'.` });
      const v = eq !== -1 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new HuskError('usage', `flag needs a value: ${flag}`);
      values[key] = v;
      continue;
    }
    positional.push(a);
  }
  const want = name === 'cp' ? [2, 2] : name === 'commit' ? [1, 2] : [1, 1];
  if (positional.length < want[0] || positional.length > want[1]) {
    throw new HuskError('usage', `"husk ${name}" requires ${USAGE[name]}`, { hint: `See 'husk ${name} --help'.` });
  }
  switch (name) {
    case 'diff':
      return { name, global, target: positional[0] };
    case 'commit':
      return { name, global, target: positional[0], ref: positional[1], message: values.message, author: values.author };
    case 'export':
      return { name, global, target: positional[0], output: values.output };
    case 'cp': {
      const from = parseCpPath(positional[0]);
      const to = parseCpPath(positional[1]);
      if ((from.container === undefined) === (to.container === undefined)) {
        throw new HuskError('usage', from.container === undefined ? 'husk cp: one of the two paths must be CONTAINER:PATH' : 'husk cp: copying between two containers is not supported', { hint: "See 'husk cp --help'." });
      }
      if (from.path === '' || to.path === '') throw new HuskError('usage', 'husk cp: a path is empty');
      return { name, global, from, to, followLink };
    }
  }
}
