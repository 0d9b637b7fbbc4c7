// ociPlan: an OCI bundle's config.json, as typed, in; the plan and its summary out
// (docs/core-abi.md "ociPlan"). This file only reads the JSON's shape (a field of the wrong
// JSON type is refused here, naming it) and encodes the fields as request items; which fields
// husk-runc supports, and what each means, is the core's (assembly/plan/oci.ts).
import { FrameWriter, PATH_MAX, STR_MAX } from '../protocol/frames.js';
import { CoreError, splitAnswer } from './build-plan.js';
import type { PlanAnswer, PlanCgroup } from './build-plan.js';
import { call } from './wasm.js';
import { seccompFrames } from './seccomp.js';
import type { SeccompProfile } from './seccomp.js';
import { release } from 'node:os';
import { statSync } from 'node:fs';

export const OCI_REQUEST = {
  ROOT: 0x0310,
  ARGS: 0x0311,
  ENV: 0x0312,
  CWD: 0x0313,
  USER: 0x0314,
  CAPS: 0x0315,
  RLIMIT: 0x0316,
  OPTIONS: 0x0317,
  HOSTNAME: 0x0318,
  NAMESPACE: 0x0319,
  MOUNT: 0x031a,
  MASKED: 0x031b,
  READONLY: 0x031c,
  SYSCTL: 0x031d,
  FIELD: 0x031f,
  VERSION: 0x03a1,
  RESOURCE: 0x0320,
  DEVICE_RULE: 0x0321,
  DEVICE: 0x032c,
  ID_MAP: 0x032d,
  TIME_OFFSET: 0x032e,
  EXEC_FIFO: 0x0323,
  CONSOLE: 0x0324,
  OOM_SCORE_ADJ: 0x0325,
  PROPAGATION: 0x0326,
  BUNDLE: 0x0327,
  JOIN: 0x0328,
  JOIN_CGROUP: 0x0329,
  PRESERVE_FDS: 0x032a,
  HOOK: 0x032b,
  HOOK_STATE: 0x0338,
  IO_PRIORITY: 0x0339,
  SCHEDULER: 0x033a,
  PERSONALITY: 0x033b,
  SECCOMP_LISTENER: 0x0365,
  MOUNT_IDMAP: 0x0366,
  // buildPlan's cgroup items, shared (assembly/plan/cgroup.ts)
  CGROUP: 0x0120,
  CGROUP_HIERARCHY: 0x0121,
  CGROUP_HOST: 0x0123,
} as const;

export const OCI_OPTION = { noNewPrivileges: 1, terminal: 2, trace: 4, dieWithParent: 8 } as const;
const U64_MAX = (1n << 64n) - 1n;
/** OCI_HOOK's kinds, in order (1 = prestart). */
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}
const CAP_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
/** The parents whose keys are sent as OCI_FIELD items, each key as `parent.key`. */
const FIELD_PARENTS = ['root', 'process', 'process.user', 'process.capabilities', 'process.scheduler', 'process.ioPriority', 'linux', 'linux.personality', 'hooks'] as const;
/** Lists whose entries' keys are sent as OCI_FIELD items too, each as `list[N].key`. */
const FIELD_LISTS = ['mounts', 'linux.devices', 'linux.uidMappings', 'linux.gidMappings', 'linux.namespaces', 'process.rlimits', 'linux.resources.devices', ...HOOK_KINDS.map((k) => `hooks.${k}`)] as const;

export interface OciPlanOptions {
  /** The bundle directory (absolute): relative paths in config.json are its. */
  bundle: string;
  /** `create`: the FIFO the container waits on (the state directory's exec.fifo). */
  execFifo?: string;
  /** --console-socket (absolute): the pty's master is sent there. */
  consoleSocket?: string;
  cgroup?: PlanCgroup;
  trace?: boolean;
  dieWithParent?: boolean;
  /** The host's kernel release, for a seccomp rule's minKernel (default: this host's). */
  kernel?: string;
  /** `exec`: the running init to join, the namespaces of it that differ from ours, its cgroups. */
  join?: { pid: number; startTime: string; differ: bigint; cgroups: { version: 1 | 2; path: string }[] };
  /** `create --preserve-fds N`: fds 3 to 3+N-1 reach the container. */
  preserveFds?: number;
  /** For each `linux.devices` entry, the host's node of its type and number (ts/runc/devices.ts). */
  hostDevices?: (HostDevice | undefined)[];
  /** The OCI state the createContainer and startContainer hooks read, without its pid (which
   *  the container process puts in: runc's getpid()). Needed when the config has those hooks. */
  hookState?: { id: string; bundle: string; annotations: Record<string, string> };
  /** The container process state a seccomp agent gets with SCMP_ACT_NOTIFY's listener (`status`: creating for create, running for exec). */
  processState?: { id: string; bundle: string; annotations: Record<string, string>; status: string };
}

export interface HostDevice {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

type Json = unknown;
type JsonObject = Record<string, Json>;

/** An OCI config field of the wrong JSON type: one line naming it (exit 1, as runc). */
function bad(field: string, what: string): never {
  throw new CoreError(2, `${field}: ${what}`);
}

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Absent, or nothing in it: null, false, '', [], {} (or an object of such). A 0 is a value. */
function isEmpty(v: Json): boolean {
  if (v === undefined || v === null || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.values(v).every(isEmpty);
  return false;
}

function object(v: Json, field: string): JsonObject {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) bad(field, 'not an object');
  return v;
}

function strings(v: Json, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(field, 'not a list of strings');
  return v as string[];
}

function text(v: Json, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(field, 'not a string');
  return v;
}

function whole(v: Json, field: string, signed = false): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (!signed && v < 0)) bad(field, `not a whole number${signed ? '' : ' ≥ 0'}`);
  return BigInt(v);
}

/** u64 max stands for "absent" (a device rule's `*`, an unset umask). */
function wholeOrMax(v: Json, field: string): bigint {
  return whole(v, field) ?? U64_MAX;
}

/** Every present field at the levels the core judges, as `parent.key`. */
function presentFields(cfg: JsonObject): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(cfg)) if (!isEmpty(v)) out.push(k);
  for (const parent of FIELD_PARENTS) {
    let at: Json = cfg;
    for (const part of parent.split('.')) at = isObject(at) ? at[part] : undefined;
    if (!isObject(at)) continue;
    for (const [k, v] of Object.entries(at)) if (!isEmpty(v)) out.push(`${parent}.${k}`);
  }
  for (const list of FIELD_LISTS) {
    let at: Json = cfg;
    for (const part of list.split('.')) at = isObject(at) ? at[part] : undefined;
    if (!Array.isArray(at)) continue;
    at.forEach((entry, i) => {
      if (isObject(entry)) for (const [k, v] of Object.entries(entry)) if (!isEmpty(v)) out.push(`${list}[${i}].${k}`);
    });
  }
  return out;
}

/** The request frames for config.json `cfg` (exported for tests). */
export function encodeOciRequest(cfg: Json, opts: OciPlanOptions): Uint8Array {
  if (!isObject(cfg)) bad('config.json', 'not a JSON object');
  const w = new FrameWriter();
  const str = (type: number, field: string, value: string, max = PATH_MAX) => {
    check(field, value, max);
    w.begin(type).str(value).end();
  };
  for (const f of presentFields(cfg)) w.begin(OCI_REQUEST.FIELD).str(f).end();
  const version = text(cfg.ociVersion, 'ociVersion');
  if (version !== undefined) str(OCI_REQUEST.VERSION, 'ociVersion', version, 256);

  const root = object(cfg.root, 'root');
  const rootPath = text(root.path, 'root.path') ?? bad('root.path', 'missing');
  const absRoot = rootPath.startsWith('/') ? rootPath : `${opts.bundle}/${rootPath}`;
  check('root.path', absRoot, PATH_MAX);
  w.begin(OCI_REQUEST.ROOT).str(absRoot).u64(root.readonly === true ? 1 : 0).end();
  str(OCI_REQUEST.BUNDLE, 'bundle', opts.bundle);

  const proc = object(cfg.process, 'process');
  if (cfg.process === undefined) bad('process', 'missing');
  const args = strings(proc.args, 'process.args');
  checkAll('process.args', args);
  w.begin(OCI_REQUEST.ARGS).strs(args).end();
  const env = strings(proc.env, 'process.env');
  checkAll('process.env', env);
  w.begin(OCI_REQUEST.ENV).strs(env).end();
  const cwd = text(proc.cwd, 'process.cwd');
  if (cwd !== undefined) str(OCI_REQUEST.CWD, 'process.cwd', cwd);
  const user = object(proc.user, 'process.user');
  const groups = (user.additionalGids === undefined ? [] : Array.isArray(user.additionalGids) ? user.additionalGids : bad('process.user.additionalGids', 'not a list')).map((g, i) => whole(g, `process.user.additionalGids[${i}]`)!);
  w.begin(OCI_REQUEST.USER)
    .u64(whole(user.uid, 'process.user.uid') ?? 0n)
    .u64(whole(user.gid, 'process.user.gid') ?? 0n)
    .u64(wholeOrMax(user.umask, 'process.user.umask'))
    .u64s(groups)
    .end();
  const caps = object(proc.capabilities, 'process.capabilities');
  CAP_SETS.forEach((set, i) => {
    if (caps[set] === undefined || caps[set] === null) return;
    w.begin(OCI_REQUEST.CAPS).u64(i + 1).strs(strings(caps[set], `process.capabilities.${set}`)).end();
  });
  const rlimits = proc.rlimits === undefined || proc.rlimits === null ? [] : Array.isArray(proc.rlimits) ? proc.rlimits : bad('process.rlimits', 'not a list');
  rlimits.forEach((r: Json, i: number) => {
    const o = object(r, `process.rlimits[${i}]`);
    const type = text(o.type, `process.rlimits[${i}].type`) ?? bad(`process.rlimits[${i}].type`, 'missing');
    w.begin(OCI_REQUEST.RLIMIT).str(type).u64(whole(o.soft, `process.rlimits[${i}].soft`) ?? 0n).u64(whole(o.hard, `process.rlimits[${i}].hard`) ?? 0n).end();
  });
  let options = 0;
  if (proc.noNewPrivileges === true) options |= OCI_OPTION.noNewPrivileges;
  if (proc.terminal === true) options |= OCI_OPTION.terminal;
  if (opts.trace) options |= OCI_OPTION.trace;
  if (opts.dieWithParent) options |= OCI_OPTION.dieWithParent;
  w.begin(OCI_REQUEST.OPTIONS).u64(options).end();
  const oom = whole(proc.oomScoreAdj, 'process.oomScoreAdj', true);
  if (oom !== undefined) w.begin(OCI_REQUEST.OOM_SCORE_ADJ).u64(BigInt.asUintN(64, oom)).end();
  if (proc.ioPriority !== undefined && proc.ioPriority !== null) {
    const io = object(proc.ioPriority, 'process.ioPriority');
    w.begin(OCI_REQUEST.IO_PRIORITY).str(text(io.class, 'process.ioPriority.class') ?? '').u64(whole(io.priority, 'process.ioPriority.priority') ?? 0n).end();
  }
  if (proc.scheduler !== undefined && proc.scheduler !== null) {
    const sc = object(proc.scheduler, 'process.scheduler');
    const nice = whole(sc.nice, 'process.scheduler.nice', true) ?? 0n;
    w.begin(OCI_REQUEST.SCHEDULER).str(text(sc.policy, 'process.scheduler.policy') ?? '').u64(BigInt.asUintN(64, nice)).u64(whole(sc.priority, 'process.scheduler.priority') ?? 0n).end();
  }

  const hostname = text(cfg.hostname, 'hostname');
  if (hostname !== undefined && hostname !== '') str(OCI_REQUEST.HOSTNAME, 'hostname', hostname, STR_MAX);
  const mounts = cfg.mounts === undefined || cfg.mounts === null ? [] : Array.isArray(cfg.mounts) ? cfg.mounts : bad('mounts', 'not a list');
  mounts.forEach((m: Json, i: number) => {
    const o = object(m, `mounts[${i}]`);
    const f = `mounts[${i}]`;
    const dest = text(o.destination, `${f}.destination`) ?? bad(`${f}.destination`, 'missing');
    const values = [dest, text(o.type, `${f}.type`) ?? '', text(o.source, `${f}.source`) ?? ''];
    values.forEach((v) => check(f, v, PATH_MAX));
    const mountOptions = strings(o.options, `${f}.options`);
    checkAll(`${f}.options`, mountOptions);
    w.begin(OCI_REQUEST.MOUNT).str(values[0]).str(values[1]).str(values[2]).strs(mountOptions).end();
    encodeMountIdmap(w, o, i, mountOptions, opts.bundle);
  });
  encodeLinux(w, object(cfg.linux, 'linux'));
  encodeDevices(w, object(cfg.linux, 'linux').devices, opts.hostDevices ?? []);
  // linux.seccomp as the seccomp compiler's items (ts/core/seccomp.ts reads the profile's shape).
  const seccomp = object(cfg.linux, 'linux').seccomp;
  if (!isEmpty(seccomp)) {
    const profile = object(seccomp, 'linux.seccomp') as unknown as SeccompProfile;
    try {
      for (const f of seccompFrames({ mode: 'profile', profile }, opts.kernel ?? release())) w.raw(f);
    } catch (err) {
      if (err instanceof CoreError) bad('linux.seccomp', err.reason.replace(/^seccomp: /, ''));
      throw err;
    }
    encodeListener(w, object(seccomp, 'linux.seccomp'), opts.processState);
  }
  if (opts.execFifo !== undefined) str(OCI_REQUEST.EXEC_FIFO, 'exec fifo', opts.execFifo);
  if (opts.consoleSocket !== undefined) str(OCI_REQUEST.CONSOLE, '--console-socket', opts.consoleSocket);
  if (opts.cgroup !== undefined) encodeCgroup(w, opts.cgroup);
  encodeHooks(w, cfg.hooks);
  const inContainer = (cfg.hooks as JsonObject | undefined)?.createContainer !== undefined || (cfg.hooks as JsonObject | undefined)?.startContainer !== undefined;
  if (opts.hookState !== undefined && inContainer) encodeHookState(w, opts.hookState);
  if (opts.preserveFds !== undefined && opts.preserveFds > 0) w.begin(OCI_REQUEST.PRESERVE_FDS).u64(opts.preserveFds).end();
  if (opts.join !== undefined) {
    w.begin(OCI_REQUEST.JOIN).u64(opts.join.pid).u64(BigInt(opts.join.startTime)).u64(opts.join.differ).end();
    for (const c of opts.join.cgroups) w.begin(OCI_REQUEST.JOIN_CGROUP).u64(c.version).str(c.path).end();
  }
  return w.view().slice();
}

function encodeLinux(w: FrameWriter, linux: JsonObject): void {
  if (linux.personality !== undefined && linux.personality !== null) {
    const p = object(linux.personality, 'linux.personality');
    w.begin(OCI_REQUEST.PERSONALITY).str(text(p.domain, 'linux.personality.domain') ?? '').end();
  }
  const namespaces = linux.namespaces === undefined || linux.namespaces === null ? [] : Array.isArray(linux.namespaces) ? linux.namespaces : bad('linux.namespaces', 'not a list');
  namespaces.forEach((n: Json, i: number) => {
    const o = object(n, `linux.namespaces[${i}]`);
    const path = text(o.path, `linux.namespaces[${i}].path`) ?? '';
    check(`linux.namespaces[${i}].path`, path, PATH_MAX);
    w.begin(OCI_REQUEST.NAMESPACE).str(text(o.type, `linux.namespaces[${i}].type`) ?? '').str(path).end();
  });
  (['uidMappings', 'gidMappings'] as const).forEach((name, which) => {
    const list = linux[name];
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) bad(`linux.${name}`, 'not a list');
    list.forEach((m: Json, i: number) => {
      const f = `linux.${name}[${i}]`;
      const o = object(m, f);
      w.begin(OCI_REQUEST.ID_MAP).u64(which).u64(whole(o.containerID, `${f}.containerID`) ?? 0n).u64(whole(o.hostID, `${f}.hostID`) ?? 0n).u64(whole(o.size, `${f}.size`) ?? 0n).end();
    });
  });
  for (const [clock, value] of Object.entries(object(linux.timeOffsets, 'linux.timeOffsets'))) {
    const f = `linux.timeOffsets.${clock}`;
    const o = object(value, f);
    w.begin(OCI_REQUEST.TIME_OFFSET).str(clock.slice(0, 64)).u64(BigInt.asUintN(64, whole(o.secs, `${f}.secs`, true) ?? 0n)).u64(whole(o.nanosecs, `${f}.nanosecs`) ?? 0n).end();
  }
  const masked = strings(linux.maskedPaths, 'linux.maskedPaths');
  checkAll('linux.maskedPaths', masked, PATH_MAX);
  if (masked.length > 0) w.begin(OCI_REQUEST.MASKED).strs(masked).end();
  const readonly = strings(linux.readonlyPaths, 'linux.readonlyPaths');
  checkAll('linux.readonlyPaths', readonly, PATH_MAX);
  if (readonly.length > 0) w.begin(OCI_REQUEST.READONLY).strs(readonly).end();
  for (const [key, value] of Object.entries(object(linux.sysctl, 'linux.sysctl'))) {
    if (typeof value !== 'string') bad(`linux.sysctl.${key}`, 'not a string');
    check('linux.sysctl', key, 256);
    check(`linux.sysctl.${key}`, value, STR_MAX);
    w.begin(OCI_REQUEST.SYSCTL).str(key).str(value).end();
  }
  const propagation = text(linux.rootfsPropagation, 'linux.rootfsPropagation');
  if (propagation !== undefined && propagation !== '') w.begin(OCI_REQUEST.PROPAGATION).str(propagation.slice(0, 64)).end();
  encodeResources(w, object(linux.resources, 'linux.resources'));
}

/** linux.resources as OCI_RESOURCE (`key.sub` = scalar) and OCI_DEVICE_RULE items. */
function encodeResources(w: FrameWriter, resources: JsonObject): void {
  for (const [key, value] of Object.entries(resources)) {
    if (isEmpty(value)) continue;
    if (key === 'devices') {
      encodeDeviceRules(w, value);
      continue;
    }
    if (!isObject(value)) {
      w.begin(OCI_REQUEST.RESOURCE).str(key.slice(0, 256)).str('').end();
      continue;
    }
    for (const [sub, v] of Object.entries(value)) {
      if (v === undefined || v === null) continue;
      const name = `${key}.${sub}`.slice(0, 256);
      const scalar = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
      w.begin(OCI_REQUEST.RESOURCE).str(name).str(scalar ? String(v).slice(0, 4096) : '').end();
    }
  }
}

/** linux.devices entries, each with the host's node found for it (or none: an empty path). */
export function devicesOf(devices: Json): { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }[] {
  if (devices === undefined || devices === null) return [];
  if (!Array.isArray(devices)) bad('linux.devices', 'not a list');
  return devices.map((d: Json, i: number) => {
    const f = `linux.devices[${i}]`;
    const o = object(d, f);
    const num = (k: string) => {
      const v = whole(o[k], `${f}.${k}`);
      return v === undefined ? undefined : Number(v);
    };
    return { path: text(o.path, `${f}.path`) ?? bad(`${f}.path`, 'missing'), type: text(o.type, `${f}.type`) ?? bad(`${f}.type`, 'missing'), major: num('major'), minor: num('minor'), fileMode: num('fileMode'), uid: num('uid'), gid: num('gid') };
  });
}

function encodeDevices(w: FrameWriter, devices: Json, host: readonly (HostDevice | undefined)[]): void {
  const opt = (v: number | undefined) => (v === undefined ? U64_MAX : BigInt(v));
  devicesOf(devices).forEach((d, i) => {
    const h = host[i];
    check(`linux.devices[${i}].path`, d.path, PATH_MAX);
    w.begin(OCI_REQUEST.DEVICE).str(d.path).str(d.type.slice(0, 8)).u64(opt(d.major)).u64(opt(d.minor)).u64(opt(d.fileMode)).u64(opt(d.uid)).u64(opt(d.gid))
      .str(h?.path ?? '').u64(h?.mode ?? 0).u64(h?.uid ?? 0).u64(h?.gid ?? 0).end();
  });
}

function encodeDeviceRules(w: FrameWriter, rules: Json): void {
  if (!Array.isArray(rules)) bad('linux.resources.devices', 'not a list');
  rules.forEach((r: Json, i: number) => {
    const f = `linux.resources.devices[${i}]`;
    const o = object(r, f);
    w.begin(OCI_REQUEST.DEVICE_RULE)
      .u64(o.allow === true ? 1 : 0)
      .str((text(o.type, `${f}.type`) ?? 'a').slice(0, 8))
      .u64(o.major === -1 ? U64_MAX : wholeOrMax(o.major, `${f}.major`))
      .u64(o.minor === -1 ? U64_MAX : wholeOrMax(o.minor, `${f}.minor`))
      .str((text(o.access, `${f}.access`) ?? 'rwm').slice(0, 8))
      .end();
  });
}

/** config.json `hooks`, read for their shape (ts/runc/hooks.ts runs them). */
export function hooksOf(hooks: Json): Partial<Record<HookKind, OciHook[]>> {
  const out: Partial<Record<HookKind, OciHook[]>> = {};
  for (const [kind, list] of Object.entries(object(hooks, 'hooks'))) {
    if (!(HOOK_KINDS as readonly string[]).includes(kind) || list === undefined || list === null) continue; // the core names an unknown list
    if (!Array.isArray(list)) bad(`hooks.${kind}`, 'not a list');
    out[kind as HookKind] = list.map((h: Json, i: number) => {
      const f = `hooks.${kind}[${i}]`;
      const o = object(h, f);
      const timeout = whole(o.timeout, `${f}.timeout`);
      return { path: text(o.path, `${f}.path`) ?? bad(`${f}.path`, 'missing'), args: strings(o.args, `${f}.args`), env: o.env === undefined || o.env === null ? undefined : strings(o.env, `${f}.env`), timeout: timeout === undefined ? undefined : Number(timeout) };
    });
  }
  return out;
}

/** The state's text on either side of `"pid":`'s value: creating for createContainer, created
 *  for startContainer (runc's statuses for them). */
/**
 * An idmapped mount (`uidMappings`/`gidMappings`, or the `idmap`/`ridmap` options): its maps as
 * (containerID, hostID, size) triples and whether its source is a directory (the target the
 * launcher makes is one too, else a file). A source that is not there is refused here by name.
 */
function encodeMountIdmap(w: FrameWriter, o: JsonObject, i: number, options: readonly string[], bundle: string): void {
  const f = `mounts[${i}]`;
  const flagged = options.includes('idmap') || options.includes('ridmap');
  if (isEmpty(o.uidMappings) && isEmpty(o.gidMappings) && !flagged) return;
  const triples = (name: 'uidMappings' | 'gidMappings'): bigint[] => {
    const list = o[name];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) bad(`${f}.${name}`, 'not a list');
    return list.flatMap((m: Json, k: number) => {
      const e = object(m, `${f}.${name}[${k}]`);
      return [whole(e.containerID, `${f}.${name}[${k}].containerID`) ?? 0n, whole(e.hostID, `${f}.${name}[${k}].hostID`) ?? 0n, whole(e.size, `${f}.${name}[${k}].size`) ?? 0n];
    });
  };
  const source = text(o.source, `${f}.source`) ?? '';
  const path = source.startsWith('/') ? source : `${bundle}/${source}`;
  let dir = true;
  // Only a bind mount's source is a host path (the core refuses the others by name).
  if (options.includes('bind') || options.includes('rbind')) {
    try {
      dir = statSync(path).isDirectory();
    } catch {
      bad(`${f}.source`, `"${source}": no such file or directory`);
    }
  }
  w.begin(OCI_REQUEST.MOUNT_IDMAP).u64(BigInt(i)).u64(dir ? 1n : 0n).u64s(triples('uidMappings')).u64s(triples('gidMappings')).end();
}

/**
 * linux.seccomp.listenerPath and listenerMetadata, with the container process state the agent
 * gets (runtime-spec config-linux.md "The Container Process State") in three parts: the
 * launcher puts the process's pid between them (docs/protocol.md "The seccomp listener").
 */
function encodeListener(w: FrameWriter, seccomp: JsonObject, s: OciPlanOptions['processState']): void {
  if (isEmpty(seccomp.listenerPath) && isEmpty(seccomp.listenerMetadata)) return;
  const path = text(seccomp.listenerPath, 'linux.seccomp.listenerPath') ?? '';
  const metadata = text(seccomp.listenerMetadata, 'linux.seccomp.listenerMetadata');
  check('linux.seccomp.listenerPath', path, PATH_MAX);
  const state = s ?? { id: '', bundle: '', annotations: {}, status: 'creating' };
  const prefix = '{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":';
  const meta = metadata === undefined ? '' : `,"metadata":${JSON.stringify(metadata)}`;
  const middle = `${meta},"state":{"ociVersion":"1.0.2","id":${JSON.stringify(state.id)},"status":${JSON.stringify(state.status)},"pid":`;
  const suffix = `,"bundle":${JSON.stringify(state.bundle)},"annotations":${JSON.stringify(state.annotations)}}}`;
  // A str holds 64 KiB: longer parts are cut (the core refuses them, naming the field).
  const cut = (t: string) => (t.length > 60000 ? t.slice(0, 60000) : t);
  w.begin(OCI_REQUEST.SECCOMP_LISTENER).str(path).u64(metadata === undefined ? 0 : 1).str(prefix).str(cut(middle)).str(cut(suffix)).end();
}

function encodeHookState(w: FrameWriter, s: NonNullable<OciPlanOptions['hookState']>): void {
  for (const [kind, status] of [[3, 'creating'], [4, 'created']] as const) {
    const prefix = `{"ociVersion":"1.0.2","id":${JSON.stringify(s.id)},"status":"${status}","pid":`;
    const full = `,"bundle":${JSON.stringify(s.bundle)},"annotations":${JSON.stringify(s.annotations)}}`;
    // A str holds 64 KiB: a larger state is cut (still over the core's bound, which refuses it
    // naming the hook) rather than failing the request's framing.
    const suffix = full.length > 60000 ? `${full.slice(0, 59999)}}` : full;
    w.begin(OCI_REQUEST.HOOK_STATE).u64(kind).str(prefix).str(suffix).end();
  }
}

function encodeHooks(w: FrameWriter, hooks: Json): void {
  for (const [kind, list] of Object.entries(hooksOf(hooks))) {
    const at = HOOK_KINDS.indexOf(kind as HookKind) + 1;
    list!.forEach((h, i) => {
      const f = `hooks.${kind}[${i}]`;
      check(`${f}.path`, h.path, PATH_MAX);
      checkAll(`${f}.args`, h.args ?? []);
      checkAll(`${f}.env`, h.env ?? []);
      w.begin(OCI_REQUEST.HOOK).u64(at).str(h.path).strs(h.args ?? []).strs(h.env ?? []).u64(h.timeout === undefined ? U64_MAX : BigInt(h.timeout)).end();
    });
  }
}

function encodeCgroup(w: FrameWriter, cg: PlanCgroup): void {
  w.begin(OCI_REQUEST.CGROUP).str(cg.parent).str(cg.name).u64(0).str('').end();
  for (const h of cg.hierarchies) w.begin(OCI_REQUEST.CGROUP_HIERARCHY).u64(h.version).str(h.mountpoint).strs(h.controllers).end();
  w.begin(OCI_REQUEST.CGROUP_HOST).u64(cg.host.cpus).u64(cg.host.mems).u64(cg.host.flags).str(cg.host.cpusetCpus).str(cg.host.cpusetMems).end();
}

function check(field: string, value: string, max: number): void {
  if (value.includes('\0')) bad(field, 'contains a NUL byte');
  if (Buffer.byteLength(value) > max) bad(field, `longer than ${max} bytes`);
}

function checkAll(field: string, values: readonly string[], max = STR_MAX): void {
  if (values.length > 4096) bad(field, `${values.length} entries (at most 4096)`);
  for (const v of values) check(field, v, max);
}

/** The plan for config.json `cfg` and the core's summary of it. Throws CoreError. */
export function ociPlan(cfg: Json, opts: OciPlanOptions): PlanAnswer {
  const answer = call('ociPlan', encodeOciRequest(cfg, opts));
  if (answer.status === 0) return splitAnswer(answer.bytes);
  throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
}

/**
 * `husk-runc update`: new linux.resources for the container's cgroup (parent and name as at
 * create) as a control plan of CGROUP_SET ops, or undefined when nothing is to be written.
 * Throws CoreError naming the field the core refuses.
 */
export function ociUpdate(resources: Json, cgroup: PlanCgroup): Uint8Array | undefined {
  const w = new FrameWriter();
  encodeResources(w, object(resources, 'linux.resources'));
  encodeCgroup(w, cgroup);
  const answer = call('ociUpdate', w.view().slice());
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return answer.bytes.length === 0 ? undefined : answer.bytes;
}
