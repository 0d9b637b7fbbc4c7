// `husk-runc create` and `run`: config.json → the core's plan → one launcher.
//   create: the plan has EXEC_FIFO/FIFO_WAIT: the launcher leaves the container's init waiting
//           on <root>/<id>/exec.fifo and exits, so the caller (conmon, containerd's shim)
//           becomes its parent; husk-runc writes --pid-file and exits too. `start` releases it.
//   run:    the same plan without the FIFO; the launcher stays as its monitor and husk-runc
//           exits with the container's status (`run -d`: create, then start).
// Whatever fails leaves nothing: the launcher removes the cgroups it made, this file the state.
import { closeSync, fstatSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PlanCgroup } from '../core/build-plan.js';
import type { HostDevice } from '../core/oci-plan.js';
import { CoreError } from '../core/build-plan.js';
import { describeFailure } from '../runtime/control.js';
import { processStart } from '../runtime/state.js';
import { RuncError } from './args.js';
import type { RuncCommand, RuncGlobal } from './args.js';
import { runPlan } from './launch.js';
import { OP_BY_NAME } from '../protocol/ops.js';
import { claimDir, fifoPath, ociState, removeDir, writeState } from './state.js';
import { destroy } from './commands.js';
import { runHooks } from './hooks.js';
import { warn } from './log.js';
import type { Hooks } from './hooks.js';
import type { RuncState } from './state.js';
import { startContainer } from './start.js';

const CONFIG_MAX = 4 << 20;

type CreateCommand = Extract<RuncCommand, { name: 'create' | 'run' }>;

/** config.json of the bundle: a regular file of at most 4 MiB, parsed. */
export function readConfig(bundle: string): unknown {
  const path = join(bundle, 'config.json');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuncError(code === 'ENOENT' ? `bundle ${bundle}: no config.json in it` : `${path}: ${code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RuncError(`${path}: not a regular file`);
    if (st.size > CONFIG_MAX) throw new RuncError(`${path}: larger than 4 MiB`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    try {
      return JSON.parse(buf.subarray(0, at).toString('utf8'));
    } catch (err) {
      throw new RuncError(`${path}: not JSON: ${(err as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The container's cgroups from linux.cgroupsPath (`/parent/name` or `/name`, relative to
 * each hierarchy's mount point), or `husk-runc/<id>` when it has none.
 */
async function cgroupFacts(cfg: unknown, id: string): Promise<PlanCgroup> {
  const linux = (cfg as { linux?: { cgroupsPath?: unknown } }).linux;
  const raw = linux?.cgroupsPath;
  let parent = 'husk-runc';
  let name = id;
  if (raw !== undefined && raw !== null && raw !== '') {
    if (typeof raw !== 'string') throw new RuncError('linux.cgroupsPath: not a string');
    if (raw.includes(':')) throw new RuncError(`linux.cgroupsPath: "${raw}" is a systemd unit path (slice:prefix:name); husk-runc manages cgroupfs paths only`);
    const parts = raw.split('/').filter((p) => p !== '');
    if (parts.length === 0) throw new RuncError(`linux.cgroupsPath: "${raw}": names no cgroup (e.g. /machine/${id})`);
    // One component (`/name`): the cgroup right under each hierarchy's root, as runc puts it.
    name = parts.pop()!;
    parent = parts.join('/');
  }
  return cgroupOf(parent, name);
}

function hasCgroupsPath(cfg: unknown): boolean {
  const raw = (cfg as { linux?: { cgroupsPath?: unknown } }).linux?.cgroupsPath;
  return raw !== undefined && raw !== null && raw !== '';
}

/** The cgroup `parent/name` on this host's hierarchies, as the core plans it. */
export async function cgroupOf(parent: string, name: string): Promise<PlanCgroup> {
  const { hostCgroupFacts } = await import('../cgroup/detect.js');
  const { planCgroup } = await import('../cgroup/request-facts.js');
  return planCgroup(hostCgroupFacts(), { limits: [], cgroupParent: parent }, { id: name, rootless: false });
}

async function freezerOf(cgroup: PlanCgroup, dirs: string[]): Promise<RuncState['freezer']> {
  if (dirs.length === 0) return undefined;
  const { freezerFile } = await import('../core/control.js');
  return freezerFile(cgroup.hierarchies, dirs);
}

/** The host's node for each of config.json's linux.devices (a bad entry: the core names it). */
async function hostDevicesOf(cfg: unknown): Promise<(HostDevice | undefined)[]> {
  const devices = (cfg as { linux?: { devices?: unknown } }).linux?.devices;
  if (!Array.isArray(devices) || devices.length === 0) return [];
  const { devicesOf } = await import('../core/oci-plan.js');
  const { hostDevice } = await import('./devices.js');
  return devicesOf(devices).map(hostDevice);
}

/** `--preserve-fds N` (create, run, exec): fds 3 to 3+N-1 must be open in husk-runc (the engine's). */
export function checkPreserved(count: number): void {
  if (count > 1024) throw new RuncError(`--preserve-fds: ${count} is over 1024`);
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fstatSync(fd);
    } catch {
      throw new RuncError(`--preserve-fds ${count}: fd ${fd} is not open`);
    }
  }
}

/** `--pid-file`: written whole (temp + rename), as runc does. */
function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

function annotationsOf(cfg: unknown): Record<string, string> {
  const a = (cfg as { annotations?: unknown }).annotations;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
  return out;
}

function rootfsOf(cfg: unknown, bundle: string): string {
  const path = (cfg as { root?: { path?: unknown } }).root?.path;
  if (typeof path !== 'string') return '';
  return path.startsWith('/') ? path : join(bundle, path);
}

export async function createCommand(global: RuncGlobal, cmd: CreateCommand): Promise<number> {
  checkPreserved(cmd.preserveFds);
  const cfg = readConfig(cmd.bundle);
  const cgroup = await cgroupFacts(cfg, cmd.id);
  const defaultParent = !hasCgroupsPath(cfg);
  const foreground = cmd.name === 'run' && !cmd.detach;
  claimDir(global.root, cmd.id);
  try {
    const { ociPlan, hooksOf } = await import('../core/oci-plan.js');
    const annotations = annotationsOf(cfg);
    const answer = ociPlan(cfg, {
      bundle: cmd.bundle,
      execFifo: foreground ? undefined : fifoPath(global.root, cmd.id),
      consoleSocket: cmd.consoleSocket === undefined ? undefined : resolve(cmd.consoleSocket),
      cgroup,
      dieWithParent: foreground,
      preserveFds: cmd.preserveFds,
      hostDevices: await hostDevicesOf(cfg),
      hookState: { id: cmd.id, bundle: cmd.bundle, annotations },
      processState: { id: cmd.id, bundle: cmd.bundle, annotations, status: 'creating' },
    });
    for (const w of answer.summary.warnings ?? []) warn(global, w);
    const hooks: Hooks = hooksOf((cfg as { hooks?: unknown }).hooks);
    const st: RuncState = {
      id: cmd.id,
      pid: 0,
      startTime: '',
      bundle: cmd.bundle,
      rootfs: rootfsOf(cfg, cmd.bundle),
      created: new Date().toISOString(),
      annotations,
      cgroupDirs: answer.summary.cgroupDirs,
      cgroupParent: cgroup.parent,
      cgroupName: cgroup.name,
      ...(defaultParent ? { cgroupParentDirs: answer.summary.cgroupDirs.map((d) => dirname(d)) } : {}),
      freezer: await freezerOf(cgroup, answer.summary.cgroupDirs),
      hooks: { poststart: hooks.poststart, poststop: hooks.poststop },
      creator: process.pid,
      creatorStart: processStart(process.pid),
    };
    writeState(global.root, st);
    const onPid = (pid: number) => {
      st.pid = pid;
      st.startTime = processStart(pid) ?? '';
      writeState(global.root, st);
      if (cmd.pidFile !== undefined) writePidFile(cmd.pidFile, pid);
    };
    // In the foreground the launcher is the process's monitor: poststart once it exec'd.
    let poststart: unknown;
    const trace = (ev: { kind: string }) => {
      if (ev.kind !== 'started' || !foreground) return;
      try {
        runHooks(hooks, 'poststart', { ...ociState(global.root, st), status: 'running', pid: st.pid });
      } catch (err) {
        poststart = err;
      }
    };
    // prestart and createRuntime: at the plan's HOOK_SYNC (the mounts made, before the
    // createContainer hooks and pivot_root), in husk-runc's namespaces, as runc runs them.
    let hookFailure: unknown;
    const onSync = () => {
      try {
        const creating = { ...ociState(global.root, st), status: 'creating' };
        runHooks(hooks, 'prestart', creating);
        runHooks(hooks, 'createRuntime', creating);
        return true;
      } catch (err) {
        hookFailure = err;
        return false;
      }
    };
    const sync = (hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0;
    let launched = await runPlan(answer.plan, { onPid, forward: foreground, preserveFds: cmd.preserveFds, trace, onSync: sync ? onSync : undefined });
    // The default parent husk-runc/ is removed by the delete that leaves it empty, so a create
    // beside it can find it gone between making it and making its own directory in it (ENOENT
    // at CGROUP_MKDIR, nothing made yet): the launcher undid its part, so the plan is run again.
    for (let retry = 0; defaultParent && retry < 5 && mkdirRaced(launched.error); retry++) {
      launched = await runPlan(answer.plan, { onPid, forward: foreground, preserveFds: cmd.preserveFds, trace, onSync: sync ? onSync : undefined });
    }
    if (hookFailure !== undefined) {
      await destroy(st).catch(() => undefined);
      throw hookFailure;
    }
    if (launched.error !== undefined) throw new RuncError(launchError(launched.error));
    if (foreground) {
      const stopped = { ...ociState(global.root, st), status: 'stopped', pid: 0 };
      removeDir(global.root, cmd.id);
      if (poststart !== undefined) throw poststart;
      runHooks(hooks, 'poststop', stopped);
      return launched.status;
    }
    if (!launched.detached || launched.pid === undefined) throw new RuncError(`the launcher exited with status ${launched.status} before the container was created`);
    if (cmd.name === 'run') await startContainer(global.root, cmd.id);
    return 0;
  } catch (err) {
    removeDir(global.root, cmd.id);
    if (err instanceof CoreError) throw new RuncError(err.message);
    throw err;
  }
}

const ENOENT = 2;
const CGROUP_MKDIR = OP_BY_NAME.get('CGROUP_MKDIR')!.code;
function mkdirRaced(error: { code: number; errno: number } | undefined): boolean {
  return error !== undefined && error.code === CGROUP_MKDIR && error.errno === ENOENT;
}

/** The launcher's ERROR as runc's users read one: what failed, and why. */
function launchError(ev: Parameters<typeof describeFailure>[0]): string {
  return `cannot create the container: ${describeFailure(ev)}`;
}
