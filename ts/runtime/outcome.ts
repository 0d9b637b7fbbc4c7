// How a launch ended, in the words and exit statuses of docker.
import { getSystemErrorMap } from 'node:util';
import { HuskError } from '../errors.js';
import { OP_BY_CODE } from '../protocol/ops.js';
import type { LaunchOutcome } from './launcher.js';

const EXEC_CODE = 0x0038;
const ENOENT = 2;

let errnoTable: Map<number, [string, string]> | undefined;

export function errnoText(errno: number): string {
  errnoTable ??= getSystemErrorMap();
  const entry = errnoTable.get(-errno);
  return entry ? entry[1] : `errno ${errno}`;
}

export function errnoName(errno: number): string {
  errnoTable ??= getSystemErrorMap();
  return errnoTable.get(-errno)?.[0] ?? `errno ${errno}`;
}

/** The container's exit status, or a HuskError when the container never ran. */
export function statusOf(outcome: LaunchOutcome, argv0: string): number {
  const { exit, error } = outcome;
  if (exit.how === 'exited') return exit.value;
  if (exit.how === 'signaled') return 128 + exit.value;
  if (error && error.code === EXEC_CODE) {
    if (error.errno === ENOENT) {
      const what = argv0.includes('/') ? `${argv0}: no such file or directory` : `"${argv0}": executable file not found in $PATH`;
      throw new HuskError('not-found', `exec ${what}`);
    }
    throw new HuskError('cannot-execute', `exec "${argv0}": ${errnoText(error.errno).toLowerCase()}`);
  }
  if (error) {
    const op = OP_BY_CODE.get(error.code)?.name.toLowerCase();
    const where = error.index >= 0 ? `op ${error.index}${op ? ` (${op})` : ''}: ` : '';
    const why = error.errno ? `: ${errnoText(error.errno).toLowerCase()}` : '';
    throw new HuskError('launcher', `setting up the container failed: ${where}${error.message}${why}`);
  }
  throw new HuskError('launcher', `the launcher failed with status ${exit.value}`);
}
