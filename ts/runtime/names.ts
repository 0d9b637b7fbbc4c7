// Container names, unique under concurrency: a name is taken by writing the record that
// carries it while holding the name's lock (runtime/lock.ts), after looking at every record
// again, so of many `run --name N` at once exactly one gets N.
import { HuskError } from '../errors.js';
import { nameKey, withContainerLock } from './lock.js';
import { readRecords } from './records.js';
import { beingCreated, isLive } from './state.js';
import type { ContainerRecord } from './state.js';

/** Docker's words for a name another container holds (an exited one holds it until rm). */
export function nameInUse(name: string, holder: ContainerRecord): HuskError {
  return new HuskError('invalid-value', `the container name "${name}" is already in use by container ${holder.id.slice(0, 12)}`, { hint: 'Remove that container (husk rm) to reuse the name.' });
}

/** The record holding `name` among `records`: a live, starting or kept (-d, create) container. */
export function holderOf(records: readonly ContainerRecord[], name: string, except?: string): ContainerRecord | undefined {
  return records.find((r) => r.name === name && r.id !== except && (r.detached === true || isLive(r) || beingCreated(r)));
}

/** Runs `write` (which writes `rec`, named) only if no other record holds its name. */
export async function claimName(root: string, rec: ContainerRecord, write: () => void): Promise<void> {
  const name = rec.name;
  if (name === undefined) return write();
  await withContainerLock(root, nameKey(name), () => {
    const holder = holderOf(readRecords(root), name, rec.id);
    if (holder) throw nameInUse(name, holder);
    write();
  });
}
