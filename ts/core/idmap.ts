// Typed wrapper of the core's id-map entry points (docs/core-abi.md "idmapCompute",
// "idmapTranslate"). The user-namespace items are also part of the buildPlan request
// (ts/core/build-plan.ts sends idmapFrames' output).
import { FieldReader, FrameWriter, STR_MAX, U64S_MAX, concat, splitFrames } from '../protocol/frames.js';
import type { Direction, IdLine, IdmapAnswer, IdmapCaller, IdmapSpec, IdRangeLike } from './types.js';
import { SUBID_LINE_MAX } from './types.js';
import { CoreError } from './build-plan.js';
import { call, type CoreAnswer } from './wasm.js';

export type { Direction, IdLine, IdmapAnswer, IdmapCaller, IdmapSpec, IdRangeLike };

/**
 * The user-namespace facts of a request: the --userns flag as typed (`host` included, its
 * default), --uidmap/--gidmap, the caller and the subordinate files. The core decides from
 * them whether there is a user namespace (host with maps: yes, with those maps; host alone:
 * no) and its maps; ts/ learns the answer from the summary (PlanSummary.userns).
 */
export type UsernsFacts = Omit<IdmapSpec, 'mode'> & { mode: IdmapSpec['mode'] | 'host' };

export const IDMAP = {
  USERNS: 0x010a,
  USED_RANGE: 0x010b,
  CALLER: 0x0110,
  SUBUID: 0x0111,
  SUBGID: 0x0112,
  MAP: 0x0113,
  MAP_LINE: 0x0114,
  TRANSLATE: 0x0115,
  UID_LINE: 0x0191,
  GID_LINE: 0x0192,
  MAPS: 0x0193,
  HELPER: 0x0194,
  IDS: 0x0195,
  HELPERS: 0x0360,
} as const;

/** USERNS modes: `host` is the --userns flag as typed (or its default); the core decides what it means. */
const MODE = { auto: 1, 'keep-id': 2, maps: 3, host: 4 } as const;
const KIND = { uid: 1, gid: 2 } as const;
const DIRECTION = { 'to-host': 1, 'to-container': 2 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A subordinate id file as SUBUID/SUBGID chunks: whole lines, at most STR_MAX bytes each. A
 * line longer than 65535 bytes cannot be a valid entry and is left out.
 */
export function subidChunks(text: string): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of text.split('\n')) {
    const n = Buffer.byteLength(line);
    if (n > SUBID_LINE_MAX) continue;
    if (bytes + n + 1 > STR_MAX && current.length > 0) {
      chunks.push(current.join('\n'));
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += n + 1;
  }
  if (current.length > 0 && bytes > 1) chunks.push(current.join('\n'));
  return chunks;
}

function mapValue(flag: string, text: string): string {
  if (text.includes('\0')) throw new CoreError(2, `${flag}: "${text.replace(/\0/g, '\\0')}": contains a NUL byte`);
  if (encoder.encode(text).length > STR_MAX) throw new CoreError(2, `${flag}: longer than ${STR_MAX} bytes`);
  return text;
}

function u64Of(field: string, v: number | bigint): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new CoreError(2, `${field}: ${v} is not a whole number`);
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw new CoreError(2, `${field}: ${b} out of range`);
  return b;
}

/** The user-namespace request frames (USERNS, USED_RANGE…, IDMAP_CALLER, SUBUID…, SUBGID…, IDMAP_HELPERS, IDMAP…). */
export function idmapFrames(spec: UsernsFacts, used: readonly { start: number | bigint; size: number | bigint }[] = []): Uint8Array[] {
  const w = new FrameWriter();
  const parts: Uint8Array[] = [];
  const mode = MODE[spec.mode];
  if (mode === undefined) throw new CoreError(2, `userns: unknown mode ${String(spec.mode)}`);
  parts.push(w.u64(mode).u64(spec.mode === 'auto' ? u64Of('userns: size', spec.size ?? 0) : 0n).frame(IDMAP.USERNS));
  for (const r of used) parts.push(w.u64(u64Of('used-range', r.start)).u64(u64Of('used-range', r.size)).frame(IDMAP.USED_RANGE));
  if (spec.caller !== undefined) {
    const c = spec.caller;
    if (c.name.includes('\0') || encoder.encode(c.name).length > STR_MAX) throw new CoreError(2, 'userns: caller name not a user name');
    parts.push(w.u64(c.rootless ? 1 : 0).u64(u64Of('userns: uid', c.uid)).u64(u64Of('userns: gid', c.gid)).str(c.name).frame(IDMAP.CALLER));
  }
  for (const chunk of subidChunks(spec.subuid ?? '')) parts.push(w.str(chunk).frame(IDMAP.SUBUID));
  for (const chunk of subidChunks(spec.subgid ?? '')) parts.push(w.str(chunk).frame(IDMAP.SUBGID));
  if (spec.helpers !== undefined) parts.push(w.str(spec.helpers.newuidmap).str(spec.helpers.newgidmap).frame(IDMAP.HELPERS));
  for (const t of spec.uidmap ?? []) parts.push(w.u64(KIND.uid).str(mapValue('uidmap', t)).frame(IDMAP.MAP));
  for (const t of spec.gidmap ?? []) parts.push(w.u64(KIND.gid).str(mapValue('gidmap', t)).frame(IDMAP.MAP));
  return parts;
}

export function encodeIdmapRequest(spec: UsernsFacts, used: readonly IdRangeLike[] = []): Uint8Array {
  return concat(idmapFrames(spec, used));
}

export function decodeIdmapAnswer(bytes: Uint8Array): IdmapAnswer {
  const answer: IdmapAnswer = { uid: [], gid: [], uidMap: '', gidMap: '', setgroups: 'allow', helper: false };
  let sawMaps = false;
  for (const f of splitFrames(bytes)) {
    const r = new FieldReader(f.payload);
    if (f.type === IDMAP.UID_LINE || f.type === IDMAP.GID_LINE) {
      const line = { inside: Number(r.u64()), outside: Number(r.u64()), count: Number(r.u64()) };
      (f.type === IDMAP.UID_LINE ? answer.uid : answer.gid).push(line);
    } else if (f.type === IDMAP.MAPS) {
      answer.uidMap = r.str();
      answer.gidMap = r.str();
      const setgroups = r.str();
      if (setgroups !== 'allow' && setgroups !== 'deny') throw new CoreError(1, `idmapCompute: setgroups ${setgroups}`);
      answer.setgroups = setgroups;
      answer.helper = r.u64() === 1n;
      sawMaps = true;
    } else if (f.type === IDMAP.HELPER) {
      answer.newuidmapArgs = r.strs();
      answer.newgidmapArgs = r.strs();
    } else {
      throw new CoreError(1, `idmapCompute: answer frame type 0x${f.type.toString(16)}`);
    }
    r.end();
  }
  if (!sawMaps) throw new CoreError(1, 'idmapCompute: answer without MAPS');
  return answer;
}

export function idmapComputeRaw(request: Uint8Array): CoreAnswer {
  return call('idmapCompute', request);
}

/** The maps for `spec` (ranges in `used` are held by other containers). Throws CoreError. */
export function computeIdmap(spec: UsernsFacts, used: readonly IdRangeLike[] = []): IdmapAnswer {
  const answer = idmapComputeRaw(encodeIdmapRequest(spec, used));
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  return decodeIdmapAnswer(answer.bytes);
}

export interface TranslateQuery {
  kind: 'uid' | 'gid';
  direction: Direction;
  ids: readonly number[];
}

export function encodeTranslateRequest(maps: { uid: readonly IdLine[]; gid: readonly IdLine[] }, queries: readonly TranslateQuery[]): Uint8Array {
  const w = new FrameWriter();
  const parts: Uint8Array[] = [];
  for (const kind of ['uid', 'gid'] as const) {
    for (const l of maps[kind]) parts.push(w.u64(KIND[kind]).u64(l.inside).u64(l.outside).u64(l.count).frame(IDMAP.MAP_LINE));
  }
  for (const q of queries) {
    for (let i = 0; i < q.ids.length || i === 0; i += U64S_MAX) parts.push(translateFrame(q, q.ids.slice(i, i + U64S_MAX)));
  }
  return concat(parts);
}

/** One TRANSLATE frame, written straight into one buffer (ids are the bulk of a batch). */
function translateFrame(q: TranslateQuery, ids: readonly number[]): Uint8Array {
  const payload = 8 + 8 + 4 + 8 * ids.length;
  const out = new Uint8Array(8 + payload);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload, true);
  v.setUint16(4, IDMAP.TRANSLATE, true);
  v.setBigUint64(8, BigInt(KIND[q.kind]), true);
  v.setBigUint64(16, BigInt(DIRECTION[q.direction]), true);
  v.setUint32(24, ids.length, true);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isSafeInteger(id) || id < 0) throw new CoreError(2, `${q.kind}: ${id} is not an id`);
    v.setUint32(28 + 8 * i, id % 0x100000000, true);
    v.setUint32(32 + 8 * i, Math.floor(id / 0x100000000), true);
  }
  return out;
}

/** The answer's id lists, one per TRANSLATE frame. */
export function decodeTranslateAnswer(bytes: Uint8Array): number[][] {
  return splitFrames(bytes).map((f) => {
    if (f.type !== IDMAP.IDS) throw new CoreError(1, `idmapTranslate: answer frame type 0x${f.type.toString(16)}`);
    const p = f.payload;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const n = p.byteLength >= 20 ? v.getUint32(16, true) : -1;
    if (n < 0 || p.byteLength !== 20 + 8 * n) throw new CoreError(1, 'idmapTranslate: answer frame of the wrong size');
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = v.getUint32(20 + 8 * i, true) + v.getUint32(24 + 8 * i, true) * 0x100000000;
    return ids;
  });
}

export function idmapTranslateRaw(request: Uint8Array): CoreAnswer {
  return call('idmapTranslate', request);
}

/**
 * Translates ids through the maps, in one call per query list (ids in frames of 1024): the
 * host id of each container id (to-host) or the container id of each host id (to-container);
 * 4294967295 for an id the map does not cover (the kernel shows it as the overflow id 65534).
 */
export function translateIds(maps: { uid: readonly IdLine[]; gid: readonly IdLine[] }, queries: readonly TranslateQuery[]): number[][] {
  const answer = idmapTranslateRaw(encodeTranslateRequest(maps, queries));
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  const lists = decodeTranslateAnswer(answer.bytes);
  const out: number[][] = [];
  let at = 0;
  for (const q of queries) {
    const ids: number[] = [];
    for (let i = 0; i < q.ids.length || i === 0; i += U64S_MAX) ids.push(...lists[at++]);
    out.push(ids);
  }
  return out;
}
