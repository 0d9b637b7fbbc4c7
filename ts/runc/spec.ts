// `husk-runc spec` writes a config.json to start from (the OCI runtime spec's defaults, the
// shape `runc spec` writes); `features` prints what husk-runc supports, as the core says.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call } from '../core/wasm.js';
import { RuncError } from './args.js';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(rootless: boolean): Record<string, unknown> {
  const namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
  const linux: Record<string, unknown> = {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces,
    maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  };
  if (rootless) {
    // A user namespace mapping the caller to root inside; /sys bound, no cgroups of its own.
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    linux.namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'user' }];
    linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
    delete linux.resources;
    mounts.splice(5, 2, { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    (mounts[2].options as string[]).pop(); // gid=5 is not mapped
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'husk-runc',
    mounts,
    linux,
  };
}

export function specCommand(bundle: string, rootless: boolean): number {
  const path = join(bundle, 'config.json');
  if (existsSync(path)) throw new RuncError('File config.json exists. Remove it first.');
  writeFileSync(path, `${JSON.stringify(defaultSpec(rootless), null, '\t')}\n`, { flag: 'wx' });
  return 0;
}

export function featuresCommand(): number {
  const answer = call('ociFeatures', new Uint8Array(0));
  if (answer.status !== 0) throw new RuncError('internal error: the policy core has no features answer');
  process.stdout.write(`${JSON.stringify(JSON.parse(new TextDecoder().decode(answer.bytes)), null, '    ')}\n`);
  return 0;
}
