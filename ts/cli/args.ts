// The command line, parsed by a pure function: argv in, a typed command or a HuskError out.
// Flags follow docker's: options come before IMAGE; everything after IMAGE is the command.
import { HuskError } from '../errors.js';
import { defaultRoot } from '../runtime/paths.js';

export interface RunFlags {
  image?: string;
  rootfs?: string;
  rootfsRw: boolean;
  argv: string[];
  net: 'private' | 'host';
  pid: 'private' | 'host';
  ipc: 'private' | 'host';
  uts: 'private' | 'host';
  userns: { mode: 'host' } | { mode: 'auto'; size?: number } | { mode: 'keep-id' } | { mode: 'ns'; name: string };
  /** --uidmap, --gidmap, --subuid-file, ... (ts/cli/flags-userns.ts) */
  idmap: IdmapFlags;
  /** --memory, --cpus, --pids-limit, --cgroup-parent, ... (ts/cli/flags-resources.ts) */
  resources: ResourceFlags;
  /** -d, --name, --rm (ts/cli/flags-lifecycle.ts) */
  lifecycle: LifecycleFlags;
  /** -t, -i, --detach-keys (ts/cli/flags-stdio.ts) */
  stdio: StdioFlags;
  /** --security-opt, --cap-add, --cap-drop, --privileged (ts/cli/flags-security.ts) */
  security: SecurityFlags;
  /** --ulimit, --sysctl, --oom-score-adj, --group-add, --tmpfs (ts/cli/flags-run-options.ts) */
  runOptions: RunOptionFlags;
  timens: boolean;
  timeOffsets: { monotonic?: number; boottime?: number };
  hostname?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  /** --entrypoint as typed ('' clears the image's); only with an image from the store. */
  entrypoint?: string;
  /** --net/--ipc/--uts/--pid ns:NAME or container:OTHER (ts/cli/flags-execns.ts). */
  joins: JoinFlag[];
  /** --pod NAME: join the pod's pinned namespaces, under its cgroup parent. */
  pod?: string;
  /** --network NAME: attached to that network (ts/network/); none: its own namespace with lo only. */
  network?: string;
  /** --net or --network was typed (any value): without it, root's container joins the default network (ts/network/default.ts). */
  networkTyped: boolean;
  /** --network pasta|slirp4netns: user-mode networking (ts/network/usermode.ts). */
  usermodeNet?: 'pasta' | 'slirp4netns';
  /** --ip: the address on the network, instead of the first free one. */
  ip?: string;
  /** --ip6: the IPv6 address on a dual-stack network. */
  ip6?: string;
  /** -p/--publish [HOSTIP:]HOSTPORT:PORT[/PROTO] (needs a network). */
  publish: { hostIp: string; hostPort: number; port: number; proto: string }[];
  /** --network-alias: more names the container answers to on its (user-defined) network. */
  networkAliases: string[];
  /** --dns, --add-host NAME:IP, --mac-address (need a network). */
  dns: string[];
  addHosts: string[];
  macAddress?: string;
  /** -P: the image's ExposedPorts published on free host ports. */
  publishAll: boolean;
  trace: boolean;
}

export interface GlobalFlags {
  root: string;
  /** --storage DIR: the image store (ts/image/store.ts storageRoot() when unset) */
  storage?: string;
}

export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'version' }
  | { name: 'info'; format: 'text' | 'json'; global?: GlobalFlags }
  | { name: 'run'; global: GlobalFlags; flags: RunFlags }
  | { name: 'create'; global: GlobalFlags; flags: RunFlags }
  | { name: 'plan'; global: GlobalFlags; flags: RunFlags; save?: string; format: 'text' | 'json'; hostCgroups?: 'v1' | 'v2' | 'hybrid' }
  | LifecycleCommand
  | ContainerFsCommand
  | ExecNsCommand
  | MonitorCommand
  | ImageCommand
  | RegistryCommand
  | NetworkCommand;

import type { FlagSpec, PlanExtra } from './flag-spec.js';
import { USERNS_FLAGS, defaultIdmapFlags } from './flags-userns.js';
import type { IdmapFlags } from './flags-userns.js';
import { RESOURCE_FLAGS, defaultResourceFlags } from './flags-resources.js';
import type { ResourceFlags } from './flags-resources.js';
import { LIFECYCLE_FLAGS, defaultLifecycleFlags } from './flags-lifecycle.js';
import type { LifecycleFlags } from './flags-lifecycle.js';
import { LIFECYCLE_COMMANDS, parseLifecycle } from './args-lifecycle.js';
import type { LifecycleCommand } from './args-lifecycle.js';
import { CONTAINER_FS_COMMANDS, parseContainerFs } from './args-container-fs.js';
import type { ContainerFsCommand } from './args-container-fs.js';
import { EXECNS_COMMANDS, parseExecNs } from './args-execns.js';
import type { ExecNsCommand } from './args-execns.js';
import { EXECNS_RUN_FLAGS, joinMode, parseTimeOffsets } from './flags-execns.js';
import { NETWORK_COMMANDS, parseNetworkCommand, parsePublish } from './args-network.js';
import type { NetworkCommand } from './args-network.js';
import type { JoinFlag } from './flags-execns.js';
import { MONITOR_COMMANDS, parseMonitor } from './args-monitor.js';
import { STDIO_FLAGS, defaultStdioFlags } from './flags-stdio.js';
import type { StdioFlags } from './flags-stdio.js';
import { SECURITY_FLAGS, defaultSecurityFlags } from './flags-security.js';
import type { SecurityFlags } from './flags-security.js';
import { RUN_OPTION_FLAGS, defaultRunOptionFlags } from './flags-run-options.js';
import type { RunOptionFlags } from './flags-run-options.js';
import type { MonitorCommand } from './args-monitor.js';
import { IMAGE_COMMANDS, parseImageCommand } from './args-images.js';
import type { ImageCommand } from './args-images.js';
import { REGISTRY_COMMANDS, parseRegistryCommand } from './args-registry.js';
import type { RegistryCommand } from './args-registry.js';

const NS_CHOICES = ['host', 'private'] as const;

function nsMode(flag: string, v: string, allowNone = false): 'private' | 'host' {
  if (v === 'host') return 'host';
  if (v === 'private' || (allowNone && v === 'none')) return 'private';
  const choices = allowNone ? 'host, none or private' : NS_CHOICES.join(' or ');
  throw new HuskError('usage', `invalid value "${v}" for ${flag}: expected ${choices}`);
}

/** --network: host, none/private, ns:NAME, container:OTHER, or the name of a network. */
function networkMode(f: RunFlags, v: string): 'private' | 'host' {
  f.usermodeNet = undefined; // the last --network wins
  f.networkTyped = true;
  const joined = joinMode(f, 'net', v);
  if (joined !== undefined) {
    f.network = undefined;
    return joined;
  }
  if (v === 'host' || v === 'none' || v === 'private') {
    f.network = undefined;
    return nsMode('--net', v, true);
  }
  if (v === '') throw new HuskError('usage', 'invalid value "" for --network: expected host, none, a network name, ns:NAME or container:OTHER');
  if (v === 'pasta' || v === 'slirp4netns') {
    // User-mode networking: no bridge, no network record (ts/network/usermode.ts).
    f.network = undefined;
    f.usermodeNet = v;
    return 'private';
  }
  // docker's names for its default network mean husk's.
  f.network = v === 'bridge' || v === 'default' ? 'husk' : v;
  return 'private';
}

const BASE_FLAGS: FlagSpec[] = [
  { names: ['--rootfs'], kind: 'value', apply: (f, v) => (f.rootfs = v) },
  { names: ['--rootfs-rw'], kind: 'bool', apply: (f) => (f.rootfsRw = true) },
  { names: ['--net', '--network'], kind: 'value', apply: (f, v) => (f.net = networkMode(f, v)) },
  { names: ['--ip'], kind: 'value', apply: (f, v) => (f.ip = v) },
  { names: ['--ip6'], kind: 'value', apply: (f, v) => (f.ip6 = v) },
  { names: ['--publish', '-p'], kind: 'value', apply: (f, v) => f.publish.push(parsePublish(v)) },
  { names: ['--network-alias', '--net-alias'], kind: 'value', apply: (f, v) => f.networkAliases.push(v) },
  { names: ['--dns'], kind: 'value', apply: (f, v) => f.dns.push(v) },
  { names: ['--publish-all', '-P'], kind: 'bool', apply: (f) => (f.publishAll = true) },
  { names: ['--add-host'], kind: 'value', apply: (f, v) => f.addHosts.push(v) },
  { names: ['--mac-address'], kind: 'value', apply: (f, v) => (f.macAddress = v) },
  { names: ['--pid'], kind: 'value', apply: (f, v) => (f.pid = joinMode(f, 'pid', v) ?? nsMode('--pid', v)) },
  { names: ['--ipc'], kind: 'value', apply: (f, v) => (f.ipc = joinMode(f, 'ipc', v) ?? nsMode('--ipc', v)) },
  { names: ['--uts'], kind: 'value', apply: (f, v) => (f.uts = joinMode(f, 'uts', v) ?? nsMode('--uts', v)) },
  { names: ['--timens'], kind: 'bool', apply: (f) => (f.timens = true) },
  {
    names: ['--time-offset'],
    kind: 'value',
    apply: (f, v) => {
      parseTimeOffsets(v, f.timeOffsets);
      f.timens = true;
    },
  },
  { names: ['--hostname', '-h'], kind: 'value', apply: (f, v) => (f.hostname = v) },
  { names: ['--env', '-e'], kind: 'value', apply: (f, v) => f.env.push(v) },
  { names: ['--env-file'], kind: 'value', apply: (f, v) => f.envFiles.push(v) },
  { names: ['--workdir', '-w'], kind: 'value', apply: (f, v) => (f.workdir = v) },
  { names: ['--user', '-u'], kind: 'value', apply: (f, v) => (f.user = v) },
  { names: ['--entrypoint'], kind: 'value', apply: (f, v) => (f.entrypoint = v) },
  { names: ['--trace'], kind: 'bool', apply: (f) => (f.trace = true) },
];

const RUN_FLAGS: FlagSpec[] = [...BASE_FLAGS, ...USERNS_FLAGS, ...RESOURCE_FLAGS, ...LIFECYCLE_FLAGS, ...STDIO_FLAGS, ...EXECNS_RUN_FLAGS, ...SECURITY_FLAGS, ...RUN_OPTION_FLAGS];

const PLAN_FLAGS: FlagSpec[] = [
  { names: ['--save'], kind: 'value', apply: (_f, v, x) => (x.save = v) },
  {
    names: ['--format'],
    kind: 'value',
    apply: (_f, v, x) => {
      if (v !== 'text' && v !== 'json') throw new HuskError('usage', `invalid value "${v}" for --format: expected text or json`);
      x.format = v;
    },
  },
  {
    names: ['--host-cgroups'],
    kind: 'value',
    apply: (_f, v, x) => {
      if (v !== 'v1' && v !== 'v2' && v !== 'hybrid') throw new HuskError('usage', `invalid value "${v}" for --host-cgroups: expected v1, v2 or hybrid`);
      x.hostCgroups = v;
    },
  },
];

export function defaultRunFlags(): RunFlags {
  return {
    rootfsRw: false,
    argv: [],
    net: 'private',
    networkTyped: false,
    publish: [],
    networkAliases: [],
    dns: [],
    addHosts: [],
    publishAll: false,
    pid: 'private',
    ipc: 'private',
    uts: 'private',
    userns: { mode: 'host' },
    idmap: defaultIdmapFlags(),
    resources: defaultResourceFlags(),
    lifecycle: defaultLifecycleFlags(),
    stdio: defaultStdioFlags(),
    security: defaultSecurityFlags(),
    runOptions: defaultRunOptionFlags(),
    timens: false,
    timeOffsets: {},
    env: [],
    envFiles: [],
    joins: [],
    trace: false,
  };
}

const COMMANDS: readonly string[] = ['run', 'create', 'plan', 'info', 'help', 'version', ...LIFECYCLE_COMMANDS, ...MONITOR_COMMANDS, ...IMAGE_COMMANDS, ...REGISTRY_COMMANDS, ...EXECNS_COMMANDS, ...CONTAINER_FS_COMMANDS, ...NETWORK_COMMANDS];

export function parseArgs(argv: readonly string[]): Command {
  const global: GlobalFlags = { root: defaultRoot() };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root' || a.startsWith('--root=')) {
      const v = a === '--root' ? argv[++i] : a.slice('--root='.length);
      if (v === undefined || v === '') throw new HuskError('usage', 'flag needs a value: --root');
      global.root = v;
    } else if (a === '--storage' || a.startsWith('--storage=')) {
      const v = a === '--storage' ? argv[++i] : a.slice('--storage='.length);
      if (v === undefined || v === '') throw new HuskError('usage', 'flag needs a value: --storage');
      global.storage = v;
    } else if (a === '--help' || a === '-h') return { name: 'help' };
    else if (a === '--version' || a === '-v') return { name: 'version' };
    else if (a.startsWith('-')) throw new HuskError('usage', `unknown flag: ${a}`, { hint: "See 'husk --help'." });
    else break;
  }
  const name = argv[i];
  if (name === undefined) return { name: 'help' };
  if (!COMMANDS.includes(name)) throw new HuskError('usage', `unknown command: ${name}`, { hint: "See 'husk --help'." });
  const rest = argv.slice(i + 1);
  if (name === 'help') return { name: 'help', topic: rest[0] };
  if (name === 'version') return { name: 'version' };
  if (name === 'info') {
    const info = parseInfo(rest);
    return info.name === 'info' ? { ...info, global } : info;
  }
  if ((LIFECYCLE_COMMANDS as readonly string[]).includes(name)) return parseLifecycle(name as LifecycleCommand['name'], rest, global);
  if ((EXECNS_COMMANDS as readonly string[]).includes(name)) return parseExecNs(name as ExecNsCommand['name'], rest, global);
  if ((NETWORK_COMMANDS as readonly string[]).includes(name)) return parseNetworkCommand(name as NetworkCommand['name'], rest, global);
  if ((MONITOR_COMMANDS as readonly string[]).includes(name)) return parseMonitor(name as MonitorCommand['name'], rest, global);
  if ((CONTAINER_FS_COMMANDS as readonly string[]).includes(name)) return parseContainerFs(name as ContainerFsCommand['name'], rest, global);
  if ((IMAGE_COMMANDS as readonly string[]).includes(name)) return parseImageCommand(name as (typeof IMAGE_COMMANDS)[number], rest, global);
  if ((REGISTRY_COMMANDS as readonly string[]).includes(name)) return parseRegistryCommand(name as RegistryCommand['name'], rest, global);
  if (rest.includes('--help')) {
    const cut = rest.indexOf('--help');
    const firstPositional = rest.findIndex((a) => !a.startsWith('-'));
    if (firstPositional === -1 || cut < firstPositional) return { name: 'help', topic: name };
  }
  const extra: PlanExtra = {};
  const flags = parseRunFlags(name, rest, name === 'plan' ? [...RUN_FLAGS, ...PLAN_FLAGS] : RUN_FLAGS, extra);
  if (name === 'run' || name === 'create') return { name, global, flags };
  if (extra.hostCgroups !== undefined && extra.save !== undefined) throw new HuskError('usage', '--host-cgroups shows a plan for another host: it cannot be combined with --save');
  return { name: 'plan', global, flags, save: extra.save, format: extra.format ?? 'text', hostCgroups: extra.hostCgroups };
}

function parseRunFlags(command: string, args: readonly string[], specs: FlagSpec[], extra: PlanExtra): RunFlags {
  const f = defaultRunFlags();
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flagName = eq === -1 ? a : a.slice(0, eq);
    const spec = byName.get(flagName);
    // Combined short bool flags, as docker takes them: -it, -dit.
    const shorts = !spec && /^-[a-zA-Z]{2,}$/.test(a) ? [...a.slice(1)].map((c) => byName.get(`-${c}`)) : [];
    if (shorts.length > 0 && shorts.every((s) => s?.kind === 'bool')) {
      for (const s of shorts) s!.apply(f, '', extra);
      continue;
    }
    if (!spec) throw new HuskError('usage', `unknown flag: ${flagName}`, { hint: `See 'husk ${command} --help'.` });
    if (spec.kind === 'bool') {
      if (eq !== -1) throw new HuskError('usage', `flag ${flagName} takes no value`);
      spec.apply(f, '', extra);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = a.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new HuskError('usage', `flag needs a value: ${flagName}`);
    spec.apply(f, value, extra);
  }
  let positional = args.slice(i);
  if (f.rootfs === undefined) {
    if (positional.length === 0) throw new HuskError('usage', `"husk ${command}" requires an IMAGE (or --rootfs DIR) and a command`, { hint: `See 'husk ${command} --help'.` });
    f.image = positional[0];
    positional = positional.slice(1);
  }
  if (positional[0] === '--') positional = positional.slice(1);
  // An image from the store may bring its own command (Entrypoint, Cmd): the core decides.
  const ownCommand = f.rootfs === undefined && f.image !== 'host';
  if (f.entrypoint !== undefined && !ownCommand) throw new HuskError('usage', '--entrypoint needs an image from the store (not host or --rootfs)');
  if (positional.length === 0 && !ownCommand) throw new HuskError('usage', `"husk ${command}" requires a command to run`, { hint: `See 'husk ${command} --help'.` });
  if (f.rootfsRw && f.rootfs === undefined) throw new HuskError('usage', '--rootfs-rw needs --rootfs DIR');
  // Said before any network is made for it (the core refuses it too: assembly/plan/request.ts).
  if (f.userns.mode === 'ns' && f.network !== undefined) throw new HuskError('usage', '--network: a container in a joined user namespace (--userns ns:NAME) cannot be attached to a network; use --net ns:NAME (a network namespace pinned with it) or none');
  f.argv = positional;
  return f;
}

function parseInfo(args: readonly string[]): Command {
  let format: 'text' | 'json' = 'text';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') return { name: 'help', topic: 'info' };
    const v = a === '--format' ? args[++i] : a.startsWith('--format=') ? a.slice('--format='.length) : undefined;
    if (v === undefined) throw new HuskError('usage', a === '--format' ? 'flag needs a value: --format' : `unknown flag: ${a}`, { hint: "See 'husk info --help'." });
    if (v !== 'text' && v !== 'json') throw new HuskError('usage', `invalid value "${v}" for --format: expected text or json`);
    format = v;
  }
  return { name: 'info', format };
}
