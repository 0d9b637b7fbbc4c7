// The one file in ts/ that touches the policy core's Wasm memory (docs/core-abi.md).
// build/core.wasm is compiled once, on first use; an instance that trapped is discarded and the
// next call makes a new one from the same compiled module.
import { existsSync, readFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import { notBuilt, packagePath } from '../runtime/paths.js';

/** The largest request the core takes (assembly/abi.ts INPUT_MAX). */
export const CORE_INPUT_MAX = 4 << 20;

export type CoreStatus = 0 | 1 | 2;

export interface CoreAnswer {
  /** 0 ok; 1 malformed request (a bug in ts/); 2 a value the user gave is refused. */
  status: CoreStatus;
  /** The result on 0, else a one-line UTF-8 reason; a copy, owned by the caller. */
  bytes: Uint8Array;
}

/** The core trapped: a bug in the core. The instance is gone; the next call makes a new one. */
export class CoreTrapError extends HuskError {
  readonly entry: string;
  constructor(entry: string, detail: string, cause?: unknown) {
    super('internal', `internal error in the policy core (${entry}): ${detail}`, { cause });
    this.name = 'CoreTrapError';
    this.entry = entry;
  }
}

interface CoreExports {
  memory: WebAssembly.Memory;
  inputBuffer(len: number): number;
  outPtr(): number;
  outLen(): number;
  [entry: string]: unknown;
}

let compiled: WebAssembly.Module | undefined;
let current: CoreExports | undefined;
let lastAbort: string | undefined;

const CORE_WASM = 'build/core.wasm';

/** build/core.wasm of this package, wherever this code runs from (sources, dist/, a bundle). */
export function coreWasmPath(): string {
  const path = packagePath(CORE_WASM);
  if (existsSync(path)) return path;
  throw notBuilt(CORE_WASM); // husk's install, not a bug: 'install', not 'internal'
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  try {
    const bytes = new Uint32Array(memory.buffer.slice(ptr - 4, ptr))[0];
    return Buffer.from(memory.buffer, ptr, bytes).toString('utf16le');
  } catch {
    return `(unreadable string at ${ptr})`;
  }
}

/** build/core.wasm compiled; a file that is not Wasm (truncated, overwritten) is husk's install. */
function compileCore(): WebAssembly.Module {
  const bytes = readFileSync(coreWasmPath());
  try {
    return new WebAssembly.Module(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new HuskError('install', `husk's policy core ${CORE_WASM} is not a usable Wasm module (${why}); run npm install`, { cause: err });
  }
}

function instantiate(): CoreExports {
  compiled ??= compileCore();
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const m = memory ? readAsString(memory, message) : '';
        const f = memory ? readAsString(memory, file) : '';
        lastAbort = `${m || 'abort'} at ${f}:${line}:${column}`;
        throw new WebAssembly.RuntimeError(lastAbort);
      },
    },
  };
  const instance = new WebAssembly.Instance(compiled, imports);
  const exports = instance.exports as unknown as CoreExports;
  memory = exports.memory;
  return exports;
}

function core(): CoreExports {
  current ??= instantiate();
  return current;
}

const encoder = new TextEncoder();

function refused(reason: string): CoreAnswer {
  return { status: 1, bytes: encoder.encode(reason) };
}

/**
 * Calls `entry(len)` with `request` in the core's input buffer and copies its answer out.
 * Throws CoreTrapError when the core traps (and discards the instance).
 */
export function call(entry: string, request: Uint8Array): CoreAnswer {
  if (request.length > CORE_INPUT_MAX) {
    return refused(`request: ${request.length} bytes (at most ${CORE_INPUT_MAX})`);
  }
  const exports = core();
  const fn = exports[entry];
  if (typeof fn !== 'function') throw new HuskError('internal', `the policy core has no entry point ${entry}`);
  lastAbort = undefined;
  try {
    const ptr = exports.inputBuffer(request.length);
    if (ptr === 0) return refused(`request: ${request.length} bytes refused by the input buffer`);
    new Uint8Array(exports.memory.buffer, ptr, request.length).set(request);
    const status = (fn as (len: number) => number)(request.length);
    const bytes = new Uint8Array(exports.memory.buffer, exports.outPtr(), exports.outLen()).slice();
    if (status !== 0 && status !== 1 && status !== 2) {
      current = undefined;
      throw new CoreTrapError(entry, `unknown status ${status}`);
    }
    return { status, bytes };
  } catch (err) {
    current = undefined;
    if (err instanceof CoreTrapError) throw err;
    throw new CoreTrapError(entry, lastAbort ?? (err instanceof Error ? err.message : String(err)), err);
  }
}

/** The core's current memory size in bytes (for tests of bounded memory). */
export function coreMemoryBytes(): number {
  return core().memory.buffer.byteLength;
}

/** Test hook: use another compiled module (undefined: build/core.wasm again). */
export function useCoreModuleForTests(module: WebAssembly.Module | undefined): void {
  compiled = module;
  current = undefined;
}

/** A request written in the core's own memory, and the answer read there (no copies). */
export interface InPlace {
  /** The core's input buffer, `len` bytes: fill it, then call `run`. */
  request: Uint8Array;
  /**
   * Calls `entry(len)`: the status, a view of the answer and the request again (the call may
   * have grown the memory, which leaves older views empty), valid until the next core call.
   */
  run(entry: string, len: number): { status: CoreStatus; answer: Uint8Array; request: Uint8Array };
}

/**
 * The core's input buffer for a request of up to `len` bytes, filled in place (a layer's tar
 * goes from the read straight into the core: ts/image/fast-unpack.ts). Views are valid
 * until the next core call; a trap discards the instance as call() does.
 */
export function inPlace(len: number): InPlace | null {
  if (len > CORE_INPUT_MAX) return null;
  const exports = core();
  const ptr = exports.inputBuffer(len);
  if (ptr === 0) return null;
  return {
    request: new Uint8Array(exports.memory.buffer, ptr, len),
    run(entry, n) {
      const fn = exports[entry];
      if (typeof fn !== 'function') throw new HuskError('internal', `the policy core has no entry point ${entry}`);
      lastAbort = undefined;
      try {
        const status = (fn as (len: number) => number)(n);
        if (status !== 0 && status !== 1 && status !== 2) throw new CoreTrapError(entry, `unknown status ${status}`);
        const buffer = exports.memory.buffer;
        return { status, answer: new Uint8Array(buffer, exports.outPtr(), exports.outLen()), request: new Uint8Array(buffer, ptr, len) };
      } catch (err) {
        if (current === exports) current = undefined;
        if (err instanceof CoreTrapError) throw err;
        throw new CoreTrapError(entry, lastAbort ?? (err instanceof Error ? err.message : String(err)), err);
      }
    },
  };
}
