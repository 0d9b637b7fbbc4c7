// `husk-runc exec`: a new process in a running container, as the core plans it from an OCI
// process (--process FILE, or the container's own process with the command, --env, --cwd,
// --user, --cap, --tty changed): the init's namespaces (those that differ from ours, checked
// by pidfd and start time), its cgroups, the container's seccomp profile.
//   -d: the process is left to the caller's subreaper as `create` leaves an init (the plan's
//       exec FIFO, released at once), its pid in --pid-file;
//   else: the launcher stays as its monitor and husk-runc exits with its status.
import { readFileSync, unlinkSync, writeFileSync, closeSync, constants, openSync, writeSync, renameSync } from 'node:fs';
import { dirname, join, resolve as resolve_ } from 'node:path';
import { CoreError } from '../core/build-plan.js';
import { describeFailure } from '../runtime/control.js';
import { RuncError } from './args.js';
import type { RuncCommand } from './args.js';
import { checkPreserved, readConfig } from './create.js';
import { runPlan } from './launch.js';
import { containerDir, mustRead, statusOf } from './state.js';

type ExecCommand = Extract<RuncCommand, { name: 'exec' }>;

function readProcess(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RuncError(`exec: --process ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    const p = JSON.parse(text);
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('not an object');
    return p;
  } catch (err) {
    throw new RuncError(`exec: --process ${path}: not a JSON object: ${(err as Error).message}`);
  }
}

/** runc's exec flags over the container's own process (runc's newProcess). */
function processFrom(cmd: ExecCommand, base: Record<string, any>): Record<string, unknown> {
  const p: Record<string, any> = { ...base, args: cmd.args, terminal: cmd.tty };
  delete p.rlimits; // the container's init had them; runc's exec does not set them again
  if (cmd.cwd !== undefined) p.cwd = cmd.cwd;
  if (cmd.env.length > 0) p.env = [...(base.env ?? []), ...cmd.env];
  if (cmd.user !== undefined) {
    const [uid, gid] = cmd.user.split(':');
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) throw new RuncError(`exec: --user ${cmd.user}: UID[:GID] as numbers`);
    p.user = { ...(base.user ?? {}), uid: Number(uid), gid: gid === undefined ? 0 : Number(gid) };
  }
  if (cmd.additionalGids.length > 0) p.user = { ...(p.user ?? {}), additionalGids: [...(p.user?.additionalGids ?? []), ...cmd.additionalGids] };
  if (cmd.caps.length > 0) {
    const caps = { ...(base.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), ...cmd.caps])];
    p.capabilities = caps;
  }
  if (cmd.noNewPrivs) p.noNewPrivileges = true;
  return p;
}

async function cgroupsOf(dirs: readonly string[]): Promise<{ version: 1 | 2; path: string }[]> {
  const { cgroupHost } = await import('../cgroup/host.js');
  const host = await cgroupHost();
  return dirs.flatMap((path) => {
    const h = host.hierarchies.find((x) => path.startsWith(`${x.mountpoint}/`));
    return h === undefined ? [] : [{ version: h.version, path }];
  });
}

export async function execCommand(root: string, cmd: ExecCommand): Promise<number> {
  const st = mustRead(root, cmd.id);
  const status = statusOf(root, st);
  if (status !== 'running') throw new RuncError(`cannot exec in a ${status === 'created' || status === 'paused' ? status : 'stopped'} container`);
  const config = readConfig(st.bundle) as Record<string, any>;
  const process = cmd.process !== undefined ? readProcess(cmd.process) : processFrom(cmd, config.process ?? {});
  if (cmd.process !== undefined && cmd.args.length > 0) (process as Record<string, unknown>).args = cmd.args;
  if (cmd.process !== undefined && cmd.additionalGids.length > 0) {
    const user = ((process as Record<string, any>).user ?? {}) as Record<string, any>;
    (process as Record<string, unknown>).user = { ...user, additionalGids: [...(user.additionalGids ?? []), ...cmd.additionalGids] };
  }
  checkPreserved(cmd.preserveFds);
  const linux = config.linux?.seccomp === undefined ? {} : { seccomp: config.linux.seccomp };
  const { differingNamespaces } = await import('../runtime/ns-facts.js');
  const join = { pid: st.pid, startTime: st.startTime, differ: differingNamespaces(st.pid), cgroups: await cgroupsOf(st.cgroupDirs) };
  const fifo = cmd.detach ? join_(containerDir(root, cmd.id), `exec-${globalThis.process.pid}.fifo`) : undefined;
  const { ociPlan } = await import('../core/oci-plan.js');
  let answer;
  try {
    answer = ociPlan({ ociVersion: config.ociVersion, process, root: { path: st.rootfs }, linux }, { bundle: st.bundle, execFifo: fifo, join, processState: { id: cmd.id, bundle: st.bundle, annotations: st.annotations, status: 'running' }, dieWithParent: !cmd.detach, preserveFds: cmd.preserveFds, consoleSocket: cmd.consoleSocket === undefined ? undefined : resolve_(cmd.consoleSocket) });
  } catch (err) {
    if (err instanceof CoreError) throw new RuncError(err.message);
    throw err;
  }
  const { warn } = await import('./log.js');
  for (const w of answer.summary.warnings ?? []) warn(undefined, w);
  try {
    const launched = await runPlan(answer.plan, {
      forward: !cmd.detach,
      preserveFds: cmd.preserveFds,
      onPid: (pid) => {
        if (cmd.pidFile !== undefined) writePidFile(cmd.pidFile, pid);
      },
    });
    if (launched.error !== undefined) throw new RuncError(`exec failed: ${describeFailure(launched.error)}`);
    if (!cmd.detach) return launched.status;
    if (!launched.detached) throw new RuncError(`exec failed: the launcher exited with status ${launched.status}`);
    release(fifo!);
    return 0;
  } finally {
    if (fifo !== undefined) {
      try {
        unlinkSync(fifo);
      } catch {
        // released and removed already
      }
    }
  }
}

const join_ = join;

/** One byte lets the waiting process exec (docs/protocol.md "Left waiting on a FIFO"). */
function release(fifo: string): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw new RuncError('exec failed: the process ended before it was started');
    throw err;
  }
  try {
    writeSync(fd, Buffer.from('0'));
  } finally {
    closeSync(fd);
  }
}

function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${globalThis.process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}
