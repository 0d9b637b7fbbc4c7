// An eBPF interpreter for cgroup device programs (tests only): runs a program on one
// struct bpf_cgroup_dev_ctx {access_type, major, minor} as the kernel would, and returns r0.
// Only the instructions husk's device programs use: 32-bit loads from the context, 32-bit
// ALU with constants and registers, 32-bit (JMP32) and 64-bit compares with constants,
// exit. Any other instruction, a read of an unset register, a load outside the context, a
// backward jump, a jump out of the program or running off its end throws: the verifier
// would refuse such a program.

export interface DeviceAccess {
  /** 1 block, 2 char. */
  type: number;
  /** bits: 1 mknod, 2 read, 4 write. */
  access: number;
  major: number;
  minor: number;
}

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffffffffn;

export function runDeviceProgram(program: Uint8Array, req: DeviceAccess): bigint {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`a program of ${program.length} bytes`);
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const n = program.length / 8;
  const ctx = [((req.access << 16) | req.type) >>> 0, req.major >>> 0, req.minor >>> 0];
  const regs: (bigint | undefined)[] = new Array(11).fill(undefined);
  // r1 holds the context pointer until it is written: only loads through it are allowed.
  let ctxInR1 = true;
  const get = (r: number, pc: number): bigint => {
    if (r === 1 && ctxInR1) throw new Error(`the context pointer used as a number at ${pc}`);
    const v = regs[r];
    if (v === undefined) throw new Error(`r${r} read before it is set at ${pc}`);
    return v;
  };
  for (let pc = 0, steps = 0; steps <= n; steps++) {
    if (pc < 0 || pc >= n) throw new Error(`ran off the program at ${pc}`);
    const at = pc * 8;
    const code = view.getUint8(at);
    const regsByte = view.getUint8(at + 1);
    const dst = regsByte & 0xf;
    const src = regsByte >> 4;
    const off = view.getInt16(at + 2, true);
    const imm = view.getInt32(at + 4, true);
    const imm32 = BigInt(imm >>> 0);
    const imm64 = BigInt.asUintN(64, BigInt(imm)); // sign-extended, as the kernel does
    if (dst > 10 || src > 10) throw new Error(`register out of range at ${pc}`);
    const jump = (taken: boolean) => {
      if (off < 0) throw new Error(`backward jump at ${pc}`);
      pc += 1 + (taken ? off : 0);
    };
    switch (code) {
      case 0x61: { // ldx w: dst = *(u32 *)(src + off)
        if (src !== 1 || !ctxInR1) throw new Error(`load through r${src} at ${pc}`);
        if (off < 0 || off > 8 || off % 4 !== 0) throw new Error(`load of context offset ${off} at ${pc}`);
        regs[dst] = BigInt(ctx[off / 4]);
        if (dst === 1) ctxInR1 = false;
        pc++;
        break;
      }
      case 0x54: regs[dst] = (get(dst, pc) & imm32) & MASK32; if (dst === 1) ctxInR1 = false; pc++; break; // and32 k
      case 0x74: regs[dst] = (get(dst, pc) & MASK32) >> (imm32 & 31n); if (dst === 1) ctxInR1 = false; pc++; break; // rsh32 k
      case 0xb4: regs[dst] = imm32; if (dst === 1) ctxInR1 = false; pc++; break; // mov32 k
      case 0xbc: { // mov32 x
        regs[dst] = get(src, pc) & MASK32;
        if (dst === 1) ctxInR1 = false;
        pc++;
        break;
      }
      case 0x16: jump((get(dst, pc) & MASK32) === imm32); break; // jeq32 k
      case 0x56: jump((get(dst, pc) & MASK32) !== imm32); break; // jne32 k
      case 0x46: jump(((get(dst, pc) & MASK32) & imm32) !== 0n); break; // jset32 k
      case 0x15: jump(get(dst, pc) === imm64); break; // jeq k
      case 0x55: jump(get(dst, pc) !== imm64); break; // jne k
      case 0x45: jump((get(dst, pc) & imm64 & MASK64) !== 0n); break; // jset k
      case 0x05: jump(true); break; // ja
      case 0x95: return get(0, pc); // exit
      default:
        throw new Error(`instruction 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('no exit');
}
