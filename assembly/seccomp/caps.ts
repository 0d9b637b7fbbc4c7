// Capability names, as docker, the OCI spec and libcap spell them (capability.h order: the
// name at index n is bit n). Used by the seccomp profile's caps conditions and --cap-add/drop.

const NAMES: string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
  "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/** Every capability this table knows (bits 0–40), what `ALL` means. */
export const ALL_CAPS: u64 = (<u64>1 << <u64>NAMES.length) - 1;

/**
 * The bit of a capability name, or -1: `CAP_SYS_ADMIN`, and as docker also takes it,
 * `SYS_ADMIN` and any letter case (`sys_admin`).
 */
export function capabilityBit(name: string): i32 {
  let upper = name.toUpperCase();
  if (!upper.startsWith("CAP_")) upper = "CAP_" + upper;
  for (let i = 0; i < NAMES.length; i++) {
    if (NAMES[i] == upper) return i;
  }
  return -1;
}

export function capabilityName(bit: i32): string {
  assert(bit >= 0 && bit < NAMES.length, "capabilityName: bit");
  return NAMES[bit];
}
