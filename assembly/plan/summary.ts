// The summary buildPlan answers with, ahead of the plan (docs/core-abi.md "The summary"): what
// the core chose that ts/ must remember about a container (its own cgroup directories, the
// host id ranges its maps take, the host name it gets, which namespaces are new), so that
// ts/ never decodes the plan to learn it back.
//
// SUMMARY comes first and says where the plan starts; the other frames follow in a fixed
// order; then the plan, byte for byte as the launcher reads it, in the same buffer.

import { HEADER_SIZE, PATH_MAX, STR_MAX, Writer } from "../codec";
import { IdLine } from "../idmap/lines";
import { IdmapResult } from "../idmap/compute";
import { CgroupRequest, containerDir } from "./cgroup";
import { writeImageConfigAnswers } from "./image-config";
import { CLONE_NEWTIME, CLONE_NEWUTS } from "./linux";
import { cloneFlags } from "./namespaces";
import { PlanRequest } from "./request";
import { writeNetSummary } from "../net/attach";

export const ANS_SUMMARY: u16 = 0x01a0;
export const ANS_CGROUP_DIR: u16 = 0x01a1;
export const ANS_HOST_RANGE: u16 = 0x01a2;
export const ANS_USERNS_RANGE: u16 = 0x01a3;
/** Rootless: what the user namespace husk chose limits (docs/core-abi.md "Rootless"). */
export const ANS_USERNS_NOTE: u16 = 0x0370;
/** `--userns auto`: where its ids came from (docs/core-abi.md "Rootless"), for `husk plan`. */
export const ANS_USERNS_CHOICE: u16 = 0x0371;
/** ociPlan: what of config.json it ignored as runc does (docs/core-abi.md "ociPlan"); one line each. */
export const ANS_OCI_WARNING: u16 = 0x03a0;

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

/**
 * Writes the summary frames at the start of `w` (before the plan's HELLO), SUMMARY first; its
 * plan offset is set once the others are written. Everything it says is decided before the
 * plan is written, so the plan follows in the same buffer, never copied.
 */
export function writeSummary(w: Writer, req: PlanRequest, maps: IdmapResult): void {
  assert(w.len == 0, "summary: not first");
  w.begin(ANS_SUMMARY, "summary");
  w.u64(0); // the plan offset, set below
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
  if (req.userns) {
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
    if (maps.note.length > 0) {
      w.begin(ANS_USERNS_NOTE, "userns-note");
      w.str("text", maps.note, STR_MAX);
      w.end();
    }
    if (maps.choice.length > 0) {
      w.begin(ANS_USERNS_CHOICE, "userns-choice");
      w.str("text", maps.choice, STR_MAX);
      w.end();
    }
  }
  writeImageConfigAnswers(w, req.image, req.argv);
  const hostname = chosenHostname(req);
  writeNetSummary(w, req.net, req.id, hostname.length > 0 ? hostname : req.id.slice(0, 12));
  if (w.ok) store<u64>(changetype<usize>(w.buf) + HEADER_SIZE, <u64>w.len);
}
