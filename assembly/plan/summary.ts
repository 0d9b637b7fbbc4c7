// The summary buildPlan answers with, ahead of the plan (docs/core-abi.md "The summary"): what
// the core chose that ts/ must remember about a container (its own cgroup directories, the
// host id ranges its maps take, the host name it gets, which namespaces are new), so that
// ts/ never decodes the plan to learn it back.
//
// SUMMARY comes first and says where the plan starts; the other frames follow in a fixed
// order; then the plan, byte for byte as the launcher reads it.

import { PATH_MAX, STR_MAX, Writer } from "../codec";
import { IdLine } from "../idmap/lines";
import { IdmapResult } from "../idmap/compute";
import { CgroupRequest, containerDir } from "./cgroup";
import { PLAN_MAX } from "./encode";
import { CLONE_NEWTIME, CLONE_NEWUTS } from "./linux";
import { cloneFlags } from "./namespaces";
import { PlanRequest } from "./request";

export const ANS_SUMMARY: u16 = 0x01a0;
export const ANS_CGROUP_DIR: u16 = 0x01a1;
export const ANS_HOST_RANGE: u16 = 0x01a2;
export const ANS_USERNS_RANGE: u16 = 0x01a3;

/** The namespaces the container gets new (CLONE_NEW* bits, TIME included); the rest are husk's. */
export function newNamespaces(req: PlanRequest): u64 {
  return cloneFlags(req) | (req.hasTimeOffset ? CLONE_NEWTIME : 0);
}

/** The host name set in the container, or "" when it keeps the host's (no new UTS namespace). */
export function chosenHostname(req: PlanRequest): string {
  return (req.namespaces & CLONE_NEWUTS) != 0 && req.hasHostname ? req.hostname : "";
}

function pushRange(starts: u64[], sizes: u64[], l: IdLine): void {
  for (let i = 0; i < starts.length; i++) if (starts[i] == l.outside && sizes[i] == l.count) return;
  starts.push(l.outside);
  sizes.push(l.count);
}

function writeSummaryFrames(w: Writer, req: PlanRequest, maps: IdmapResult, planOffset: u64): void {
  w.begin(ANS_SUMMARY, "summary");
  w.u64(planOffset);
  w.u64(newNamespaces(req));
  w.str("hostname", chosenHostname(req), STR_MAX);
  w.end();
  const cg: CgroupRequest = req.cgroup;
  if (cg.present) {
    for (let i = 0; i < cg.used.length; i++) {
      w.begin(ANS_CGROUP_DIR, "cgroup-dir");
      w.str("path", containerDir(cg, cg.used[i]), PATH_MAX);
      w.end();
    }
  }
  if (!req.userns) return;
  // Every host range the maps take (uid lines, then gid lines, each once): the state record
  // keeps them, so that a later --userns auto avoids them.
  const starts = new Array<u64>();
  const sizes = new Array<u64>();
  for (let i = 0; i < maps.uid.length; i++) pushRange(starts, sizes, maps.uid[i]);
  for (let i = 0; i < maps.gid.length; i++) pushRange(starts, sizes, maps.gid[i]);
  for (let i = 0; i < starts.length; i++) {
    w.begin(ANS_HOST_RANGE, "host-range");
    w.u64(starts[i]);
    w.u64(sizes[i]);
    w.end();
  }
  // The first uid line's host range: for --userns auto, the range the core picked.
  if (maps.uid.length > 0) {
    w.begin(ANS_USERNS_RANGE, "userns-range");
    w.u64(maps.uid[0].outside);
    w.u64(maps.uid[0].count);
    w.end();
  }
}

/**
 * The answer: the summary frames, then the plan's `planLength` bytes. The summary is written
 * twice only in size: once to learn its length (the plan offset it carries), then for good.
 */
export function summaryThenPlan(req: PlanRequest, maps: IdmapResult, plan: ArrayBuffer, planLength: i32): Writer {
  const probe = new Writer(PLAN_MAX);
  writeSummaryFrames(probe, req, maps, 0);
  const w = new Writer(PLAN_MAX + probe.len);
  writeSummaryFrames(w, req, maps, <u64>probe.len);
  assert(w.len == probe.len, "summary: length changed");
  w.raw(plan, planLength);
  return w;
}
