// A seccomp profile as the core holds it, in the shape of the OCI runtime spec's
// linux.seccomp (defaultAction, defaultErrnoRet, architectures, flags, syscalls with names,
// action, errnoRet and args), plus the conditions of docker's profile format (includes and
// excludes by capability, architecture and kernel version), which the core decides.

/** seccomp(2) return values (SECCOMP_RET_*); ERRNO and TRACE carry 16 bits of data. */
export const RET_KILL_PROCESS: u32 = 0x80000000;
export const RET_KILL_THREAD: u32 = 0x00000000;
export const RET_TRAP: u32 = 0x00030000;
export const RET_ERRNO: u32 = 0x00050000;
export const RET_TRACE: u32 = 0x7ff00000;
export const RET_LOG: u32 = 0x7ffc0000;
/** SCMP_ACT_NOTIFY: the call waits for the agent holding the filter's listener fd. */
export const RET_USER_NOTIF: u32 = 0x7fc00000;
export const RET_ALLOW: u32 = 0x7fff0000;

/** What an action without errnoRet returns (runc's default: EPERM). */
export const EPERM: u32 = 1;
/** An errnoRet is 16 bits of the return value. */
export const ERRNO_MAX: u64 = 0xffff;

/** Comparison operators (SCMP_CMP_*), as libseccomp numbers them. */
export const CMP_NE: i32 = 1;
export const CMP_LT: i32 = 2;
export const CMP_LE: i32 = 3;
export const CMP_EQ: i32 = 4;
export const CMP_GE: i32 = 5;
export const CMP_GT: i32 = 6;
export const CMP_MASKED_EQ: i32 = 7;

/** Architectures (AUDIT_ARCH_* in seccomp_data.arch). */
export const AUDIT_ARCH_X86_64: u32 = 0xc000003e;
export const AUDIT_ARCH_I386: u32 = 0x40000003;
/** x32 calls come with AUDIT_ARCH_X86_64 and this bit in the number. */
export const X32_SYSCALL_BIT: u32 = 0x40000000;

/** Architecture bits of a profile: the ones this host can run. */
export const ARCH_X86_64: u32 = 1;
export const ARCH_X86: u32 = 2;
export const ARCH_X32: u32 = 4;

/** SECCOMP_FILTER_FLAG_* the launcher passes to seccomp(2). */
export const FLAG_TSYNC: u64 = 1;
export const FLAG_LOG: u64 = 2;
export const FLAG_SPEC_ALLOW: u64 = 4;
/** Set by the compiler (never by a profile's flags) when a rule's action is SCMP_ACT_NOTIFY. */
export const FLAG_NEW_LISTENER: u64 = 8;

export class ArgCondition {
  constructor(public index: i32, public op: i32, public value: u64, public valueTwo: u64) {}
}

export class Rule {
  names: string[] = [];
  /** The seccomp return value: action | errno. */
  action: u32 = RET_ALLOW;
  args: ArgCondition[] = [];
  // docker's conditions (includes/excludes): capability bits, Go arch names, minKernel.
  includeCaps: u64 = 0;
  excludeCaps: u64 = 0;
  includeArches: string[] = [];
  excludeArches: string[] = [];
  minKernel: string = "";
}

export class Profile {
  defaultAction: u32 = RET_ALLOW;
  /** ARCH_* bits; 0 = the native one only (libseccomp's default). */
  arches: u32 = 0;
  flags: u64 = 0;
  rules: Rule[] = [];
}

/** The seccomp return value for an action name, or -1 when the name is no action husk runs. */
export function actionValue(name: string, errno: u32): i64 {
  if (name == "SCMP_ACT_ALLOW") return RET_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return RET_ERRNO | errno;
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return RET_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return RET_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return RET_TRAP;
  if (name == "SCMP_ACT_TRACE") return RET_TRACE | errno;
  if (name == "SCMP_ACT_LOG") return RET_LOG;
  if (name == "SCMP_ACT_NOTIFY") return RET_USER_NOTIF;
  return -1;
}

export function operatorValue(name: string): i32 {
  if (name == "SCMP_CMP_NE") return CMP_NE;
  if (name == "SCMP_CMP_LT") return CMP_LT;
  if (name == "SCMP_CMP_LE") return CMP_LE;
  if (name == "SCMP_CMP_EQ") return CMP_EQ;
  if (name == "SCMP_CMP_GE") return CMP_GE;
  if (name == "SCMP_CMP_GT") return CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return CMP_MASKED_EQ;
  return -1;
}

/**
 * An architecture name: the ARCH_* bit of one this host runs, 0 for one it cannot run (its
 * calls never reach the filter here: accepted and left out), -1 for a name that is none.
 */
export function archBit(name: string): i32 {
  if (name == "SCMP_ARCH_X86_64") return ARCH_X86_64;
  if (name == "SCMP_ARCH_X86") return ARCH_X86;
  if (name == "SCMP_ARCH_X32") return ARCH_X32;
  const others = [
    "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
  ];
  return others.includes(name) ? 0 : -1;
}

export function flagValue(name: string): i64 {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return <i64>FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return <i64>FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return <i64>FLAG_SPEC_ALLOW;
  return -1;
}
