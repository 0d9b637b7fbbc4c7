// One error class for everything husk reports to a person, and the one reporter's text.
// Each code's exit status comes from runtime/exit-status.ts (docker's: 125 husk's own error,
// 126 cannot execute, 127 not found).
import { STATUS_OF_CODE } from './runtime/exit-status.js';

export type HuskErrorCode =
  | 'usage' // a wrong flag or argument
  | 'invalid-value' // a flag's value is wrong (often reported by the policy core)
  | 'rootfs' // the rootfs is missing or not a directory
  | 'image' // an unknown image
  | 'registry' // a registry refused, failed, or sent what is not an image (pull, push, login)
  | 'launcher' // the launcher failed to set up the container
  | 'protocol' // the launcher's frames are not what husk speaks (another version, a corrupt file)
  | 'install' // husk's own files are missing or unusable (the launcher, the core, the package)
  | 'host' // a call to the host's kernel failed (its errno says why)
  | 'internal' // a bug in husk
  | 'cannot-execute' // the command exists but cannot be executed
  | 'not-found'; // the command does not exist

/** Each code's exit status (chosen in runtime/exit-status.ts, with every other status). */
export const EXIT_STATUS: Readonly<Record<HuskErrorCode, number>> = STATUS_OF_CODE;

export class HuskError extends Error {
  readonly code: HuskErrorCode;
  readonly hint?: string;

  constructor(code: HuskErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HuskError';
    this.code = code;
    this.hint = options.hint;
  }

  get exitStatus(): number {
    return EXIT_STATUS[this.code];
  }
}

/**
 * Any error as a HuskError: a failed host call (a Node errno error: EACCES on the state
 * directory, ENOSPC, ...) is 'host' and names its call and path; anything else that is not a
 * HuskError is a bug ('internal').
 */
export function toHuskError(err: unknown): HuskError {
  if (err instanceof HuskError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const text = errnoMessage(e);
    return new HuskError('host', `${e.syscall}${e.path ? ` ${e.path}` : ''}: ${text}`, { cause: err });
  }
  return new HuskError('internal', `internal error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** "permission denied" from "EACCES: permission denied, open '/x'" (Node's errno message). */
function errnoMessage(e: NodeJS.ErrnoException): string {
  const m = /^[A-Z0-9]+: ([^,]*)/.exec(e.message);
  return m ? m[1] : (e.code ?? e.message);
}

/** The status a command should exit with for an error thrown anywhere below it. */
export function exitStatusOf(err: unknown): number {
  return toHuskError(err).exitStatus;
}

// C0 controls and DEL, C1 controls (a terminal takes 0x9b as CSI), and the two Unicode line
// breaks. A backslash stays as it is: the escapes read unambiguously enough for a person, and
// ordinary paths and values print unchanged.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
}

/** `text` with every control character as a visible escape: it prints as one line, as typed. */
export function escapeControls(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text;
}

/** The one line a person reads (user input in it cannot start a line of its own). */
export function messageOf(err: unknown): string {
  const e = toHuskError(err);
  const text = e.code === 'internal' && !e.message.startsWith('internal error') ? `internal error: ${e.message}` : e.message;
  return escapeControls(text);
}

/**
 * What husk writes to stderr for an error: `husk: MESSAGE`, then the hint, each on one line;
 * with `debug`, the stack of an error that is not a HuskError (a bug in husk).
 */
export function reportText(err: unknown, debug = false): string {
  let text = `husk: ${messageOf(err)}\n`;
  if (err instanceof HuskError && err.hint) text += `${escapeControls(err.hint)}\n`;
  if (debug && toHuskError(err).code === 'internal' && err instanceof Error) text += `${err.stack}\n`;
  return text;
}
