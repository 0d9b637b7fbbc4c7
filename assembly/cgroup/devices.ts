// The device controller on cgroup v2 (docs/cgroups.md "Device rules on cgroup v2"): v1's
// device rules (`devices.allow`/`devices.deny` lines, OCI linux.resources.devices) compiled
// to a BPF_PROG_TYPE_CGROUP_DEVICE program, which the launcher loads and attaches to the
// container's v2 directory (CGROUP_DEVICES, docs/protocol.md).
//
// The rules mean what they mean on v1, so a config behaves the same on either: they are
// first applied in order to the v1 kernel's state (a default, allow or deny, and a list of
// exceptions: security/device_cgroup.c), then the state becomes the program. With a default
// of deny an access is allowed when one exception covers all of it; with a default of allow
// it is denied when any exception shares a bit with it. A state that allows everything
// needs no program.
//
// The program is eBPF (8 bytes an instruction: code u8, dst:4 src:4, off s16, imm s32, on a
// little-endian host). Its context is struct bpf_cgroup_dev_ctx {access_type, major, minor},
// access_type being (access << 16) | type. It returns 1 to allow, 0 to deny.

import { Failure, invalid } from "../abi";

export const DEV_BLOCK: u32 = 1; // BPF_DEVCG_DEV_BLOCK, DEVCG_DEV_BLOCK
export const DEV_CHAR: u32 = 2; // BPF_DEVCG_DEV_CHAR
export const DEV_ALL: u32 = 3; // 'a': every type (a rule, never an exception)
export const ACC_MKNOD: u32 = 1; // BPF_DEVCG_ACC_MKNOD
export const ACC_READ: u32 = 2;
export const ACC_WRITE: u32 = 4;
export const ACC_ALL: u32 = 7;
/** A major or minor that is `*`. */
export const DEV_ANY: u64 = 0xffffffffffffffff;
/** The largest number a rule may name (u32, the context's width; `*` aside). */
const NUMBER_MAX: u64 = 0xfffffffe;
/** One CGROUP_DEVICES frame holds at most this many instructions (the plan's u64s bound). */
export const DEVICE_INSNS_MAX: i32 = 1024;
export const DEVICE_RULES_MAX: i32 = 1024;

export class DeviceRule {
  constructor(public allow: bool, public type: u32, public major: u64, public minor: u64, public access: u32) {}
}

/** v1's state after the rules: the default, and the exceptions to it (b or c only). */
export class DeviceState {
  defaultAllow: bool = true;
  exceptions: DeviceRule[] = [];

  get allowsAll(): bool {
    return this.defaultAllow && this.exceptions.length == 0;
  }
}

/** A type letter (a, b, c; empty is a) or 0 when it is none of them. */
export function deviceType(letter: string): u32 {
  if (letter.length == 0 || letter == "a") return DEV_ALL;
  if (letter == "b") return DEV_BLOCK;
  if (letter == "c") return DEV_CHAR;
  return 0;
}

/** Access letters (r, w, m; empty is rwm) as bits, or 0 when a letter is none of them. */
export function deviceAccess(letters: string): u32 {
  if (letters.length == 0) return ACC_ALL;
  let bits: u32 = 0;
  for (let i = 0; i < letters.length; i++) {
    const c = letters.charCodeAt(i);
    if (c == 0x72) bits |= ACC_READ;
    else if (c == 0x77) bits |= ACC_WRITE;
    else if (c == 0x6d) bits |= ACC_MKNOD;
    else return 0;
  }
  return bits;
}

/** Why a rule cannot be a device rule, or null. */
export function ruleProblem(rule: DeviceRule): string | null {
  if (rule.type == 0 || rule.type > DEV_ALL) return "type is not a, b or c";
  if (rule.access == 0 || rule.access > ACC_ALL) return "access is not a set of r, w, m";
  if ((rule.major != DEV_ANY && rule.major > NUMBER_MAX) || (rule.minor != DEV_ANY && rule.minor > NUMBER_MAX)) return "major or minor out of range";
  return null;
}

/** A v1 rule line, `TYPE MAJ:MIN ACCESS` with `*` for any (the lines husk writes itself). */
export function parseRuleLine(allow: bool, line: string): DeviceRule {
  const parts = line.split(" ");
  assert(parts.length == 3, "parseRuleLine: three parts");
  const numbers = parts[1].split(":");
  assert(numbers.length == 2, "parseRuleLine: MAJ:MIN");
  const major = numbers[0] == "*" ? DEV_ANY : U64.parseInt(numbers[0]);
  const minor = numbers[1] == "*" ? DEV_ANY : U64.parseInt(numbers[1]);
  return new DeviceRule(allow, deviceType(parts[0]), major, minor, deviceAccess(parts[2]));
}

function sameDevice(a: DeviceRule, b: DeviceRule): bool {
  return a.type == b.type && a.major == b.major && a.minor == b.minor;
}

/** dev_exception_add: a new exception, or more access for the one of the same device. */
function addException(state: DeviceState, rule: DeviceRule): void {
  for (let i = 0; i < state.exceptions.length; i++) {
    if (sameDevice(state.exceptions[i], rule)) {
      state.exceptions[i].access |= rule.access;
      return;
    }
  }
  state.exceptions.push(new DeviceRule(!state.defaultAllow, rule.type, rule.major, rule.minor, rule.access));
}

/** dev_exception_rm: less access for the exception of the same device; none left, gone. */
function removeException(state: DeviceState, rule: DeviceRule): void {
  const kept = new Array<DeviceRule>();
  for (let i = 0; i < state.exceptions.length; i++) {
    const e = state.exceptions[i];
    if (sameDevice(e, rule)) e.access &= ~rule.access;
    if (e.access != 0) kept.push(e);
  }
  state.exceptions = kept;
}

/** The rules applied in order to a new v1 cgroup (devcgroup_update_access); checked first. */
export function applyRules(rules: DeviceRule[]): DeviceState {
  const state = new DeviceState();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    assert(ruleProblem(rule) === null, "applyRules: a checked rule");
    if (rule.type == DEV_ALL) {
      // 'a' resets: every device allowed or denied, the exceptions cleared.
      state.defaultAllow = rule.allow;
      state.exceptions = [];
    } else if (rule.allow == state.defaultAllow) {
      removeException(state, rule);
    } else {
      addException(state, rule);
    }
  }
  return state;
}

// eBPF opcodes (include/uapi/linux/bpf.h: class | op | source).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
// 32-bit compares (BPF_JMP32): an immediate is sign-extended to 64 bits, so a 64-bit compare
// of a u32 with a major or minor of 2^31 or more would never be equal.
const JMP_JEQ_K: u8 = 0x16; // BPF_JMP32 | BPF_JEQ | BPF_K
const JMP_JNE_K: u8 = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K
const JMP_JSET_K: u8 = 0x46; // BPF_JMP32 | BPF_JSET | BPF_K
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

// Registers: r1 the context, then r2 type, r3 access, r4 major, r5 minor; r1 is scratch
// once they are loaded; r0 the verdict.
const R0: u8 = 0;
const R1: u8 = 1;
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

export function ebpf(code: u8, dst: u8, src: u8, off: i32, imm: u32): u64 {
  assert(dst < 11 && src < 11, "ebpf: register");
  assert(off >= -32768 && off <= 32767, "ebpf: offset");
  return <u64>code | (<u64>(dst | (src << 4)) << 8) | (<u64>(<u16>off) << 16) | (<u64>imm << 32);
}

/** One exception's test: its length first, so that each "not this one" jumps past it. */
function exceptionBlock(e: DeviceRule, allowing: bool): u64[] {
  const checks = new Array<u64>();
  const tail = new Array<u64>();
  // Each check is (code, reg, imm); all jump to the block's end when the device differs.
  const codes = new Array<u8>();
  const regs = new Array<u8>();
  const imms = new Array<u32>();
  codes.push(JMP_JNE_K); regs.push(R_TYPE); imms.push(e.type);
  if (e.major != DEV_ANY) { codes.push(JMP_JNE_K); regs.push(R_MAJOR); imms.push(<u32>e.major); }
  if (e.minor != DEV_ANY) { codes.push(JMP_JNE_K); regs.push(R_MINOR); imms.push(<u32>e.minor); }
  if (allowing) {
    // Allowed only if the access asks for nothing the exception lacks.
    const missing = ~e.access & ACC_ALL;
    if (missing != 0) { codes.push(JMP_JSET_K); regs.push(R_ACCESS); imms.push(missing); }
    tail.push(ebpf(ALU32_MOV_K, R0, 0, 0, 1));
  } else {
    // Denied if the access shares any bit with the exception (v1's partial match).
    tail.push(ebpf(ALU32_MOV_K, R0, 0, 0, 0));
  }
  tail.push(ebpf(JMP_EXIT, 0, 0, 0, 0));
  const shared = allowing ? 0 : 3;
  const length = codes.length + shared + tail.length;
  for (let i = 0; i < codes.length; i++) checks.push(ebpf(codes[i], regs[i], 0, length - i - 1, imms[i]));
  if (!allowing) {
    checks.push(ebpf(ALU32_MOV_X, R1, R_ACCESS, 0, 0));
    checks.push(ebpf(ALU32_AND_K, R1, 0, 0, e.access));
    checks.push(ebpf(JMP_JEQ_K, R1, 0, length - codes.length - 3, 0));
  }
  for (let i = 0; i < tail.length; i++) checks.push(tail[i]);
  assert(checks.length == length, "exceptionBlock: length");
  return checks;
}

/** The state as a program (at least the prologue and the default's return). */
export function compileState(state: DeviceState): u64[] {
  const program = new Array<u64>();
  program.push(ebpf(LDX_MEM_W, R_TYPE, R1, 0, 0));
  program.push(ebpf(ALU32_AND_K, R_TYPE, 0, 0, 0xffff));
  program.push(ebpf(LDX_MEM_W, R_ACCESS, R1, 0, 0));
  program.push(ebpf(ALU32_RSH_K, R_ACCESS, 0, 0, 16));
  program.push(ebpf(LDX_MEM_W, R_MAJOR, R1, 4, 0));
  program.push(ebpf(LDX_MEM_W, R_MINOR, R1, 8, 0));
  for (let i = 0; i < state.exceptions.length; i++) {
    const block = exceptionBlock(state.exceptions[i], !state.defaultAllow);
    for (let k = 0; k < block.length; k++) program.push(block[k]);
  }
  program.push(ebpf(ALU32_MOV_K, R0, 0, 0, state.defaultAllow ? 1 : 0));
  program.push(ebpf(JMP_EXIT, 0, 0, 0, 0));
  return program;
}

/**
 * The rules' program into `out`, empty when they allow every device (nothing to attach);
 * `what` names the rules in a failure (a bad rule, a program over 1024 instructions).
 */
export function devicesProgram(rules: DeviceRule[], what: string, out: u64[]): Failure | null {
  if (rules.length > DEVICE_RULES_MAX) return invalid(what + ": more than " + DEVICE_RULES_MAX.toString() + " device rules");
  for (let i = 0; i < rules.length; i++) {
    const problem = ruleProblem(rules[i]);
    if (problem !== null) return invalid(what + "[" + i.toString() + "]: " + problem);
  }
  const state = applyRules(rules);
  if (state.allowsAll) return null;
  const program = compileState(state);
  if (program.length > DEVICE_INSNS_MAX) {
    return invalid(what + ": " + state.exceptions.length.toString() + " device exceptions need " + program.length.toString() + " BPF instructions (at most " + DEVICE_INSNS_MAX.toString() + ")");
  }
  for (let i = 0; i < program.length; i++) out.push(program[i]);
  return null;
}
