// seccompCompile(len): a profile in, its BPF program out (docs/core-abi.md "seccompCompile").
// The same compiler serves buildPlan (the SECCOMP op of every container plan) and this entry,
// which engines' OCI configs (linux.seccomp), the tests and the fuzzer call directly.

import { answer, badLength, fail, Failure, inputPointer, malformed } from "../abi";
import { FrameReader, U64S_MAX, Writer } from "../codec";
import { DEFAULT_CAPS } from "../plan/exec";
import { compileProfile } from "./compile";
import { defaultProfile } from "./default";
import { MODE_NONE, MODE_PROFILE, MODE_UNCONFINED, SeccompRequest } from "./items";
import { FLAG_NEW_LISTENER, RET_USER_NOTIF } from "./profile";

export const ANSWER_SECCOMP_FILTER: u16 = 0x0308;
export const ANSWER_SECCOMP_CODE: u16 = 0x0309;

/** A compiled filter: none (unconfined), or flags and a program, or why it cannot be. */
export class Filter {
  failure: Failure | null = null;
  none: bool = false;
  flags: u64 = 0;
  program: u64[] = [];
}

/**
 * The filter a request asks for, for a container with capabilities `caps`; MODE_NONE is the
 * default profile (buildPlan's default).
 */
export function seccompFilter(req: SeccompRequest, caps: u64): Filter {
  const out = new Filter();
  if (req.mode == MODE_UNCONFINED) {
    out.none = true;
    return out;
  }
  if (req.mode != MODE_PROFILE) {
    out.program = defaultProgram(caps, req.kernel);
    return out;
  }
  out.flags = req.profile.flags;
  out.failure = compileProfile(req.profile, caps, req.kernel, out.program);
  if (out.failure === null && notifies(out.program)) out.flags |= FLAG_NEW_LISTENER;
  return out;
}

/** husk run and husk exec have no agent to send a listener to: NOTIFY is refused by name. */
export const NO_LISTENER: string = "seccomp: SCMP_ACT_NOTIFY needs a seccomp agent's socket to send the listener to (OCI linux.seccomp.listenerPath, with husk-runc); husk run has none";

/** BPF_RET|BPF_K: a return of a constant (sock_filter's code in the low 16 bits). */
const RET_K: u64 = 0x06;

/**
 * Whether the program can return SCMP_ACT_NOTIFY's value: the filter then needs a listener
 * (SECCOMP_FILTER_FLAG_NEW_LISTENER). Read off the program, so a rule that docker's
 * conditions left out makes none.
 */
export function notifies(program: u64[]): bool {
  for (let i = 0; i < program.length; i++) {
    const insn = program[i];
    if ((insn & 0xffff) == RET_K && <u32>(insn >> 32) == RET_USER_NOTIF) return true;
  }
  return false;
}

// The default profile's program depends only on the capabilities and the kernel: a warm
// orchestrator (the API) asks for the same one on every run, so the last few are kept
// (a pure function's answers, remembered; ~2 ms of compiling saved per plan).
const DEFAULT_PROGRAMS_KEPT: i32 = 4;
let defaultKeys: string[] = [];
let defaultPrograms: u64[][] = [];

function defaultProgram(caps: u64, kernel: string): u64[] {
  const key = caps.toString() + " " + kernel;
  const at = defaultKeys.indexOf(key);
  if (at >= 0) return defaultPrograms[at];
  const program = new Array<u64>();
  const failure = compileProfile(defaultProfile(), caps, kernel, program);
  assert(failure === null, "defaultProgram: docker's profile fits 4096 instructions");
  if (defaultKeys.length == DEFAULT_PROGRAMS_KEPT) {
    defaultKeys.shift();
    defaultPrograms.shift();
  }
  defaultKeys.push(key);
  defaultPrograms.push(program);
  return program;
}

/** The program in frames of at most U64S_MAX instructions each. */
export function chunks(program: u64[]): u64[][] {
  const out = new Array<u64[]>();
  for (let i = 0; i < program.length; i += U64S_MAX) out.push(program.slice(i, min(i + U64S_MAX, program.length)));
  return out;
}

export function seccompCompile(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new SeccompRequest();
  const frames = new FrameReader(ptr, len);
  while (frames.next()) {
    if (!req.isItem(frames.type)) return fail(malformed(frames.where() + ": unknown type 0x" + frames.type.toString(16)));
    const failure = req.decode(frames.type, frames.payload, frames.payloadLength, frames.index);
    if (failure !== null) return fail(failure);
  }
  if (frames.failure !== null) return fail(frames.failure!);
  const shape = req.check();
  if (shape !== null) return fail(shape);
  if (req.mode == MODE_NONE) return fail(malformed("request: no SECCOMP frame"));
  const filter = seccompFilter(req, req.hasCaps ? req.caps : DEFAULT_CAPS);
  if (filter.failure !== null) return fail(filter.failure!);
  const w = new Writer(1 << 20);
  const program = filter.program;
  w.begin(ANSWER_SECCOMP_FILTER, "SECCOMP_FILTER");
  w.u64(filter.flags);
  w.u64(<u64>program.length);
  w.end();
  const parts = chunks(program);
  for (let i = 0; i < parts.length; i++) {
    w.begin(ANSWER_SECCOMP_CODE, "SECCOMP_CODE");
    w.u64s("instructions", parts[i]);
    w.end();
  }
  assert(w.ok, "seccompCompile: answer");
  return answer(w.buf, w.len);
}
