// The one leak check of the real-kernel suites. A suite calls useLeakCheck() once at the top;
// around every test it then compares the host before and after: the host's mount table,
// husk-launcher and husk-dns processes, this process's children and fds, temp entries the suites make,
// what is left in the suite's state root, and container cgroups under the suites' parent.
// A failure names every kind of thing left behind, with the things themselves.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { cgroupMounts } from './cgroup-setup.js';
import { TEMP_PREFIX, isLauncher, isResponder, suiteDir } from './helpers.js';

export interface HostSnapshot {
  mounts: string[];
  launchers: number[];
  /** husk-dns processes: a network's responder goes with its last container. */
  responders: number[];
  children: number[];
  fds: string[];
  temps: string[];
}

function pidsWhere(pred: (pid: number) => boolean): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (pred(Number(name))) out.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

export function launcherPids(): number[] {
  return pidsWhere(isLauncher);
}

function childPids(of: number): number[] {
  return pidsWhere((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === of;
  });
}

/** Each fd of this process with what it points at, so a leak says which file it is. */
function openFds(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [`${fd} → ${readlinkSync(`/proc/self/fd/${fd}`)}`];
    } catch {
      return []; // the fd readdir itself used, closed by now
    }
  });
}

/** What a leak would change: the host's mount table, launchers, our children, fds and temp entries. */
export function snapshot(): HostSnapshot {
  return {
    mounts: readFileSync('/proc/1/mountinfo', 'utf8').split('\n').map((l) => l.split(' ').slice(3, 5).join(' ')).sort(),
    launchers: launcherPids(),
    responders: pidsWhere(isResponder),
    children: childPids(process.pid),
    fds: openFds(),
    temps: readdirSync('/tmp').filter((n) => n.startsWith(TEMP_PREFIX)),
  };
}

/** Every container cgroup directory under the suites' parent (cgroup-setup.ts), in every hierarchy. */
export function containerCgroups(): string[] {
  const parent = process.env.HUSK_CGROUP_PARENT;
  if (!parent) throw new Error('HUSK_CGROUP_PARENT is unset: the integration global setup did not run');
  return cgroupMounts().flatMap((m) => {
    const dir = join(m, parent);
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    } catch {
      return [];
    }
  });
}

/** What is left under a state root besides husk's own empty directories. */
export function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (readdirSync(p).length === 0) continue;
        walk(p);
      } else out.push(p);
    }
  };
  walk(root);
  return out;
}

const added = <T>(now: T[], before: T[]): T[] => now.filter((x) => !before.includes(x));

function describePid(pid: number): string {
  try {
    return `${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()})`;
  } catch {
    return String(pid);
  }
}

/** One line per kind of leak between `before` and `now`; empty when nothing leaked. */
export function leaksBetween(before: HostSnapshot, now: HostSnapshot): string[] {
  const leaks: string[] = [];
  const mountsAdded = added(now.mounts, before.mounts);
  const mountsGone = added(before.mounts, now.mounts);
  if (mountsAdded.length || mountsGone.length) leaks.push(`host mount table changed: added [${mountsAdded.join(', ')}], removed [${mountsGone.join(', ')}]`);
  const launchers = added(now.launchers, before.launchers);
  if (launchers.length) leaks.push(`launcher processes left: ${launchers.map(describePid).join(', ')}`);
  const responders = added(now.responders, before.responders);
  if (responders.length) leaks.push(`name responders (husk-dns) left: ${responders.map(describePid).join(', ')}`);
  const children = added(now.children, before.children);
  if (children.length) leaks.push(`child processes left: ${children.map(describePid).join(', ')}`);
  // Only a count can be compared: a closed fd's number is reused for a new one.
  if (now.fds.length > before.fds.length) leaks.push(`fds left open in the test process: ${now.fds.length - before.fds.length} more; new or reused: ${added(now.fds, before.fds).join(', ')}`);
  const temps = added(now.temps, before.temps);
  if (temps.length) leaks.push(`temp entries left: ${temps.map((t) => join('/tmp', t)).join(', ')}`);
  return leaks;
}

/** Waits up to `ms` for processes to be reaped, then lists what is still left since `before`. */
export async function findLeaks(before: HostSnapshot, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let now = snapshot();
  // Node closes a finished child's stdio sockets on a later turn of its loop ('end' and 'exit'
  // come first), so a count above `before` is waited out too: a real leak is still there after.
  while (Date.now() < deadline && (added(now.launchers, before.launchers).length || added(now.responders, before.responders).length || added(now.children, before.children).length || now.fds.length > before.fds.length)) {
    await new Promise((r) => setTimeout(r, 50));
    now = snapshot();
  }
  return leaksBetween(before, now);
}

export interface LeakCheckOptions {
  /** Runs after each test, before the check: ends what the test started as a user would
   *  (close the API, `rm -f` detached containers). */
  cleanup?: (root: string) => unknown;
}

export interface LeakChecked {
  /** The suite's state root (`--root`), made before its first test and removed after its last. */
  readonly root: string;
  /** The host as the running test found it. */
  readonly before: HostSnapshot;
}

/** Installs the leak check around every test of the calling file; call once, at the top. */
export function useLeakCheck(opts: LeakCheckOptions = {}): LeakChecked {
  const root = suiteDir('root', { mode: 0o711 }); // a user-namespaced container's root must reach its stage
  let before: HostSnapshot | undefined;
  beforeEach(() => {
    before = snapshot();
  });
  afterEach(async () => {
    await opts.cleanup?.(root);
    const leaks = await findLeaks(before!);
    const files = leftovers(root);
    if (files.length) leaks.push(`files left in the state root: ${files.join(', ')}`);
    const cgroups = containerCgroups();
    if (cgroups.length) leaks.push(`container cgroups left: ${cgroups.join(', ')}`);
    if (leaks.length) throw new Error(`left behind by this test:\n- ${leaks.join('\n- ')}`);
  });
  return {
    root,
    get before() {
      if (!before) throw new Error('no snapshot: `before` is read outside a test');
      return before;
    },
  };
}
