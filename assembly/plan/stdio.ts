// The container's stdio when a monitor holds it (docs/core-abi.md "stdio", docs/protocol.md
// "The container log"): LOG, the file the monitor writes the container's output to as CRI
// lines. Without these items the container shares the launcher's stdio (a foreground run).
//
//   before CLONE   LOG <path>

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX } from "../codec";
import { PlanWriter } from "./encode";

export const REQ_LOG: u32 = 0x0160;
export const REQ_STDIO_FIRST: u32 = 0x0160;
export const REQ_STDIO_LAST: u32 = 0x016f;

export class StdioRequest {
  hasLog: bool = false;
  log: string = "";
  seen: u32 = 0;
}

export function isStdioItem(type: u32): bool {
  return type >= REQ_STDIO_FIRST && type <= REQ_STDIO_LAST;
}

function itemName(type: u32): string {
  switch (type) {
    case REQ_LOG: return "LOG";
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
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** Values (status 2): the log is an absolute path with no `.`, `..` or empty component. */
export function validateStdio(io: StdioRequest): Failure | null {
  if (io.hasLog && !isCleanFile(io.log)) return invalid("log: not an absolute clean file path: \"" + io.log + "\"");
  return null;
}

/** Ops before CLONE. */
export function stdioLauncherOps(plan: PlanWriter, io: StdioRequest): void {
  if (io.hasLog) plan.log(io.log);
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
