// husk exec -t: the command gets a pty held by its launcher (the monitor's pty of run -t:
// docs/protocol.md "The container log"), and husk attaches to it as `husk attach` does —
// raw mode, the window size following ours, restored at the end. The exec's log, events and
// attach socket live in a directory of its own under the container's, removed once it ends.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HuskError } from '../errors.js';
import { joinPlan } from '../core/join-plan.js';
import type { JoinRequest } from '../core/join-plan.js';
import { attach } from './attach-client.js';
import { launchDetached, outcomeOf } from './detach.js';
import { lostLauncher } from './event-fold.js';
import type { ExecFlags } from './exec.js';
import { statusOfExec } from './exec.js';
import { newContainerId } from './prepare.js';
import { stateDir } from './records.js';
import type { ContainerRecord } from './state.js';

/** Our terminal's size, for the pty (docker's 24x80 when stdout is not a terminal). */
function terminalSize(): { rows: number; cols: number } {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { rows: out.rows, cols: out.columns } : { rows: 24, cols: 80 };
}

export async function execWithTty(root: string, rec: ContainerRecord, req: JoinRequest, f: ExecFlags): Promise<number> {
  const dir = join(stateDir(root, rec.id), `exec-${newContainerId().slice(0, 12)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'attach');
  let keep = false;
  try {
    // The monitor waits for our attach before it lets the command run: no output is lost.
    const plan = joinPlan({ ...req, trace: true, dieWithParent: false, stdio: { log: join(dir, 'log'), tty: terminalSize(), attach: { path: socket, stdin: f.interactive, waitClient: true } } });
    let session: Promise<'ended' | 'detached'> | undefined;
    const start = await launchDetached(plan, {
      eventsPath: join(dir, 'events'),
      onSpawn: () => {
        session = attach(socket, { stdin: f.interactive, tty: true, connectMs: 30_000 });
        session.catch(() => undefined);
      },
    });
    if (start.ended?.error) return statusOfExec(rec, start.ended, f.argv[0]);
    if (session === undefined) throw new HuskError('launcher', 'exec -t: the launcher did not start');
    if ((await session) === 'detached') {
      keep = true; // It runs on; its log and socket stay with the container.
      return 0;
    }
    const { outcome, exited } = outcomeOf(join(dir, 'events'));
    if (!exited) lostLauncher(outcome, 'the exec\'s monitor ended without reporting (killed?)');
    return statusOfExec(rec, outcome, f.argv[0]);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
