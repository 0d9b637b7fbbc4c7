// Entry points of the id-map module (docs/core-abi.md "idmapCompute", "idmapTranslate").

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { Fields, FrameReader, STR_MAX, Writer } from "../codec";
import { FIELDS_CONTEXT, frameContext, frameFailure } from "../pathsafe/frame";
import { computeIdmap, IdmapResult } from "./compute";
import { IdLine, mapText, normalizeLines, sortedByOutside, toContainer, toHost } from "./lines";
import {
  ANS_GID_LINE, ANS_HELPER, ANS_IDS, ANS_MAPS, ANS_UID_LINE, checkIdmapShape, decideMode, decodeIdmapItem, IdmapRequest,
  isIdmapItem, KIND_GID, KIND_UID, REQ_MAP_LINE, REQ_TRANSLATE, TO_CONTAINER, TO_HOST,
} from "./request";

const OUTPUT_MAX: i32 = 64 << 20;

/** The newuidmap/newgidmap arguments after the pid: `inside outside count` per line. */
export function helperArgs(lines: IdLine[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i].inside.toString());
    out.push(lines[i].outside.toString());
    out.push(lines[i].count.toString());
  }
  return out;
}

function writeLines(w: Writer, type: u16, lines: IdLine[]): void {
  for (let i = 0; i < lines.length; i++) {
    w.begin(type, "line");
    w.u64(lines[i].inside);
    w.u64(lines[i].outside);
    w.u64(lines[i].count);
    w.end();
  }
}

export function idmapCompute(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const req = new IdmapRequest();
  while (frames.next()) {
    const type = frames.type;
    if (!isIdmapItem(type)) return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + type.toString(16)));
    const failure = decodeIdmapItem(type, frames.payload, frames.payloadLength, frames.index, req);
    if (failure !== null) return fail(failure);
  }
  if (frames.failure !== null) return fail(frames.failure!);
  if ((req.seen & 1) == 0) return fail(malformed("request: no USERNS frame"));
  const shape = checkIdmapShape(req);
  if (shape !== null) return fail(malformed(shape));
  decideMode(req);

  const res = new IdmapResult();
  const bad = computeIdmap(req, res);
  if (bad !== null) return fail(bad);

  const w = new Writer(OUTPUT_MAX);
  writeLines(w, ANS_UID_LINE, res.uid);
  writeLines(w, ANS_GID_LINE, res.gid);
  w.begin(ANS_MAPS, "maps");
  w.str("uid_map", mapText(res.uid), STR_MAX);
  w.str("gid_map", mapText(res.gid), STR_MAX);
  w.str("setgroups", res.setgroupsDeny ? "deny" : "allow", STR_MAX);
  w.u64(res.helper ? 1 : 0);
  w.end();
  if (res.helper) {
    w.begin(ANS_HELPER, "helper");
    w.strs("uid", helperArgs(res.uid), STR_MAX);
    w.strs("gid", helperArgs(res.gid), STR_MAX);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}

class Query {
  constructor(public kind: u64, public direction: u64, public ids: u64[]) {}
}

function translateKind(lines: IdLine[], field: string, out: IdLine[]): Failure | null {
  return normalizeLines(field, lines, out);
}

export function idmapTranslate(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const frames = new FrameReader(ptr, len);
  const uid = new Array<IdLine>();
  const gid = new Array<IdLine>();
  const queries = new Array<Query>();
  while (frames.next()) {
    const f = new Fields(frames.payload, frames.payloadLength, FIELDS_CONTEXT);
    if (frames.type == REQ_MAP_LINE) {
      const kind = f.u64("kind");
      const inside = f.u64("inside");
      const outside = f.u64("outside");
      const count = f.u64("count");
      if (f.ok && kind != KIND_UID && kind != KIND_GID) f.failure = malformed(f.context + ": kind: unknown value " + kind.toString());
      (kind == KIND_UID ? uid : gid).push(new IdLine(inside, outside, count, "", false));
    } else if (frames.type == REQ_TRANSLATE) {
      const kind = f.u64("kind");
      const direction = f.u64("direction");
      const ids = f.u64s("ids");
      if (f.ok && kind != KIND_UID && kind != KIND_GID) f.failure = malformed(f.context + ": kind: unknown value " + kind.toString());
      else if (f.ok && direction != TO_HOST && direction != TO_CONTAINER) {
        f.failure = malformed(f.context + ": direction: unknown value " + direction.toString());
      }
      queries.push(new Query(kind, direction, ids));
    } else {
      return fail(malformed(frameContext(frames.index) + ": unknown type 0x" + frames.type.toString(16)));
    }
    if (!f.finish()) return fail(frameFailure(f.failure!, frames.index));
  }
  if (frames.failure !== null) return fail(frames.failure!);

  const uidLines = new Array<IdLine>();
  const gidLines = new Array<IdLine>();
  let bad = translateKind(uid, "uidmap", uidLines);
  if (bad === null) bad = translateKind(gid, "gidmap", gidLines);
  if (bad !== null) return fail(bad);
  const uidOut = sortedByOutside(uidLines);
  const gidOut = sortedByOutside(gidLines);

  const w = new Writer(OUTPUT_MAX);
  for (let q = 0; q < queries.length; q++) {
    const query = queries[q];
    const lines = query.kind == KIND_UID ? uidLines : gidLines;
    const byOut = query.kind == KIND_UID ? uidOut : gidOut;
    const ids = query.ids;
    const mapped = new Array<u64>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      mapped[i] = query.direction == TO_HOST ? toHost(lines, ids[i]) : toContainer(byOut, ids[i]);
    }
    w.begin(ANS_IDS, "ids");
    w.u64(query.kind);
    w.u64(query.direction);
    w.u64s("ids", mapped);
    w.end();
  }
  if (!w.ok) return fail(malformed(w.failure!));
  return answer(w.buf, w.len);
}

