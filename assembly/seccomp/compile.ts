// A profile (./profile.ts) to a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
//
// The program, first instruction first:
//   load arch; x86_64 → its part; i386 (when the profile lists SCMP_ARCH_X86) → its part;
//     any other → the bad-arch action (KILL_THREAD, libseccomp's default)
//   each part: load nr; (x86_64: an x32 call, nr ≥ 0x40000000 but not −1, → bad-arch, as
//     libseccomp treats a filter without SCMP_ARCH_X32); a binary search on the numbers with rules
//     (jge at each node, a few jeq at each leaf); no number matched → the default action
//   a number with argument rules jumps to its body: each rule's comparisons in profile
//     order (all must hold: its action), then the number's rule without arguments, if any,
//     else the default action.
// A 64-bit argument is compared as two 32-bit words, high word first, as libseccomp does.

import { Failure, invalid } from "../abi";
import { ALU_AND_K, Emitter, INSNS_MAX, JMP_JEQ_K, JMP_JGE_K, JMP_JGT_K } from "./bpf";
import {
  ArgCondition, ARCH_X86, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, CMP_EQ, CMP_GE, CMP_GT, CMP_LE, CMP_LT,
  CMP_MASKED_EQ, CMP_NE, Profile, RET_KILL_THREAD, Rule, X32_SYSCALL_BIT,
} from "./profile";
import { i386Number, x86_64Number } from "./syscalls";

/** Where seccomp_data keeps the number, the arch and the arguments. */
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;

/** Docker's arch name for this host (Go's GOARCH), which its profile's includes/excludes name. */
export const GO_ARCH: string = "amd64";

/** The action for a call from an architecture the filter does not know. */
export const BAD_ARCH_ACTION: u32 = RET_KILL_THREAD;

/** One number's rules: the ones with arguments in order, and at most one without. */
class Syscall {
  conditional: Rule[] = [];
  hasAction: bool = false;
  action: u32 = 0;
  constructor(public nr: i32) {}
}

/** Whether a rule of docker's format applies to a container with these capabilities and kernel. */
export function ruleApplies(rule: Rule, caps: u64, kernel: string): bool {
  if ((rule.includeCaps & caps) != rule.includeCaps) return false;
  if ((rule.excludeCaps & caps) != 0) return false;
  if (rule.includeArches.length > 0 && !rule.includeArches.includes(GO_ARCH)) return false;
  if (rule.excludeArches.includes(GO_ARCH)) return false;
  if (rule.minKernel.length > 0 && kernel.length > 0 && compareVersions(kernel, rule.minKernel) < 0) return false;
  return true;
}

/** Compares `major.minor[.patch]` prefixes of two kernel versions (`6.1.0-13-amd64` reads 6.1.0). */
export function compareVersions(a: string, b: string): i32 {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 3; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

function versionParts(v: string): i32[] {
  const out: i32[] = [0, 0, 0];
  let part = 0;
  for (let i = 0; i < v.length && part < 3; i++) {
    const c = v.charCodeAt(i);
    if (c == 0x2e) part++;
    else if (c >= 0x30 && c <= 0x39) out[part] = min(out[part] * 10 + (c - 0x30), 1000000);
    else break;
  }
  return out;
}

function collect(profile: Profile, caps: u64, kernel: string, i386: bool): Syscall[] {
  const byNumber = new Map<i32, Syscall>();
  const order = new Array<i32>();
  for (let r = 0; r < profile.rules.length; r++) {
    const rule = profile.rules[r];
    if (!ruleApplies(rule, caps, kernel)) continue;
    for (let n = 0; n < rule.names.length; n++) {
      const nr = i386 ? i386Number(rule.names[n]) : x86_64Number(rule.names[n]);
      if (nr < 0) continue; // A name this kernel's table lacks: skipped, as libseccomp does.
      if (!byNumber.has(nr)) {
        byNumber.set(nr, new Syscall(nr));
        order.push(nr);
      }
      const entry = byNumber.get(nr);
      if (rule.args.length > 0) entry.conditional.push(rule);
      else if (!entry.hasAction) {
        entry.hasAction = true;
        entry.action = rule.action;
      }
    }
  }
  order.sort((a: i32, b: i32): i32 => a - b);
  const out = new Array<Syscall>();
  for (let i = 0; i < order.length; i++) {
    const entry = byNumber.get(order[i]);
    // A number whose only rule is the default action needs no instruction.
    if (entry.conditional.length == 0 && entry.action == profile.defaultAction) continue;
    out.push(entry);
  }
  return out;
}

class Compiler {
  e: Emitter = new Emitter();
  rets: Map<u32, i32> = new Map<u32, i32>();

  constructor(public profile: Profile) {}

  /** The label of `return value`: one RET per value, at the program's end. */
  ret(value: u32): i32 {
    assert(this.rets.has(value), "ret: value not emitted");
    return this.rets.get(value);
  }

  emitReturns(values: u32[]): void {
    for (let i = 0; i < values.length; i++) {
      if (!this.rets.has(values[i])) this.rets.set(values[i], this.e.ret(values[i]));
    }
  }

  /** One comparison: `yes` when it holds, else `no`. Returns its first instruction's label. */
  condition(c: ArgCondition, yes: i32, no: i32): i32 {
    const e = this.e;
    const low = DATA_ARGS + 8 * <u32>c.index;
    const high = low + 4;
    const vLow = <u32>(c.value & 0xffffffff);
    const vHigh = <u32>(c.value >> 32);
    switch (c.op) {
      case CMP_EQ:
      case CMP_NE: {
        const pass = c.op == CMP_EQ ? yes : no;
        const fail = c.op == CMP_EQ ? no : yes;
        e.jump(JMP_JEQ_K, vLow, pass, fail);
        const lowPart = e.loadWord(low);
        e.jump(JMP_JEQ_K, vHigh, lowPart, fail);
        return e.loadWord(high);
      }
      case CMP_MASKED_EQ: {
        const mLow = vLow;
        const mHigh = vHigh;
        const dLow = <u32>(c.valueTwo & 0xffffffff);
        const dHigh = <u32>(c.valueTwo >> 32);
        e.jump(JMP_JEQ_K, dLow, yes, no);
        e.statement(ALU_AND_K, mLow);
        const lowPart = e.loadWord(low);
        e.jump(JMP_JEQ_K, dHigh, lowPart, no);
        e.statement(ALU_AND_K, mHigh);
        return e.loadWord(high);
      }
      default: {
        // GT, GE: a higher high word passes, a lower fails, an equal one asks the low word.
        // LT, LE are GE, GT with the outcomes swapped.
        const greater = c.op == CMP_GT || c.op == CMP_GE;
        assert(greater || c.op == CMP_LT || c.op == CMP_LE, "condition: operator");
        const pass = greater ? yes : no;
        const fail = greater ? no : yes;
        const lowCode = c.op == CMP_GT || c.op == CMP_LE ? JMP_JGT_K : JMP_JGE_K;
        e.jump(lowCode, vLow, pass, fail);
        const lowPart = e.loadWord(low);
        const equalHigh = e.jump(JMP_JEQ_K, vHigh, lowPart, fail);
        e.jump(JMP_JGT_K, vHigh, pass, equalHigh);
        return e.loadWord(high);
      }
    }
  }

  /** A number's body: its argument rules in order, then its plain action or the default. */
  body(s: Syscall): i32 {
    let next = this.ret(s.hasAction ? s.action : this.profile.defaultAction);
    for (let r = s.conditional.length - 1; r >= 0; r--) {
      const rule = s.conditional[r];
      let pass = this.ret(rule.action);
      for (let a = rule.args.length - 1; a >= 0; a--) pass = this.condition(rule.args[a], pass, next);
      next = pass;
    }
    return next;
  }

  /** A binary search over calls[from, to), whose targets are `targets`; A holds the number. */
  tree(calls: Syscall[], targets: i32[], from: i32, to: i32, none: i32): i32 {
    const e = this.e;
    if (to - from <= 4) {
      let next = none;
      for (let i = to - 1; i >= from; i--) next = e.jump(JMP_JEQ_K, <u32>calls[i].nr, targets[i], next);
      return next;
    }
    const middle = from + (to - from) / 2;
    const right = this.tree(calls, targets, middle, to, none);
    const left = this.tree(calls, targets, from, middle, none);
    return e.jump(JMP_JGE_K, <u32>calls[middle].nr, right, left);
  }

  /** One architecture's part: load the number, [refuse x32], search, bodies. */
  part(calls: Syscall[], x32Check: bool): i32 {
    const targets = new Array<i32>(calls.length);
    for (let i = 0; i < calls.length; i++) {
      targets[i] = calls[i].conditional.length > 0 ? this.body(calls[i]) : this.ret(calls[i].action);
    }
    const defaultLabel = this.ret(this.profile.defaultAction);
    let start = calls.length > 0 ? this.tree(calls, targets, 0, calls.length, defaultLabel) : this.e.jumpAlways(defaultLabel);
    if (x32Check) {
      // nr −1 (a tracer skipping a call) goes on to the rules, as in libseccomp's filters.
      const skipped = this.e.jump(JMP_JEQ_K, 0xffffffff, start, this.ret(BAD_ARCH_ACTION));
      start = this.e.jump(JMP_JGE_K, X32_SYSCALL_BIT, skipped, start);
    }
    return this.e.loadWord(DATA_NR);
  }
}

function returnValues(profile: Profile, parts: Syscall[][]): u32[] {
  const out: u32[] = [profile.defaultAction, BAD_ARCH_ACTION];
  for (let p = 0; p < parts.length; p++) {
    const calls = parts[p];
    for (let i = 0; i < calls.length; i++) {
      const s = calls[i];
      if (s.hasAction) out.push(s.action);
      for (let r = 0; r < s.conditional.length; r++) out.push(s.conditional[r].action);
    }
  }
  return out;
}

/**
 * The filter for `profile` in a container with capability set `caps` on kernel `kernel`
 * (empty: every minKernel holds). Status 2 when it would be longer than the kernel takes.
 */
export function compileProfile(profile: Profile, caps: u64, kernel: string, out: u64[]): Failure | null {
  const c = new Compiler(profile);
  const native = collect(profile, caps, kernel, false);
  const withI386 = (profile.arches & ARCH_X86) != 0;
  const i386 = withI386 ? collect(profile, caps, kernel, true) : new Array<Syscall>();
  c.emitReturns(returnValues(profile, [native, i386]));
  const e = c.e;
  const bad = c.ret(BAD_ARCH_ACTION);
  const i386Part = withI386 ? c.part(i386, false) : bad;
  const nativePart = c.part(native, true);
  let next = withI386 ? e.jump(JMP_JEQ_K, AUDIT_ARCH_I386, i386Part, bad) : bad;
  e.jump(JMP_JEQ_K, AUDIT_ARCH_X86_64, nativePart, next);
  e.loadWord(DATA_ARCH);
  if (e.overflowed || e.count > INSNS_MAX) {
    return invalid("seccomp: the profile compiles to " + (e.overflowed ? "over 16384" : e.count.toString()) + " BPF instructions; the kernel takes at most 4096");
  }
  const program = e.finish();
  for (let i = 0; i < program.length; i++) out.push(program[i]);
  return null;
}
