// The command lines of pull, push, login and logout: pure, like parseArgs, which hands them
// here. Flags as docker's (-q, --platform, -u, -p, --password-stdin) and podman's
// (--tls-verify=false, --authfile, --creds).
import { HuskError } from '../errors.js';
import type { GlobalFlags } from './args.js';

interface Common {
  global: GlobalFlags;
  tlsVerify: boolean;
  authfile?: string;
}

export type RegistryCommand =
  | (Common & { name: 'pull'; ref: string; platform?: string; quiet: boolean; format: 'text' | 'json'; creds?: string })
  | (Common & { name: 'push'; ref: string; dest?: string; quiet: boolean; format: 'text' | 'json'; creds?: string })
  | (Common & { name: 'login'; registry: string; username?: string; password?: string; passwordStdin: boolean })
  | (Common & { name: 'logout'; registry?: string });

export const REGISTRY_COMMANDS = ['pull', 'push', 'login', 'logout'] as const;
type Name = (typeof REGISTRY_COMMANDS)[number];

interface Spec {
  bools: Record<string, string>;
  values: Record<string, string>;
  positional: [number, number];
  what: string;
}

const COMMON_VALUES = { '--authfile': 'authfile' };
const SPECS: Record<Name, Spec> = {
  pull: { bools: { '-q': 'quiet', '--quiet': 'quiet' }, values: { ...COMMON_VALUES, '--platform': 'platform', '--format': 'format', '--creds': 'creds' }, positional: [1, 1], what: 'NAME[:TAG|@DIGEST]' },
  push: { bools: { '-q': 'quiet', '--quiet': 'quiet' }, values: { ...COMMON_VALUES, '--format': 'format', '--creds': 'creds' }, positional: [1, 2], what: 'NAME[:TAG] [DESTINATION]' },
  login: {
    bools: { '--password-stdin': 'passwordStdin' },
    values: { ...COMMON_VALUES, '-u': 'username', '--username': 'username', '-p': 'password', '--password': 'password' },
    positional: [0, 1],
    what: 'REGISTRY',
  },
  logout: { bools: {}, values: COMMON_VALUES, positional: [0, 1], what: '[REGISTRY]' },
};

function parseBool(flag: string, v: string): boolean {
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw new HuskError('usage', `invalid value "${v}" for ${flag}: expected true or false`);
}

function parseFormat(v: string | undefined): 'text' | 'json' {
  if (v === undefined || v === 'text') return 'text';
  if (v === 'json' || v === '{{json .}}') return 'json';
  throw new HuskError('usage', `invalid value "${v}" for --format: expected text or json`);
}

export function parseRegistryCommand(name: Name, args: readonly string[], global: GlobalFlags): RegistryCommand | { name: 'help'; topic: string } {
  const spec = SPECS[name];
  const bools = new Set<string>();
  const values: Record<string, string> = {};
  const positional: string[] = [];
  let tlsVerify = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: name };
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq === -1 ? a : a.slice(0, eq);
    if (flag === '--tls-verify') {
      tlsVerify = parseBool(flag, eq === -1 ? '' : a.slice(eq + 1));
      continue;
    }
    if (spec.bools[flag]) {
      if (eq !== -1) throw new HuskError('usage', `flag ${flag} takes no value`);
      bools.add(spec.bools[flag]);
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
  const [min, max] = spec.positional;
  if (positional.length < min) throw new HuskError('usage', `"husk ${name}" requires ${spec.what}`, { hint: `See 'husk ${name} --help'.` });
  if (positional.length > max) throw new HuskError('usage', `"husk ${name}" takes ${spec.what}`, { hint: `See 'husk ${name} --help'.` });
  const common = { global, tlsVerify, authfile: values.authfile };
  switch (name) {
    case 'pull':
      return { name, ...common, ref: positional[0], platform: values.platform, quiet: bools.has('quiet'), format: parseFormat(values.format), creds: values.creds };
    case 'push':
      return { name, ...common, ref: positional[0], dest: positional[1], quiet: bools.has('quiet'), format: parseFormat(values.format), creds: values.creds };
    case 'login': {
      if (bools.has('passwordStdin') && values.password !== undefined) throw new HuskError('usage', '--password and --password-stdin are mutually exclusive');
      if (bools.has('passwordStdin') && values.username === undefined) throw new HuskError('usage', 'must provide --username with --password-stdin');
      return { name, ...common, registry: positional[0] ?? 'docker.io', username: values.username, password: values.password, passwordStdin: bools.has('passwordStdin') };
    }
    case 'logout':
      return { name, ...common, registry: positional[0] };
  }
}

export const REGISTRY_HELP: Record<Name, string> = {
  pull: `Usage:  husk pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry into the store (--storage). Short names are docker's:
alpine is docker.io/library/alpine:latest. Layers the store already has are not fetched
again; every blob is checked against its digest before it is kept.

      --platform OS/ARCH[/VARIANT]  Image to take from a multi-platform index (default: this
                                    host's, linux/amd64 here)
      --tls-verify=false            Skip the TLS certificate check, and fall back to plain
                                    HTTP (a registry without TLS)
      --authfile FILE               Credentials file (default <storage>/auth.json, or
                                    $REGISTRY_AUTH_FILE)
      --creds USER:PASSWORD         Credentials for this pull only
  -q, --quiet                       Print only the image's name
      --format FORMAT               text (default) or json (one event per line)
`,
  push: `Usage:  husk push [OPTIONS] NAME[:TAG] [DESTINATION]

Upload an image from the store to a registry: NAME's registry, or DESTINATION's
(REGISTRY/NAME[:TAG]). Blobs the registry already has are not sent again; the manifest goes
last, byte for byte as stored, so the image keeps its digest.

      --tls-verify=false            Skip the TLS certificate check, and fall back to plain HTTP
      --authfile FILE               Credentials file (default <storage>/auth.json)
      --creds USER:PASSWORD         Credentials for this push only
  -q, --quiet                       Print only the pushed digest
      --format FORMAT               text (default) or json (one event per line)
`,
  login: `Usage:  husk login [OPTIONS] [REGISTRY]

Log in to a registry (default docker.io): the credentials are checked with the registry,
then kept in <storage>/auth.json (mode 0600, readable only by its owner; the shape docker and
podman use).

  -u, --username USER               Username (asked for on a terminal when missing)
  -p, --password PASSWORD           Password (visible to other users in the process list:
                                    prefer --password-stdin)
      --password-stdin              Read the password from stdin
      --tls-verify=false            Skip the TLS certificate check, and fall back to plain HTTP
      --authfile FILE               Credentials file (default <storage>/auth.json)
`,
  logout: `Usage:  husk logout [OPTIONS] [REGISTRY]

Forget the credentials kept for a registry (default docker.io).

      --authfile FILE               Credentials file (default <storage>/auth.json)
`,
};
