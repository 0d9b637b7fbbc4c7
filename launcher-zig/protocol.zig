//! The wire contract of docs/protocol.md, as types and constants.
//! Op payloads are plain structs whose field order and field types *are* the encoding:
//! decode.zig walks them with comptime reflection, so the table in protocol.md and the
//! structs below are the only two places a field is named.

const std = @import("std");

pub const version: u64 = 1;
pub const magic: u64 = 0x4b535548; // "HUSK"

pub const header_size = 8;
pub const frame_payload_bytes_max = 1024 * 1024;
pub const plan_bytes_max = 4 * 1024 * 1024;
pub const ops_max = 1024;
pub const str_bytes_max = 65536;
pub const path_bytes_max = 4095;
pub const strs_count_max = 4096;
pub const u64s_count_max = 1024;

/// The index used for HELLO (and for an error that belongs to no op).
pub const index_hello: u64 = std.math.maxInt(u64);

pub const hello_flag_trace: u64 = 1 << 0;
pub const hello_flag_die_with_parent: u64 = 1 << 1;
/// The container gets PR_SET_PDEATHSIG(SIGKILL) against its monitor, and the launcher does
/// not die with its parent: a detached container dies with its monitor (protocol.md HELLO).
pub const hello_flag_dies_with_monitor: u64 = 1 << 2;
pub const hello_flags_known: u64 = hello_flag_trace | hello_flag_die_with_parent | hello_flag_dies_with_monitor;

pub const CLONE_NEWTIME: u64 = 0x00000080;
pub const CLONE_NEWNS: u64 = 0x00020000;
pub const CLONE_NEWCGROUP: u64 = 0x02000000;
pub const CLONE_NEWUTS: u64 = 0x04000000;
pub const CLONE_NEWIPC: u64 = 0x08000000;
pub const CLONE_NEWUSER: u64 = 0x10000000;
pub const CLONE_NEWPID: u64 = 0x20000000;
pub const CLONE_NEWNET: u64 = 0x40000000;
pub const unshare_flags_known: u64 = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWUSER | CLONE_NEWTIME;
/// What SETNS / SETNS_FILE may enter in the launcher, before CLONE: namespaces that only
/// change what its children get (pid) or that the monitor does not use (net, ipc, uts,
/// cgroup), and user for a rootless plan (a non-root launcher has no power over the
/// container's pid namespace but through its user namespace; the core adds it only then).
/// Never mount or time: the monitor works with the host's view of files.
pub const setns_before_clone_known: u64 = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
    CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWUSER;
/// What they may enter in the container process (pid would only reach its children).
/// What PIN_NEW can make and pin from the launcher itself: namespaces unshare(2) moves the
/// caller into at once (pid and time reach only children; mount and user would leave the
/// host's mount table or powers behind before the bind).
pub const pin_new_known: u64 = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
pub const setns_after_clone_known: u64 = unshare_flags_known & ~CLONE_NEWPID;
pub const clone_flags_known: u64 = unshare_flags_known & ~CLONE_NEWTIME;

/// MS_* flags a plan may pass to mount(2). Kernel-internal bits (MS_KERNMOUNT, MS_ACTIVE,
/// MS_NOUSER, ...) are not among them: a plan that sets one is malformed.
pub const mount_flags_known: u64 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 |
    0x100 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | (1 << 16) | (1 << 17) |
    (1 << 18) | (1 << 19) | (1 << 20) | (1 << 21) | (1 << 23) | (1 << 24) | (1 << 25);

pub const bind_flag_recursive: u64 = 1 << 0;
pub const bind_flag_readonly: u64 = 1 << 1;
pub const bind_flag_create: u64 = 1 << 2;
/// Bits 3-5: nosuid, nodev, noexec on the new mount (mount_setattr, recursive with bit 0).
pub const bind_flag_nosuid: u64 = 1 << 3;
pub const bind_flag_nodev: u64 = 1 << 4;
pub const bind_flag_noexec: u64 = 1 << 5;
/// Bits 6-9: the new mount's atime mode, at most one of noatime, strictatime, relatime
/// (MOUNT_ATTR__ATIME cleared, the mode set), and nodiratime beside any of them.
pub const bind_flag_noatime: u64 = 1 << 6;
pub const bind_flag_strictatime: u64 = 1 << 7;
pub const bind_flag_relatime: u64 = 1 << 8;
pub const bind_flag_nodiratime: u64 = 1 << 9;
pub const bind_flags_atime: u64 = bind_flag_noatime | bind_flag_strictatime | bind_flag_relatime;
pub const bind_flags_known: u64 = 0b1111111111;

pub const mode_max: u64 = 0o7777;
pub const rlimit_resource_count: u64 = 16; // RLIMIT_NLIMITS
/// CAP_CHECKPOINT_RESTORE (40) is the last capability Linux 6.x knows.
pub const capability_last: u6 = 40;
pub const capabilities_known: u64 = (@as(u64, 1) << (capability_last + 1)) - 1;
/// (uid_t)-1 means "unchanged" to the set*id calls, so it is never a valid id.
pub const id_max: u64 = std.math.maxInt(u32) - 1;

/// CGROUP_MKDIR flags: bit 0 `shared` (an existing directory is fine, never removed).
pub const cgroup_mkdir_flag_shared: u64 = 1 << 0;
pub const cgroup_mkdir_flags_known: u64 = cgroup_mkdir_flag_shared;
pub const cgroup_mkdirs_max = 32;
pub const cgroup_reports_max = 16;
pub const cgroup_report_bytes_max = 4096;
/// NFT_ELEMENTS a container plan may have (the monitor deletes each at its end): 16 x 204 ports.
pub const nft_elements_max = 16;
/// STATUS_FILE's path plus ".tmp" must still be a path.
pub const status_path_bytes_max = path_bytes_max - 4;
/// IDMAP_TREE / ATTACH_TREE slots 0..15.
pub const tree_slots = 16;

pub const FrameType = enum(u16) {
    hello = 0x0001,
    end = 0x0002,
    unshare = 0x0010,
    clone = 0x0011,
    write_file = 0x0012,
    uid_map = 0x0013,
    gid_map = 0x0014,
    setgroups = 0x0015,
    mount = 0x0020,
    mkdir = 0x0021,
    touch = 0x0022,
    symlink = 0x0023,
    bind = 0x0024,
    pivot_root = 0x0025,
    mask = 0x0026,
    readonly = 0x0027,
    set_root = 0x0028,
    overlay = 0x0029,
    sethostname = 0x0030,
    loopback_up = 0x0031,
    chdir = 0x0032,
    rlimit = 0x0033,
    caps = 0x0034,
    user = 0x0035,
    no_new_privs = 0x0036,
    close_fds = 0x0037,
    exec = 0x0038,
    status_file = 0x0039,
    cgroup_mkdir = 0x0040,
    cgroup_write = 0x0041,
    cgroup_enter = 0x0042,
    cgroup_into = 0x0043,
    cgroup_report = 0x0044,
    idmap_tree = 0x0045,
    attach_tree = 0x0046,
    cgroup_join = 0x0047,
    idmap_helper = 0x0048,
    // Rootless layers (protocol.md "Fs plans in a user namespace"): fs_plan.zig.
    fs_userns = 0x0049,
    remove_tree = 0x004a,
    // Rootless networking (protocol.md "NET_HELPER"): idmap_helper.zig.
    net_helper = 0x004b,
    // The flatten fallback for overlayfs in a user namespace (protocol.md "COPY_TREE",
    // "OVERLAY_PROBE"): copy_tree.zig, overlay_probe.zig.
    copy_tree = 0x004c,
    overlay_probe = 0x004d,
    seccomp = 0x0050,
    wait_start = 0x0051,
    log = 0x0052,
    tty = 0x0053,
    attach = 0x0054,
    seccomp_program = 0x0055,
    cgroup_freeze = 0x0060,
    cgroup_kill = 0x0061,
    cgroup_remove = 0x0062,
    signal_process = 0x0063,
    // Joining namespaces that exist (protocol.md "Joining namespaces"): setns.zig.
    target = 0x0080,
    setns = 0x0081,
    setns_file = 0x0082,
    pin_new = 0x0083,
    unpin = 0x0084,
    pin = 0x0085,
    // Networks (protocol.md "Networks"): net.zig.
    net_bridge = 0x0090,
    net_link_del = 0x0091,
    net_sysctl = 0x0092,
    net_veth = 0x0093,
    net_link_up = 0x0094,
    net_addr = 0x0095,
    net_route = 0x0096,
    net_connect = 0x0097,
    // nf_tables set elements (protocol.md "NFT_ELEMENTS"): nft.zig.
    nft_elements = 0x00d8,
    nft_delete = 0x00d9,
    // Lifecycle (protocol.md "husk's init"): init.zig.
    init = 0x00b0,
    pty = 0x00b1,
    pid_fork = 0x00b2,
    fs_root = 0x0070,
    mknod = 0x0071,
    setxattr = 0x0072,
    read_xattrs = 0x0073,
    write_stream = 0x0074,
    // runc's process model (protocol.md "Left waiting on a FIFO"): fifo.zig.
    exec_fifo = 0x00a0,
    fifo_wait = 0x00a1,
    umask = 0x00a2,
    ambient = 0x00a3,
    console = 0x00a4,
    // husk-runc update and --preserve-fds (protocol.md "Control plans", "Preserved fds").
    cgroup_set = 0x00a5,
    preserve_fds = 0x00a6,
    // Device rules on cgroup v2 (protocol.md "CGROUP_DEVICES"): cgroup.zig.
    cgroup_devices = 0x00c8,
    // OCI hooks in the container (protocol.md "Hooks in the container"): hook.zig.
    hook = 0x00c0,
    hook_sync = 0x00c1,
    ioprio = 0x00c2,
    scheduler = 0x00c3,
    personality = 0x00c4,
    // SCMP_ACT_NOTIFY's listener fd, sent to an agent (protocol.md "The seccomp listener"): listener.zig.
    seccomp_listener = 0x00c9,
    // OCI idmapped bind mounts (protocol.md "Idmapped trees"): idmap.zig.
    idmap_mount = 0x00ca,
    // linux.devices made in the container's root (protocol.md MKNOD_DEV): mounts.zig.
    mknod_dev = 0x00f0,
    // PID_FORK for runc's model (protocol.md "A joined user namespace"): init.zig.
    pid_fork_orphan = 0x00f1,
    _,
};

/// Frames the orchestrator sends besides the plan (protocol.md "Starting a created container"
/// and "Server mode"). On a one-shot launcher's plan fd, after END: START (no fields) and
/// SIGNAL (signo). On a server's plan fd every request carries a tag first: RUN (tag, then a
/// whole plan), START (tag), SIGNAL (tag, signo).
pub const ControlType = enum(u16) {
    start = 0x0003,
    signal = 0x0004,
    run = 0x0005,
    _,
};

/// A signal number SIGNAL (and SIGNAL_PROCESS) may carry: 1 to 64.
pub const signal_max: u64 = 64;
/// PRESERVE_FDS: at most this many fds (3 to 1026) are kept open across EXEC.
pub const preserved_fds_max: u64 = 1024;
/// Containers a server runs at once; a RUN beyond them is refused for its tag.
pub const server_children_max = 64;
/// RUN header flag (protocol.md "Server mode"): the server relays no STARTED for the tag and
/// holds its PID until the tag's next event.
pub const run_quiet: u16 = 1;

pub const EventType = enum(u16) {
    hello = 0x8001,
    pid = 0x8002,
    op_time = 0x8003,
    @"error" = 0x8004,
    exit = 0x8005,
    cgroup_file = 0x8006,
    ready = 0x8007,
    started = 0x8008,
    xattr = 0x8009,
    tagged = 0x8010,
    inner_pid = 0x8070,
};

pub const ExitKind = enum(u64) {
    exited = 0,
    signaled = 1,
    launcher_failed = 2,
    /// EXEC_FIFO plans: the container waits at FIFO_WAIT and the launcher left it.
    detached = 3,
};

/// A `str` field: bytes copied out of the frame and NUL-terminated (the wire forbids NUL
/// inside, so the terminator is unambiguous).
pub const Str = [:0]const u8;

/// HOOK's fields (hook.zig takes them whole).
pub const Hook = struct { kind: u64, index: u64, path: Str, args: Strs, env: Strs, dir: Str, timeout_s: u64, state_prefix: Str, state_suffix: Str };
/// A `strs` field: a NULL-terminated array of C strings, ready to be argv or envp.
pub const Strs = [:null]const ?[*:0]const u8;
/// A `u64s` field: a view of the little-endian words inside the frame.
pub const U64s = struct {
    bytes: []const u8,

    pub fn count(self: U64s) usize {
        std.debug.assert(self.bytes.len % 8 == 0);
        return self.bytes.len / 8;
    }

    pub fn get(self: U64s, index: usize) u64 {
        std.debug.assert(index < self.count());
        return std.mem.readInt(u64, self.bytes[index * 8 ..][0..8], .little);
    }
};

pub const Hello = struct { magic: u64, version: u64, flags: u64 };
/// NFT_ELEMENTS and NFT_DELETE (protocol.md "NFT_ELEMENTS").
pub const NftOp = struct { family: u64, table: Str, set: Str, flags: u64, key_words: u64, data_words: u64, words: U64s };
pub const End = struct {};

pub const Op = union(enum) {
    unshare: struct { flags: u64 },
    clone: struct { flags: u64 },
    write_file: struct { path: Str, content: Str },
    uid_map: struct { text: Str },
    gid_map: struct { text: Str },
    setgroups: struct { text: Str },
    mount: struct { source: Str, target: Str, fstype: Str, flags: u64, data: Str },
    mkdir: struct { path: Str, mode: u64 },
    touch: struct { path: Str, mode: u64 },
    symlink: struct { target: Str, linkpath: Str },
    bind: struct { source: Str, target: Str, flags: u64 },
    pivot_root: struct { newroot: Str },
    mask: struct { path: Str },
    readonly: struct { path: Str },
    set_root: struct { path: Str },
    /// lowers: top first, as overlayfs orders them; links: a directory for the mount(2)
    /// fallback's short names (protocol.md "OVERLAY").
    overlay: struct { lowers: Strs, upper: Str, work: Str, target: Str, links: Str, flags: u64 },
    sethostname: struct { name: Str },
    loopback_up: struct {},
    chdir: struct { path: Str },
    rlimit: struct { resource: u64, soft: u64, hard: u64 },
    caps: struct { bounding: u64, effective: u64, permitted: u64, inheritable: u64 },
    user: struct { uid: u64, gid: u64, groups: U64s },
    no_new_privs: struct {},
    close_fds: struct {},
    /// The statuses (1 to 255) the launcher exits with when an op fails, when EXEC finds no
    /// file (ENOENT), and when EXEC fails otherwise: the core chooses them, not the launcher.
    exec: struct { path: Str, argv: Strs, env: Strs, search: Strs, failed_status: u64, not_found_status: u64, not_executable_status: u64 },
    status_file: struct { path: Str },
    cgroup_mkdir: struct { path: Str, flags: u64 },
    cgroup_write: struct { path: Str, value: Str },
    cgroup_enter: struct { path: Str },
    cgroup_into: struct { path: Str },
    cgroup_report: struct { path: Str },
    idmap_tree: struct { source: Str, slot: u64 },
    attach_tree: struct { slot: u64, target: Str },
    cgroup_join: struct { path: Str },
    /// Parent op: run the setuid `path` (newuidmap, newgidmap) as `path PID args…` (idmap_helper.zig).
    idmap_helper: struct { path: Str, args: Strs },
    /// Parent op: run `path args… PID` (pasta) and wait for it; it stays as the network's daemon.
    net_helper: struct { path: Str, args: Strs },
    wait_start: struct {},
    /// protocol.md "SECCOMP" (seccomp.zig): load a BPF filter, the program of the
    /// SECCOMP_PROGRAM ops right before it then this one's, one sock_filter per u64.
    seccomp: struct { flags: u64, program: U64s },
    seccomp_program: struct { program: U64s },
    /// protocol.md "The container log" (logger.zig).
    log: struct { path: Str },
    /// protocol.md "The container log": a pty instead of the pipes (after LOG).
    tty: struct { rows: u64, cols: u64 },
    /// protocol.md "The attach socket" (attach.zig; after LOG and TTY).
    attach: struct { path: Str, flags: u64 },
    // Control plans (protocol.md "Control plans"): only these, no CLONE, no EXEC.
    cgroup_freeze: struct { path: Str, frozen: u64 },
    cgroup_kill: struct { path: Str },
    cgroup_remove: struct { path: Str },
    signal_process: struct { pid: u64, start_time: u64, signo: u64 },
    // Joining namespaces that exist (protocol.md "Joining namespaces"): setns.zig.
    target: struct { pid: u64, start_time: u64 },
    setns: struct { flags: u64 },
    setns_file: struct { path: Str, nstype: u64 },
    // Pinned namespaces (protocol.md "Pinned namespaces"): control ops, pin.zig.
    pin_new: struct { flags: u64, dir: Str },
    unpin: struct { path: Str },
    /// Parent op: bind /proc/PID/ns/TYPE of CLONE's process on `path` (made here).
    pin: struct { nstype: u64, path: Str },
    // Networks (protocol.md "Networks"): net.zig. Control ops for network create and rm,
    // a parent op for the veth pair, container ops inside the container's namespace.
    net_bridge: struct { name: Str, address: Str },
    net_link_del: struct { name: Str },
    net_sysctl: struct { key: Str, value: Str },
    net_veth: struct { host: Str, peer: Str, bridge: Str, mac: Str },
    net_link_up: struct { name: Str },
    net_addr: struct { name: Str, address: Str, flags: u64 },
    net_route: struct { gateway: Str, name: Str },
    net_connect: struct { host: Str, peer: Str, bridge: Str, mac: Str, address: Str, pid: u64, start_time: u64 },
    /// Parent op: add elements (keys of key_words, values of data_words 32-bit words, each
    /// word big-endian as the core wrote it) to a set of an nf_tables table; the monitor
    /// deletes them again when the launcher ends (a published port).
    nft_elements: NftOp,
    /// Control op: delete such elements (gone already is success).
    nft_delete: NftOp,
    /// Container op right before [WAIT_START] EXEC: fork; the parent becomes husk's init.
    init: struct {},
    /// Container op after PIVOT_ROOT, with TTY: the pty is made in the container's devpts.
    pty: struct { path: Str },
    /// Container op after an UNSHARE of a pid namespace: fork; the child (its pid 1) goes on,
    /// the parent becomes husk's init for it (a joined user namespace, init.zig fork_pid).
    pid_fork: struct {},
    // Fs plans (protocol.md "Fs plans"): only these, no CLONE, no EXEC; FS_ROOT first.
    fs_root: struct { path: Str },
    mknod: struct { path: Str, mode: u64, rdev: u64 },
    /// value: the xattr's bytes as lowercase hex (a `str` cannot hold NUL).
    setxattr: struct { path: Str, name: Str, value: Str },
    read_xattrs: struct { path: Str },
    /// The last op of an fs plan: records follow END on the plan fd (write_stream.zig).
    write_stream: struct {},
    /// Right after FS_ROOT: the rest of the fs plan runs in a new user namespace whose maps
    /// the setuid helpers write (`newuidmap PID uid_args…`, `newgidmap PID gid_args…`).
    fs_userns: struct { newuidmap: Str, uid_args: Strs, newgidmap: Str, gid_args: Strs },
    /// `path` (clean, relative, not followed) and everything under it, removed.
    remove_tree: struct { path: Str },
    /// Container op: the tree `source` merged into the directory `target` (copy_tree.zig).
    copy_tree: struct { source: Str, target: Str, opaque_xattr: Str, flags: u64 },
    /// Fs op: may this process mount a userxattr overlayfs in a user namespace of its own?
    overlay_probe: struct {},
    /// Launcher op: make the FIFO at `path` and hold it open; the container waits on it.
    exec_fifo: struct { path: Str },
    /// Container op right before EXEC: READY, the launcher leaves, then one byte from the FIFO.
    fifo_wait: struct {},
    /// Container op: umask(mask), mask ≤ 0777.
    umask: struct { mask: u64 },
    /// Container op, after CAPS: raise these capabilities into the ambient set.
    ambient: struct { capabilities: u64 },
    /// Launcher op: a pty whose master goes to the AF_UNIX socket at `path` (console.zig).
    console: struct { path: Str },
    /// Control op: write `value` to the file `path` of an existing cgroup directory.
    cgroup_set: struct { path: Str, value: Str },
    /// Container op after CLOSE_FDS: fds 3 to 3+count-1 survive EXEC.
    preserve_fds: struct { count: u64 },
    /// Launcher op: load `program` (eBPF, one struct bpf_insn per u64) as a
    /// BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to the cgroup v2 directory `path`.
    cgroup_devices: struct { path: Str, program: U64s },
    /// Container op: run an OCI createContainer (kind 3) or startContainer (kind 4) hook.
    hook: Hook,
    /// Container op: READY, then wait for START (the orchestrator runs its hooks meanwhile).
    hook_sync: struct {},
    /// Container op: ioprio_set(IOPRIO_WHO_PROCESS, 0, value); class 1-3 in bits 13-15, level 0-7.
    ioprio: struct { value: u64 },
    /// Container op: sched_setattr(0) with policy (0-3, 5), nice (an i64 in two's complement,
    /// -20 to 19) and priority (1-99 for FIFO and RR, else 0).
    scheduler: struct { policy: u64, nice: u64, priority: u64 },
    /// Container op: personality(persona); persona ≤ 0xffffffff.
    personality: struct { persona: u64 },
    /// Launcher op: the listener of the SECCOMP with flag NEW_LISTENER goes to the AF_UNIX
    /// stream socket at `path` with the container process state, the pid (decimal) between
    /// prefix and middle and between middle and suffix.
    seccomp_listener: SeccompListener,
    /// Parent op: a detached copy of `source`, idmapped through a user namespace with these
    /// maps (empty: the container's), sent as `slot` like IDMAP_TREE's.
    idmap_mount: struct { source: Str, slot: u64, uid_map: Str, gid_map: Str, flags: u64 },
    /// Container op: a device node or FIFO at `path` in the current root (mode: type and
    /// permissions, set exactly), owned by uid:gid; one already there is left as it is.
    mknod_dev: struct { path: Str, mode: u64, rdev: u64, uid: u64, gid: u64 },
    /// Container op: as PID_FORK, but the parent exits at once, so the child (the container's
    /// pid 1) is reparented to the nearest subreaper (the engine's) instead of husk's init.
    pid_fork_orphan: struct {},

    pub const Tag = std.meta.Tag(Op);

    pub fn frame_type(tag: Tag) FrameType {
        return switch (tag) {
            inline else => |comptime_tag| @field(FrameType, @tagName(comptime_tag)),
        };
    }

    /// Who runs the op, per "Who runs an op" in protocol.md.
    pub const Runner = enum { launcher, launcher_or_container, clone, parent, container, control, fs };

    pub fn runner(tag: Tag) Runner {
        return switch (tag) {
            .status_file, .cgroup_mkdir, .cgroup_write, .cgroup_into, .cgroup_report, .log, .tty, .attach, .target, .exec_fifo, .console, .cgroup_devices, .seccomp_listener => .launcher,
            .unshare, .write_file, .setns, .setns_file => .launcher_or_container,
            .clone => .clone,
            .uid_map, .gid_map, .setgroups, .cgroup_enter, .idmap_tree, .idmap_mount, .pin, .idmap_helper, .net_veth, .net_helper, .nft_elements => .parent,
            .cgroup_freeze, .cgroup_kill, .cgroup_remove, .signal_process, .pin_new, .unpin, .net_bridge, .net_link_del, .net_sysctl, .cgroup_set, .net_connect, .nft_delete => .control,
            .fs_root, .mknod, .setxattr, .read_xattrs, .write_stream, .fs_userns, .remove_tree, .overlay_probe => .fs,
            else => .container,
        };
    }
};

/// SECCOMP flags: SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW, _NEW_LISTENER.
pub const seccomp_flags_known: u64 = 0b1111;
pub const seccomp_flag_new_listener: u64 = 0b1000;
/// SECCOMP_LISTENER's three parts of the state JSON, together.
pub const listener_state_max = 16384;

/// IDMAP_MOUNT flags: bit 0 the tree recursively (rbind), bit 1 read-only, bits 3-5 nosuid,
/// nodev, noexec (as BIND's), bit 6 the idmapping on every mount of the tree (ridmap).
pub const idmap_mount_recursive: u64 = 1;
pub const idmap_mount_readonly: u64 = 2;
pub const idmap_mount_idmap_recursive: u64 = 64;
pub const idmap_mount_flags_known: u64 = 0b1111011;

pub const SeccompListener = struct { path: Str, state_prefix: Str, state_middle: Str, state_suffix: Str };
/// The kernel's BPF_MAXINSNS: a filter is at most this many instructions.
pub const seccomp_instructions_max = 4096;

/// OVERLAY flags: bit 0 userxattr, bit 1 the mount(2) fallback forced (tests).
pub const overlay_flag_userxattr: u64 = 1 << 0;
pub const overlay_flag_legacy: u64 = 1 << 1;
pub const overlay_flags_known: u64 = 0b11;
/// COPY_TREE flags: bit 0 the source is an overlayfs layer (character devices 0/0 are whiteouts).
pub const copy_tree_flag_whiteouts: u64 = 1 << 0;
pub const copy_tree_flags_known: u64 = 0b1;
/// overlayfs stacks at most this many lowers (OVL_MAX_STACK).
pub const overlay_lowers_max = 500;

/// MKNOD's file types (S_IFMT bits): a character or block device, or a FIFO.
pub const S_IFMT: u64 = 0o170000;
pub const S_IFIFO: u64 = 0o010000;
pub const S_IFCHR: u64 = 0o020000;
pub const S_IFBLK: u64 = 0o060000;
/// XATTR_NAME_MAX; SETXATTR values up to what a `str` holds in hex; READ_XATTRS reports
/// values up to 4 KiB (a larger one fails the op with ERANGE).
pub const xattr_name_bytes_max = 255;
pub const xattr_value_bytes_max = str_bytes_max / 2;
pub const xattr_read_bytes_max = 4096;

/// An fs op's path (protocol.md "Fs plans"): `.` (the root itself) or relative, with no
/// empty, `.` or `..` component.
pub fn is_clean_relative(path: []const u8) bool {
    if (std.mem.eql(u8, path, ".")) return true;
    if (path.len == 0 or path[0] == '/') return false;
    var components = std.mem.splitScalar(u8, path, '/');
    while (components.next()) |component| {
        if (component.len == 0) return false;
        if (std.mem.eql(u8, component, ".") or std.mem.eql(u8, component, "..")) return false;
    }
    return true;
}

/// Fields whose `str` bound is a path's (protocol.md: "fields named path, target, ...").
pub fn is_path_field(comptime name: []const u8) bool {
    const names = [_][]const u8{ "path", "target", "source", "linkpath", "newroot" };
    inline for (names) |path_name| {
        if (comptime std.mem.eql(u8, name, path_name)) return true;
    }
    return false;
}

pub fn tag_from_frame_type(frame_type: FrameType) ?Op.Tag {
    inline for (std.meta.fields(Op.Tag)) |field| {
        if (frame_type == @field(FrameType, field.name)) return @field(Op.Tag, field.name);
    }
    return null;
}

/// A cgroup op's path: absolute, and no empty, `.` or `..` component (so no trailing `/`
/// either), as protocol.md's "cgroups" says.
pub fn is_clean_absolute(path: []const u8) bool {
    if (path.len < 2 or path[0] != '/') return false;
    var components = std.mem.splitScalar(u8, path[1..], '/');
    while (components.next()) |component| {
        if (component.len == 0) return false;
        if (std.mem.eql(u8, component, ".") or std.mem.eql(u8, component, "..")) return false;
    }
    return true;
}

/// Name for messages: the op's own name, or "hello"/"end", or null for an unknown type.
pub fn frame_name(code: u64) ?[]const u8 {
    if (code > std.math.maxInt(u16)) return null;
    const frame_type: FrameType = @enumFromInt(@as(u16, @intCast(code)));
    return std.enums.tagName(FrameType, frame_type);
}

comptime {
    // Every op has a frame type with its name, and the type codes are unique.
    for (std.meta.fields(Op.Tag)) |field| _ = @field(FrameType, field.name);
    std.debug.assert(std.meta.fields(Op.Tag).len + 2 == std.meta.fields(FrameType).len);
    std.debug.assert(@sizeOf(u64) * 3 <= frame_payload_bytes_max);
}

test "clean absolute paths" {
    try std.testing.expect(is_clean_absolute("/sys/fs/cgroup/memory/husk"));
    try std.testing.expect(is_clean_absolute("/a"));
    try std.testing.expect(is_clean_absolute("/a/..b/.c"));
    for ([_][]const u8{ "", "/", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/a/." }) |path| {
        try std.testing.expect(!is_clean_absolute(path));
    }
}

test "clean relative paths" {
    for ([_][]const u8{ ".", "a", "a/b", "..a/.b", "a/b.c" }) |path| try std.testing.expect(is_clean_relative(path));
    for ([_][]const u8{ "", "/", "/a", "a/", "a//b", "./a", "a/.", "..", "a/../b", "a/.." }) |path| {
        try std.testing.expect(!is_clean_relative(path));
    }
}

test "frame names and runners" {
    try std.testing.expectEqual(Op.Runner.fs, Op.runner(.mknod));
    try std.testing.expectEqualStrings("read_xattrs", frame_name(0x73).?);
    try std.testing.expectEqual(Op.Runner.launcher, Op.runner(.cgroup_mkdir));
    try std.testing.expectEqual(Op.Runner.parent, Op.runner(.idmap_tree));
    try std.testing.expectEqual(Op.Runner.container, Op.runner(.attach_tree));
    try std.testing.expectEqual(Op.Runner.container, Op.runner(.cgroup_join));
    try std.testing.expectEqualStrings("cgroup_join", frame_name(0x47).?);
    try std.testing.expectEqualStrings("cgroup_into", frame_name(0x43).?);
    try std.testing.expectEqualStrings("mount", frame_name(0x20).?);
    try std.testing.expectEqualStrings("hello", frame_name(1).?);
    try std.testing.expect(frame_name(0x9999) == null);
    try std.testing.expect(frame_name(1 << 20) == null);
    try std.testing.expectEqual(Op.Runner.parent, Op.runner(.uid_map));
    try std.testing.expectEqual(FrameType.exec, Op.frame_type(.exec));
    try std.testing.expectEqual(Op.Tag.bind, tag_from_frame_type(.bind).?);
    try std.testing.expect(tag_from_frame_type(.hello) == null);
    try std.testing.expectEqual(Op.Runner.control, Op.runner(.cgroup_remove));
    try std.testing.expectEqual(Op.Runner.control, Op.runner(.signal_process));
    try std.testing.expectEqualStrings("cgroup_freeze", frame_name(0x60).?);
    try std.testing.expectEqualStrings("signal_process", frame_name(0x63).?);
}
