// Typed wrapper of the core's whiteout entry points (docs/policy-core.md "Whiteouts").
// A layer goes in as few calls as fit the core's 4 MiB input; results of several calls are
// merged the way one call would order them (see the doc for the one case a split changes).
import { FrameCursor, FrameWriter, HEADER_BYTES } from '../protocol/frames.js';
import {
  ACTION_CLEAR, ACTION_DELETE, ACTION_SET_XATTR, OPAQUE_NAME, WHITEOUT_PREFIX,
  type Action, type Classified, type LayerEntry, type OutEntry, type UpperEntry,
} from './types.js';
import { CoreError } from './build-plan.js';
import { call, type CoreAnswer } from './wasm.js';

export type { Action, Classified, LayerEntry, OutEntry, UpperEntry };

export const WO_OPTIONS = 0x0301;
export const WO_ENTRY = 0x0302;
export const WO_UPPER = 0x0303;
export const WO_CLASS = 0x0381;
export const WO_ACTION = 0x0382;
export const WO_LAYER = 0x0383;
/** OPTIONS flags: bit 0 userxattr, bit 1 changes only (toOverlay leaves out EXTRACT). */
export const WO_USERXATTR = 1;
export const WO_CHANGES_ONLY = 2;
/** Bit 2: opaque markers as trusted. and user. both (root's store: runs with and without --userns). */
export const WO_BOTH_MARKERS = 4;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Requests of about 1 MiB keep the core's peak memory near 25 MiB (docs/policy-core.md). */
const BATCH_BYTES = 1 << 20;
/** The OPTIONS frame: a header and two u64. */
const OPTIONS_BYTES = HEADER_BYTES + 16;

function entryFrame(w: FrameWriter, e: LayerEntry): void {
  w.begin(WO_ENTRY).str(e.path).u64(e.type).u64(e.size).u64(e.rdev).end();
}

function upperFrame(w: FrameWriter, e: UpperEntry): void {
  w.begin(WO_UPPER).str(e.path).u64(e.type).u64(e.rdev).strs(e.xattrs).end();
}

/** The wrappers' writer: its buffer is kept from call to call (a batch is about 1 MiB). */
const writer = new FrameWriter();

/**
 * Writes requests of at most BATCH_BYTES each (one frame over it goes alone): OPTIONS (with
 * the batch's first index) then items. `visit` gets each as a view, valid until it returns.
 */
export function forEachBatch<T>(items: readonly T[], userxattr: boolean, frame: (w: FrameWriter, item: T) => void, visit: (request: Uint8Array) => void, moreFlags = 0): void {
  const w = writer.reset();
  const flags = (userxattr ? WO_USERXATTR : 0) | moreFlags;
  w.begin(WO_OPTIONS).u64(0).u64(flags).end();
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const start = w.length;
    frame(w, items[i]);
    if (count > 0 && w.length - OPTIONS_BYTES > BATCH_BYTES - HEADER_BYTES - 16) {
      // This item starts the next batch: send the ones before it, then OPTIONS before it.
      visit(w.view(start));
      const rest = w.drop(start).take();
      w.begin(WO_OPTIONS).u64(i).u64(flags).end().raw(rest);
      count = 0;
    }
    count++;
  }
  visit(w.view());
  w.reset();
}

/** The requests forEachBatch writes, as copies. */
export function batches<T>(items: readonly T[], userxattr: boolean, frame: (w: FrameWriter, item: T) => void): Uint8Array[] {
  const out: Uint8Array[] = [];
  forEachBatch(items, userxattr, frame, (request) => out.push(request.slice()));
  return out;
}

/** The answers of `entry` to the batches of `items`. Throws CoreError. */
function answers<T>(entry: string, items: readonly T[], userxattr: boolean, frame: (w: FrameWriter, item: T) => void, moreFlags = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  forEachBatch(items, userxattr, frame, (request) => out.push(answerOf(entry, request)), moreFlags);
  return out;
}

export function encodeLayerRequests(entries: readonly LayerEntry[], userxattr = false): Uint8Array[] {
  return batches(entries, userxattr, entryFrame);
}

export function encodeUpperRequests(entries: readonly UpperEntry[], userxattr = false): Uint8Array[] {
  return batches(entries, userxattr, upperFrame);
}

function answerOf(entry: string, request: Uint8Array): Uint8Array {
  const a = call(entry, request);
  if (a.status !== 0) throw new CoreError(a.status, decoder.decode(a.bytes));
  return a.bytes;
}

export function decodeClasses(bytes: Uint8Array): Classified[] {
  const out: Classified[] = [];
  const r = new FrameCursor(bytes);
  while (r.next()) {
    out.push({ index: r.u64n(), kind: r.u64n(), path: r.str(), reason: r.str() });
    r.end();
  }
  return out;
}

export function decodeActions(bytes: Uint8Array): Action[] {
  const out: Action[] = [];
  const r = new FrameCursor(bytes);
  while (r.next()) {
    out.push({ index: r.u64n(), kind: r.u64n(), path: r.str(), detail: r.str() });
    r.end();
  }
  return out;
}

export function decodeLayerEntries(bytes: Uint8Array): OutEntry[] {
  const out: OutEntry[] = [];
  const r = new FrameCursor(bytes);
  while (r.next()) {
    out.push({ index: r.u64n(), kind: r.u64n(), path: r.str() });
    r.end();
  }
  return out;
}

export function whiteoutRaw(entry: 'whiteoutClassify' | 'whiteoutToOverlay' | 'whiteoutFlatten' | 'whiteoutFromOverlay', request: Uint8Array): CoreAnswer {
  return call(entry, request);
}

/** Plain, whiteout, opaque, skip or invalid, for each entry. */
export function classifyLayer(entries: readonly LayerEntry[]): Classified[] {
  const lists = answers('whiteoutClassify', entries, false, entryFrame).map(decodeClasses);
  return lists.length === 1 ? lists[0] : lists.flat();
}

/**
 * The actions that build an overlay upper dir from a layer. Throws CoreError. `changesOnly`:
 * without the EXTRACT of each plain entry (an unpacker that has written them: MKNOD and
 * SET_XATTR only, and no answer frame per file to decode).
 */
export function layerToOverlay(entries: readonly LayerEntry[], userxattr = false, changesOnly = false, bothMarkers = false): Action[] {
  const lists = answers('whiteoutToOverlay', entries, userxattr, entryFrame, (changesOnly ? WO_CHANGES_ONLY : 0) | (bothMarkers ? WO_BOTH_MARKERS : 0)).map(decodeActions);
  if (lists.length === 1) return lists[0];
  const seen = new Set<string>();
  const xattrs = lists.flat().filter((a) => a.kind === ACTION_SET_XATTR && !seen.has(a.path) && seen.add(a.path));
  return [...lists.flat().filter((a) => a.kind !== ACTION_SET_XATTR), ...xattrs];
}

/** Flatten mode: the layer's deletions (of lower content) first, then its entries. */
export function layerFlatten(entries: readonly LayerEntry[]): Action[] {
  const lists = answers('whiteoutFlatten', entries, false, entryFrame).map(decodeActions);
  if (lists.length === 1) return lists[0];
  const all = lists.flat();
  const seen = new Set<string>();
  const clears = all.filter((a) => a.kind === ACTION_CLEAR && !seen.has(a.path) && seen.add(a.path));
  return [...clears, ...all.filter((a) => a.kind === ACTION_DELETE), ...all.filter((a) => a.kind !== ACTION_CLEAR && a.kind !== ACTION_DELETE)];
}

/** An upper-dir listing → layer entries with `.wh.` names, in layer order. */
export function overlayToLayer(entries: readonly UpperEntry[], userxattr = false): OutEntry[] {
  const lists = answers('whiteoutFromOverlay', entries, userxattr, upperFrame).map(decodeLayerEntries);
  if (lists.length === 1) return lists[0];
  return lists.flat().sort((a, b) => compareLayerPaths(a.path, b.path));
}

export const _forTests = { encoder };

function rank(c: string): number {
  if (c === OPAQUE_NAME) return 0;
  return c.startsWith(WHITEOUT_PREFIX) ? 1 : 2;
}

/** Layer order: a directory, then its opaque marker, its whiteouts, its other children. */
export function compareLayerPaths(a: string, b: string): number {
  return compareLayerParts(a.split('/'), b.split('/'));
}

export function compareLayerParts(pa: string[], pb: string[]): number {
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    if (pa[i] === pb[i]) continue;
    const ra = rank(pa[i]);
    const rb = rank(pb[i]);
    if (ra !== rb) return ra - rb;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}
