// What a container's monitor holds of its stdio (docs/protocol.md "The container log", "The
// attach socket"), as prepare()'s context: the log, the pty (-t) and the attach socket (-i:
// stdin kept open). One place for every command that starts a container the monitor keeps
// (run -d, run -t, and a create/start that wants `husk logs` and `husk attach` to work).
import { attachPath, logPath } from './records.js';

export interface MonitorStdio {
  logFile: string;
  tty?: { rows: number; cols: number };
  attach: { path: string; stdin: boolean; waitClient: boolean };
}

/** `waitClient`: the container starts only once a client attached (run -t in the foreground). */
export function monitorStdio(root: string, id: string, stdio: { tty: boolean; interactive: boolean }, waitClient = false): MonitorStdio {
  return {
    logFile: logPath(root, id),
    tty: stdio.tty ? terminalSize() : undefined,
    attach: { path: attachPath(root, id), stdin: stdio.interactive, waitClient },
  };
}

/** Our terminal's size, for the pty (docker's 24x80 when stdout is not a terminal). */
export function terminalSize(): { rows: number; cols: number } {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { rows: out.rows, cols: out.columns } : { rows: 24, cols: 80 };
}
