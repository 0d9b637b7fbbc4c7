// husk inspect: a container's record as docker's JSON shape (State with OOMKilled, ExitCode...).
import type { LifecycleCommand } from './args-lifecycle.js';
import { reportText } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, statusOfRecord, sweep } from '../runtime/records.js';
import { STATUS_SOME_TARGETS_FAILED, recordExitCode } from '../runtime/exit-status.js';
import type { ContainerRecord } from '../runtime/state.js';
import type { CgroupHost } from '../cgroup/host.js';
import { limitValues } from '../core/cgroup.js';
import { namespaceInodes } from '../runtime/ns-facts.js';
import { processStart } from '../runtime/state.js';

/** The container's namespaces, `type` → `type:[inode]`. */
function namespaceLinks(pid: number): Record<string, string> {
  return Object.fromEntries([...namespaceInodes(pid)].map(([type, inode]) => [type, `${type}:[${inode}]`]));
}

/** The flags HostConfig shows as numbers, read by the core (the values it accepted at run time). */
const NUMBER_FLAGS = ['memory', 'memory-swap', 'memory-reservation', 'cpus', 'cpu-shares', 'pids-limit'];

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function inspectJson(rec: ContainerRecord, host?: CgroupHost): object {
  const status = statusOfRecord(rec, host);
  const running = status === 'running' || status === 'paused';
  const limit = (name: string) => rec.limits?.filter((l) => l.name === name).at(-1)?.value;
  const typed = NUMBER_FLAGS.flatMap((name) => {
    const value = limit(name);
    return value === undefined ? [] : [{ name, value }];
  });
  const values = typed.length > 0 ? limitValues(typed) : new Map<string, number | undefined>();
  const num = (name: string) => values.get(name) ?? 0;
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.argv?.[0] ?? '',
    Args: rec.argv?.slice(1) ?? [],
    State: {
      Status: status,
      Running: running,
      Paused: status === 'paused',
      Restarting: false,
      OOMKilled: rec.oomKilled === true,
      Dead: false,
      Pid: running ? (rec.pid ?? 0) : 0,
      ExitCode: recordExitCode(status === 'exited', rec.exit),
      Error: rec.error ?? '',
      StartedAt: rec.started ?? ZERO_TIME,
      FinishedAt: rec.finished ?? ZERO_TIME,
    },
    Image: rec.image ?? '',
    Name: `/${rec.name ?? rec.id.slice(0, 12)}`,
    RestartCount: rec.restartCount ?? 0,
    // docker's Config fields an image gives (store images: ts/runtime/image-run.ts).
    Config: {
      Image: rec.image ?? '',
      ...(rec.imageId ? { ImageId: rec.imageId } : {}),
      StopSignal: rec.stopSignal ?? 'SIGTERM',
      ...(rec.exposedPorts?.length ? { ExposedPorts: Object.fromEntries(rec.exposedPorts.map((p) => [p, {}])) } : {}),
    },
    ...(rec.layerStorage ? { GraphDriver: { Name: 'overlay', Data: { UpperDir: `${rec.layerStorage}/containers/${rec.id}/upper`, WorkDir: `${rec.layerStorage}/containers/${rec.id}/work` } } } : {}),
    HostConfig: {
      Memory: num('memory'),
      MemorySwap: num('memory-swap'),
      MemoryReservation: num('memory-reservation'),
      NanoCpus: num('cpus'),
      CpuShares: num('cpu-shares'),
      CpusetCpus: limit('cpuset-cpus') ?? '',
      CpusetMems: limit('cpuset-mems') ?? '',
      PidsLimit: limit('pids-limit') !== undefined ? num('pids-limit') : null,
      Limits: rec.limits ?? [],
      Init: rec.init === true,
    },
    Husk: {
      Detached: rec.detached === true,
      LauncherPid: rec.launcherPid ?? 0,
      Cgroups: rec.cgroups ?? [],
      MemoryLimitAtExit: rec.memoryLimit,
      // As `ls -l /proc/PID/ns` names them (`net:[4026532008]`), so lsns and nsenter can check.
      Namespaces: running && rec.pid !== undefined && rec.pidStart !== undefined && processStart(rec.pid) === rec.pidStart ? namespaceLinks(rec.pid) : {},
    },
  };
}

export async function inspectCommand(cmd: Extract<LifecycleCommand, { name: 'inspect' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  const host = await cgroupHost();
  const out: object[] = [];
  let status = 0;
  for (const ref of cmd.targets) {
    try {
      out.push(inspectJson(findContainer(records, ref), host));
    } catch (err) {
      process.stderr.write(reportText(err));
      status = STATUS_SOME_TARGETS_FAILED;
    }
  }
  process.stdout.write(JSON.stringify(out, null, 4) + '\n');
  return status;
}
