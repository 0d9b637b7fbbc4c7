// The policy core's fuzz harness: structured and random inputs through every registered
// entry point, checking totality (status 0/1/2, never a trap, never a hang), that an answer
// decodes, and that the Wasm answer equals the TypeScript reference's (differential).
//
// Adding an entry point is one `registerTarget({...})` call (see the targets at the bottom).
// Used by scripts/fuzz.mjs (`npm run fuzz -- --minutes N --seed S`) and by the short run in
// test/property/fuzz-short.test.ts.

import { CoreTrapError, call } from '../../ts/core/wasm.js';
import { encodeControlRequest, type ControlRequest } from '../../ts/core/control.js';
import { encodeFsRequest, type FsEntry } from '../../ts/core/fs.js';
import { decodeCgroupWrites, encodeCgroupRequest } from '../../ts/core/cgroup.js';
import { decodeVerdicts, encodePathRequest } from '../../ts/core/pathsafe.js';
import { decodeActions, decodeClasses, decodeLayerEntries, encodeLayerRequests, encodeUpperRequests } from '../../ts/core/whiteout.js';
import { FLAG_NAMES, cgroupWrites as refCgroup, type CgroupFlag, type CgroupHost } from '../reference/cgroup.js';
import { pathVerdicts as refPaths, type PathItem } from '../reference/pathsafe.js';
import {
  classify as refClassify, flatten as refFlatten, fromOverlay as refFromOverlay, toOverlay as refToOverlay,
  type LayerEntry, type UpperEntry,
} from '../reference/whiteout.js';
import { decodeIdmapAnswer, decodeTranslateAnswer, encodeIdmapRequest, encodeTranslateRequest, type TranslateQuery } from '../../ts/core/idmap.js';
import { decodeDescription } from '../../ts/core/describe.js';
import { FieldReader, splitFrames, type FieldValue } from '../../ts/protocol/frames.js';
import { OPS, OP_BY_NAME, PATH_FIELDS, type OpSpec } from '../../ts/protocol/ops.js';
import { decodePlan, encodePlan, runnersOf, type Plan } from '../oracle/plan-codec.js';
import { seccompFrames, type SeccompChoice } from '../../ts/core/seccomp.js';
import { runFilter } from '../oracle/bpf-interpreter.js';
import { decodeDevicesAnswer, devicesFrames, type DeviceRuleSpec } from '../../ts/core/devices.js';
import { runDeviceProgram } from '../oracle/ebpf-interpreter.js';
import { referenceAllows } from '../reference/devices.js';
import { computeIdmap as refIdmap, translate as refTranslate, type IdLine, type IdmapAnswer, type IdmapSpec } from '../reference/idmap.js';

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** The answer a reference gives, in the shape the Wasm answer decodes to. */
export type Expected = { status: 0; value: unknown } | { status: 1 | 2; reason: string };

export interface Case {
  /** The request bytes sent to the entry point. */
  bytes: Uint8Array;
  /** The reference's answer when the bytes are an unmutated encoding, else undefined. */
  expected?: () => Expected;
}

export interface Target {
  /** The entry point's export name. */
  entry: string;
  /** A structured case (an encoded, meaningful request) from the generator. */
  generate(rng: Rng): Case;
  /** Decodes an ok answer (throws if it does not decode) into what `expected` compares to. */
  decode(bytes: Uint8Array): unknown;
  /** Invariants of an ok answer; returns a message when one is broken. */
  check?(value: unknown, c: Case): string | null;
}

export const targets: Target[] = [];

/** Registers an entry point with the fuzzer, the short test and the differential check. */
export function registerTarget(t: Target): void {
  targets.push(t);
}

export interface Failure {
  target: string;
  seed: number;
  message: string;
  bytes: Uint8Array;
}

const decoder = new TextDecoder();
export const HANG_MS = 2000;

/** Random byte damage: flips, truncation, splices, random frames. */
export function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  let b = Uint8Array.from(bytes);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.int(6);
    if (op === 0 && b.length > 0) b[rng.int(b.length)] ^= 1 << rng.int(8);
    else if (op === 1 && b.length > 0) b = b.slice(0, rng.int(b.length));
    else if (op === 2 && b.length > 0) b[rng.int(b.length)] = rng.pick([0, 0xff, 0x7f, 0x80, 1, 2]);
    else if (op === 3) {
      const junk = new Uint8Array(rng.int(40));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.int(256);
      const at = rng.int(b.length + 1);
      b = Uint8Array.from([...b.slice(0, at), ...junk, ...b.slice(at)]);
    } else if (op === 4 && b.length >= 8) {
      // A length field set to an edge.
      const at = rng.int(b.length - 3);
      new DataView(b.buffer).setUint32(at, rng.pick([0, 1, 2, 1024, 262144, 0xffffffff, 1 << 20, (1 << 20) + 1]), true);
    } else if (op === 5) {
      const header = new Uint8Array(8);
      const v = new DataView(header.buffer);
      v.setUint32(0, rng.int(16), true);
      v.setUint16(4, rng.int(0x500), true);
      b = Uint8Array.from([...b, ...header, ...new Uint8Array(v.getUint32(0, true))]);
    }
  }
  return b;
}

export function stable(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Runs one case; returns a failure message or null. */
export function runCase(t: Target, c: Case): string | null {
  const started = performance.now();
  let answer;
  try {
    answer = call(t.entry, c.bytes);
  } catch (err) {
    if (err instanceof CoreTrapError) return `trap: ${err.message}`;
    throw err;
  }
  const ms = performance.now() - started;
  if (ms > HANG_MS) return `hang: ${ms.toFixed(0)} ms`;
  if (answer.status !== 0 && answer.status !== 1 && answer.status !== 2) return `status ${answer.status}`;
  let value: unknown;
  if (answer.status === 0) {
    try {
      value = t.decode(answer.bytes);
    } catch (err) {
      return `answer does not decode: ${(err as Error).message}`;
    }
    const broken = t.check?.(value, c) ?? null;
    if (broken !== null) return `invariant: ${broken}`;
  } else if (answer.bytes.length === 0) {
    return `status ${answer.status} without a reason`;
  }
  if (c.expected) {
    const e = c.expected();
    if (e.status !== answer.status) {
      const got = answer.status === 0 ? 'ok' : decoder.decode(answer.bytes);
      const want = e.status === 0 ? 'ok' : e.reason;
      return `differs from the reference: wasm status ${answer.status} (${got}), reference ${e.status} (${want})`;
    }
    if (e.status === 2 && decoder.decode(answer.bytes) !== e.reason) {
      return `differs from the reference: wasm "${decoder.decode(answer.bytes)}", reference "${e.reason}"`;
    }
    if (e.status === 0 && stable(value) !== stable(e.value)) {
      return `differs from the reference: wasm ${stable(value).slice(0, 400)}, reference ${stable(e.value).slice(0, 400)}`;
    }
  }
  return null;
}

/** The case for seed `seed`: structured (and checked against the reference) or mutated. */
export function caseFor(t: Target, seed: number): Case {
  const rng = new Rng(seed);
  const c = t.generate(rng);
  if (rng.bool(0.3)) return { bytes: mutate(rng, c.bytes) };
  return c;
}

/** Derives the seed of case `i` of a run. */
export function caseSeed(runSeed: number, i: number): number {
  let h = (runSeed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface RunResult {
  executions: number;
  perTarget: Record<string, number>;
  seconds: number;
  failures: Failure[];
}

/** Runs cases round-robin over the targets (`among`: the registered ones) until `ms` passes (or `maxCases`). */
export function run(opts: { seed: number; ms: number; maxCases?: number; only?: string; stopAtFirst?: boolean; among?: Target[] }): RunResult {
  const all = opts.among ?? targets;
  const list = opts.only ? all.filter((t) => t.entry === opts.only) : all;
  if (list.length === 0) throw new Error(`no fuzz target ${opts.only}`);
  const started = performance.now();
  const perTarget: Record<string, number> = {};
  const failures: Failure[] = [];
  let i = 0;
  while (performance.now() - started < opts.ms && (opts.maxCases === undefined || i < opts.maxCases)) {
    const t = list[i % list.length];
    const seed = caseSeed(opts.seed, i);
    const c = caseFor(t, seed);
    const message = runCase(t, c);
    perTarget[t.entry] = (perTarget[t.entry] ?? 0) + 1;
    i++;
    if (message !== null) {
      failures.push({ target: t.entry, seed, message, bytes: c.bytes });
      if (opts.stopAtFirst ?? true) break;
    }
  }
  return { executions: i, perTarget, seconds: (performance.now() - started) / 1000, failures };
}

/** Replays one case by target and case seed (`among`: the registered targets). */
export function replay(entry: string, seed: number, among: Target[] = targets): { message: string | null; bytes: Uint8Array } {
  const t = among.find((x) => x.entry === entry);
  if (!t) throw new Error(`no fuzz target ${entry}`);
  const c = caseFor(t, seed);
  return { message: runCase(t, c), bytes: c.bytes };
}

// ---- Generators -------------------------------------------------------------------------

const EDGE_NUMBERS = ['0', '1', '2', '1024', '262144', '4294967295', '9223372036854775807', '9223372036854775808', '-1', '-2', '+5', '18446744073709551616'];

function sizeText(rng: Rng): string {
  const n = rng.pick([...EDGE_NUMBERS, '6m', '6291455', '6291456', '512m', '1.5g', '0.5k', '1 GiB', '7MB', '3kib', '.5m', '8p', '8191p', '8192p', '1.', '1.2.3', 'm', '', '5x', '5mbb', '1e3', '100000000000000000000']);
  return rng.bool(0.2) ? `${rng.int(4096)}${rng.pick(['', 'k', 'm', 'g', 'M', 'b', 'kb', 'MiB'])}` : n;
}

function cpusetText(rng: Rng): string {
  if (rng.bool(0.2)) return rng.pick(['', ',', '0-', '-1', '1-0', '0,,1', 'a', '0-1-2', '99999999999999999999', '00', '0-00']);
  const items: string[] = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const a = rng.int(6);
    items.push(rng.bool() ? `${a}` : `${a}-${a + rng.int(4)}`);
  }
  return items.join(',');
}

function flagValue(rng: Rng, name: string): string {
  switch (name) {
    case 'memory': case 'memory-reservation': return sizeText(rng);
    case 'memory-swap': return rng.bool(0.3) ? '-1' : sizeText(rng);
    case 'cpus': return rng.pick(['0', '0.001', '0.01', '0.5', '1', '1.5', '2', '2.0000000001', '2.0000000000', '3', '1.', '.5', 'x', '1/2', '65537', '99999999999999999999']);
    case 'cpu-shares': return rng.pick([...EDGE_NUMBERS, '1023', '262143', '262145', '3']);
    case 'cpu-quota': return rng.pick([...EDGE_NUMBERS, '999', '1000', '50000', '150000']);
    case 'cpu-period': return rng.pick([...EDGE_NUMBERS, '999', '1000', '1000000', '1000001', '50000']);
    case 'cpuset-cpus': case 'cpuset-mems': return cpusetText(rng);
    case 'pids-limit': return rng.pick(EDGE_NUMBERS);
    case 'blkio-weight': return rng.pick([...EDGE_NUMBERS, '9', '10', '500', '1000', '1001', '65536']);
    default: {
      const dev = rng.bool(0.9) ? `${rng.pick([8, 253, 4095, 4096, 0])}:${rng.pick([0, 16, 1048575, 1048576])}` : rng.pick(['8', '8:x', 'a:b']);
      const rate = name.endsWith('bps') ? sizeText(rng) : rng.pick([...EDGE_NUMBERS, '100', '18446744073709551615']);
      return rng.bool(0.95) ? `${dev}:${rate}` : dev;
    }
  }
}

export function genCgroup(rng: Rng): { host: CgroupHost; flags: CgroupFlag[] } {
  const host: CgroupHost = {
    layout: rng.bool(0.95) ? 1 + rng.int(2) : rng.int(4),
    cpus: BigInt(rng.bool(0.95) ? 1 + rng.int(8) : rng.pick([0, 65536, 65537])),
    mems: BigInt(rng.bool(0.95) ? 1 + rng.int(3) : rng.pick([0, 65537])),
    flags: BigInt(rng.bool(0.95) ? rng.int(4) : rng.pick([4, 8])),
  };
  const flags: CgroupFlag[] = [];
  const n = rng.int(6);
  for (let i = 0; i < n; i++) {
    const name = rng.bool(0.98) ? rng.pick(FLAG_NAMES) : rng.pick(['memory-swappiness', '', 'MEMORY']);
    flags.push({ name, value: flagValue(rng, name) });
  }
  return { host, flags };
}

const NAMES = ['a', 'b', 'c', 'dir', 'x.txt', '.wh.a', '.wh.b', '.wh..wh..opq', '.wh..wh.plnk', '.wh.', '.wh..', '.wh...', '..', '.', '', 'é', '.wh.dir'];

function genPath(rng: Rng, names = NAMES): string {
  const n = rng.int(5);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(names));
  const p = parts.join('/');
  return rng.bool(0.1) ? '/' + p : rng.bool(0.1) ? './' + p : p;
}

const GOOD_NAMES = ['a', 'b', 'c', 'dir', '.wh.a', '.wh.b', '.wh.dir', '.wh..wh..opq'];

export function genLayer(rng: Rng): LayerEntry[] {
  const n = rng.int(12);
  const out: LayerEntry[] = [];
  const good = rng.bool();
  for (let i = 0; i < n; i++) {
    if (good) {
      const path = genPath(rng, GOOD_NAMES);
      const wh = path.split('/').pop()!.startsWith('.wh.');
      out.push({ path, type: wh ? 1 : rng.pick([1, 2, 2, 3, 5]), size: 0n, rdev: 1n });
      continue;
    }
    out.push({
      path: genPath(rng),
      type: rng.bool(0.97) ? 1 + rng.int(7) : rng.pick([0, 8, 9]),
      size: rng.bool(0.8) ? 0n : BigInt(rng.pick([1, 2, 1024])),
      rdev: rng.bool(0.7) ? 0n : BigInt(rng.pick([1, 0x801])),
    });
  }
  return out;
}

export function genUpper(rng: Rng): UpperEntry[] {
  const n = rng.int(12);
  const out: UpperEntry[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      path: genPath(rng, rng.bool() ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'c', 'd', '.', '..', '.wh.x', 'é']),
      type: rng.bool(0.97) ? 1 + rng.int(8) : rng.pick([0, 9]),
      rdev: rng.bool(0.7) ? 0n : 1n,
      xattrs: rng.bool(0.5) ? [] : [rng.pick(['trusted.overlay.opaque=y', 'user.overlay.opaque=y', 'trusted.overlay.opaque=x', 'user.foo=bar'])],
    });
  }
  return out;
}

export function genPathItems(rng: Rng): PathItem[] {
  const n = rng.int(12);
  const out: PathItem[] = [];
  const names = ['a', 'b', 'lnk', 'etc', 'passwd', '..', '.', ''];
  for (let i = 0; i < n; i++) {
    const kind = rng.bool(0.97) ? 1 + rng.int(3) : rng.pick([0, 4]);
    const name = genPath(rng, names);
    let target = kind === 1 ? '' : genPath(rng, names);
    if (kind !== 1 && rng.bool(0.3)) target = '/' + target;
    if (kind === 1 && rng.bool(0.02)) target = 'x';
    out.push({ kind, name, target });
  }
  return out;
}

// ---- Invariants -------------------------------------------------------------------------

/** A verdict path: "." or clean components, none of them "", "." or "..". */
export function isCleanRelative(p: string): boolean {
  if (p === '.') return true;
  if (p === '' || p.startsWith('/')) return false;
  return p.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

// ---- Targets ----------------------------------------------------------------------------

registerTarget({
  entry: 'cgroupWrites',
  generate(rng) {
    const { host, flags } = genCgroup(rng);
    return { bytes: encodeCgroupRequest(host, flags), expected: () => refCgroup(host, flags) };
  },
  decode: decodeCgroupWrites,
  check(value) {
    for (const w of value as { file: string; value: string }[]) {
      if (w.file === 'cpu.weight' && !(Number(w.value) >= 1 && Number(w.value) <= 10000)) return `cpu.weight ${w.value}`;
      if (w.file === 'io.weight' && !(Number(w.value) >= 1 && Number(w.value) <= 10000)) return `io.weight ${w.value}`;
    }
    return null;
  },
});

function layerCase(rng: Rng, ref: (entries: LayerEntry[], userxattr: boolean) => Expected): Case {
  const entries = genLayer(rng);
  const userxattr = rng.bool();
  return { bytes: encodeLayerRequests(entries, userxattr)[0], expected: () => ref(entries, userxattr) };
}

function checkActionPaths(value: unknown): string | null {
  for (const a of value as { path: string }[]) if (!isCleanRelative(a.path)) return `action path ${a.path}`;
  return null;
}

registerTarget({
  entry: 'whiteoutClassify',
  generate: (rng) => layerCase(rng, (e) => refClassify(0, e)),
  decode: decodeClasses,
  check(value) {
    for (const c of value as { kind: number; path: string }[]) {
      if (c.kind <= 3 && !isCleanRelative(c.path)) return `class path ${c.path}`;
    }
    return null;
  },
});
registerTarget({
  entry: 'whiteoutToOverlay',
  generate: (rng) => layerCase(rng, (e, x) => refToOverlay(0, e, x)),
  decode: decodeActions,
  check: checkActionPaths,
});
registerTarget({
  entry: 'whiteoutFlatten',
  generate: (rng) => layerCase(rng, (e) => refFlatten(0, e)),
  decode: decodeActions,
  check: checkActionPaths,
});
registerTarget({
  entry: 'whiteoutFromOverlay',
  generate(rng) {
    const entries = genUpper(rng);
    const userxattr = rng.bool();
    return { bytes: encodeUpperRequests(entries, userxattr)[0], expected: () => refFromOverlay(0, entries, userxattr) };
  },
  decode: decodeLayerEntries,
  check(value) {
    for (const e of value as { path: string }[]) if (!isCleanRelative(e.path) || e.path === '.') return `layer path ${e.path}`;
    return null;
  },
});
registerTarget({
  entry: 'pathVerdicts',
  generate(rng) {
    const items = genPathItems(rng);
    return { bytes: encodePathRequest(0, items), expected: () => refPaths(0, items) };
  },
  decode: decodeVerdicts,
  check(value) {
    for (const v of value as { verdict: number; path: string; target: string }[]) {
      if (v.verdict === 1 && !isCleanRelative(v.path)) return `verdict path ${v.path} escapes`;
      if (v.verdict === 1 && v.target !== '' && !isCleanRelative(v.target)) return `verdict target ${v.target} escapes`;
    }
    return null;
  },
});

// ---- uid/gid maps (assembly/idmap/) -----------------------------------------------------

const SUBID_OWNERS = ['alice', 'bob', '1000', 'root', '0'];
const EDGE_IDS = [0, 1, 2, 1000, 65536, 100000, 524288, 1879048191, 4294967293, 4294967294, 4294967295];

function genId(rng: Rng): number {
  if (rng.bool(0.15)) return rng.pick(EDGE_IDS);
  return rng.bool(0.5) ? rng.int(2000) : 100000 + rng.int(300000);
}

function genSubid(rng: Rng): string {
  const lines: string[] = [];
  const n = rng.int(6);
  for (let i = 0; i < n; i++) {
    if (rng.bool(0.1)) {
      lines.push(rng.pick(['# x', 'alice:1', 'alice:x:1', ':1:1', 'alice:1:2:3', 'alice:5:0', 'alice:4294967290:10', 'alice:100000:10\r']));
      continue;
    }
    lines.push(`${rng.pick(SUBID_OWNERS)}:${rng.bool(0.7) ? 100000 + 65536 * rng.int(4) : genId(rng)}:${rng.pick([1, 10, 1000, 65536])}`);
  }
  return lines.join('\n');
}

function genMapText(rng: Rng): string {
  if (rng.bool(0.08)) return rng.pick(['', '0:1', '0:1:1:1', 'a:b:c', '-1:0:1', '0:0:0', '0:4294967296:1', '99999999999:0:1', ' 0:1:1', '0:1:1 ']);
  const inside = rng.bool(0.5) ? rng.int(3) * rng.pick([1, 1000]) : genId(rng);
  const count = rng.pick([1, 1, 5, 1000, 65536, genId(rng)]);
  return `${inside}:${genId(rng)}:${count}`;
}

export function genIdmapSpec(rng: Rng): { spec: IdmapSpec; used: { start: number; size: number }[] } {
  const mode = rng.pick(['auto', 'keep-id', 'maps', 'maps'] as const);
  const spec: IdmapSpec = { mode };
  if (mode === 'auto' && rng.bool(0.7)) spec.size = rng.pick([1, 10, 65536, 1878523904, 1878523905, genId(rng)]);
  if (mode === 'maps' || rng.bool(0.05)) {
    const n = 1 + rng.int(4);
    const uid = Array.from({ length: rng.bool(0.8) ? n : 0 }, () => genMapText(rng));
    const gid = Array.from({ length: rng.bool(0.5) || uid.length === 0 ? 1 + rng.int(3) : 0 }, () => genMapText(rng));
    spec.uidmap = uid;
    spec.gidmap = gid;
  }
  if (rng.bool(0.8)) {
    const rootless = rng.bool(0.5);
    spec.caller = { rootless, uid: rootless ? rng.pick([1000, 100005, 0]) : 0, gid: rootless ? rng.pick([1000, 100005]) : 0, name: rng.pick(['alice', 'root', '', 'carol']) };
  }
  if (rng.bool(0.7)) spec.subuid = genSubid(rng);
  if (rng.bool(0.7)) spec.subgid = genSubid(rng);
  const used = Array.from({ length: rng.int(4) }, () => ({ start: rng.bool(0.5) ? 524288 + rng.int(200000) : genId(rng), size: rng.pick([0, 1, 65536, genId(rng)]) }));
  return { spec, used };
}

/** No two lines of a map overlap, inside or outside, and each is within the valid ids. */
export function mapProblem(lines: readonly IdLine[]): string | null {
  for (const l of lines) {
    if (l.count < 1 || l.inside + l.count > 4294967295 || l.outside + l.count > 4294967295) return `line ${JSON.stringify(l)}`;
  }
  for (const side of ['inside', 'outside'] as const) {
    const s = [...lines].sort((a, b) => a[side] - b[side]);
    for (let i = 1; i < s.length; i++) if (s[i - 1][side] + s[i - 1].count > s[i][side]) return `overlap ${side}`;
  }
  return lines.length > 340 ? `${lines.length} lines` : null;
}

registerTarget({
  entry: 'idmapCompute',
  generate(rng) {
    const { spec, used } = genIdmapSpec(rng);
    return { bytes: encodeIdmapRequest(spec, used), expected: () => refIdmap(spec, used) };
  },
  decode: decodeIdmapAnswer,
  check(value) {
    const a = value as IdmapAnswer;
    return mapProblem(a.uid) ?? mapProblem(a.gid);
  },
});

registerTarget({
  entry: 'idmapTranslate',
  generate(rng) {
    const lines = (): IdLine[] => Array.from({ length: rng.int(5) }, () => ({ inside: genId(rng), outside: genId(rng), count: rng.pick([0, 1, 10, 1000, genId(rng)]) }));
    const maps = { uid: lines(), gid: lines() };
    const queries: TranslateQuery[] = Array.from({ length: 1 + rng.int(3) }, () => ({
      kind: rng.pick(['uid', 'gid'] as const),
      direction: rng.pick(['to-host', 'to-container'] as const),
      ids: Array.from({ length: rng.int(20) }, () => genId(rng)),
    }));
    return { bytes: encodeTranslateRequest(maps, queries), expected: () => refTranslate(maps, queries) };
  },
  decode: decodeTranslateAnswer,
});

// controlPlan (docs/core-abi.md "controlPlan"): whatever the record says, every cgroup op of
// the answer acts on a directory strictly below one of the request's mount points.
const CONTROL_MOUNTS = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/freezer', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];
const CONTROL_PARTS = ['husk', 'c1', '..', '.', '', 'etc', 'freezer', 'unified', 'cgroup', 'fs', 'sys'];

function genControlRequest(rng: Rng): ControlRequest {
  const hierarchies = CONTROL_MOUNTS.filter(() => rng.int(3) > 0).map((mountpoint, i) => ({
    version: (mountpoint.endsWith('unified') || i === 3 ? 2 : 1) as 1 | 2,
    mountpoint,
    controllers: mountpoint.endsWith('freezer') ? ['freezer'] : mountpoint.endsWith('memory') ? ['memory'] : [],
  }));
  const dir = () => {
    const base = rng.int(4) === 0 ? '' : rng.pick(CONTROL_MOUNTS);
    return base + Array.from({ length: rng.int(4) }, () => `/${rng.pick(CONTROL_PARTS)}`).join('');
  };
  const action = rng.pick(['freeze', 'thaw', 'kill', 'remove', 'signal'] as const);
  const process = rng.int(2) === 0 ? { pid: rng.pick([0, 1, 4242, 2 ** 31]), startTime: rng.pick(['', '0', '1', '123456']) } : undefined;
  return { action, hierarchies, dirs: Array.from({ length: rng.int(5) }, dir), process, signal: action === 'signal' ? rng.pick([0, 1, 9, 64, 65]) : undefined };
}

/** The mount points of each generated request, for its check. */
const controlMounts = new WeakMap<Uint8Array, string[]>();

registerTarget({
  entry: 'controlPlan',
  generate(rng) {
    const req = genControlRequest(rng);
    const bytes = encodeControlRequest(req);
    controlMounts.set(bytes, req.hierarchies.map((h) => h.mountpoint));
    return { bytes };
  },
  decode(bytes) {
    if (bytes.length === 0) return [];
    // Action 6 (freezer-file, reached by mutation) answers one FREEZER_FILE frame, not a plan:
    // its path is checked like an op's.
    if (bytes.length >= 8 && new DataView(bytes.buffer, bytes.byteOffset).getUint16(4, true) === 0x01c0) {
      const [f] = splitFrames(bytes);
      const r = new FieldReader(f.payload);
      const path = r.str();
      r.strs();
      r.end();
      return [{ name: 'FREEZER_FILE', args: { path } }];
    }
    return decodePlan(bytes).ops;
  },
  check(value, c) {
    // A mutated request may name any mount point: only a structured one is checked here.
    const mounts = controlMounts.get(c.bytes);
    if (mounts === undefined) return null;
    for (const op of value as { name: string; args: Record<string, unknown> }[]) {
      const path = op.args.path;
      if (typeof path !== 'string') continue;
      const below = mounts.some((m) => path.startsWith(`${m}/`) && !path.split('/').slice(1).some((p) => p === '' || p === '.' || p === '..'));
      if (!below) return `${op.name} on ${path}: not below a cgroup mount`;
    }
    return null;
  },
});

// fsPlan (docs/core-abi.md "fsPlan"): whatever paths an archive holds, every path of the
// answer stays inside its root — relative, no `..`, no empty or `.` component (or `.` alone).
const FS_PARTS = ['a', '..', '.', '', 'etc', '...', 'b c', 'é'];

function genFsEntries(rng: Rng): FsEntry[] {
  const path = () => (rng.int(3) === 0 ? '/' : '') + Array.from({ length: rng.int(4) }, () => rng.pick(FS_PARTS)).join('/');
  return Array.from({ length: rng.int(6) }, (): FsEntry => {
    const k = rng.int(3);
    if (k === 0) return { op: 'mknod', path: path(), mode: rng.pick([0o020000, 0o060644, 0o010600, 0o100644, 0o170000, 2 ** 40]), rdev: rng.pick([0, 0x803, 2 ** 32]) };
    if (k === 1) return { op: 'setxattr', path: path(), name: rng.pick(['user.a', 'trusted.overlay.opaque', 'x', '', 'security.capability']), value: new Uint8Array(rng.int(5)) };
    return { op: 'read-xattrs', path: path() };
  });
}

registerTarget({
  entry: 'fsPlan',
  generate(rng) {
    return { bytes: encodeFsRequest(rng.pick(['/layer', '/var/lib/husk/layers/ab/diff']), genFsEntries(rng)) };
  },
  decode(bytes) {
    return decodePlan(bytes).ops;
  },
  check(value) {
    for (const op of value as { name: string; args: Record<string, unknown> }[]) {
      const path = op.args.path as string;
      if (op.name === 'FS_ROOT') continue;
      if (path === '.') continue;
      if (path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) return `${op.name} ${path}: not inside the root`;
    }
    return null;
  },
});

// ---- describePlan: plans read back (assembly/plan/describe.ts) -----------------------------

function genField(rng: Rng, kind: string, field: string): FieldValue {
  const str = (): string => {
    const alphabet = rng.bool(0.8) ? 'abc/._- =\n' : 'é\u00ff\ud800"\\\t';
    // Now and then one at a bound (PATH_MAX 4095, STR_MAX 65536) or just over it.
    if (rng.bool(0.003)) return 'x'.repeat(rng.pick([4095, 4096, 65536, 65537]));
    let s = '';
    for (let i = rng.int(12); i > 0; i--) s += alphabet[rng.int(alphabet.length)];
    return PATH_FIELDS.has(field) ? `/${s}` : s;
  };
  const num = (): bigint => (rng.bool(0.8) ? BigInt(rng.int(70000)) : rng.pick([0n, 1n << 53n, (1n << 64n) - 1n, 0x20000n]));
  if (kind === 'u64') return num();
  if (kind === 'str') return str();
  if (kind === 'strs') return Array.from({ length: rng.int(4) }, str);
  return Array.from({ length: rng.int(4) }, num);
}

/** A random plan: launcher ops, CLONE, parent ops, container ops, [WAIT_START], EXEC; sometimes out of order. */
export function genPlan(rng: Rng): Plan {
  const pick = (sides: string[]): OpSpec[] => OPS.filter((o) => sides.includes(o.side) && o.name !== 'WAIT_START' && o.name !== 'EXEC');
  const op = (spec: OpSpec): Plan['ops'][number] => ({ name: spec.name, args: Object.fromEntries(spec.fields.map(([f, k]) => [f, genField(rng, k, f)])) });
  const some = (specs: OpSpec[], max: number) => Array.from({ length: rng.int(max + 1) }, () => op(rng.pick(specs)));
  const ops = [
    ...some(pick(['pre-clone', 'any']), 4),
    op(OP_BY_NAME.get('CLONE')!),
    ...some(pick(['parent']), 3),
    ...some(pick(['container', 'any']), 8),
    ...(rng.bool(0.2) ? [op(OP_BY_NAME.get('WAIT_START')!)] : []),
    op(OP_BY_NAME.get('EXEC')!),
  ];
  if (rng.bool(0.15)) ops.splice(rng.int(ops.length + 1), 0, ...ops.splice(rng.int(ops.length), 1));
  return { version: rng.bool(0.97) ? 1n : 2n, flags: BigInt(rng.bool(0.97) ? rng.int(4) : 4), ops };
}

/** The oracle's reading of `bytes`, in the shape decodeDescription gives (runners included). */
function oracleDescription(bytes: Uint8Array): Expected {
  try {
    const plan = decodePlan(bytes);
    const runners = runnersOf(plan);
    return { status: 0, value: { version: plan.version, flags: plan.flags, ops: plan.ops.map((o, i) => ({ name: o.name, runner: runners[i], args: o.args })) } };
  } catch (err) {
    return { status: 1, reason: (err as Error).message };
  }
}

registerTarget({
  entry: 'describePlan',
  generate(rng) {
    const plan = genPlan(rng);
    let bytes: Uint8Array;
    try {
      bytes = encodePlan(plan);
    } catch {
      bytes = new Uint8Array(); // a value the frames cannot carry: the empty plan instead
    }
    return { bytes, expected: () => oracleDescription(bytes) };
  },
  decode: decodeDescription,
  // Mutated bytes have no expected answer: whatever the core accepts, the oracle must read the same.
  check(value, c) {
    const o = oracleDescription(c.bytes);
    if (o.status !== 0) return `the core described bytes the oracle refuses (${o.reason})`;
    return stable(o.value) === stable(value) ? null : 'the core and the oracle read the plan differently';
  },
});

// ---- seccompCompile: profiles to BPF (assembly/seccomp/) ------------------------------------
// Any profile, names known or not, values at the edges: the answer is a program of at most
// 4096 instructions that starts by loading the arch and, for any input, returns (no jump out
// of the program, no running off its end: the BPF interpreter throws on either).

const SECCOMP_NAMES = ['read', 'write', 'personality', 'clone', 'socket', 'mount', 'no_such_call', '', 'chown32', 'keyctl', 'futex_waitv', 'ptrace', 'open_tree_attr'];
const SECCOMP_ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'ALLOW', ''];
const SECCOMP_OPS = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ', 'EQ'];
const SECCOMP_VALUES = [0n, 1n, 40n, 0xffffffffn, 0x100000000n, (1n << 64n) - 1n, 1n << 63n];

function genSeccomp(rng: Rng): SeccompChoice {
  const mode = rng.int(10);
  if (mode === 0) return { mode: 'default' };
  if (mode === 1) return { mode: 'unconfined' };
  const errno = () => (rng.bool(0.5) ? undefined : rng.pick([0, 1, 38, 65535, 65536]));
  const syscalls = Array.from({ length: rng.bool(0.05) ? 600 : rng.int(12) }, () => ({
    names: Array.from({ length: rng.int(4) }, () => rng.pick(SECCOMP_NAMES)),
    action: rng.pick(SECCOMP_ACTIONS),
    errnoRet: errno(),
    args: Array.from({ length: rng.int(4) }, () => ({ index: rng.pick([0, 1, 2, 5, 6]), value: rng.pick(SECCOMP_VALUES), valueTwo: rng.pick(SECCOMP_VALUES), op: rng.pick(SECCOMP_OPS) })),
    ...(rng.bool(0.2) ? { includes: { caps: rng.bool(0.5) ? ['CAP_SYS_ADMIN'] : ['CAP_NOPE'], minKernel: rng.pick(['4.8', '99.0', 'x']) }, excludes: { arches: ['amd64'] } } : {}),
  }));
  return {
    mode: 'profile',
    profile: {
      defaultAction: rng.pick(SECCOMP_ACTIONS),
      defaultErrnoRet: errno(),
      architectures: rng.bool(0.5) ? undefined : [rng.pick(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_NOPE'])],
      flags: rng.bool(0.8) ? [] : [rng.pick(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC', 'NOPE'])],
      syscalls,
    },
  };
}

registerTarget({
  entry: 'seccompCompile',
  generate(rng) {
    const choice = genSeccomp(rng);
    return { bytes: Buffer.concat(seccompFrames(choice, rng.pick(['6.1.0', '4.4', '']), choice.mode === 'default' && rng.bool(0.5) ? BigInt(rng.int(2 ** 30)) : undefined)) };
  },
  decode(bytes) {
    const frames = splitFrames(bytes);
    const head = new FieldReader(frames[0].payload);
    const flags = head.u64();
    const count = Number(head.u64());
    const program = Buffer.concat(frames.slice(1).map((f) => f.payload.subarray(4)));
    if (program.length !== count * 8) throw new Error(`${count} instructions announced, ${program.length / 8} sent`);
    return { flags, program: new Uint8Array(program) };
  },
  check(value) {
    const { program } = value as { program: Uint8Array };
    if (program.length === 0) return null; // unconfined
    if (program.length > 4096 * 8) return `${program.length / 8} instructions`;
    if (program[0] !== 0x20 || program[4] !== 4) return 'the program does not start by loading the arch';
    const rng = new Rng(program.length);
    for (let i = 0; i < 40; i++) {
      const nr = rng.pick([0, 1, 56, 135, 41, 0x40000000, 0xffffffff, rng.int(500)]);
      const arch = rng.pick([0xc000003e, 0x40000003, 0xc00000b7]);
      try {
        runFilter(program, { nr, arch, args: Array.from({ length: 6 }, () => rng.pick(SECCOMP_VALUES)) });
      } catch (err) {
        return `nr ${nr} arch 0x${arch.toString(16)}: ${(err as Error).message}`;
      }
    }
    return null;
  },
});

// ---- devicesProgram: device rules to a cgroup v2 BPF program (assembly/cgroup/devices.ts) ---
// Any rules, letters and numbers at the edges: the answer is a program of at most 1024
// instructions (or none: every device allowed) that the eBPF interpreter runs to a 0 or 1 for
// any access; for rules the generator made (unmutated), the answer the v1 kernel would give.

const DEVICE_NUMBERS = [0, 1, 5, 229, 0x7fffffff, 0x80000000, 0xfffffffe];

function genDeviceRules(rng: Rng): DeviceRuleSpec[] {
  const n = rng.bool(0.05) ? 300 : rng.int(14);
  const rules = Array.from({ length: n }, () => ({
    allow: rng.bool(0.5),
    type: rng.pick(['a', 'b', 'c', 'c', 'b', '', 'x']),
    major: rng.bool(0.3) ? undefined : rng.pick([...DEVICE_NUMBERS, rng.int(10)]),
    minor: rng.bool(0.3) ? undefined : rng.pick([...DEVICE_NUMBERS, rng.int(10)]),
    access: rng.pick(['r', 'w', 'm', 'rw', 'rwm', 'mr', '', 'rx']),
  }));
  if (rng.bool(0.5)) rules.unshift({ allow: false, type: 'a', major: undefined, minor: undefined, access: 'rwm' });
  return rules;
}

registerTarget({
  entry: 'devicesProgram',
  generate(rng) {
    const rules = genDeviceRules(rng);
    return { bytes: devicesFrames(rules), rules } as Case;
  },
  decode: decodeDevicesAnswer,
  check(value, c) {
    const program = value as Uint8Array;
    if (program.length > 1024 * 8) return `${program.length / 8} instructions`;
    const rules = (c as Case & { rules?: DeviceRuleSpec[] }).rules;
    const rng = new Rng(program.length + 7);
    for (let i = 0; i < 40; i++) {
      const q = { type: rng.pick([1, 2]), major: rng.pick([...DEVICE_NUMBERS, rng.int(10)]), minor: rng.pick([...DEVICE_NUMBERS, rng.int(10)]), access: 1 + rng.int(7) };
      let allowed = true;
      if (program.length > 0) {
        try {
          const r0 = runDeviceProgram(program, q);
          if (r0 !== 0n && r0 !== 1n) return `returned ${r0}`;
          allowed = r0 === 1n;
        } catch (err) {
          return `${JSON.stringify(q)}: ${(err as Error).message}`;
        }
      }
      if (rules !== undefined) {
        const ref = rules.map((r) => ({ allow: r.allow, type: r.type === '' ? 'a' : r.type, major: r.major === undefined ? -1 : Number(r.major), minor: r.minor === undefined ? -1 : Number(r.minor), access: r.access === '' ? 'rwm' : r.access }));
        if (referenceAllows(ref, q) !== allowed) return `${JSON.stringify(q)}: the program says ${allowed}, the v1 kernel would not`;
      }
    }
    return null;
  },
});
