// The seccomp profile as the policy core takes it (docs/core-abi.md "seccomp"): the OCI
// runtime spec's linux.seccomp (defaultAction, defaultErrnoRet, architectures, flags,
// syscalls[{names, action, errnoRet, args[{index, value, valueTwo, op}]}]) plus docker's
// includes/excludes. ts/ only encodes it: every name and value is checked by the core, which
// compiles it to BPF (assembly/seccomp/). `seccompFrames` feeds buildPlan; `compileSeccomp`
// is the core's seccompCompile for callers that want the program itself (an OCI config, tests).
import { FieldReader, FrameWriter, splitFrames } from '../protocol/frames.js';
import { CoreError } from './build-plan.js';
import { call } from './wasm.js';

export const SECCOMP_REQUEST = {
  SECCOMP: 0x0300,
  ARCHES: 0x0301,
  RULE: 0x0302,
  ARG: 0x0303,
  WHEN: 0x0304,
  KERNEL: 0x0305,
  CAPS: 0x0306,
} as const;
export const SECCOMP_ANSWER = { FILTER: 0x0308, CODE: 0x0309 } as const;

export interface SeccompArg {
  index: number;
  /** A decimal string too (how a record keeps a value over 2^53). */
  value: number | bigint | string;
  valueTwo?: number | bigint | string;
  op: string;
}

export interface SeccompSyscall {
  names: readonly string[];
  action: string;
  errnoRet?: number;
  args?: readonly SeccompArg[];
  /** docker's profile format: the rule applies only when these hold. */
  includes?: { caps?: readonly string[]; arches?: readonly string[]; minKernel?: string };
  excludes?: { caps?: readonly string[]; arches?: readonly string[] };
}

/** OCI linux.seccomp (docker's format once its archMap is read: ts/runtime/seccomp-profile.ts). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: readonly string[];
  flags?: readonly string[];
  syscalls?: readonly SeccompSyscall[];
}

/** husk's default (docker's profile, following the container's capabilities), a profile, or none. */
export type SeccompChoice = { mode: 'default' } | { mode: 'unconfined' } | { mode: 'profile'; profile: SeccompProfile };

const MODE = { default: 1, profile: 2, unconfined: 3 } as const;
const ERRNO_UNSET = (1n << 64n) - 1n;

/** A value the frames cannot carry, refused as the core refuses a value (status 2). */
function refuse(reason: string): never {
  throw new CoreError(2, `seccomp: ${reason}`);
}

function strings(field: string, values: readonly string[] | undefined): readonly string[] {
  for (const v of values ?? []) if (v.includes('\0') || v.length > 65536) refuse(`${field}: "${v.slice(0, 40)}" is not a name`);
  return values ?? [];
}

function u64(field: string, v: number | bigint | string | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'string') {
    if (!/^\d{1,20}$/.test(v)) refuse(`${field}: "${v}" is not a whole number`);
    v = BigInt(v);
  }
  if (typeof v === 'number' && !Number.isSafeInteger(v)) refuse(`${field}: ${v} is not a whole number (write numbers over 2^53 as strings)`);
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) refuse(`${field}: ${b} is not a 64-bit unsigned number`);
  return b;
}

function errno(field: string, v: number | undefined): bigint {
  if (v === undefined) return ERRNO_UNSET;
  if (!Number.isSafeInteger(v) || v < 0) refuse(`${field}: ${v} is not an errno`);
  return BigInt(v);
}

/** The request frames for `choice` (and the host's kernel release, for minKernel). */
export function seccompFrames(choice: SeccompChoice, kernel?: string, caps?: bigint): Uint8Array[] {
  const w = new FrameWriter();
  const out: Uint8Array[] = [];
  if (choice.mode !== 'profile') {
    out.push(w.u64(MODE[choice.mode]).str('').u64(ERRNO_UNSET).strs([]).frame(SECCOMP_REQUEST.SECCOMP));
  } else {
    const p = choice.profile;
    out.push(w.u64(MODE.profile).str(strings('defaultAction', [p.defaultAction])[0]).u64(errno('defaultErrnoRet', p.defaultErrnoRet)).strs(strings('flags', p.flags)).frame(SECCOMP_REQUEST.SECCOMP));
    if (p.architectures !== undefined) out.push(w.strs(strings('architectures', p.architectures)).frame(SECCOMP_REQUEST.ARCHES));
    (p.syscalls ?? []).forEach((s, i) => {
      const at = `syscalls[${i}]`;
      out.push(w.strs(strings(`${at}.names`, s.names)).str(strings(`${at}.action`, [s.action])[0]).u64(errno(`${at}.errnoRet`, s.errnoRet)).frame(SECCOMP_REQUEST.RULE));
      (s.args ?? []).forEach((a, j) => {
        const where = `${at}.args[${j}]`;
        out.push(w.u64(u64(`${where}.index`, a.index)).u64(u64(`${where}.value`, a.value)).u64(u64(`${where}.valueTwo`, a.valueTwo)).str(strings(`${where}.op`, [a.op])[0]).frame(SECCOMP_REQUEST.ARG));
      });
      if (s.includes !== undefined || s.excludes !== undefined) {
        w.strs(strings(`${at}.includes.caps`, s.includes?.caps)).strs(strings(`${at}.excludes.caps`, s.excludes?.caps));
        w.strs(strings(`${at}.includes.arches`, s.includes?.arches)).strs(strings(`${at}.excludes.arches`, s.excludes?.arches));
        out.push(w.str(strings(`${at}.includes.minKernel`, [s.includes?.minKernel ?? ''])[0]).frame(SECCOMP_REQUEST.WHEN));
      }
    });
  }
  if (kernel !== undefined) out.push(w.str(kernel).frame(SECCOMP_REQUEST.KERNEL));
  if (caps !== undefined) out.push(w.u64(caps).frame(SECCOMP_REQUEST.CAPS));
  return out;
}

export interface CompiledSeccomp {
  /** SECCOMP_FILTER_FLAG_* bits. */
  flags: bigint;
  /** struct sock_filter[] as the kernel takes it (8 bytes an instruction); empty: no filter. */
  program: Uint8Array;
}

/**
 * The core's seccompCompile: `caps` is the capability set the default profile and a docker
 * profile's includes/excludes follow (docker's default set when absent). Throws CoreError (status 2 names the field).
 */
export function compileSeccomp(choice: SeccompChoice, opts: { kernel?: string; caps?: bigint } = {}): CompiledSeccomp {
  const request = Buffer.concat(seccompFrames(choice, opts.kernel, opts.caps));
  const answer = call('seccompCompile', request);
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  const frames = splitFrames(answer.bytes);
  const head = new FieldReader(frames[0].payload);
  const flags = head.u64();
  const count = Number(head.u64());
  const program = new Uint8Array(count * 8);
  let at = 0;
  for (const f of frames.slice(1)) {
    // A u64s field: a u32 count, then the words, copied as they are (sock_filter's layout).
    const n = new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0, true);
    program.set(f.payload.subarray(4, 4 + n * 8), at);
    at += n * 8;
  }
  return { flags, program };
}
