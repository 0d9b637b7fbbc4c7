// Typed wrapper of the core's pathVerdicts (docs/policy-core.md "Path safety"). A batch too
// big for one call is split; the symlinks earlier batches declared travel as LINK frames.
import { FieldReader, FrameWriter, HEADER_BYTES, concat, splitFrames } from '../protocol/frames.js';
import {
  ITEM_NAME, ITEM_SYMLINK, VERDICT_LOOP, VERDICT_OK,
  type KnownLink, type PathItem, type Verdict,
} from '../reference/pathsafe.js';
import { CoreError } from './plan.js';
import { call, CORE_INPUT_MAX, type CoreAnswer } from './wasm.js';

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
  const parts = [w.u64(base).frame(PS_OPTIONS)];
  for (const k of known) parts.push(w.str(k.path).str(k.target).frame(PS_LINK));
  for (const item of items) parts.push(w.u64(item.kind).str(item.name).str(item.target).frame(PS_ITEM));
  return concat(parts);
}

export function decodeVerdicts(bytes: Uint8Array): Verdict[] {
  return splitFrames(bytes).map((f) => {
    const r = new FieldReader(f.payload);
    const v = { index: Number(r.u64()), verdict: Number(r.u64()), path: r.str(), target: r.str(), reason: r.str() };
    r.end();
    return v;
  });
}

export function pathVerdictsRaw(request: Uint8Array): CoreAnswer {
  return call('pathVerdicts', request);
}

function itemBytes(item: PathItem): number {
  return HEADER_BYTES + 8 + 8 + Buffer.byteLength(item.name) + Buffer.byteLength(item.target);
}

/** One verdict per item. Throws CoreError (status 1) on a malformed item. */
export function pathVerdicts(items: readonly PathItem[]): Verdict[] {
  const out: Verdict[] = [];
  const links = new Map<string, string>();
  let start = 0;
  while (start < items.length || (start === 0 && out.length === 0 && items.length === 0)) {
    const known = [...links].map(([path, target]) => ({ path, target }));
    let budget = BATCH_BYTES - known.reduce((n, k) => n + HEADER_BYTES + 8 + Buffer.byteLength(k.path) + Buffer.byteLength(k.target), 0);
    let end = start;
    while (end < items.length && (budget -= itemBytes(items[end])) >= 0) end++;
    if (end === start && items.length > 0) end = start + 1;
    const answer = pathVerdictsRaw(encodePathRequest(start, items.slice(start, end), known));
    if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
    for (const v of decodeVerdicts(answer.bytes)) {
      out.push(v);
      const kind = items[v.index].kind;
      if (kind === ITEM_SYMLINK && (v.verdict === VERDICT_OK || v.verdict === VERDICT_LOOP)) links.set(v.path, items[v.index].target);
      else if (v.verdict === VERDICT_OK) links.delete(v.path);
    }
    if (items.length === 0) break;
    start = end;
  }
  return out;
}

export { ITEM_NAME };
