// A sandbox made ahead of time (DESIGN.md "Lifecycle": create → start): its plan ran up to
// WAIT_START in the warm launcher server; start() is one START frame, resolved on STARTED.
import { constants } from 'node:os';
import { HuskError } from '../errors.js';
import type { LaunchOutcome } from './launcher.js';
import { statusOf } from './outcome.js';
import type { LauncherServer, ServerRun } from './server.js';

export interface SandboxResult {
  /** As husk run's: N for exit N, 128+S for signal S. */
  exitCode: number;
}

type Phase = 'creating' | 'created' | 'starting' | 'running' | 'ended';

export class Sandbox {
  /** The container's id (its hostname's first 12 characters, as with run). */
  readonly id: string;
  private phase: Phase = 'creating';
  private outcome?: LaunchOutcome;
  private readonly done: Promise<LaunchOutcome>;
  private readonly run: ServerRun;
  private readonly startWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private createWaiter?: { resolve: (s: Sandbox) => void; reject: (e: unknown) => void };
  private pidSeen?: number;

  /** Use Husk.create(). */
  constructor(
    private readonly server: LauncherServer,
    id: string,
    plan: Uint8Array,
    private readonly argv0: string,
    /** Called once when the container has ended, before wait() resolves (its network lease goes). */
    onEnd?: () => void,
  ) {
    this.id = id;
    this.run = server.run(plan, {
      onEvent: (ev) => {
        if (ev.kind === 'pid') this.pidSeen = ev.pid;
      },
      onReady: () => {
        if (this.phase !== 'creating') return;
        this.phase = 'created';
        this.server.park(this.run.tag);
        this.createWaiter?.resolve(this);
      },
      onStarted: () => {
        this.phase = 'running';
        for (const w of this.startWaiters.splice(0)) w.resolve();
      },
    });
    this.done = this.run.done.finally(() => onEnd?.()).then((o) => {
      const before = this.phase;
      this.phase = 'ended';
      this.outcome = o;
      if (before === 'creating') this.createWaiter?.reject(this.failure(o, 'before it was created'));
      for (const w of this.startWaiters.splice(0)) w.reject(this.failure(o, 'before it started'));
      return o;
    });
  }

  /** @internal Resolves when the container waits at WAIT_START. */
  created(): Promise<Sandbox> {
    if (this.phase !== 'creating') return this.phase === 'ended' ? Promise.reject(this.failure(this.outcome!, 'before it was created')) : Promise.resolve(this);
    return new Promise((resolve, reject) => (this.createWaiter = { resolve, reject }));
  }

  /** The container process's pid on the host (known once created). */
  get pid(): number | undefined {
    return this.pidSeen;
  }

  /**
   * Lets the container exec its command. Resolves once the exec succeeded; rejects with a
   * HuskError (status 126/127 for exec failures, as run()) when it did not.
   */
  start(): Promise<void> {
    if (this.phase === 'running') return Promise.resolve();
    if (this.phase === 'ended') return Promise.reject(this.failure(this.outcome!, 'before it started'));
    if (this.phase === 'creating') return Promise.reject(new HuskError('usage', 'sandbox: start() before create() resolved'));
    const p = new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
    if (this.phase === 'created') {
      this.phase = 'starting';
      this.server.start(this.run.tag);
    }
    return p;
  }

  /** Resolves when the container has ended, with its status; rejects as run() does. */
  async wait(): Promise<SandboxResult> {
    if (this.phase !== 'ended') this.server.hold(this.run.tag);
    const o = await this.done;
    return { exitCode: statusOf(o, this.argv0) };
  }

  /**
   * Sends a signal to the container (default SIGKILL). A sandbox not started yet is killed
   * (it never runs; wait() gives 137).
   */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    if (this.phase === 'ended') return;
    const signo = typeof signal === 'number' ? signal : constants.signals[signal];
    if (!Number.isInteger(signo) || signo < 1 || signo > 64) throw new HuskError('usage', `kill: unknown signal ${String(signal)}`);
    this.server.hold(this.run.tag);
    this.server.signal(this.run.tag, signo);
  }

  private failure(o: LaunchOutcome, when: string): unknown {
    try {
      const status = statusOf(o, this.argv0);
      return new HuskError('launcher', `the sandbox ended ${when} (status ${status})`);
    } catch (err) {
      return err;
    }
  }
}
