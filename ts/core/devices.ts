// The core's devicesProgram (docs/core-abi.md "devicesProgram"): device rules, as v1's
// devices.allow/deny lines or OCI linux.resources.devices say them, compiled to the
// BPF_PROG_TYPE_CGROUP_DEVICE program that enforces them on cgroup v2
// (assembly/cgroup/devices.ts). buildPlan and ociPlan compile it themselves; this is for the
// tests and the fuzzer.
import { FrameWriter, splitFrames } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

export const DEVICES_REQUEST = { RULE: 0x0340 } as const;
export const DEVICES_ANSWER = { PROGRAM: 0x0341 } as const;
/** A major or minor that is `*`. */
export const DEVICE_ANY = (1n << 64n) - 1n;

export interface DeviceRuleSpec {
  allow: boolean;
  /** a, b or c ('' is a). */
  type: string;
  /** undefined: `*`. */
  major?: bigint | number;
  minor?: bigint | number;
  /** of r, w, m ('' is rwm). */
  access: string;
}

export function devicesFrames(rules: readonly DeviceRuleSpec[]): Uint8Array {
  const w = new FrameWriter();
  for (const r of rules) {
    w.begin(DEVICES_REQUEST.RULE)
      .u64(r.allow ? 1 : 0)
      .str(r.type)
      .u64(r.major === undefined ? DEVICE_ANY : BigInt(r.major))
      .u64(r.minor === undefined ? DEVICE_ANY : BigInt(r.minor))
      .str(r.access)
      .end();
  }
  return w.split(w.length);
}

/** The program's bytes (struct bpf_insn[], 8 bytes each); empty when every device is allowed. */
export function decodeDevicesAnswer(bytes: Uint8Array): Uint8Array {
  const frames = splitFrames(bytes);
  if (frames.length !== 1 || frames[0].type !== DEVICES_ANSWER.PROGRAM) throw new Error('devicesProgram: not one DEVICE_PROGRAM frame');
  const p = frames[0].payload;
  const n = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true);
  if (p.length !== 4 + n * 8) throw new Error(`devicesProgram: ${n} instructions announced, ${(p.length - 4) / 8} sent`);
  return new Uint8Array(p.subarray(4));
}

/** Throws CoreError (status 2 names the rule) for rules that cannot be compiled. */
export function compileDevices(rules: readonly DeviceRuleSpec[]): Uint8Array {
  const answer = call('devicesProgram', devicesFrames(rules));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  return decodeDevicesAnswer(answer.bytes);
}
