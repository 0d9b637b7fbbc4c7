// Classic BPF, written backwards. A seccomp filter only jumps forward, so the program is
// emitted from its last instruction to its first: every jump's target exists when the jump
// is written, and its offset is known. A conditional jump reaches at most 255 instructions;
// a farther target gets a trampoline (an unconditional JA, 32-bit offset) placed right after
// the jump, and a trampoline within reach is used again by later jumps to the same target.
//
// One instruction is one u64 with the layout of struct sock_filter on a little-endian host
// (code u16, jt u8, jf u8, k u32): the plan's u64s are the kernel's array as it is.

export const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
export const ALU_AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
export const JMP_JA: u16 = 0x05;
export const JMP_JEQ_K: u16 = 0x15;
export const JMP_JGT_K: u16 = 0x25;
export const JMP_JGE_K: u16 = 0x35;
export const RET_K: u16 = 0x06;

/** The kernel's BPF_MAXINSNS. */
export const INSNS_MAX: i32 = 4096;
const JUMP_MAX: i32 = 255;

export function insn(code: u16, jt: i32, jf: i32, k: u32): u64 {
  assert(jt >= 0 && jt <= JUMP_MAX && jf >= 0 && jf <= JUMP_MAX, "insn: jump offset");
  return <u64>code | (<u64>jt << 16) | (<u64>jf << 24) | (<u64>k << 32);
}

/**
 * A label names an emitted instruction: the count of instructions emitted when it was
 * written (so its index in the finished program is total − label). A jump written when
 * `count` instructions exist reaches label L with offset count − L.
 */
export class Emitter {
  reversed: u64[] = [];
  /** target label → the latest trampoline (JA) that leads to it. */
  private trampolines: Map<i32, i32> = new Map<i32, i32>();
  /** Stop growing past this: the caller reports the size instead. */
  overflowed: bool = false;

  get count(): i32 {
    return this.reversed.length;
  }

  /** The label of the instruction emitted last: the one that follows the next in the program. */
  get next(): i32 {
    return this.reversed.length;
  }

  private push(value: u64): i32 {
    // A generous bound: the caller checks INSNS_MAX on the finished program.
    if (this.reversed.length >= 4 * INSNS_MAX) {
      this.overflowed = true;
      return this.reversed.length;
    }
    this.reversed.push(value);
    return this.reversed.length;
  }

  statement(code: u16, k: u32): i32 {
    return this.push(insn(code, 0, 0, k));
  }

  ret(value: u32): i32 {
    return this.statement(RET_K, value);
  }

  loadWord(offset: u32): i32 {
    return this.statement(LD_W_ABS, offset);
  }

  jumpAlways(target: i32): i32 {
    assert(target <= this.count, "jumpAlways: target not emitted");
    return this.push(<u64>JMP_JA | (<u64>(this.count - target) << 32));
  }

  /** A label within reach of a jump about to be written: `target` or a trampoline to it. */
  private reach(target: i32): i32 {
    if (this.count - target <= JUMP_MAX) return target;
    if (this.trampolines.has(target)) {
      const near = this.trampolines.get(target);
      if (this.count - near <= JUMP_MAX) return near;
    }
    const trampoline = this.jumpAlways(target);
    this.trampolines.set(target, trampoline);
    return trampoline;
  }

  /** `if (A <op> k) goto yes else goto no`. */
  jump(code: u16, k: u32, yes: i32, no: i32): i32 {
    assert(yes <= this.count && no <= this.count, "jump: target not emitted");
    const farNo = this.reach(no);
    const farYes = this.reach(yes);
    // The second trampoline may have pushed `no`'s one out of reach: at most by one.
    const noLabel = this.count - farNo <= JUMP_MAX ? farNo : this.reach(no);
    return this.push(insn(code, this.count - farYes, this.count - noLabel, k));
  }

  /** The program, first instruction first. */
  finish(): u64[] {
    const n = this.reversed.length;
    const out = new Array<u64>(n);
    for (let i = 0; i < n; i++) out[i] = this.reversed[n - 1 - i];
    return out;
  }
}
