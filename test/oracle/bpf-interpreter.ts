// A classic BPF interpreter for seccomp filters (tests only): runs a program on one
// seccomp_data {nr, arch, ip, args[6]} as the kernel does, and returns the action. Only what
// seccomp filters use: loads of the data's 32-bit words, ALU with constants, jumps, return.
// Any other instruction, a jump out of the program or running off its end throws.

export interface SeccompData {
  nr: number;
  arch: number;
  args: readonly bigint[];
  ip?: bigint;
}

function word(d: SeccompData, offset: number): number {
  if (offset === 0) return d.nr >>> 0;
  if (offset === 4) return d.arch >>> 0;
  const at = offset - 16;
  if (offset === 8 || offset === 12) return Number(((d.ip ?? 0n) >> BigInt((offset - 8) * 8)) & 0xffffffffn);
  if (at < 0 || at >= 48 || at % 4 !== 0) throw new Error(`load of offset ${offset}`);
  const arg = d.args[Math.floor(at / 8)] ?? 0n;
  return Number((arg >> BigInt((at % 8) * 8)) & 0xffffffffn);
}

/** The return value (SECCOMP_RET_*) of `program` (8 bytes an instruction) for `d`. */
export function runFilter(program: Uint8Array, d: SeccompData): number {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const n = program.length / 8;
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 0; steps <= n; steps++) {
    if (pc >= n) throw new Error(`ran off the end at ${pc}`);
    const code = view.getUint16(pc * 8, true);
    const jt = view.getUint8(pc * 8 + 2);
    const jf = view.getUint8(pc * 8 + 3);
    const k = view.getUint32(pc * 8 + 4, true);
    switch (code) {
      case 0x20: a = word(d, k); pc++; break; // ld [k]
      case 0x54: a = (a & k) >>> 0; pc++; break; // and #k
      case 0x44: a = (a | k) >>> 0; pc++; break; // or #k
      case 0x04: a = (a + k) >>> 0; pc++; break; // add #k
      case 0x00: a = k; pc++; break; // ld #k
      case 0x07: x = a; pc++; break; // tax
      case 0x87: a = x; pc++; break; // txa
      case 0x05: pc += 1 + k; break; // ja
      case 0x15: pc += 1 + (a === k ? jt : jf); break; // jeq #k
      case 0x25: pc += 1 + (a > k ? jt : jf); break; // jgt #k
      case 0x35: pc += 1 + (a >= k ? jt : jf); break; // jge #k
      case 0x45: pc += 1 + ((a & k) !== 0 ? jt : jf); break; // jset #k
      case 0x1d: pc += 1 + (a === x ? jt : jf); break; // jeq x
      case 0x06: return k >>> 0; // ret #k
      case 0x16: return a >>> 0; // ret a
      default:
        throw new Error(`instruction ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('no return');
}
