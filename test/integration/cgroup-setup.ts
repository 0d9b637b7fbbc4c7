// Global setup of the real-kernel suites: every container the suites make gets its cgroups
// under husk-test-<pid> (HUSK_CGROUP_PARENT), never under the host's `husk`; at the end the
// parent must be empty in every hierarchy (no container cgroup left), and it is removed.
// Temp entries with `husk` in their name (test roots, rootfs dirs, saved plans) must not
// outlive the suites either, and husk's default state and store (/run/husk, /var/lib/husk) must
// not appear: every test names its own --root and --storage.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PARENT = `husk-test-${process.pid}`;

export function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

function huskTempEntries(): string[] {
  try {
    return readdirSync('/tmp').filter((n) => n.includes('husk')).map((n) => join('/tmp', n));
  } catch {
    return [];
  }
}

/** husk's bridges (husk0, husk1, …) and its nftables table on the real host: the network suite makes them only inside namespaces of its own. */
function hostNetworkObjects(): string[] {
  const out: string[] = [];
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of links.matchAll(/^\d+: (husk[^:@\s]*)/gm)) out.push(`link ${m[1]}`);
  if (spawnSync('nft', ['list', 'table', 'inet', 'husk'], { stdio: 'ignore' }).status === 0) out.push('nft table inet husk');
  return out;
}

let tempBefore: string[] = [];
let networkBefore: string[] = [];
const DEFAULT_PLACES = ['/run/husk', '/var/lib/husk'];
let placesBefore: string[] = [];

export function setup(): void {
  process.env.HUSK_CGROUP_PARENT = PARENT;
  tempBefore = huskTempEntries();
  placesBefore = DEFAULT_PLACES.filter((p) => existsSync(p));
  networkBefore = hostNetworkObjects();
}

export function teardown(): void {
  const left: string[] = [];
  for (const mount of cgroupMounts()) {
    const parent = join(mount, PARENT);
    try {
      statSync(parent);
    } catch {
      continue;
    }
    left.push(...subdirs(parent));
    try {
      rmdirSync(parent);
    } catch (err) {
      left.push(`${parent} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  if (left.length > 0) throw new Error(`cgroup directories left by the suites:\n${left.join('\n')}`);
  const tempLeft = huskTempEntries().filter((p) => !tempBefore.includes(p));
  if (tempLeft.length > 0) throw new Error(`temp entries left by the suites:\n${tempLeft.join('\n')}`);
  const placesLeft = DEFAULT_PLACES.filter((p) => existsSync(p) && !placesBefore.includes(p));
  if (placesLeft.length > 0) throw new Error(`husk's default places made by the suites (a test without --root/--storage):\n${placesLeft.join('\n')}`);
  const networkLeft = hostNetworkObjects().filter((n) => !networkBefore.includes(n));
  if (networkLeft.length > 0) throw new Error(`husk networks made on the real host by the suites (bridged runs belong in a namespace of their own):\n${networkLeft.join('\n')}`);
}
