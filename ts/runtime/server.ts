// One warm `husk-launcher --server` per Husk instance (docs/protocol.md "Server mode"): started
// lazily, multiplexing every container's plan and events over one pair of pipes, so a
// container costs a fork in the launcher instead of a spawn from Node. Its handles are unref'd
// while nothing is running, so an idle server never keeps Node alive; close() ends it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EventStream } from '../protocol/events.js';
import type { LauncherEvent } from '../protocol/events.js';
import { FrameWriter } from '../protocol/frames.js';
import { CONTROL } from '../protocol/ops.js';
import { foldEvent, lostLauncher, newOutcome } from './event-fold.js';
import type { LaunchOutcome } from './event-fold.js';
import { badEvents, launcherSpawnError } from './launcher.js';
import { launcherPath } from './paths.js';

export interface ServerRunHooks {
  onEvent?: (ev: LauncherEvent) => void;
  /** READY: the container waits at WAIT_START. */
  onReady?: () => void;
  /** STARTED: EXEC succeeded. */
  onStarted?: (at: bigint) => void;
}

/** One RUN in flight. */
export interface ServerRun {
  readonly tag: bigint;
  /** Resolves at the RUN's EXIT (or when the server dies). Never rejects. */
  readonly done: Promise<LaunchOutcome>;
}

interface RunState {
  outcome: LaunchOutcome;
  hooks: ServerRunHooks;
  resolve: (o: LaunchOutcome) => void;
  /** Counts toward keeping Node alive: not a sandbox waiting for START. */
  active: boolean;
}

interface Instance {
  child: ChildProcess;
  plan: Writable;
  events: Readable;
  stream: EventStream;
  runs: Map<bigint, RunState>;
  /** The server stopped taking requests (an untagged ERROR, or close()). */
  draining: boolean;
  exited: Promise<void>;
  refs: number;
}

const writer = new FrameWriter();

/** A request frame of the server's plan fd: RUN {tag} (the plan follows), START {tag}, SIGNAL {tag, signo}. */
export function request(type: number, tag: bigint, signo?: number): Uint8Array {
  writer.u64(tag);
  if (signo !== undefined) writer.u64(signo);
  return writer.frame(type);
}

/** RUN flag (docs/protocol.md "Server mode"): no STARTED for the tag, its PID comes with its next event. */
export const RUN_QUIET = 1;

/** RUN {tag} and the plan after it, in one buffer: one write, one copy of the plan. */
function runRequest(tag: bigint, plan: Uint8Array, flags: number): Uint8Array {
  const out = Buffer.allocUnsafe(16 + plan.length);
  out.writeUInt32LE(8, 0);
  out.writeUInt16LE(CONTROL.RUN, 4);
  out.writeUInt16LE(flags, 6);
  out.writeBigUInt64LE(tag, 8);
  out.set(plan, 16);
  return out;
}

export class LauncherServer {
  private current?: Instance;
  private nextTag = 1n;
  private readonly all = new Set<Instance>();

  /** The running server's pid, if one runs. */
  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /**
   * Sends a plan; events come to `hooks`, the end to `done`. Without onStarted and onEvent the
   * RUN is quiet: no STARTED, and the PID arrives with the next event (at the latest, EXIT).
   */
  run(plan: Uint8Array, hooks: ServerRunHooks = {}, active = true): ServerRun {
    const inst = this.instance();
    const tag = this.nextTag++;
    let resolve!: (o: LaunchOutcome) => void;
    const done = new Promise<LaunchOutcome>((r) => (resolve = r));
    const state: RunState = {
      outcome: newOutcome(),
      hooks,
      resolve,
      active: false,
    };
    inst.runs.set(tag, state);
    if (active) this.activate(inst, state);
    // Nobody asks for STARTED or every event: the server need not relay the start, and the
    // run's events come to Node in one read at its end.
    const quiet = hooks.onStarted === undefined && hooks.onEvent === undefined;
    inst.plan.write(runRequest(tag, plan, quiet ? RUN_QUIET : 0));
    return { tag, done };
  }

  /** START for a created container: it goes on to EXEC. */
  start(tag: bigint): void {
    const inst = this.owner(tag);
    if (!inst) return;
    this.activate(inst, inst.runs.get(tag)!);
    inst.plan.write(request(CONTROL.START, tag));
  }

  /** Someone waits for this run's end: keep Node alive until it comes. */
  hold(tag: bigint): void {
    const inst = this.owner(tag);
    if (inst) this.activate(inst, inst.runs.get(tag)!);
  }

  /** A created container waits for START: it no longer keeps Node alive. */
  park(tag: bigint): void {
    const inst = this.owner(tag);
    if (inst) this.deactivate(inst, inst.runs.get(tag)!);
  }

  /** SIGNAL: to the container; before START it kills it (EXIT: killed by signal 9). */
  signal(tag: bigint, signo: number): void {
    const inst = this.owner(tag);
    if (inst) inst.plan.write(request(CONTROL.SIGNAL, tag, signo));
  }

  /**
   * Closes the server's plan fd: created containers not started are killed, running ones
   * go on to their end; resolves when the server has exited.
   */
  async close(): Promise<void> {
    const all = [...this.all];
    this.current = undefined;
    for (const inst of all) this.drain(inst);
    await Promise.all(all.map((i) => i.exited));
  }

  private owner(tag: bigint): Instance | undefined {
    for (const inst of this.all) if (inst.runs.has(tag)) return inst;
    return undefined;
  }

  private activate(inst: Instance, state: RunState): void {
    if (state.active) return;
    state.active = true;
    if (inst.refs++ === 0) this.ref(inst, true);
  }

  private deactivate(inst: Instance, state: RunState): void {
    if (!state.active) return;
    state.active = false;
    if (--inst.refs === 0) this.ref(inst, false);
  }

  private ref(inst: Instance, on: boolean): void {
    type Handle = { ref(): unknown; unref(): unknown };
    const handles: Handle[] = [inst.child, inst.events as unknown as Handle, inst.plan as unknown as Handle];
    for (const h of handles) (on ? h.ref() : h.unref());
  }

  private drain(inst: Instance): void {
    if (inst.draining) return;
    inst.draining = true;
    if (this.current === inst) this.current = undefined;
    // Held until it exits: its last EXITs are on their way and someone may await them.
    if (inst.refs++ === 0) this.ref(inst, true);
    inst.plan.end();
  }

  private instance(): Instance {
    if (this.current && !this.current.draining) return this.current;
    const child = spawn(launcherPath(), ['--server', '--plan-fd', '3', '--event-fd', '4'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    });
    const inst: Instance = {
      child,
      plan: child.stdio[3] as Writable,
      events: child.stdio[4] as Readable,
      stream: new EventStream(),
      runs: new Map(),
      draining: false,
      exited: undefined as unknown as Promise<void>,
      refs: 0,
    };
    let spawnError: Error | undefined;
    inst.exited = new Promise<void>((resolve) => {
      let exited = false;
      let ended = false;
      const finish = () => {
        if (!exited || !ended) return;
        this.all.delete(inst);
        if (this.current === inst) this.current = undefined;
        const why = spawnError ? launcherSpawnError(spawnError).message : 'the launcher server ended before the container did';
        for (const [tag, state] of inst.runs) {
          lostLauncher(state.outcome, why);
          this.end(inst, tag, state);
        }
        resolve();
      };
      child.once('error', (err) => {
        spawnError = err;
        exited = true;
        ended = true;
        finish();
      });
      child.once('exit', () => {
        exited = true;
        finish();
      });
      inst.events.once('close', () => {
        ended = true;
        finish();
      });
    });
    inst.plan.on('error', () => undefined); // EPIPE when the server is gone: its exit reports.
    inst.events.on('error', () => undefined);
    inst.events.on('data', (chunk: Buffer) => this.onData(inst, chunk));
    this.all.add(inst);
    this.current = inst;
    this.ref(inst, false);
    return inst;
  }

  private onData(inst: Instance, chunk: Buffer): void {
    let events: LauncherEvent[];
    try {
      events = inst.stream.push(chunk);
    } catch (err) {
      // A server that speaks garbage cannot be trusted with more: stop it.
      inst.child.kill('SIGKILL');
      const why = badEvents(err as Error, 'the launcher server').message;
      for (const state of inst.runs.values()) lostLauncher(state.outcome, why);
      return;
    }
    for (const ev of events) {
      if (ev.kind !== 'tagged') {
        // Untagged: HELLO, or an ERROR after which the server takes no more requests.
        if (ev.kind === 'error') this.drain(inst);
        continue;
      }
      const state = inst.runs.get(ev.tag);
      if (!state) continue;
      const e = ev.event;
      state.hooks.onEvent?.(e);
      if (foldEvent(state.outcome, e)) this.end(inst, ev.tag, state);
      else if (e.kind === 'ready') state.hooks.onReady?.();
      else if (e.kind === 'started') state.hooks.onStarted?.(e.at);
    }
  }

  private end(inst: Instance, tag: bigint, state: RunState): void {
    inst.runs.delete(tag);
    this.deactivate(inst, state);
    state.resolve(state.outcome);
  }
}
