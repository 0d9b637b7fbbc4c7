// Every exit status husk gives, chosen here and only here (docker's numbers):
//   the container exited N            → N
//   the container was killed by S     → 128+S (an OOM kill is SIGKILL: 137)
//   its command was not found (ENOENT) → 127
//   its command could not be executed → 126
//   husk's own errors                 → 125
//   a lifecycle command (rm, pause, inspect) some of whose targets failed → 1
// outcome.ts puts the words to them; errors.ts gives each HuskError code its status from here.
import { constants } from 'node:os';
import type { HuskErrorCode } from '../errors.js';

export const STATUS_HUSK_FAILED = 125;
export const STATUS_CANNOT_EXECUTE = 126;
export const STATUS_NOT_FOUND = 127;
const SIGNAL_BASE = 128;
/** A detached container whose launcher left no status (killed or crashed): docker's 255. */
export const STATUS_LOST = 255;
/** `husk rm a b`, `pause`, `inspect`: some target could not be acted on. */
export const STATUS_SOME_TARGETS_FAILED = 1;

const { ENOENT } = constants.errno;

/** The status of each kind of HuskError (the container never ran, or husk failed). */
export const STATUS_OF_CODE: Record<HuskErrorCode, number> = {
  usage: STATUS_HUSK_FAILED,
  'invalid-value': STATUS_HUSK_FAILED,
  rootfs: STATUS_HUSK_FAILED,
  image: STATUS_HUSK_FAILED,
  registry: STATUS_HUSK_FAILED,
  launcher: STATUS_HUSK_FAILED,
  protocol: STATUS_HUSK_FAILED,
  install: STATUS_HUSK_FAILED,
  host: STATUS_HUSK_FAILED,
  internal: STATUS_HUSK_FAILED,
  'cannot-execute': STATUS_CANNOT_EXECUTE,
  'not-found': STATUS_NOT_FOUND,
};

/** How a container ended, as the launcher's EXIT event says. */
export interface ContainerExit {
  how: 'exited' | 'signaled' | 'failed';
  value: number;
}

/**
 * The status of a container that ran: N for exit N, 128+S for signal S. A 'failed' exit (the
 * launcher's own status, or STATUS_LOST) is passed as it is.
 */
export function statusOfExit(exit: ContainerExit): number {
  return exit.how === 'signaled' ? SIGNAL_BASE + exit.value : exit.value;
}

/**
 * The exit code a record shows (`ps`, `inspect`): 0 while the container has not ended (as
 * docker's inspect), then its exit's status; -1 for an ended one with no exit known.
 */
export function recordExitCode(ended: boolean, exit: ContainerExit | undefined): number {
  if (!ended) return 0;
  return exit === undefined ? -1 : statusOfExit(exit);
}

/** The kind of an EXEC failure by its errno: not found (127) or cannot execute (126). */
export function execFailureCode(errno: number): 'not-found' | 'cannot-execute' {
  return errno === ENOENT ? 'not-found' : 'cannot-execute';
}
