// Linux constants the plan carries (uapi values; the launcher passes them to the kernel).

export const CLONE_NEWTIME: u64 = 0x00000080;
export const CLONE_NEWNS: u64 = 0x00020000;
export const CLONE_NEWCGROUP: u64 = 0x02000000;
export const CLONE_NEWUTS: u64 = 0x04000000;
export const CLONE_NEWIPC: u64 = 0x08000000;
export const CLONE_NEWUSER: u64 = 0x10000000;
export const CLONE_NEWPID: u64 = 0x20000000;
export const CLONE_NEWNET: u64 = 0x40000000;

export const MS_RDONLY: u64 = 1;
export const MS_NOSUID: u64 = 2;
export const MS_NODEV: u64 = 4;
export const MS_NOEXEC: u64 = 8;
export const MS_REC: u64 = 0x4000;
export const MS_PRIVATE: u64 = 1 << 18;

/** BIND op flags (docs/protocol.md). */
export const BIND_RECURSIVE: u64 = 1;
export const BIND_READONLY: u64 = 2;
export const BIND_CREATE: u64 = 4;

export const CLOCK_MONOTONIC: u64 = 1;
export const CLOCK_BOOTTIME: u64 = 7;

/** KTIME_SEC_MAX / 2: the kernel refuses a clock plus its offset above this (ERANGE). */
export const TIME_OFFSET_MAX: i64 = 4611686018;

export const CAP_CHOWN: u32 = 0;
export const CAP_DAC_OVERRIDE: u32 = 1;
export const CAP_FOWNER: u32 = 3;
export const CAP_FSETID: u32 = 4;
export const CAP_KILL: u32 = 5;
export const CAP_SETGID: u32 = 6;
export const CAP_SETUID: u32 = 7;
export const CAP_SETPCAP: u32 = 8;
export const CAP_NET_BIND_SERVICE: u32 = 10;
export const CAP_NET_RAW: u32 = 13;
export const CAP_SYS_CHROOT: u32 = 18;
export const CAP_MKNOD: u32 = 27;
export const CAP_AUDIT_WRITE: u32 = 29;
export const CAP_SETFCAP: u32 = 31;

/** Ids are below 2^32 - 1 ((uid_t)-1 means "unchanged" to the kernel). */
export const ID_LIMIT: u64 = 0xffffffff;
