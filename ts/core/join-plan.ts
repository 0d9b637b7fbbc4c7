// joinPlan: a plan that runs a process inside namespaces that exist — `husk exec` and `husk
// enter` (docs/core-abi.md "joinPlan"). The request carries facts (the target process from
// its record, which of its namespaces differ from husk's, its cgroup directories, pinned
// namespace files) and what was typed; the core decides the ops (assembly/plan/join.ts).
import { seccompFrames } from './seccomp.js';
import type { SeccompChoice } from './seccomp.js';
import { FrameWriter } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

export const JOIN_REQUEST = {
  JOIN: 0x0180,
  TARGET: 0x0181,
  NAMESPACES: 0x0182,
  NS_FILE: 0x0183,
  CGROUP_DIR: 0x0184,
  // buildPlan's items, same fields:
  HOSTNAME: 0x0105,
  ENV: 0x0106,
  WORKDIR: 0x0107,
  USER: 0x0108,
  ARGV: 0x0109,
  HIERARCHY: 0x0121,
} as const;

export interface JoinRequest {
  mode: 'exec' | 'enter';
  privileged?: boolean;
  /** husk's own capability bounding set (/proc/self/status CapBnd): what --privileged gives. */
  bounding?: bigint;
  trace?: boolean;
  dieWithParent?: boolean;
  /** husk runs as a non-root user (the launcher enters the container's user namespace first). */
  rootless?: boolean;
  /** enter: the namespaces asked for (CLONE_NEW* bits); 0 or absent: all. */
  pick?: bigint;
  /** The process whose namespaces are entered: pid and /proc/PID/stat start time. */
  target?: { pid: number; startTime: string };
  /** CLONE_NEW* bits of the target's namespaces that are not husk's own. */
  differ?: bigint;
  /** enter ns:NAME: the pinned files, each with its CLONE_NEW* type. */
  nsFiles?: { nstype: bigint; path: string }[];
  hierarchies?: readonly { version: 1 | 2; mountpoint: string; controllers: readonly string[] }[];
  cgroupDirs?: readonly string[];
  hostname?: string;
  env?: readonly string[];
  workdir?: string;
  user?: { uid: number; gid?: number; primaryGid?: number };
  argv?: readonly string[];
  /** exec -t: the monitor holds a pty (LOG, TTY, ATTACH: buildPlan's items 0x0160–0x0162). */
  stdio?: { log: string; tty: { rows: number; cols: number }; attach: { path: string; stdin: boolean; waitClient: boolean } };
  /** exec: the container's capability flags (its record's), CAPABILITIES 0x0307. */
  capabilities?: { privileged: boolean; bounding: bigint; add: readonly string[]; drop: readonly string[] };
  /** exec: the container's seccomp profile (its record's; absent: husk's default), items 0x0300–0x0305. */
  seccomp?: SeccompChoice;
  kernel?: string;
}

export function encodeJoinRequest(req: JoinRequest): Uint8Array {
  const w = new FrameWriter();
  const flags = (req.privileged ? 1 : 0) | (req.trace ? 2 : 0) | (req.dieWithParent ? 4 : 0) | (req.rootless ? 8 : 0);
  w.begin(JOIN_REQUEST.JOIN).u64(req.mode === 'exec' ? 1 : 2).u64(flags).u64(req.pick ?? 0n).u64(req.bounding ?? 0n).end();
  if (req.target) {
    const start = /^\d{1,20}$/.test(req.target.startTime) ? BigInt(req.target.startTime) : 0n;
    w.begin(JOIN_REQUEST.TARGET).u64(req.target.pid).u64(start).end();
  }
  if (req.differ !== undefined) w.begin(JOIN_REQUEST.NAMESPACES).u64(req.differ).end();
  for (const n of req.nsFiles ?? []) w.begin(JOIN_REQUEST.NS_FILE).u64(n.nstype).str(n.path).end();
  for (const h of req.hierarchies ?? []) w.begin(JOIN_REQUEST.HIERARCHY).u64(h.version).str(h.mountpoint).strs(h.controllers).end();
  for (const dir of req.cgroupDirs ?? []) w.begin(JOIN_REQUEST.CGROUP_DIR).str(dir).end();
  if (req.hostname) w.begin(JOIN_REQUEST.HOSTNAME).str(req.hostname).end();
  if (req.env) w.begin(JOIN_REQUEST.ENV).strs(req.env).end();
  if (req.workdir !== undefined) w.begin(JOIN_REQUEST.WORKDIR).str(req.workdir).end();
  if (req.user) {
    const u = req.user;
    const known = (u.gid !== undefined ? 1 : 0) | (u.primaryGid !== undefined ? 2 : 0);
    w.begin(JOIN_REQUEST.USER).u64(u.uid).u64(u.gid ?? 0).u64(u.primaryGid ?? 0).u64(known).end();
  }
  if (req.argv) w.begin(JOIN_REQUEST.ARGV).strs(req.argv).end();
  const c = req.capabilities;
  if (c) w.begin(0x0307).u64(c.privileged ? 1 : 0).u64(c.bounding).strs(c.add).strs(c.drop).end();
  if (req.mode === 'exec') for (const f of seccompFrames(req.seccomp ?? { mode: 'default' }, req.kernel)) w.raw(f);
  const io = req.stdio;
  if (io) {
    w.begin(0x0160).str(io.log).end();
    w.begin(0x0161).u64(io.tty.rows).u64(io.tty.cols).end();
    w.begin(0x0162).str(io.attach.path).u64((io.attach.stdin ? 1 : 0) | (io.attach.waitClient ? 2 : 0)).end();
  }
  return w.view().slice();
}

/** The plan (HELLO … END). Throws CoreError: status 2 names the refused value. */
export function joinPlan(req: JoinRequest): Uint8Array {
  const answer = call('joinPlan', encodeJoinRequest(req));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return answer.bytes.slice();
}
