// How a launch ended, in docker's words; the statuses themselves come from exit-status.ts.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { HuskError } from '../errors.js';
import { OP_BY_CODE, OP_BY_NAME } from '../protocol/ops.js';
import { execFailureCode, statusOfExit } from './exit-status.js';
import type { LaunchOutcome } from './event-fold.js';

const EXEC_CODE = OP_BY_NAME.get('EXEC')!.code;

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

const CLONE_NEWUSER = 0x10000000n;
const ENOSPC = 28;
const EPERM = 1;

function readMaxUserNamespaces(): string | undefined {
  try {
    return readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * A CLONE of a user namespace that the kernel refused for its limit: user.max_user_namespaces
 * at 0 (user namespaces off: EPERM for root, ENOSPC for others) or reached (ENOSPC). One
 * line naming the sysctl; undefined when the limit is not why.
 */
export function usernsLimitLine(errno: number, max: string | undefined): string | undefined {
  if (errno !== ENOSPC && errno !== EPERM) return undefined;
  if (max === '0') return 'user namespaces are disabled here (sysctl user.max_user_namespaces is 0): as root, sysctl -w user.max_user_namespaces=15000';
  if (errno === ENOSPC && max !== undefined) return `the limit of user namespaces is reached (sysctl user.max_user_namespaces is ${max}): end some containers, or as root raise it (sysctl -w user.max_user_namespaces=N)`;
  return undefined;
}

/** The container's exit status, or a HuskError when the container never ran. */
export function statusOf(outcome: LaunchOutcome, argv0: string): number {
  const { exit, error } = outcome;
  if (exit.how !== 'failed') return statusOfExit(exit);
  if (error && error.code === EXEC_CODE) {
    if (execFailureCode(error.errno) === 'not-found') {
      const what = argv0.includes('/') ? `${argv0}: no such file or directory` : `"${argv0}": executable file not found in $PATH`;
      throw new HuskError('not-found', `exec ${what}`);
    }
    throw new HuskError('cannot-execute', `exec "${argv0}": ${errnoText(error.errno).toLowerCase()}`);
  }
  if (error) {
    const op = OP_BY_CODE.get(error.code)?.name.toLowerCase();
    const limit = op === 'clone' && /^clone 0x[0-9a-f]*/.test(error.message) && (BigInt(error.message.split(' ')[1]) & CLONE_NEWUSER) !== 0n
      ? usernsLimitLine(error.errno, readMaxUserNamespaces()) : undefined;
    if (limit) throw new HuskError('launcher', limit);
    // A port's element is there already: another husk (another --root) publishes it.
    if (op === 'nft_elements' && error.errno === constants.errno.EEXIST) {
      throw new HuskError('invalid-value', 'publish: a host port asked for is already allocated (an element of table inet husk holds it)', { hint: 'Choose another host port; nft list table inet husk shows who holds which.' });
    }
    const where = error.index >= 0 ? `op ${error.index}${op ? ` (${op})` : ''}: ` : '';
    const why = error.errno ? `: ${errnoText(error.errno).toLowerCase()}` : '';
    throw new HuskError('launcher', `setting up the container failed: ${where}${error.message}${why}`);
  }
  throw new HuskError('launcher', `the launcher failed with status ${exit.value}`);
}
