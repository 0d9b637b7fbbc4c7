// Container records under --root, one file each, written temp + fsync + rename so a crash
// never leaves half a record. A record whose launcher is gone is stale: the next husk command
// removes it (the launcher's mounts die with its mount namespace, so the record is all that
// can outlive a crash).
import { releaseOf } from '../network/leases.js';
import { chmodSync, closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { callerUid, fallbackRoot } from './paths.js';

import type { SeccompChoice } from '../core/seccomp.js';

export interface ContainerRecord {
  id: string;
  created: string;
  launcherPid?: number;
  /** /proc/PID/stat start time of the launcher, so a reused pid is not taken for it. */
  launcherStart?: string;
  /**
   * The husk process that wrote the record before its launcher existed (and its start time):
   * while it lives, a record without a launcher is being created; once it is gone, the record
   * is stale at once, not only after 10 s.
   */
  ownerPid?: number;
  ownerStart?: string;
  userns?: { start: number; size: number };
  /** Every host id range its uid and gid maps use (ts/runtime/userns.ts usedRanges). */
  hostRanges?: { start: number; size: number }[];
  // ---- Lifecycle and cgroups (ts/runtime/records.ts) ----
  name?: string;
  image?: string;
  argv?: string[];
  /** run -d: the launcher runs on alone; the record stays (exited) until `husk rm`. */
  detached?: boolean;
  /** run -d --rm: the record goes once the container has ended. */
  autoRemove?: boolean;
  /** The container process's pid on the host. */
  pid?: number;
  /** Its /proc/PID/stat start time: it is signalled only while the pid still names it. */
  pidStart?: string;
  /** The container's own cgroup directories, one per hierarchy (the sweep removes them). */
  cgroups?: string[];
  /** The resource flags as given (for inspect). */
  limits?: { name: string; value: string }[];
  started?: string;
  /** Set once the container is known to have ended. */
  finished?: string;
  exit?: { how: 'exited' | 'signaled' | 'failed'; value: number };
  oomKilled?: boolean;
  memoryLimit?: number;
  error?: string;
  // ---- create/start/stop (ts/runtime/create.ts, start.ts) ----
  /** `husk create`: its plan is saved (`<state>/plan`), no launcher has run it yet. */
  neverStarted?: boolean;
  /** The signal `husk stop` sends first (the image's StopSignal, as the core named it). */
  stopSignal?: string;
  /** --init: husk's init is its pid 1 (the saved plan has INIT). */
  init?: boolean;
  /** How many times `start`/`restart` ran it again after an exit. */
  restartCount?: number;
  // ---- Images (ts/runtime/image-run.ts) ----
  /** The image's id (sha256:…) when it came from the store; `image` keeps the name as typed. */
  imageId?: string;
  /** The image's ExposedPorts (PORT/PROTO). */
  exposedPorts?: string[];
  /** The store whose containers/<id>/ holds this container's writable layer (on disk). */
  layerStorage?: string;
  /** run --pod: the pod it joined (husk pod ls, pod rm). */
  pod?: string;
  /**
   * What `husk exec` takes from the container unless told otherwise (ts/runtime/exec.ts):
   * its -e entries, -w, -u facts (as ts/runtime/user.ts resolved them) and host name.
   */
  process?: {
    env: string[];
    workdir?: string;
    user?: { uid: number; gid?: number; primaryGid?: number };
    hostname?: string;
    /** --cap-add, --cap-drop as typed and --privileged: exec gets the same set. */
    capabilities?: { privileged: boolean; add: string[]; drop: string[] };
    /** The seccomp profile it runs under (absent: husk's default): exec runs under it too. Numbers over 2^53 as strings. */
    seccomp?: SeccompChoice;
  };
  // ---- The container's stdio, held by its monitor (ts/runtime/attach-client.ts) ----
  /** -t: a pty. */
  tty?: boolean;
  /** -i: stdin kept open for `husk attach`. */
  stdinOpen?: boolean;
  // ---- Networks (ts/network/) ----
  /** The network it is attached to, as the core chose (its lease: ts/network/leases.ts). */
  network?: {
    name: string; address: string; prefix: number; mac: string; gateway: string; veth: string; peer?: string; ports?: PublishedPort[];
    /** On a dual-stack network: its IPv6 address (leased as the IPv4 one is), prefix and gateway. */
    address6?: string; prefix6?: number; gateway6?: string;
    /** What its lease held, for `husk start` to lease the address again (ts/network/restart.ts): its records line, its responder's upstreams, its unpublish plan. */
    dns?: string; dnsUpstreams?: string[]; unpublish?: string;
  };
  /** Networks connected since (`husk network connect`), each with its own lease. */
  networks?: NetworkAttachment[];
  /** User-mode networking (ts/network/usermode.ts): pasta's forwarded ports, for `husk port`; no lease, no bridge. */
  usermode?: { program: string; ports: PublishedPort[] };
}

/** A published port: `-p [HOSTIP:]HOSTPORT:PORT[/PROTO]`. */
/** One network a container is on: its address there, its link (`veth` on the host, `peer` inside). */
export interface NetworkAttachment {
  name: string;
  address: string;
  prefix: number;
  mac: string;
  gateway: string;
  veth: string;
  peer: string;
  /** As `network connect` was given them (--alias, --ip), to join it again at the next start. */
  aliases?: string[];
  ip?: string;
}

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  port: number;
  proto: string;
}

/** A record the sweep (ts/runtime/records.ts) must see when its launcher is gone. */
export function needsSweep(rec: ContainerRecord): boolean {
  return rec.detached === true || (rec.cgroups?.length ?? 0) > 0;
}

export function containersDir(root: string): string {
  return join(root, 'containers');
}

/**
 * Root's state directory and stage are 0711: a container in a user namespace mounts its stage
 * tmpfs as its own (mapped) root, which must be able to reach the directory. Records stay
 * 0700. A non-root caller's is 0700 and must be its own (rootless: its mapped root is the
 * caller itself); see checkOwnRoot. Throws a HuskError naming the fix.
 */
export function ensureRoot(root: string, uid = callerUid()): void {
  try {
    if (uid !== 0) {
      // The fallback in /tmp is made alone (no -p: /tmp is there) so that it is never a
      // directory another user planted; checkOwnRoot says whose it is otherwise.
      if (root === fallbackRoot(uid)) mkdirSync(root, { mode: 0o700 });
      else mkdirSync(root, { recursive: true, mode: 0o700 });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateDirError(root, err, uid);
  }
  if (uid !== 0) checkOwnRoot(root, uid);
  try {
    mkdirSync(containersDir(root), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, 'stage'), { recursive: true, mode: uid === 0 ? 0o711 : 0o700 });
    // An older root made 0700 (or by hand) keeps its mode: open it up for the mapped root.
    if (uid === 0) for (const dir of [root, join(root, 'stage')]) if ((statSync(dir).mode & 0o011) !== 0o011) chmodSync(dir, statSync(dir).mode | 0o011);
  } catch (err) {
    throw stateDirError(root, err, uid);
  }
}

/**
 * A non-root caller's state directory is a directory of its own that no one else may write:
 * else another user could plant records (pids and cgroups for the sweep to act on).
 */
export function checkOwnRoot(root: string, uid: number): void {
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    throw stateDirError(root, err, uid);
  }
  const fix = `remove it, or pass --root DIR of your own`;
  if (!st.isDirectory()) throw new HuskError('invalid-value', `cannot use state directory ${root}: not a directory (a symlink or a file): ${fix}`);
  if (st.uid !== uid) throw new HuskError('invalid-value', `cannot use state directory ${root}: it belongs to uid ${st.uid}, not to you (uid ${uid}): ${fix}`);
  if ((st.mode & 0o022) !== 0) throw new HuskError('invalid-value', `cannot use state directory ${root}: others may write to it (mode ${(st.mode & 0o7777).toString(8)}): chmod 700 ${root}, or pass --root DIR of your own`);
}

/** One line for a state directory husk cannot make or write, with the fix. */
export function stateDirError(root: string, err: unknown, uid = callerUid()): HuskError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  const fix = uid === 0 ? '' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
    ? `: not writable by you (uid ${uid}); pass --root DIR of your own (or set XDG_RUNTIME_DIR to a directory of yours)`
    : '';
  return new HuskError('invalid-value', `cannot use state directory ${root}: ${code}${fix}`, { cause: err });
}

/**
 * `durable: false` skips the fsync (the rename still makes the record appear whole or not at
 * all to other husk commands): for a foreground run's record, which guards only what a
 * crash of the machine ends anyway (its launcher, its cgroups, the id range it holds), so
 * there is nothing for it to find after a reboot. The fsync costs a cold `husk run` 1-2 ms.
 */
export function writeRecord(root: string, rec: ContainerRecord, opts: { durable?: boolean } = {}): void {
  const dir = containersDir(root);
  const final = join(dir, `${rec.id}.json`);
  // A name of this writer's own: two husk commands writing one record never share a temp
  // (one would rename the other's away: ENOENT). The pid tells the sweep whose it is.
  const tmp = join(dir, tempName(`${rec.id}.json`));
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(rec));
    if (opts.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
}

let tempCount = 0;

/**
 * `.NAME.PID.N.tmp`: a temp file of this process's own beside NAME (the pid sets it apart from
 * other processes', the count from this one's; no node:crypto on a cold start for it).
 */
export function tempName(name: string, suffix = 'tmp'): string {
  return `.${name}.${process.pid}.${(tempCount++).toString(16)}.${suffix}`;
}

/** A temp file (tempName) whose writer is gone: it will never be renamed into place. */
export function isDeadTemp(name: string): boolean {
  const m = /^\..*\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  if (!m) return name.startsWith('.') && name.endsWith('.tmp'); // an older husk's fixed name
  return Number(m[1]) !== process.pid && processStart(Number(m[1])) === undefined;
}

/** The record of `id` as stored now, or undefined when there is none. */
export function readRecord(root: string, id: string): ContainerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(join(containersDir(root), `${id}.json`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as ContainerRecord;
  } catch {
    return undefined; // empty: all a machine crash leaves of a record written without fsync
  }
}

export function removeRecord(root: string, id: string): void {
  const path = join(containersDir(root), `${id}.json`);
  // A container on a network gives its address back with its record (ts/network/leases.ts).
  if (existsSync(join(root, 'networks'))) {
    const rec = readRecord(root, id);
    if (rec?.network !== undefined || rec?.networks !== undefined) releaseOf(root, rec);
  }
  unlinkIfThere(path);
}



/** rmSync(path, { force: true }) for a file, without loading Node's rimraf on the way out of a run. */
function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields from 3 on; the command name (field 2) may hold spaces, so count after ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // dead, not yet reaped
    return fields[19]; // field 22: starttime
  } catch {
    return undefined;
  }
}

/**
 * The start time of `pid` if it is a child of `parent` (a container process of its launcher):
 * read right after the launcher reported it, it cannot have been reaped and reused yet
 * unless its parent changed, which this checks.
 */
export function childStart(pid: number, parent: number | undefined): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X' || Number(fields[1]) !== parent) return undefined;
    return fields[19]; // field 22: starttime
  } catch {
    return undefined;
  }
}

/**
 * The container's pid 1 and its start time: CLONE's process (the launcher's child), or, when
 * the launcher reported INNER_PID (PID_FORK: a joined user namespace), that process's child.
 */
export function containerPid(ev: { pid?: number; innerPid?: number }, launcherPid: number | undefined): { pid: number; pidStart: string } | undefined {
  if (ev.pid === undefined) return undefined;
  const [pid, parent] = ev.innerPid !== undefined ? [ev.innerPid, ev.pid] : [ev.pid, launcherPid];
  const pidStart = childStart(pid, parent);
  return pidStart === undefined ? undefined : { pid, pidStart };
}

/**
 * A record whose launcher does not exist yet, written by a husk that is still starting it:
 * not stale, not ours to judge. Without an owner to ask, a record younger than 10 s is.
 */
export function beingCreated(rec: ContainerRecord): boolean {
  if (rec.launcherPid !== undefined) return false;
  if (rec.ownerPid !== undefined && rec.ownerStart !== undefined) return processStart(rec.ownerPid) === rec.ownerStart;
  return Date.now() - Date.parse(rec.created) < 10_000;
}

export function isLive(rec: ContainerRecord): boolean {
  if (rec.launcherPid === undefined) return false;
  return processStart(rec.launcherPid) === rec.launcherStart;
}

/** Live records; stale ones (and stray temp files) are removed on the way. */
export function liveRecords(root: string): ContainerRecord[] {
  let names: string[];
  try {
    names = readdirSync(containersDir(root));
  } catch {
    return [];
  }
  const live: ContainerRecord[] = [];
  for (const name of names) {
    const path = join(containersDir(root), name);
    if (name.endsWith('.tmp')) {
      if (isDeadTemp(name)) rmSync(path, { force: true });
      continue;
    }
    if (!name.endsWith('.json')) continue;
    let rec: ContainerRecord;
    try {
      rec = JSON.parse(readFileSync(path, 'utf8')) as ContainerRecord;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    if (isLive(rec)) live.push(rec);
    else if (needsSweep(rec)) continue; // cgroups to remove, or an exited -d container: the sweep's
    else if (beingCreated(rec)) live.push(rec); // by another husk, right now: not ours to judge yet
    else rmSync(path, { force: true });
  }
  return live;
}
