// Typed wrapper of the core's cgroupWrites (docs/policy-core.md "cgroupWrites"): docker
// resource flags as the user typed them → the cgroup file writes for a v1 or v2 host.
import { FrameCursor, FrameWriter, PATH_MAX } from '../protocol/frames.js';
import type { CgroupFlag, CgroupHost, CgroupWrite } from './types.js';
import { CoreError } from './build-plan.js';
import { call, type CoreAnswer } from './wasm.js';

export type { CgroupFlag, CgroupHost, CgroupWrite };

export const CG_HOST = 0x0201;
export const CG_FLAG = 0x0202;
export const CG_WRITE = 0x0281;

const decoder = new TextDecoder();

/** The request frames: HOST, then one FLAG per flag in the order given. */
export function encodeCgroupRequest(host: CgroupHost, flags: readonly CgroupFlag[]): Uint8Array {
  return writeRequest(new FrameWriter(), host, flags).take();
}

const writer = new FrameWriter();

function writeRequest(w: FrameWriter, host: CgroupHost, flags: readonly CgroupFlag[]): FrameWriter {
  w.reset();
  w.begin(CG_HOST).u64(host.layout).u64(host.cpus).u64(host.mems).u64(host.flags).end();
  for (const f of flags) {
    // A UTF-16 unit is at most 3 bytes: only a long value needs its UTF-8 length counted.
    const long = f.value.length * 3 > PATH_MAX && Buffer.byteLength(f.value) > PATH_MAX;
    if (long || f.value.includes('\0')) {
      throw new CoreError(2, `${f.name}: value longer than ${PATH_MAX} bytes or contains NUL`);
    }
    w.begin(CG_FLAG).str(f.name).str(f.value).end();
  }
  return w;
}

export function decodeCgroupWrites(bytes: Uint8Array): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const r = new FrameCursor(bytes);
  while (r.next()) {
    if (r.type !== CG_WRITE) throw new CoreError(1, `cgroupWrites: answer frame type ${r.type}`);
    out.push({ controller: r.str(), file: r.str(), value: r.str() });
    r.end();
  }
  return out;
}

export function cgroupWritesRaw(request: Uint8Array): CoreAnswer {
  return call('cgroupWrites', request);
}

/** The writes, in runc's order. Throws CoreError (status 2: the reason names the flag). */
export function cgroupWrites(host: CgroupHost, flags: readonly CgroupFlag[]): CgroupWrite[] {
  const answer = cgroupWritesRaw(writeRequest(writer, host, flags).view());
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  return decodeCgroupWrites(answer.bytes);
}

export const CG_VALUE = 0x0282;

/**
 * The numbers docker's HostConfig shows for resource flags as typed (`husk inspect`), read by
 * the core's own rules (docs/core-abi.md "cgroupLimitValues"): name → value, or undefined
 * when the flag has no number or its value does not parse. One call for all of them.
 */
export function limitValues(limits: readonly CgroupFlag[]): Map<string, number | undefined> {
  const w = new FrameWriter();
  for (const l of limits) w.begin(CG_FLAG).str(l.name).str(l.value).end();
  const answer = call('cgroupLimitValues', w.view());
  if (answer.status !== 0) throw new CoreError(answer.status, decoder.decode(answer.bytes));
  const out = new Map<string, number | undefined>();
  const r = new FrameCursor(answer.bytes);
  while (r.next()) {
    if (r.type !== CG_VALUE) throw new CoreError(1, `cgroupLimitValues: answer frame type ${r.type}`);
    const name = r.str();
    const ok = r.u64() === 1n;
    const value = BigInt.asIntN(64, r.u64());
    out.set(name, ok ? Number(value) : undefined);
    r.end();
  }
  return out;
}
