// Naming a request frame in a failure, spelled out only when there is a failure (building
// "request: frame N" for every frame of a 100k-entry batch is a measurable cost).

import { Failure } from "../abi";

/** Fields are read with this context; frameFailure puts the frame's index in. */
export const FIELDS_CONTEXT = "request";

export function frameContext(index: i32): string {
  return "request: frame " + index.toString();
}

/** A Fields failure ("request: name: what") as "request: frame N: name: what". */
export function frameFailure(failure: Failure, index: i32): Failure {
  const reason = failure.reason;
  const rest = reason.startsWith(FIELDS_CONTEXT) ? reason.substring(FIELDS_CONTEXT.length) : ": " + reason;
  return new Failure(failure.status, frameContext(index) + rest);
}
