// The calling convention of the policy core (docs/core-abi.md): one input buffer the caller
// fills, one output buffer the caller reads, and a status code per call.
//
// Byte strings: every `string` inside the core holds one byte per char code (0..255), so a
// path or an argument that is not valid UTF-8 crosses the core unchanged. Literals in the
// core are ASCII. `bytesToString` and `Writer.str` (codec.ts) are the only conversions.

export const STATUS_OK: i32 = 0;
/** The request is not what docs/core-abi.md describes: a bug in ts/. */
export const STATUS_MALFORMED: i32 = 1;
/** A value the user gave is refused: the reason names the field. */
export const STATUS_INVALID: i32 = 2;

/** The largest request `inputBuffer` accepts: 4 MiB, like the largest plan. */
export const INPUT_MAX: i32 = 4 << 20;

/** An answer that is not a result: a status (1 or 2) and a one-line reason. */
export class Failure {
  constructor(public status: i32, public reason: string) {}
}

export function malformed(reason: string): Failure {
  return new Failure(STATUS_MALFORMED, reason);
}

export function invalid(reason: string): Failure {
  return new Failure(STATUS_INVALID, reason);
}

let input: ArrayBuffer = new ArrayBuffer(4096);
let output: ArrayBuffer = new ArrayBuffer(0);
let outputLength: i32 = 0;

/** A pointer to at least `len` bytes the caller may fill, or 0 when `len` is over INPUT_MAX. */
export function inputBuffer(len: i32): usize {
  if (len < 0 || len > INPUT_MAX) return 0;
  if (len > input.byteLength) {
    let capacity = input.byteLength;
    while (capacity < len) capacity <<= 1;
    if (capacity > INPUT_MAX) capacity = INPUT_MAX;
    input = new ArrayBuffer(capacity);
  }
  return changetype<usize>(input);
}

/** The start of the request, or 0 when `len` does not fit the buffer `inputBuffer` gave. */
export function inputPointer(len: i32): usize {
  if (len < 0 || len > input.byteLength) return 0;
  return changetype<usize>(input);
}

export function outPtr(): usize {
  return changetype<usize>(output);
}

export function outLen(): i32 {
  return outputLength;
}

/** Publishes the first `length` bytes of `bytes` as the answer; returns STATUS_OK. */
export function answer(bytes: ArrayBuffer, length: i32): i32 {
  assert(length >= 0 && length <= bytes.byteLength, "answer: length out of bounds");
  output = bytes;
  outputLength = length;
  return STATUS_OK;
}

/** Publishes the reason of `failure` as the answer; returns its status. */
export function fail(failure: Failure): i32 {
  assert(failure.status == STATUS_MALFORMED || failure.status == STATUS_INVALID, "fail: status");
  const reason = failure.reason;
  const bytes = new ArrayBuffer(reason.length);
  const base = changetype<usize>(bytes);
  for (let i = 0; i < reason.length; i++) {
    store<u8>(base + <usize>i, <u8>reason.charCodeAt(i));
  }
  output = bytes;
  outputLength = reason.length;
  return failure.status;
}

/** The answer when `len` does not fit the input buffer (the caller skipped `inputBuffer`). */
export function badLength(len: i32): i32 {
  return fail(malformed("request: length " + len.toString() + " does not fit the input buffer"));
}
