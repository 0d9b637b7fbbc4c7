// Typed wrapper of the core's pathVerdicts (docs/policy-core.md "Path safety"). A batch too
// big for one call is split; the symlinks earlier batches declared travel as LINK frames.
import { FrameCursor, FrameWriter, HEADER_BYTES } from '../protocol/frames.js';
import {
  ITEM_NAME, ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK,
  type KnownLink, type PathItem, type Verdict,
} from './types.js';
import { CoreError } from './build-plan.js';
import { call, type CoreAnswer } from './wasm.js';

export type { KnownLink, PathItem, Verdict };

export const PS_OPTIONS = 0x0401;
export const PS_ITEM = 0x0402;
export const PS_LINK = 0x0403;
export const PS_VERDICT = 0x0481;

const decoder = new TextDecoder();
/** Requests of about 1 MiB keep the core's peak memory near 25 MiB (docs/policy-core.md). */
const BATCH_BYTES = 1 << 20;

export function encodePathRequest(base: number, items: readonly PathItem[], known: readonly KnownLink[] = []): Uint8Array {
  const w = new FrameWriter();
  w.begin(PS_OPTIONS).u64(base).end();
  for (const k of known) w.begin(PS_LINK).str(k.path).str(k.target).end();
  for (const item of items) w.begin(PS_ITEM).u64(item.kind).str(item.name).str(item.target).end();
  return w.take();
}

export function decodeVerdicts(bytes: Uint8Array): Verdict[] {
  const out: Verdict[] = [];
  const r = new FrameCursor(bytes);
  while (r.next()) {
    out.push({ index: r.u64n(), verdict: r.u64n(), path: r.str(), target: r.str(), reason: r.str() });
    r.end();
  }
  return out;
}

export function pathVerdictsRaw(request: Uint8Array): CoreAnswer {
  return call('pathVerdicts', request);
}

/** The wrapper's writer: its buffer is kept from call to call (a batch is about 1 MiB). */
const writer = new FrameWriter();

/**
 * One call for `items` (answers from index 0), given the symlinks `known` (clean path →
 * target) made before them: pathVerdictsRaw(encodePathRequest(...)) without building a new
 * buffer per call (an unpacker makes one call per thousand entries).
 */
export function pathVerdictsOnce(items: readonly PathItem[], known: ReadonlyMap<string, string>): CoreAnswer {
  const w = writer.reset();
  w.begin(PS_OPTIONS).u64(0).end();
  for (const [path, target] of known) w.begin(PS_LINK).str(path).str(target).end();
  for (const item of items) w.begin(PS_ITEM).u64(item.kind).str(item.name).str(item.target).end();
  const answer = pathVerdictsRaw(w.view());
  w.reset();
  return answer;
}

/** One verdict per item. Throws CoreError (status 1) on a malformed item. */
export function pathVerdicts(items: readonly PathItem[]): Verdict[] {
  const out: Verdict[] = [];
  const links = new Map<string, string>();
  const w = writer;
  let start = 0;
  do {
    w.reset();
    w.begin(PS_OPTIONS).u64(start).end();
    for (const [path, target] of links) w.begin(PS_LINK).str(path).str(target).end();
    let end = start;
    let size = -1;
    for (; end < items.length; end++) {
      const at = w.length;
      const item = items[end];
      w.begin(PS_ITEM).u64(item.kind).str(item.name).str(item.target).end();
      if (w.length > BATCH_BYTES && end > start) {
        size = at; // this item starts the next batch
        break;
      }
    }
    const answer = pathVerdictsRaw(w.view(size < 0 ? w.length : size));
    if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
    const verdicts = decodeVerdicts(answer.bytes);
    const more = end < items.length;
    for (const v of verdicts) {
      out.push(v);
      if (!more) continue; // the links only travel to a next batch
      const kind = items[v.index].kind;
      if (kind === ITEM_SYMLINK && (v.verdict === VERDICT_OK || v.verdict === VERDICT_LOOP)) links.set(v.path, items[v.index].target);
      else if (v.verdict === VERDICT_OK) links.delete(v.path);
    }
    start = end;
  } while (start < items.length);
  return out;
}

export { ITEM_NAME, ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK };
