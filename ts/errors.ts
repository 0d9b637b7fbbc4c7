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

/** The one line a person reads. */
export function messageOf(err: unknown): string {
  if (err instanceof HuskError) return err.message;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}
