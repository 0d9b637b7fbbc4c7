// Typed wrapper of the core's whiteout entry points (docs/policy-core.md "Whiteouts").
// A layer goes in as few calls as fit the core's 4 MiB input; results of several calls are
// merged the way one call would order them (see the doc for the one case a split changes).
import { FieldReader, FrameWriter, HEADER_BYTES, concat, splitFrames } from '../protocol/frames.js';
import {
  ACTION_CLEAR, ACTION_DELETE, ACTION_SET_XATTR, compareLayerPaths,
  type Action, type Classified, type LayerEntry, type OutEntry, type UpperEntry,
} from '../reference/whiteout.js';
import { CoreError } from './plan.js';
import { call, CORE_INPUT_MAX, type CoreAnswer } from './wasm.js';

export type { Action, Classified, LayerEntry, OutEntry, UpperEntry };

export const WO_OPTIONS = 0x0301;
export const WO_ENTRY = 0x0302;
export const WO_UPPER = 0x0303;
export const WO_CLASS = 0x0381;
export const WO_ACTION = 0x0382;
export const WO_LAYER = 0x0383;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Requests of about 1 MiB keep the core's peak memory near 25 MiB (docs/policy-core.md). */
const BATCH_BYTES = 1 << 20;

function optionsFrame(base: number, userxattr: boolean): Uint8Array {
  return new FrameWriter().u64(base).u64(userxattr ? 1 : 0).frame(WO_OPTIONS);
}

function entryFrame(w: FrameWriter, e: LayerEntry): Uint8Array {
  return w.str(e.path).u64(e.type).u64(e.size).u64(e.rdev).frame(WO_ENTRY);
}

function upperFrame(w: FrameWriter, e: UpperEntry): Uint8Array {
  return w.str(e.path).u64(e.type).u64(e.rdev).strs(e.xattrs).frame(WO_UPPER);
}

/** Requests of at most BATCH_BYTES each: OPTIONS (with the batch's first index) then items. */
export function batches<T>(items: readonly T[], userxattr: boolean, frame: (w: FrameWriter, item: T) => Uint8Array): Uint8Array[] {
  const w = new FrameWriter();
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let size = 0;
  let first = 0;
  const flush = (next: number) => {
    out.push(concat([optionsFrame(first, userxattr), ...parts]));
    parts = [];
    size = 0;
    first = next;
  };
  items.forEach((item, i) => {
    const f = frame(w, item);
    if (size + f.length > BATCH_BYTES - HEADER_BYTES - 16 && parts.length > 0) flush(i);
    parts.push(f);
    size += f.length;
  });
  if (parts.length > 0 || out.length === 0) flush(items.length);
  return out;
}

export function encodeLayerRequests(entries: readonly LayerEntry[], userxattr = false): Uint8Array[] {
  return batches(entries, userxattr, entryFrame);
}

export function encodeUpperRequests(entries: readonly UpperEntry[], userxattr = false): Uint8Array[] {
  return batches(entries, userxattr, upperFrame);
}

function str(r: FieldReader): string {
  return r.str();
}

function answerOf(entry: string, request: Uint8Array): Uint8Array {
  const a = call(entry, request);
  if (a.status !== 0) throw new CoreError(a.status, decoder.decode(a.bytes));
  return a.bytes;
}

export function decodeClasses(bytes: Uint8Array): Classified[] {
  return splitFrames(bytes).map((f) => {
    const r = new FieldReader(f.payload);
    const c = { index: Number(r.u64()), kind: Number(r.u64()), path: str(r), reason: str(r) };
    r.end();
    return c;
  });
}

export function decodeActions(bytes: Uint8Array): Action[] {
  return splitFrames(bytes).map((f) => {
    const r = new FieldReader(f.payload);
    const a = { index: Number(r.u64()), kind: Number(r.u64()), path: str(r), detail: str(r) };
    r.end();
    return a;
  });
}

export function decodeLayerEntries(bytes: Uint8Array): OutEntry[] {
  return splitFrames(bytes).map((f) => {
    const r = new FieldReader(f.payload);
    const e = { index: Number(r.u64()), kind: Number(r.u64()), path: str(r) };
    r.end();
    return e;
  });
}

export function whiteoutRaw(entry: 'whiteoutClassify' | 'whiteoutToOverlay' | 'whiteoutFlatten' | 'whiteoutFromOverlay', request: Uint8Array): CoreAnswer {
  return call(entry, request);
}

/** Plain, whiteout, opaque, skip or invalid, for each entry. */
export function classifyLayer(entries: readonly LayerEntry[]): Classified[] {
  return encodeLayerRequests(entries).flatMap((req) => decodeClasses(answerOf('whiteoutClassify', req)));
}

/** The actions that build an overlay upper dir from a layer. Throws CoreError. */
export function layerToOverlay(entries: readonly LayerEntry[], userxattr = false): Action[] {
  const lists = encodeLayerRequests(entries, userxattr).map((req) => decodeActions(answerOf('whiteoutToOverlay', req)));
  if (lists.length === 1) return lists[0];
  const seen = new Set<string>();
  const xattrs = lists.flat().filter((a) => a.kind === ACTION_SET_XATTR && !seen.has(a.path) && seen.add(a.path));
  return [...lists.flat().filter((a) => a.kind !== ACTION_SET_XATTR), ...xattrs];
}

/** Flatten mode: the layer's deletions (of lower content) first, then its entries. */
export function layerFlatten(entries: readonly LayerEntry[]): Action[] {
  const lists = encodeLayerRequests(entries).map((req) => decodeActions(answerOf('whiteoutFlatten', req)));
  if (lists.length === 1) return lists[0];
  const all = lists.flat();
  const seen = new Set<string>();
  const clears = all.filter((a) => a.kind === ACTION_CLEAR && !seen.has(a.path) && seen.add(a.path));
  return [...clears, ...all.filter((a) => a.kind === ACTION_DELETE), ...all.filter((a) => a.kind !== ACTION_CLEAR && a.kind !== ACTION_DELETE)];
}

/** An upper-dir listing → layer entries with `.wh.` names, in layer order. */
export function overlayToLayer(entries: readonly UpperEntry[], userxattr = false): OutEntry[] {
  const lists = encodeUpperRequests(entries, userxattr).map((req) => decodeLayerEntries(answerOf('whiteoutFromOverlay', req)));
  if (lists.length === 1) return lists[0];
  return lists.flat().sort((a, b) => compareLayerPaths(a.path, b.path));
}

export const _forTests = { encoder };
