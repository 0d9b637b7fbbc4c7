// The command lines of the image commands (load, import, save, images, rmi, tag, image ...,
// system df): pure, like parseArgs, which hands them here. Flags as docker's (and podman's
// for save --format).
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir';

export type ImageCommand =
  | { name: 'load'; global: GlobalFlags; input?: string; quiet: boolean; format: 'text' | 'json' }
  | { name: 'import'; global: GlobalFlags; source: string; ref?: string; changes: string[]; message?: string; quiet: boolean; format: 'text' | 'json' }
  | { name: 'save'; global: GlobalFlags; images: string[]; output?: string; format: SaveFormat; quiet: boolean; progress: 'text' | 'json' }
  | { name: 'images'; global: GlobalFlags; quiet: boolean; all: boolean; noTrunc: boolean; format: 'table' | 'json'; filter?: string }
  | { name: 'rmi'; global: GlobalFlags; force: boolean; targets: string[] }
  | { name: 'tag'; global: GlobalFlags; source: string; target: string }
  | { name: 'image-inspect'; global: GlobalFlags; targets: string[] }
  | { name: 'image-prune'; global: GlobalFlags; all: boolean; force: boolean }
  | { name: 'system-df'; global: GlobalFlags; format: 'table' | 'json' };

/** Top-level words that are image commands (`image` and `system` take a subcommand). */
export const IMAGE_COMMANDS = ['load', 'import', 'save', 'images', 'rmi', 'tag', 'image', 'system'] as const;

interface Spec {
  bools: Record<string, string>;
  values: Record<string, string>;
  multi?: Record<string, string>;
  positional: [number, number];
  what: string;
  help: string;
}

const SPECS: Record<ImageCommand['name'], Spec> = {
  load: { bools: { '-q': 'quiet', '--quiet': 'quiet' }, values: { '-i': 'input', '--input': 'input', '--format': 'format' }, positional: [0, 0], what: '', help: 'load' },
  import: {
    bools: { '-q': 'quiet', '--quiet': 'quiet' },
    values: { '-m': 'message', '--message': 'message', '--format': 'format' },
    multi: { '-c': 'change', '--change': 'change' },
    positional: [1, 2],
    what: 'TAR|- [REPOSITORY[:TAG]]',
    help: 'import',
  },
  save: { bools: { '-q': 'quiet', '--quiet': 'quiet' }, values: { '-o': 'output', '--output': 'output', '--format': 'format', '--progress': 'progress' }, positional: [1, -1], what: 'IMAGE [IMAGE...]', help: 'save' },
  images: {
    bools: { '-q': 'quiet', '--quiet': 'quiet', '-a': 'all', '--all': 'all', '--no-trunc': 'noTrunc' },
    values: { '--format': 'format' },
    positional: [0, 1],
    what: '[REPOSITORY[:TAG]]',
    help: 'images',
  },
  rmi: { bools: { '-f': 'force', '--force': 'force' }, values: {}, positional: [1, -1], what: 'IMAGE [IMAGE...]', help: 'rmi' },
  tag: { bools: {}, values: {}, positional: [2, 2], what: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', help: 'tag' },
  'image-inspect': { bools: {}, values: { '--format': 'format', '-f': 'format' }, positional: [1, -1], what: 'IMAGE [IMAGE...]', help: 'image' },
  'image-prune': { bools: { '-a': 'all', '--all': 'all', '-f': 'force', '--force': 'force' }, values: {}, positional: [0, 0], what: '', help: 'image' },
  'system-df': { bools: {}, values: { '--format': 'format' }, positional: [0, 0], what: '', help: 'system' },
};

const IMAGE_SUB: Record<string, ImageCommand['name']> = {
  ls: 'images',
  list: 'images',
  rm: 'rmi',
  remove: 'rmi',
  tag: 'tag',
  inspect: 'image-inspect',
  prune: 'image-prune',
  load: 'load',
  save: 'save',
  import: 'import',
};

function tableOrJson(v: string | undefined): 'table' | 'json' {
  if (v === undefined || v === 'table') return 'table';
  if (v === 'json' || v === '{{json .}}') return 'json';
  throw new HuskError('usage', `invalid value "${v}" for --format: expected table or json`);
}

function textOrJson(v: string | undefined, flag = '--format'): 'text' | 'json' {
  if (v === undefined || v === 'text') return 'text';
  if (v === 'json') return 'json';
  throw new HuskError('usage', `invalid value "${v}" for ${flag}: expected text or json`);
}

function saveFormat(v: string | undefined): SaveFormat {
  if (v === undefined || v === 'docker-archive') return 'docker-archive';
  if (v === 'oci-archive' || v === 'oci-dir') return v;
  throw new HuskError('usage', `invalid value "${v}" for --format: expected docker-archive, oci-archive or oci-dir`);
}

/** `image SUB ...` and `system SUB ...` to their command; the rest as they are. */
export function parseImageCommand(word: (typeof IMAGE_COMMANDS)[number], rest: readonly string[], global: GlobalFlags): ImageCommand | { name: 'help'; topic: string } {
  if (word === 'image' || word === 'system') {
    const sub = rest[0];
    if (sub === undefined || sub === '--help') return { name: 'help', topic: word };
    const name = word === 'image' ? IMAGE_SUB[sub] : sub === 'df' ? 'system-df' : undefined;
    if (!name) throw new HuskError('usage', `unknown command: ${word} ${sub}`, { hint: `See 'husk ${word} --help'.` });
    return parseOne(name, rest.slice(1), global);
  }
  return parseOne(word, rest, global);
}

function parseOne(name: ImageCommand['name'], args: readonly string[], global: GlobalFlags): ImageCommand | { name: 'help'; topic: string } {
  const spec = SPECS[name];
  const bools = new Set<string>();
  const values: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const positional: string[] = [];
  let flagsDone = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: spec.help };
    if (a === '--' && !flagsDone) {
      flagsDone = true;
      continue;
    }
    if (!flagsDone && a.startsWith('-') && a !== '-') {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const flag = eq === -1 ? a : a.slice(0, eq);
      if (spec.bools[flag] && eq === -1) {
        bools.add(spec.bools[flag]);
        continue;
      }
      if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => spec.bools[`-${c}`])) {
        for (const c of a.slice(1)) bools.add(spec.bools[`-${c}`]);
        continue;
      }
      const key = spec.values[flag] ?? spec.multi?.[flag];
      if (key) {
        const v = eq !== -1 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new HuskError('usage', `flag needs a value: ${flag}`);
        if (spec.multi?.[flag]) (multi[key] ??= []).push(v);
        else values[key] = v;
        continue;
      }
      throw new HuskError('usage', `unknown flag: ${flag}`, { hint: `See 'husk ${spec.help} --help'.` });
    }
    positional.push(a);
  }
  const [min, max] = spec.positional;
  const shownName = name.replace('-', ' ');
  if (positional.length < min) throw new HuskError('usage', `"husk ${shownName}" requires ${spec.what}`, { hint: `See 'husk ${spec.help} --help'.` });
  if (max >= 0 && positional.length > max) {
    throw new HuskError('usage', max === 0 ? `"husk ${shownName}" takes no arguments` : `"husk ${shownName}" takes ${spec.what}`, { hint: `See 'husk ${spec.help} --help'.` });
  }
  switch (name) {
    case 'load':
      return { name, global, input: values.input, quiet: bools.has('quiet'), format: textOrJson(values.format) };
    case 'import':
      return { name, global, source: positional[0], ref: positional[1], changes: multi.change ?? [], message: values.message, quiet: bools.has('quiet'), format: textOrJson(values.format) };
    case 'save':
      return { name, global, images: positional, output: values.output, format: saveFormat(values.format), quiet: bools.has('quiet'), progress: textOrJson(values.progress, '--progress') };
    case 'images':
      return { name, global, quiet: bools.has('quiet'), all: bools.has('all'), noTrunc: bools.has('noTrunc'), format: tableOrJson(values.format), filter: positional[0] };
    case 'rmi':
      return { name, global, force: bools.has('force'), targets: positional };
    case 'tag':
      return { name, global, source: positional[0], target: positional[1] };
    case 'image-inspect':
      if (values.format !== undefined && values.format !== 'json') throw new HuskError('usage', `invalid value "${values.format}" for --format: husk image inspect prints JSON`);
      return { name, global, targets: positional };
    case 'image-prune':
      return { name, global, all: bools.has('all'), force: bools.has('force') };
    case 'system-df':
      return { name, global, format: tableOrJson(values.format) };
  }
}
