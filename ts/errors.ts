// One error class for everything husk reports to a person, and the one place codes become
// exit statuses (docker's: 125 husk's own error, 126 cannot execute, 127 not found).

export type HuskErrorCode =
  | 'usage' // a wrong flag or argument
  | 'invalid-value' // a flag's value is wrong (often reported by the policy core)
  | 'rootfs' // the rootfs is missing or not a directory
  | 'image' // an unknown image
  | 'launcher' // the launcher failed to set up the container
  | 'internal' // a bug in husk
  | 'cannot-execute' // the command exists but cannot be executed
  | 'not-found'; // the command does not exist

export const EXIT_STATUS: Record<HuskErrorCode, number> = {
  usage: 125,
  'invalid-value': 125,
  rootfs: 125,
  image: 125,
  launcher: 125,
  internal: 125,
  'cannot-execute': 126,
  'not-found': 127,
};

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

/** The status a command should exit with for an error thrown anywhere below it. */
export function exitStatusOf(err: unknown): number {
  return err instanceof HuskError ? err.exitStatus : 125;
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
  if (err instanceof HuskError) return escapeControls(err.message);
  if (err instanceof Error) return escapeControls(`internal error: ${err.message}`);
  return escapeControls(`internal error: ${String(err)}`);
}

/**
 * What husk writes to stderr for an error: `husk: MESSAGE`, then the hint, each on one line;
 * with `debug`, the stack of an error that is not a HuskError (a bug in husk).
 */
export function reportText(err: unknown, debug = false): string {
  let text = `husk: ${messageOf(err)}\n`;
  if (err instanceof HuskError && err.hint) text += `${escapeControls(err.hint)}\n`;
  if (debug && !(err instanceof HuskError) && err instanceof Error) text += `${err.stack}\n`;
  return text;
}
