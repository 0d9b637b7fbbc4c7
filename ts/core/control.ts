// controlPlan: how to act on a container that exists, as a control plan for the launcher
// (docs/core-abi.md "controlPlan", docs/protocol.md "Control plans"). The request carries
// facts only — the host's cgroup hierarchies, the container's cgroup directories and process
// as its record has them — and the core decides which ops act on which directory.
import { FieldReader, FrameWriter, PATH_MAX, splitFrames } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

export const CONTROL_REQUEST = {
  CONTROL: 0x0130,
  /** buildPlan's CGROUP_HIERARCHY fields: version, mount point, controllers. */
  HIERARCHY: 0x0121,
  DIR: 0x0131,
  PROCESS: 0x0132,
  SIGNAL_NAME: 0x0171,
} as const;

export const CONTROL_ACTION = { freeze: 1, thaw: 2, kill: 3, remove: 4, signal: 5 } as const;
export type ControlAction = keyof typeof CONTROL_ACTION;

/** The question (not a plan) of `freezerFile`: which file says whether a container is frozen. */
const ACTION_FREEZER_FILE = 6;
/** Its answer frame: path str, frozen strs. */
const FREEZER_FILE = 0x01c0;

export interface ControlHierarchy {
  version: 1 | 2;
  mountpoint: string;
  /** v1: the controllers bound to it (`name=X` for a named one); v2: the usable controllers. */
  controllers: readonly string[];
}

export interface ControlRequest {
  action: ControlAction;
  hierarchies: readonly ControlHierarchy[];
  /** The container's own cgroup directories, from its record. */
  dirs: readonly string[];
  /** The container process: its pid and /proc/PID/stat start time (both from its record). */
  process?: { pid: number; startTime: string | number | bigint };
  /** `signal` only: 1 to 64, or a name as typed (`KILL`, `SIGTERM`, `9`, `RTMIN+3`), read by the core. */
  signal?: number | string;
}

/** The request frames of docs/core-abi.md "controlPlan" (exported for tests). */
export function encodeControlRequest(req: ControlRequest): Uint8Array {
  return encode(CONTROL_ACTION[req.action], req);
}

function encode(action: number, req: Omit<ControlRequest, 'action'>): Uint8Array {
  const w = new FrameWriter();
  const named = typeof req.signal === 'string';
  w.begin(CONTROL_REQUEST.CONTROL).u64(action).u64(named ? 0 : (req.signal as number | undefined) ?? 0).end();
  if (named) w.begin(CONTROL_REQUEST.SIGNAL_NAME).str(req.signal as string).end();
  for (const h of req.hierarchies) w.begin(CONTROL_REQUEST.HIERARCHY).u64(h.version).str(h.mountpoint).strs(h.controllers).end();
  for (const dir of req.dirs) {
    // A record is a file anyone with the root could have edited: refuse what a frame cannot carry.
    if (dir.includes('\0') || Buffer.byteLength(dir) > PATH_MAX) throw new CoreError(2, `cgroup ${JSON.stringify(dir)}: not a path`);
    w.begin(CONTROL_REQUEST.DIR).str(dir).end();
  }
  if (req.process) {
    const start = /^\d{1,20}$/.test(String(req.process.startTime)) ? BigInt(req.process.startTime) : 0n;
    w.begin(CONTROL_REQUEST.PROCESS).u64(Number.isSafeInteger(req.process.pid) && req.process.pid > 0 ? req.process.pid : 0).u64(start).end();
  }
  return w.view().slice();
}

/**
 * The control plan for `req` (HELLO … END), or undefined when there is nothing to do (no
 * directory to freeze, nothing to kill or remove). Throws CoreError: status 2 names the
 * refused value (a directory outside the cgroup mounts, a pid without a start time).
 */
export function controlPlan(req: ControlRequest): Uint8Array | undefined {
  const answer = call('controlPlan', encodeControlRequest(req));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return answer.bytes.length === 0 ? undefined : answer.bytes;
}

export interface FreezerFile {
  /** The file to read: the v1 freezer directory's freezer.state, else the v2 one's cgroup.freeze. */
  path: string;
  /** Its contents, trimmed, that mean frozen. */
  frozen: string[];
}

/**
 * Where a container's frozen state is read (docs/core-abi.md "controlPlan", freezer-file): the
 * same directory the core freezes; undefined when it has no directory that can be frozen.
 * Throws CoreError as controlPlan.
 */
export function freezerFile(hierarchies: readonly ControlHierarchy[], dirs: readonly string[]): FreezerFile | undefined {
  const answer = call('controlPlan', encode(ACTION_FREEZER_FILE, { hierarchies, dirs }));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  const frames = splitFrames(answer.bytes);
  if (frames.length === 0) return undefined;
  if (frames.length !== 1 || frames[0].type !== FREEZER_FILE) throw new CoreError(1, 'controlPlan: freezer-file answer not one FREEZER_FILE frame');
  const r = new FieldReader(frames[0].payload);
  const out = { path: r.str(), frozen: r.strs() };
  r.end();
  return out;
}
