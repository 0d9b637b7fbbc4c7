// Which cgroup layout this host has, read once from /proc/self/mountinfo: pure v1, pure v2,
// or hybrid (v1 controllers plus a cgroup2 mount), and where each controller lives. Hosts whose
// controllers are split between v1 and v2 are described controller by controller, so nothing
// is assumed from the layout's name alone.
import { readFileSync } from 'node:fs';

export type Layout = 'v1' | 'v2' | 'hybrid' | 'none';

export interface Hierarchy {
  version: 1 | 2;
  mountpoint: string;
  /** The mount's root inside the hierarchy (not `/` inside a container with a cgroup ns). */
  root: string;
  /** v1: the controllers bound to it (and `name=...` for named ones); v2: cgroup.controllers. */
  controllers: string[];
}

export interface CgroupFacts {
  layout: Layout;
  hierarchies: Hierarchy[];
  /** Each controller, where it can be used. A named v1 hierarchy is not a controller. */
  controllers: Record<string, { version: 1 | 2; mountpoint: string }>;
  /** The cgroup2 mount, if any (hybrid hosts have one even with no controller in it). */
  unified?: Hierarchy;
}

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'blkio', 'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc']);

/** Unescapes mountinfo's octal escapes (`\040` for a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseCgroupFacts(mountinfo: string, readV2Controllers: (mountpoint: string) => string): CgroupFacts {
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    if (!line) continue;
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const [fstype, , superOpts = ''] = line.slice(dash + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountpoint = unescape(pre[4]);
    const root = unescape(pre[3]);
    if (fstype === 'cgroup2') {
      if (seen.has('unified')) continue; // the same hierarchy mounted twice: the first wins
      seen.add('unified');
      let controllers: string[] = [];
      try {
        controllers = readV2Controllers(mountpoint).trim().split(/\s+/).filter(Boolean);
      } catch {
        controllers = [];
      }
      hierarchies.push({ version: 2, mountpoint, root, controllers });
    } else {
      const controllers = superOpts.split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
      const key = controllers.slice().sort().join(',');
      if (controllers.length === 0 || seen.has(key)) continue;
      seen.add(key);
      hierarchies.push({ version: 1, mountpoint, root, controllers });
    }
  }
  const controllers: CgroupFacts['controllers'] = {};
  for (const h of hierarchies) {
    for (const c of h.controllers) {
      if (c.startsWith('name=')) continue;
      // A controller is bound to one hierarchy at a time; if both claim it, v1 has it.
      if (!controllers[c] || h.version === 1) controllers[c] = { version: h.version, mountpoint: h.mountpoint };
    }
  }
  const unified = hierarchies.find((h) => h.version === 2);
  const hasV1 = hierarchies.some((h) => h.version === 1 && h.controllers.some((c) => !c.startsWith('name=')));
  const layout: Layout = hasV1 && unified ? 'hybrid' : hasV1 ? 'v1' : unified ? 'v2' : 'none';
  return { layout, hierarchies, controllers, unified };
}

let cached: CgroupFacts | undefined;

export function hostCgroupFacts(): CgroupFacts {
  cached ??= parseCgroupFacts(readFileSync('/proc/self/mountinfo', 'utf8'), (m) => readFileSync(`${m}/cgroup.controllers`, 'utf8'));
  return cached;
}

/** The layouts `husk plan --host-cgroups` can show a plan for. */
export const EXAMPLE_LAYOUTS = ['v1', 'v2', 'hybrid'] as const;
export type ExampleLayout = (typeof EXAMPLE_LAYOUTS)[number];

const V1_EXAMPLE = ['cpu,cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls,net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids'];
const V2_EXAMPLE_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';

/**
 * A typical host of the given layout (systemd's mounts: v1 controllers under
 * /sys/fs/cgroup/<names>, cgroup2 at /sys/fs/cgroup or, on hybrid hosts, /sys/fs/cgroup/unified
 * with no controllers), so a plan can be shown for a host this one is not.
 */
export function exampleCgroupFacts(layout: ExampleLayout): CgroupFacts {
  const lines: string[] = [];
  let id = 30;
  const mount = (mp: string, type: string, opts: string) => lines.push(`${id++} 1 0:${id} / ${mp} rw,nosuid,nodev,noexec,relatime - ${type} ${type} ${opts}`);
  if (layout === 'v2') mount('/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate');
  else {
    if (layout === 'hybrid') mount('/sys/fs/cgroup/unified', 'cgroup2', 'rw,nsdelegate');
    mount('/sys/fs/cgroup/systemd', 'cgroup', 'rw,xattr,name=systemd');
    for (const c of V1_EXAMPLE) mount(`/sys/fs/cgroup/${c}`, 'cgroup', `rw,${c}`);
  }
  return parseCgroupFacts(lines.join('\n'), () => (layout === 'v2' ? V2_EXAMPLE_CONTROLLERS : ''));
}
