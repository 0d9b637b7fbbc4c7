// The container's stdio when a monitor holds it (docs/core-abi.md "stdio", docs/protocol.md
// "The container log"): LOG, the file the monitor writes the container's output to as CRI
// lines; TTY, a pty instead of the output pipes; ATTACH, the socket `husk attach` joins
// (docs/protocol.md "The attach socket"). Without these items the container shares the
// launcher's stdio (a foreground run).
//
//   before CLONE   LOG <path> [TTY <rows> <cols>] [ATTACH <path> <flags>]

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { PlanWriter } from "./encode";

export const REQ_LOG: u32 = 0x0160;
export const REQ_TTY: u32 = 0x0161;
/** The ptmx of the container's devpts instance (dev.ts mounts it), opened by PTY after PIVOT_ROOT. */
export const PTY_PTMX: string = "/dev/pts/ptmx";
export const REQ_ATTACH: u32 = 0x0162;
/** ATTACH flags: bit 0 keep stdin open (-i), bit 1 release the container once a client is attached. */
export const ATTACH_FLAGS_KNOWN: u64 = 3;
export const REQ_STDIO_FIRST: u32 = 0x0160;
export const REQ_STDIO_LAST: u32 = 0x016f;

export class StdioRequest {
  hasLog: bool = false;
  log: string = "";
  hasTty: bool = false;
  rows: u64 = 0;
  cols: u64 = 0;
  hasAttach: bool = false;
  attach: string = "";
  attachFlags: u64 = 0;
  seen: u32 = 0;
}

export function isStdioItem(type: u32): bool {
  return type >= REQ_STDIO_FIRST && type <= REQ_STDIO_LAST;
}

function itemName(type: u32): string {
  switch (type) {
    case REQ_LOG: return "LOG";
    case REQ_TTY: return "TTY";
    case REQ_ATTACH: return "ATTACH";
  }
  return "";
}

/** Decodes one request frame of 0x0160–0x016f into `io`, or says why it is malformed. */
export function decodeStdioFrame(type: u32, ptr: usize, len: i32, index: i32, io: StdioRequest): Failure | null {
  const name = itemName(type);
  if (name.length == 0) return malformed("request: frame " + index.toString() + ": unknown type 0x" + type.toString(16));
  const bit: u32 = 1 << (type - REQ_STDIO_FIRST);
  if ((io.seen & bit) != 0) return malformed("request: frame " + index.toString() + " (" + name + "): given twice");
  io.seen |= bit;
  const f = Fields.ofFrame(ptr, len, index, name);
  switch (type) {
    case REQ_LOG: {
      io.hasLog = true;
      io.log = f.str("path", PATH_MAX);
      break;
    }
    case REQ_TTY: {
      io.hasTty = true;
      io.rows = f.u64("rows");
      io.cols = f.u64("cols");
      break;
    }
    case REQ_ATTACH: {
      io.hasAttach = true;
      io.attach = f.str("path", PATH_MAX);
      io.attachFlags = f.u64("flags");
      if (f.ok && (io.attachFlags & ~ATTACH_FLAGS_KNOWN) != 0) {
        f.failure = malformed(f.context + ": flags: unknown bits 0x" + io.attachFlags.toString(16));
      }
      break;
    }
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** Values (status 2): the log is an absolute path with no `.`, `..` or empty component. */
export function validateStdio(io: StdioRequest): Failure | null {
  if ((io.hasTty || io.hasAttach) && !io.hasLog) return malformed("request: TTY and ATTACH need a LOG frame (the monitor holds the stdio)");
  if (io.hasLog && !isCleanFile(io.log)) return invalid("log: not an absolute clean file path: \"" + io.log + "\"");
  if (io.hasAttach && !isCleanFile(io.attach)) return invalid("attach: not an absolute clean file path: \"" + io.attach + "\"");
  if (io.hasTty && (io.rows == 0 || io.rows > 65535 || io.cols == 0 || io.cols > 65535)) {
    return invalid("tty: a window of " + io.rows.toString() + "x" + io.cols.toString() + " (rows and columns are 1 to 65535)");
  }
  return null;
}

/** Ops before CLONE. */
export function stdioLauncherOps(plan: PlanWriter, io: StdioRequest): void {
  if (io.hasLog) plan.log(io.log);
  if (io.hasTty) plan.tty(io.rows, io.cols);
  if (io.hasAttach) plan.attach(io.attach, io.attachFlags);
}

function isCleanFile(path: string): bool {
  if (path.length < 2 || path.charCodeAt(0) != 0x2f) return false;
  const parts = path.substring(1).split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == "." || p == "..") return false;
  }
  return true;
}
