// The image's config (OCI image config "config": Entrypoint, Cmd, Env, WorkingDir, User,
// StopSignal, ExposedPorts) merged with the flags as typed, the way docker merges them
// (moby daemon/create.go merge and the CLI's --entrypoint handling):
//
//   --entrypoint X    the entrypoint is [X] and the image's Cmd is dropped; the command's
//                     arguments are the args typed after IMAGE
//   --entrypoint ''   no entrypoint at all, and the image's Cmd dropped too
//   no --entrypoint   the image's Entrypoint, then the args typed, or else the image's Cmd
//   Env               the image's entries, then -e/--env-file's: a name given again keeps its
//                     place and takes the later value (buildEnv)
//   WorkingDir        -w, else the image's, else / (an empty WorkingDir is /)
//   User              -u, else the image's (resolved by ts/ in the image's /etc/passwd), else 0:0
//   StopSignal        the image's, else SIGTERM; a name ("SIGQUIT", "QUIT"), a number, or
//                     SIGRTMIN+N / SIGRTMAX-N
//
// The request carries the image's values as facts (items 0x0150-0x015f); the merged command
// and stop signal go back in the summary (answers 0x01a4-0x01af), for ts/ to record.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX, STR_MAX, Writer } from "../codec";

export const REQ_IMAGE_ENTRYPOINT: u32 = 0x0150;
export const REQ_IMAGE_CMD: u32 = 0x0151;
export const REQ_IMAGE_ENV: u32 = 0x0152;
export const REQ_IMAGE_WORKDIR: u32 = 0x0153;
export const REQ_IMAGE_USER: u32 = 0x0154;
export const REQ_IMAGE_STOP_SIGNAL: u32 = 0x0155;
export const REQ_IMAGE_EXPOSED_PORTS: u32 = 0x0156;
export const REQ_ENTRYPOINT_FLAG: u32 = 0x0157;
const REQ_FIRST: u32 = 0x0150;
const REQ_LAST: u32 = 0x015f;

export const ANS_COMMAND: u16 = 0x01a4;
export const ANS_STOP_SIGNAL: u16 = 0x01a5;
export const ANS_EXPOSED_PORT: u16 = 0x01a6;

/** IMAGE_USER `known` bits: as USER's (request.ts), and bit 2: ts/ could not resolve it. */
export const IMAGE_USER_GID_TYPED: u64 = 1;
export const IMAGE_USER_PRIMARY_GID: u64 = 2;
export const IMAGE_USER_UNRESOLVED: u64 = 4;
const IMAGE_USER_KNOWN_ALL: u64 = 7;

export const SIGTERM: u64 = 15;
const SIGRTMIN: i32 = 34;
const SIGRTMAX: i32 = 64;
/** Linux's signal names 1-31 (index = number); "" where there is none. */
const SIGNAL_NAMES: string[] = [
  "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
  "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
  "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];
export const EXPOSED_PORTS_MAX: i32 = 1024;

export class ImageConfig {
  /** Any item of this range was sent: the request is for an image with a config. */
  present: bool = false;
  seen: u32 = 0;
  hasEntrypoint: bool = false;
  entrypoint: string[] = [];
  hasCmd: bool = false;
  cmd: string[] = [];
  env: string[] = [];
  workdir: string = "";
  hasUser: bool = false;
  userSpec: string = "";
  uid: u64 = 0;
  gid: u64 = 0;
  primaryGid: u64 = 0;
  userKnown: u64 = 0;
  userProblem: string = "";
  stopSignal: string = "";
  exposedPorts: string[] = [];
  hasEntrypointFlag: bool = false;
  entrypointFlag: string = "";
  // Decided by mergeImageConfig:
  signal: u64 = SIGTERM;
  signalName: string = "SIGTERM";
  ports: string[] = [];
}

export function isImageConfigItem(type: u32): bool {
  return type >= REQ_FIRST && type <= REQ_LAST;
}

function itemName(type: u32): string {
  switch (type) {
    case REQ_IMAGE_ENTRYPOINT: return "IMAGE_ENTRYPOINT";
    case REQ_IMAGE_CMD: return "IMAGE_CMD";
    case REQ_IMAGE_ENV: return "IMAGE_ENV";
    case REQ_IMAGE_WORKDIR: return "IMAGE_WORKDIR";
    case REQ_IMAGE_USER: return "IMAGE_USER";
    case REQ_IMAGE_STOP_SIGNAL: return "IMAGE_STOP_SIGNAL";
    case REQ_IMAGE_EXPOSED_PORTS: return "IMAGE_EXPOSED_PORTS";
    case REQ_ENTRYPOINT_FLAG: return "ENTRYPOINT";
  }
  return "";
}

/** Decodes one item of this range into `c`, or returns why it is malformed. */
export function decodeImageConfigItem(type: u32, ptr: usize, len: i32, index: i32, c: ImageConfig): Failure | null {
  const name = itemName(type);
  if (name.length == 0) return malformed("request: frame " + index.toString() + ": unknown type 0x" + type.toString(16));
  const bit: u32 = 1 << (type - REQ_FIRST);
  if ((c.seen & bit) != 0) return malformed("request: frame " + index.toString() + " (" + name + "): given twice");
  c.seen |= bit;
  c.present = true;
  const f = Fields.ofFrame(ptr, len, index, name);
  switch (type) {
    case REQ_IMAGE_ENTRYPOINT:
      c.hasEntrypoint = true;
      c.entrypoint = f.strs("args", STR_MAX);
      break;
    case REQ_IMAGE_CMD:
      c.hasCmd = true;
      c.cmd = f.strs("args", STR_MAX);
      break;
    case REQ_IMAGE_ENV:
      c.env = f.strs("entries", STR_MAX);
      break;
    case REQ_IMAGE_WORKDIR:
      c.workdir = f.str("path", PATH_MAX);
      break;
    case REQ_IMAGE_USER: {
      c.hasUser = true;
      c.userSpec = f.str("spec", STR_MAX);
      c.uid = f.u64("uid");
      c.gid = f.u64("gid");
      c.primaryGid = f.u64("primary-gid");
      c.userKnown = f.u64("known");
      c.userProblem = f.str("problem", STR_MAX);
      if (f.ok && (c.userKnown & ~IMAGE_USER_KNOWN_ALL) != 0) {
        f.failure = malformed(f.context + ": known: unknown bits 0x" + c.userKnown.toString(16));
      } else if (f.ok && ((c.userKnown & IMAGE_USER_UNRESOLVED) != 0) != (c.userProblem.length > 0)) {
        f.failure = malformed(f.context + ": problem: given exactly when known bit 2 (unresolved) is set");
      }
      break;
    }
    case REQ_IMAGE_STOP_SIGNAL:
      c.stopSignal = f.str("signal", STR_MAX);
      break;
    case REQ_IMAGE_EXPOSED_PORTS:
      c.exposedPorts = f.strs("ports", STR_MAX);
      break;
    case REQ_ENTRYPOINT_FLAG:
      c.hasEntrypointFlag = true;
      c.entrypointFlag = f.str("entrypoint", STR_MAX);
      break;
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** The command docker runs: entrypoint then arguments (the rules at the top of this file). */
export function mergeCommand(c: ImageConfig, args: string[], hasArgs: bool): string[] {
  const out = new Array<string>();
  if (c.hasEntrypointFlag) {
    if (c.entrypointFlag.length > 0) out.push(c.entrypointFlag);
    for (let i = 0; i < args.length; i++) out.push(args[i]);
    return out;
  }
  if (c.hasEntrypoint) for (let i = 0; i < c.entrypoint.length; i++) out.push(c.entrypoint[i]);
  const tail = hasArgs && args.length > 0 ? args : c.cmd;
  for (let i = 0; i < tail.length; i++) out.push(tail[i]);
  return out;
}

/** The image's env entries, then the flags' (buildEnv lets a later one win in place). */
export function mergeEnv(c: ImageConfig, flags: string[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < c.env.length; i++) out.push(c.env[i]);
  for (let i = 0; i < flags.length; i++) out.push(flags[i]);
  return out;
}

function allDigits(s: string, from: i32): bool {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x30 || ch > 0x39) return false;
  }
  return true;
}

function upper(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    out += String.fromCharCode(ch >= 0x61 && ch <= 0x7a ? ch - 32 : ch);
  }
  return out;
}

/** The number of a signal as docker's ParseSignal reads it, or 0 when it names none. */
export function parseSignal(text: string): i32 {
  if (allDigits(text, 0)) {
    if (text.length > 2) return 0;
    const n = I32.parseInt(text, 10);
    return n >= 1 && n <= SIGRTMAX ? n : 0;
  }
  let s = upper(text);
  if (s.startsWith("SIG")) s = s.substring(3);
  for (let i = 1; i < SIGNAL_NAMES.length; i++) if (SIGNAL_NAMES[i] == s) return i;
  if (s == "RTMIN") return SIGRTMIN;
  if (s == "RTMAX") return SIGRTMAX;
  if ((s.startsWith("RTMIN+") || s.startsWith("RTMAX-")) && allDigits(s, 6) && s.length <= 8) {
    const n = I32.parseInt(s.substring(6), 10);
    const v = s.startsWith("RTMIN+") ? SIGRTMIN + n : SIGRTMAX - n;
    return v >= SIGRTMIN && v <= SIGRTMAX ? v : 0;
  }
  return 0;
}

/** "SIGTERM", "SIGRTMIN+3": the canonical name of signal `n` (1-64). */
export function signalName(n: i32): string {
  if (n < SIGNAL_NAMES.length) return "SIG" + SIGNAL_NAMES[n];
  if (n == SIGRTMIN) return "SIGRTMIN";
  if (n == SIGRTMAX) return "SIGRTMAX";
  return "SIGRTMIN+" + (n - SIGRTMIN).toString();
}

/** "80/tcp" from "80", "53/udp" as it is; null when it is not PORT[-PORT][/tcp|udp|sctp]. */
export function normalizePort(spec: string): string | null {
  const slash = spec.indexOf("/");
  const port = slash < 0 ? spec : spec.substring(0, slash);
  const proto = slash < 0 ? "tcp" : spec.substring(slash + 1);
  if (proto != "tcp" && proto != "udp" && proto != "sctp") return null;
  const dash = port.indexOf("-");
  const first = dash < 0 ? port : port.substring(0, dash);
  if (!validPortNumber(first)) return null;
  if (dash >= 0) {
    const last = port.substring(dash + 1);
    if (!validPortNumber(last) || I32.parseInt(last, 10) < I32.parseInt(first, 10)) return null;
  }
  return port + "/" + proto;
}

function validPortNumber(s: string): bool {
  if (!allDigits(s, 0) || s.length > 5) return false;
  const n = I32.parseInt(s, 10);
  return n >= 1 && n <= 65535;
}

/**
 * The image's values decided against the flags: the stop signal and the exposed ports here;
 * the command, env, workdir and user by the caller through the functions above (request.ts
 * applyDefaults). Status 2 names the image's field.
 */
export function checkImageConfig(c: ImageConfig): Failure | null {
  if (c.stopSignal.length > 0) {
    const n = parseSignal(c.stopSignal);
    if (n == 0) return invalid("stop-signal: the image's StopSignal \"" + c.stopSignal + "\" is not a signal");
    c.signal = <u64>n;
    c.signalName = signalName(n);
  }
  if (c.exposedPorts.length > EXPOSED_PORTS_MAX) {
    return invalid("exposed-ports: the image exposes " + c.exposedPorts.length.toString() + " ports (at most " + EXPOSED_PORTS_MAX.toString() + ")");
  }
  const ports = new Array<string>();
  for (let i = 0; i < c.exposedPorts.length; i++) {
    const p = normalizePort(c.exposedPorts[i]);
    if (p === null) return invalid("exposed-ports: \"" + c.exposedPorts[i] + "\" in the image's ExposedPorts is not PORT[/tcp|udp|sctp]");
    if (!ports.includes(p)) ports.push(p);
  }
  c.ports = ports;
  if (c.workdir.length > 0 && c.workdir.charCodeAt(0) != 0x2f) {
    return invalid("workdir: the image's WorkingDir \"" + c.workdir + "\" is not an absolute path");
  }
  return null;
}

/** The answers of this range, written into the summary when the request had an image config. */
export function writeImageConfigAnswers(w: Writer, c: ImageConfig, argv: string[]): void {
  if (!c.present) return;
  w.begin(ANS_COMMAND, "command");
  w.strs("args", argv, STR_MAX);
  w.end();
  w.begin(ANS_STOP_SIGNAL, "stop-signal");
  w.u64(c.signal);
  w.str("name", c.signalName, STR_MAX);
  w.end();
  for (let i = 0; i < c.ports.length; i++) {
    w.begin(ANS_EXPOSED_PORT, "exposed-port");
    w.str("port", c.ports[i], STR_MAX);
    w.end();
  }
}
