// Typed wrapper of the core's cgroupWrites (docs/policy-core.md "cgroupWrites"): docker
// resource flags as the user typed them → the cgroup file writes for a v1 or v2 host.
import { FieldReader, FrameWriter, PATH_MAX, concat, splitFrames } from '../protocol/frames.js';
import type { CgroupFlag, CgroupHost, CgroupWrite } from '../reference/cgroup.js';
import { CoreError } from './plan.js';
import { call, type CoreAnswer } from './wasm.js';

export type { CgroupFlag, CgroupHost, CgroupWrite };

export const CG_HOST = 0x0201;
export const CG_FLAG = 0x0202;
export const CG_WRITE = 0x0281;

const decoder = new TextDecoder();

/** The request frames: HOST, then one FLAG per flag in the order given. */
export function encodeCgroupRequest(host: CgroupHost, flags: readonly CgroupFlag[]): Uint8Array {
  const w = new FrameWriter();
  const parts = [w.u64(host.layout).u64(host.cpus).u64(host.mems).u64(host.flags).frame(CG_HOST)];
  for (const f of flags) {
    if (new TextEncoder().encode(f.value).length > PATH_MAX || f.value.includes('\0')) {
      throw new CoreError(2, `${f.name}: value longer than ${PATH_MAX} bytes or contains NUL`);
    }
    parts.push(w.str(f.name).str(f.value).frame(CG_FLAG));
  }
  return concat(parts);
}

export function decodeCgroupWrites(bytes: Uint8Array): CgroupWrite[] {
  return splitFrames(bytes).map((frame) => {
    if (frame.type !== CG_WRITE) throw new CoreError(1, `cgroupWrites: answer frame type ${frame.type}`);
    const r = new FieldReader(frame.payload);
    const write = { controller: r.str(), file: r.str(), value: r.str() };
    r.end();
    return write;
  });
}

export function cgroupWritesRaw(request: Uint8Array): CoreAnswer {
  return call('cgroupWrites', request);
}

/** The writes, in runc's order. Throws CoreError (status 2: the reason names the flag). */
export function cgroupWrites(host: CgroupHost, flags: readonly CgroupFlag[]): CgroupWrite[] {
  const answer = cgroupWritesRaw(encodeCgroupRequest(host, flags));
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  return decodeCgroupWrites(answer.bytes);
}
