// Plain TypeScript reference of assembly/pathsafe/: entry names, symlink targets and hardlink
// targets resolved against a root the way securejoin does, over the symlinks the batch
// itself declares (docs/policy-core.md "Path safety"). Strings are byte strings.

import type { Answer } from './cgroup.js';
import { cleanParts, joinParts } from './whiteout.js';
import type { KnownLink, PathItem, Verdict } from '../../ts/core/types.js';
import { ITEM_HARDLINK, ITEM_NAME, ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK, VERDICT_REFUSED } from '../../ts/core/types.js';

export type { KnownLink, PathItem, Verdict };
export { ITEM_HARDLINK, ITEM_NAME, ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK, VERDICT_REFUSED };


export const SYMLINKS_MAX = 40;
export const RESOLVED_MAX = 4095;

/** Resolution failed: a loop (too many symlinks) or a path over RESOLVED_MAX. */
class Unresolvable {
  constructor(public reason: string) {}
}

/**
 * Walks `path` from `start` (components from the root), following the batch's symlinks in
 * every component but the last (and the last too when `followLast`); `..` stops at the root.
 */
function resolve(start: string[], path: string, followLast: boolean, links: Map<string, string>): string[] {
  const resolved = path.startsWith('/') ? [] : start.slice();
  let queue = path.split('/').reverse();
  let followed = 0;
  let length = 0;
  for (const c of resolved) length += c.length + 1;
  while (queue.length > 0) {
    const c = queue.pop()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      const gone = resolved.pop();
      if (gone !== undefined) length -= gone.length + 1;
      continue;
    }
    const key = resolved.length === 0 ? c : resolved.join('/') + '/' + c;
    const target = links.get(key);
    if (target !== undefined) {
      const last = queue.every((q) => q === '' || q === '.');
      if (!last || followLast) {
        followed++;
        if (followed > SYMLINKS_MAX) throw new Unresolvable('too many levels of symbolic links');
        if (target.startsWith('/')) {
          resolved.length = 0;
          length = 0;
        }
        queue = queue.concat(target.split('/').reverse());
        continue;
      }
    }
    resolved.push(c);
    length += c.length + 1;
    if (length - 1 > RESOLVED_MAX) throw new Unresolvable(`resolves to a path longer than ${RESOLVED_MAX} bytes`);
  }
  return resolved;
}

function refused(index: number, reason: string): Verdict {
  return { index, verdict: VERDICT_REFUSED, path: '', target: '', reason };
}

/** One verdict per item, in order; symlinks join the table after their own verdict. */
export function pathVerdicts(base: number, items: PathItem[], known: readonly KnownLink[] = []): Answer<Verdict[]> {
  const links = new Map<string, string>();
  for (const k of known) {
    const parts = cleanParts(k.path);
    if (parts === null || parts.length === 0 || joinParts(parts) !== k.path || k.target === '') {
      return { status: 1, reason: 'known link: needs a clean path and a target' };
    }
    links.set(k.path, k.target);
  }
  const out: Verdict[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const index = base + i;
    if (item.kind !== ITEM_NAME && item.kind !== ITEM_SYMLINK && item.kind !== ITEM_HARDLINK) {
      return { status: 1, reason: `item ${index}: kind ${item.kind} unknown` };
    }
    if (item.kind === ITEM_NAME && item.target !== '') return { status: 1, reason: `item ${index}: a name has no target` };
    if (cleanParts(item.name) === null) {
      out.push(refused(index, 'name: escapes the root'));
      continue;
    }
    let where: string[];
    try {
      where = resolve([], item.name, false, links);
    } catch (e) {
      if (!(e instanceof Unresolvable)) throw e;
      out.push(refused(index, 'name: ' + e.reason));
      continue;
    }
    const path = joinParts(where);
    if (item.kind !== ITEM_NAME && where.length === 0) {
      out.push(refused(index, 'name: a link cannot replace the root'));
      continue;
    }
    if (item.kind === ITEM_NAME) {
      links.delete(path);
      out.push({ index, verdict: VERDICT_OK, path, target: '', reason: '' });
      continue;
    }
    if (item.target === '') {
      out.push(refused(index, 'target: empty'));
      continue;
    }
    if (item.kind === ITEM_HARDLINK) {
      if (cleanParts(item.target) === null) {
        out.push(refused(index, 'target: hardlink target outside the root'));
        continue;
      }
      let to: string[];
      try {
        to = resolve([], item.target, false, links);
      } catch (e) {
        if (!(e instanceof Unresolvable)) throw e;
        out.push(refused(index, 'target: ' + e.reason));
        continue;
      }
      if (to.length === 0) {
        out.push(refused(index, 'target: a hardlink to the root'));
        continue;
      }
      links.delete(path);
      out.push({ index, verdict: VERDICT_OK, path, target: joinParts(to), reason: '' });
      continue;
    }
    // A symlink: its target resolves from the link's directory; absolute ones from the root.
    let verdict: Verdict;
    try {
      const to = resolve(where.slice(0, -1), item.target, true, links);
      verdict = { index, verdict: VERDICT_OK, path, target: joinParts(to), reason: '' };
    } catch (e) {
      if (!(e instanceof Unresolvable)) throw e;
      verdict = { index, verdict: VERDICT_LOOP, path, target: '', reason: 'target: ' + e.reason };
    }
    links.set(path, item.target);
    out.push(verdict);
  }
  return { status: 0, value: out };
}
