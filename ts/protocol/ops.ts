// The plan's op table (docs/protocol.md): codes, field layouts, and who runs each op.
import type { FieldKind } from './frames.js';

export const PROTOCOL_VERSION = 1n;
export const HELLO_MAGIC = 0x4b535548n; // "HUSK"
export const MAX_OPS = 1024;
export const PLAN_BYTES_MAX = 4 << 20;

export const FRAME = { HELLO: 0x0001, END: 0x0002 } as const;
/**
 * Frames besides the plan (docs/protocol.md "Starting a created container", "Server mode"):
 * after END of a plan with WAIT_START, START (no fields) and SIGNAL (signo); on a server's
 * plan fd, each with a tag first: RUN (tag, then a whole plan), START (tag), SIGNAL (tag, signo).
 */
export const CONTROL = { START: 0x0003, SIGNAL: 0x0004, RUN: 0x0005 } as const;
/** Containers a launcher server runs at once. */
export const SERVER_CHILDREN_MAX = 64;
export const HELLO_FLAG = { trace: 1n, dieWithParent: 2n, diesWithMonitor: 4n } as const;

/**
 * Who runs an op: `clone` is CLONE itself; `pre-clone` ops run in the launcher and may only
 * stand before CLONE; `parent` ops run in the launcher right after CLONE while the container
 * process waits; `container` ops run in the container process; `any` runs in the launcher
 * before CLONE and in the container process after it. `control` ops make up a control plan
 * of their own (no CLONE, no EXEC), run by the launcher on existing cgroups and processes.
 * `fs` ops likewise make up an fs plan (FS_ROOT first): files Node cannot make, in a root.
 */
export type Side = 'clone' | 'pre-clone' | 'parent' | 'container' | 'any' | 'control' | 'fs';

export interface OpSpec {
  code: number;
  name: string;
  fields: readonly (readonly [string, FieldKind])[];
  side: Side;
}

const spec = (code: number, name: string, side: Side, ...fields: (readonly [string, FieldKind])[]): OpSpec => ({
  code,
  name,
  fields,
  side,
});

export const OPS: readonly OpSpec[] = [
  spec(0x0010, 'UNSHARE', 'any', ['flags', 'u64']),
  spec(0x0011, 'CLONE', 'clone', ['flags', 'u64']),
  spec(0x0012, 'WRITE_FILE', 'any', ['path', 'str'], ['content', 'str']),
  spec(0x0013, 'UID_MAP', 'parent', ['text', 'str']),
  spec(0x0014, 'GID_MAP', 'parent', ['text', 'str']),
  spec(0x0015, 'SETGROUPS', 'parent', ['text', 'str']),
  spec(0x0020, 'MOUNT', 'container', ['source', 'str'], ['target', 'str'], ['fstype', 'str'], ['flags', 'u64'], ['data', 'str']),
  spec(0x0021, 'MKDIR', 'container', ['path', 'str'], ['mode', 'u64']),
  spec(0x0022, 'TOUCH', 'container', ['path', 'str'], ['mode', 'u64']),
  spec(0x0023, 'SYMLINK', 'container', ['target', 'str'], ['linkpath', 'str']),
  spec(0x0024, 'BIND', 'container', ['source', 'str'], ['target', 'str'], ['flags', 'u64']),
  spec(0x0025, 'PIVOT_ROOT', 'container', ['newroot', 'str']),
  spec(0x0026, 'MASK', 'container', ['path', 'str']),
  spec(0x0027, 'READONLY', 'container', ['path', 'str']),
  spec(0x0028, 'SET_ROOT', 'container', ['path', 'str']),
  // lowers top first; links: where the mount(2) fallback makes its short names (docs/protocol.md "OVERLAY").
  spec(0x0029, 'OVERLAY', 'container', ['lowers', 'strs'], ['upper', 'str'], ['work', 'str'], ['target', 'str'], ['links', 'str'], ['flags', 'u64']),
  spec(0x0030, 'SETHOSTNAME', 'container', ['name', 'str']),
  spec(0x0031, 'LOOPBACK_UP', 'container'),
  spec(0x0032, 'CHDIR', 'container', ['path', 'str']),
  spec(0x0033, 'RLIMIT', 'container', ['resource', 'u64'], ['soft', 'u64'], ['hard', 'u64']),
  spec(0x0034, 'CAPS', 'container', ['bounding', 'u64'], ['effective', 'u64'], ['permitted', 'u64'], ['inheritable', 'u64']),
  spec(0x0035, 'USER', 'container', ['uid', 'u64'], ['gid', 'u64'], ['groups', 'u64s']),
  spec(0x0036, 'NO_NEW_PRIVS', 'container'),
  spec(0x0037, 'CLOSE_FDS', 'container'),
  // The three statuses: the launcher's exit status when an op fails, when EXEC finds no file,
  // and when EXEC fails otherwise (chosen by the core, assembly/plan/exec.ts).
  spec(0x0038, 'EXEC', 'container', ['path', 'str'], ['argv', 'strs'], ['env', 'strs'], ['search', 'strs'],
    ['failed_status', 'u64'], ['not_found_status', 'u64'], ['not_executable_status', 'u64']),
  spec(0x0039, 'STATUS_FILE', 'pre-clone', ['path', 'str']),
  spec(0x0040, 'CGROUP_MKDIR', 'pre-clone', ['path', 'str'], ['flags', 'u64']),
  spec(0x0041, 'CGROUP_WRITE', 'pre-clone', ['path', 'str'], ['value', 'str']),
  spec(0x0042, 'CGROUP_ENTER', 'parent', ['path', 'str']),
  spec(0x0043, 'CGROUP_INTO', 'pre-clone', ['path', 'str']),
  spec(0x0044, 'CGROUP_REPORT', 'pre-clone', ['path', 'str']),
  spec(0x0045, 'IDMAP_TREE', 'parent', ['source', 'str'], ['slot', 'u64']),
  spec(0x0046, 'ATTACH_TREE', 'container', ['slot', 'u64'], ['target', 'str']),
  // Among the first container ops only (before any other): see checkOrder in plan.ts.
  spec(0x0047, 'CGROUP_JOIN', 'container', ['path', 'str']),
  // Rootless: the setuid newuidmap/newgidmap writes the maps, run as `path PID args…` (docs/protocol.md "IDMAP_HELPER").
  spec(0x0048, 'IDMAP_HELPER', 'parent', ['path', 'str'], ['args', 'strs']),
  // Rootless networking: pasta, run as `path args… PID` (docs/protocol.md "NET_HELPER").
  spec(0x004b, 'NET_HELPER', 'parent', ['path', 'str'], ['args', 'strs']),
  // The flatten fallback where overlayfs in a user namespace is refused (docs/protocol.md "COPY_TREE").
  spec(0x004c, 'COPY_TREE', 'container', ['source', 'str'], ['target', 'str'], ['opaque_xattr', 'str'], ['flags', 'u64']),
  // The last op before WAIT_START/EXEC: a BPF filter, in SECCOMP_PROGRAM parts of ≤ 1024 instructions then SECCOMP (docs/protocol.md "SECCOMP").
  spec(0x0050, 'SECCOMP', 'container', ['flags', 'u64'], ['program', 'u64s']),
  spec(0x0055, 'SECCOMP_PROGRAM', 'container', ['program', 'u64s']),
  spec(0x0051, 'WAIT_START', 'container'),
  // The monitor writes the container's stdout and stderr to this file (docs/protocol.md "The container log").
  spec(0x0052, 'LOG', 'pre-clone', ['path', 'str']),
  // After LOG: a pty instead of the output pipes; the socket `husk attach` joins ("The attach socket").
  spec(0x0053, 'TTY', 'pre-clone', ['rows', 'u64'], ['cols', 'u64']),
  spec(0x0054, 'ATTACH', 'pre-clone', ['path', 'str'], ['flags', 'u64']),
  // Control plans (docs/protocol.md "Control plans"): these ops only, in a plan of their own.
  spec(0x0060, 'CGROUP_FREEZE', 'control', ['path', 'str'], ['frozen', 'u64']),
  spec(0x0061, 'CGROUP_KILL', 'control', ['path', 'str']),
  spec(0x0062, 'CGROUP_REMOVE', 'control', ['path', 'str']),
  spec(0x0063, 'SIGNAL_PROCESS', 'control', ['pid', 'u64'], ['start_time', 'u64'], ['signo', 'u64']),
  // Joining namespaces that exist (docs/protocol.md "Joining namespaces"): exec, enter, joins.
  spec(0x0080, 'TARGET', 'pre-clone', ['pid', 'u64'], ['start_time', 'u64']),
  spec(0x0081, 'SETNS', 'any', ['flags', 'u64']),
  spec(0x0082, 'SETNS_FILE', 'any', ['path', 'str'], ['nstype', 'u64']),
  // Pinned namespaces (docs/protocol.md "Pinned namespaces"): control ops.
  // runc's process model (docs/protocol.md "Left waiting on a FIFO"): husk-runc create.
  spec(0x00a0, 'EXEC_FIFO', 'pre-clone', ['path', 'str']),
  spec(0x00a1, 'FIFO_WAIT', 'container'),
  spec(0x00a2, 'UMASK', 'container', ['mask', 'u64']),
  spec(0x00a3, 'AMBIENT', 'container', ['capabilities', 'u64']),
  // runc's --console-socket: the pty's master goes to the socket (docs/protocol.md "The console socket").
  spec(0x00a4, 'CONSOLE', 'pre-clone', ['path', 'str']),
  // husk-runc update (a control op) and --preserve-fds (docs/protocol.md "Preserved fds").
  spec(0x00a5, 'CGROUP_SET', 'control', ['path', 'str'], ['value', 'str']),
  spec(0x00a6, 'PRESERVE_FDS', 'container', ['count', 'u64']),
  // Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program attached to `path` (docs/protocol.md "CGROUP_DEVICES").
  spec(0x00c8, 'CGROUP_DEVICES', 'pre-clone', ['path', 'str'], ['program', 'u64s']),
  // SCMP_ACT_NOTIFY's listener goes to the agent at `path` with the container process state (docs/protocol.md "The seccomp listener").
  spec(0x00c9, 'SECCOMP_LISTENER', 'pre-clone', ['path', 'str'], ['state_prefix', 'str'], ['state_middle', 'str'], ['state_suffix', 'str']),
  // An OCI idmapped bind mount: `source` idmapped through these maps (empty: the container's), sent as `slot` (docs/protocol.md "Idmapped trees").
  spec(0x00ca, 'IDMAP_MOUNT', 'parent', ['source', 'str'], ['slot', 'u64'], ['uid_map', 'str'], ['gid_map', 'str'], ['flags', 'u64']),
  spec(0x00f0, 'MKNOD_DEV', 'container', ['path', 'str'], ['mode', 'u64'], ['rdev', 'u64'], ['uid', 'u64'], ['gid', 'u64']),
  spec(0x00f1, 'PID_FORK_ORPHAN', 'container'),
  spec(0x0083, 'PIN_NEW', 'control', ['flags', 'u64'], ['dir', 'str']),
  spec(0x0084, 'UNPIN', 'control', ['path', 'str']),
  spec(0x0085, 'PIN', 'parent', ['nstype', 'u64'], ['path', 'str']),
  // Networks (docs/protocol.md "Networks"): control ops for network create and rm, NET_VETH
  // by the monitor, the rest in the container's own network namespace.
  spec(0x0090, 'NET_BRIDGE', 'control', ['name', 'str'], ['address', 'str']),
  spec(0x0091, 'NET_LINK_DEL', 'control', ['name', 'str']),
  spec(0x0092, 'NET_SYSCTL', 'control', ['key', 'str'], ['value', 'str']),
  spec(0x0093, 'NET_VETH', 'parent', ['host', 'str'], ['peer', 'str'], ['bridge', 'str'], ['mac', 'str']),
  spec(0x0094, 'NET_LINK_UP', 'container', ['name', 'str']),
  spec(0x0095, 'NET_ADDR', 'container', ['name', 'str'], ['address', 'str'], ['flags', 'u64']),
  spec(0x0096, 'NET_ROUTE', 'container', ['gateway', 'str'], ['name', 'str']),
  // `network connect` of a running container: the pair, its peer up with its address in the container's namespace.
  spec(0x0097, 'NET_CONNECT', 'control', ['host', 'str'], ['peer', 'str'], ['bridge', 'str'], ['mac', 'str'], ['address', 'str'], ['pid', 'u64'], ['start_time', 'u64']),
  // Published ports as nf_tables set elements over netlink (docs/protocol.md "NFT_ELEMENTS"):
  // added by the monitor (and deleted by it at the end), or deleted by a control plan.
  spec(0x00d8, 'NFT_ELEMENTS', 'parent', ['family', 'u64'], ['table', 'str'], ['set', 'str'], ['flags', 'u64'], ['key_words', 'u64'], ['data_words', 'u64'], ['words', 'u64s']),
  spec(0x00d9, 'NFT_DELETE', 'control', ['family', 'u64'], ['table', 'str'], ['set', 'str'], ['flags', 'u64'], ['key_words', 'u64'], ['data_words', 'u64'], ['words', 'u64s']),
  // Lifecycle (docs/protocol.md "husk's init").
  spec(0x00b0, 'INIT', 'container'),
  spec(0x00b1, 'PTY', 'container', ['path', 'str']),
  spec(0x00b2, 'PID_FORK', 'container'),
  // Fs plans (docs/protocol.md "Fs plans"): FS_ROOT first, these ops only, in a plan of their own.
  spec(0x0070, 'FS_ROOT', 'fs', ['path', 'str']),
  spec(0x0071, 'MKNOD', 'fs', ['path', 'str'], ['mode', 'u64'], ['rdev', 'u64']),
  spec(0x0072, 'SETXATTR', 'fs', ['path', 'str'], ['name', 'str'], ['value', 'str']),
  spec(0x0073, 'READ_XATTRS', 'fs', ['path', 'str']),
  // Rootless layers (docs/protocol.md "Fs plans in a user namespace").
  spec(0x0049, 'FS_USERNS', 'fs', ['newuidmap', 'str'], ['uid_args', 'strs'], ['newgidmap', 'str'], ['gid_args', 'strs']),
  spec(0x004a, 'REMOVE_TREE', 'fs', ['path', 'str']),
  // May this process mount a userxattr overlayfs in a user namespace of its own? (docs/protocol.md "OVERLAY_PROBE")
  spec(0x004d, 'OVERLAY_PROBE', 'fs'),
];

export const OP_BY_CODE: ReadonlyMap<number, OpSpec> = new Map(OPS.map((o) => [o.code, o]));
export const OP_BY_NAME: ReadonlyMap<string, OpSpec> = new Map(OPS.map((o) => [o.name, o]));

/** Fields whose strings are paths and so bounded by PATH_MAX. */
export const PATH_FIELDS = new Set(['path', 'target', 'source', 'linkpath', 'newroot']);

export const EVENT = {
  HELLO: 0x8001,
  PID: 0x8002,
  OP_TIME: 0x8003,
  ERROR: 0x8004,
  EXIT: 0x8005,
  CGROUP_FILE: 0x8006,
  READY: 0x8007,
  STARTED: 0x8008,
  XATTR: 0x8009,
  TAGGED: 0x8010,
  INNER_PID: 0x8070,
} as const;

// Linux constants the plan's numbers are made of: the namespaces a request asks for, and the
// words a plan is shown in.
export const CLONE_FLAG = {
  NEWNS: 0x00020000n,
  NEWCGROUP: 0x02000000n,
  NEWUTS: 0x04000000n,
  NEWIPC: 0x08000000n,
  NEWUSER: 0x10000000n,
  NEWPID: 0x20000000n,
  NEWNET: 0x40000000n,
  NEWTIME: 0x00000080n,
} as const;

export const CLONE_NEW: readonly (readonly [bigint, string])[] = [
  [CLONE_FLAG.NEWNS, 'mount'],
  [CLONE_FLAG.NEWUTS, 'uts'],
  [CLONE_FLAG.NEWIPC, 'ipc'],
  [CLONE_FLAG.NEWPID, 'pid'],
  [CLONE_FLAG.NEWNET, 'net'],
  [CLONE_FLAG.NEWCGROUP, 'cgroup'],
  [CLONE_FLAG.NEWUSER, 'user'],
  [CLONE_FLAG.NEWTIME, 'time'],
];

export const MOUNT_FLAGS: readonly (readonly [bigint, string])[] = [
  [1n, 'ro'],
  [2n, 'nosuid'],
  [4n, 'nodev'],
  [8n, 'noexec'],
  [4096n, 'bind'],
  [16384n, 'rec'],
  [1n << 18n, 'private'],
  [1n << 19n, 'slave'],
  [1n << 20n, 'shared'],
  [32n, 'remount'],
];
