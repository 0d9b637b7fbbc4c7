//! The plan decoder: reads HELLO, ops and END frame by frame (asking its reader for no
//! byte past END; a `Buffered` reader may hold some already, for the caller), validates
//! every frame, field, bound and the order of ops, and builds `Plan` before any op runs.
//! It is total: any byte sequence gives either a plan or an `Invalid` with a reason.
//! No allocation: frames, strings and argv arrays live in a caller-provided `Storage`.

const std = @import("std");
const assert = std.debug.assert;
const attach = @import("attach.zig");
const protocol = @import("protocol.zig");
const net = @import("net.zig");
const nft = @import("nft.zig");
const idmap_helper = @import("idmap_helper.zig");
const hook = @import("hook.zig");
const Op = protocol.Op;
const Str = protocol.Str;
const Strs = protocol.Strs;
const U64s = protocol.U64s;

const EINVAL = @import("sys.zig").EINVAL; // errno values live in sys.zig only.

/// Only EXEC (three lists) and OVERLAY (one) have `strs` fields, and a valid plan has one
/// of each at most, so four full lists (each with its NULL) bound the pointer pool.
const pointers_max = 4 * (protocol.strs_count_max + 1);

pub const Storage = struct {
    /// The frames exactly as read; `U64s` views point here.
    frames: [protocol.plan_bytes_max]u8,
    /// NUL-terminated copies of every `str`. A `str` costs n + 4 bytes on the wire and
    /// n + 1 here, so this never holds more than `frames`.
    strings: [protocol.plan_bytes_max]u8,
    pointers: [pointers_max]?[*:0]const u8,
    reason: [160]u8,
};

pub const Plan = struct {
    flags: u64,
    ops: [protocol.ops_max]Op,
    ops_count: usize,
    clone_index: usize,
    /// Namespaces the container gets: UNSHAREs before CLONE, then CLONE's flags.
    namespaces: u64,
    /// IDMAP_TREE ops: how many detached mounts the container process receives.
    trees_count: usize,
    /// The plan has WAIT_START (right before EXEC): the container waits for START.
    wait_start: bool,
    /// The plan has PTY: TTY's pty is made by the container process in its own devpts.
    pty_inside: bool = false,
    /// The plan has EXEC_FIFO and FIFO_WAIT: runc's process model (fifo.zig).
    exec_fifo: bool,
    fifo_wait: bool,
    /// HOOK_SYNC: the container process waits for START mid-plan (the orchestrator's hooks).
    hook_sync: bool,
    /// SECCOMP_LISTENER: CLONE makes the socketpair the listener's number and reply cross.
    seccomp_listener: bool = false,
    /// A control plan (protocol.md "Control plans"): control ops only, no CLONE or EXEC.
    control: bool,
    /// An fs plan (protocol.md "Fs plans"): FS_ROOT first, fs ops only, no CLONE or EXEC.
    fs: bool,

    pub fn slice(plan: *const Plan) []const Op {
        assert(plan.ops_count <= protocol.ops_max);
        return plan.ops[0..plan.ops_count];
    }
};

/// Why a plan was rejected, ready to become an ERROR event.
pub const Invalid = struct {
    index: u64,
    code: u64,
    errno: u16,
    reason: []const u8,
    /// The offending frame was read whole, so the input stands at the next frame (a
    /// server can skip to this plan's END and go on). False for EOF, a read error, a bad
    /// header or a frame over a bound: where the next frame starts is unknown.
    whole: bool = false,
};

pub const ReadResult = union(enum) { bytes: usize, errno: u16 };

/// Reads the plan from `reader` (anything with `fn read(*Self, []u8) ReadResult`, where 0
/// bytes means end of input). Returns null when `plan` holds a complete, valid plan.
pub fn read_plan(reader: anytype, storage: *Storage, plan: *Plan) ?Invalid {
    var decoder = Decoder{ .storage = storage, .plan = plan };
    plan.* = .{ .flags = 0, .ops = undefined, .ops_count = 0, .clone_index = 0, .namespaces = 0, .trees_count = 0, .wait_start = false, .exec_fifo = false, .fifo_wait = false, .hook_sync = false, .control = false, .fs = false };
    var frame_number: u64 = 0;
    // Each frame is at least a header, so the plan bound also bounds this loop.
    while (frame_number <= protocol.plan_bytes_max / protocol.header_size) : (frame_number += 1) {
        // HELLO is index -1 (u64 max); the first op is 0.
        const index = frame_number -% 1;
        const header = decoder.take(protocol.header_size) orelse
            return decoder.invalid(index, 0, EINVAL, "plan longer than 4 MiB");
        switch (read_exact(reader, header)) {
            .bytes => |n| if (n == 0) {
                return decoder.invalid(index, 0, 0, "the plan ends before END");
            } else if (n < header.len) {
                return decoder.invalid(index, 0, EINVAL, "short frame header");
            },
            .errno => |errno| return decoder.invalid(index, 0, errno, "cannot read the plan"),
        }
        const length = std.mem.readInt(u32, header[0..4], .little);
        const code = std.mem.readInt(u16, header[4..6], .little);
        const flags = std.mem.readInt(u16, header[6..8], .little);
        if (length > protocol.frame_payload_bytes_max) {
            return decoder.invalid(index, code, EINVAL, "frame longer than 1 MiB");
        }
        if (flags != 0) return decoder.invalid(index, code, EINVAL, "frame flags are not 0");
        const payload = decoder.take(length) orelse
            return decoder.invalid(index, code, EINVAL, "plan longer than 4 MiB");
        switch (read_exact(reader, payload)) {
            .bytes => |n| if (n < payload.len) {
                return decoder.invalid(index, code, EINVAL, "frame ends early");
            },
            .errno => |errno| return decoder.invalid(index, code, errno, "cannot read the plan"),
        }
        const done = decoder.frame(frame_number, @enumFromInt(code), payload) catch {
            var invalid = decoder.invalid(index, code, EINVAL, decoder.reason);
            invalid.whole = true;
            return invalid;
        };
        if (done) {
            assert(plan.ops_count >= 2 or plan.control or plan.fs); // CLONE and EXEC, or a one-kind plan.
            assert(plan.ops_count >= 1);
            return null;
        }
    }
    unreachable; // Every frame takes at least 8 of the bounded plan bytes.
}

pub fn read_exact(reader: anytype, buffer: []u8) ReadResult {
    var done: usize = 0;
    while (done < buffer.len) {
        switch (reader.read(buffer[done..])) {
            .bytes => |n| {
                assert(n <= buffer.len - done);
                if (n == 0) break;
                done += n;
            },
            .errno => |errno| return .{ .errno = errno },
        }
    }
    return .{ .bytes = done };
}

const Error = error{Invalid};

/// before_clone → (CLONE) parent_ops → [joins: only CGROUP_JOINs so far] → container_ops →
/// (EXEC) after_exec.
const Order = enum { before_clone, parent_ops, joins, container_ops, after_exec };

const Decoder = struct {
    storage: *Storage,
    plan: *Plan,
    frames_used: usize = 0,
    strings_used: usize = 0,
    pointers_used: usize = 0,
    order: Order = .before_clone,
    reason: []const u8 = "",
    /// Counts and facts for the rules of the cgroup, status-file and idmap ops.
    cgroup_mkdirs: usize = 0,
    cgroup_reports: usize = 0,
    cgroup_intos: usize = 0,
    status_files: usize = 0,
    saw_target: bool = false,
    /// Namespaces the container process enters after CLONE (SETNS, SETNS_FILE): an exec's
    /// mount namespace lets PTY open the container's devpts.
    entered: u64 = 0,
    /// Namespaces the container process makes itself after CLONE (UNSHARE): after a joined
    /// user namespace, all of them (protocol.md "A joined user namespace").
    unshared: u64 = 0,
    /// Namespaces entered by path (SETNS_FILE), before CLONE or after: a uts namespace joined
    /// so is the one SETHOSTNAME may name (husk-runc, an OCI hostname with a uts path).
    joined_files: u64 = 0,
    saw_pid_fork: bool = false,
    nft_elements: usize = 0,
    logs: usize = 0,
    ttys: usize = 0,
    consoles: usize = 0,
    attaches: usize = 0,
    saw_uid_map: bool = false,
    /// INIT seen: only WAIT_START and EXEC may follow.
    saw_init: bool = false,
    saw_gid_map: bool = false,
    slots_filled: u16 = 0,
    slots_attached: u16 = 0,
    overlays: usize = 0,
    /// Instructions of the SECCOMP_PROGRAM ops since the last SECCOMP (0 when none is open).
    seccomp_pending: usize = 0,
    seccomp_open: bool = false,
    /// SECCOMPs with flag NEW_LISTENER (at most one, and only after SECCOMP_LISTENER).
    listener_filters: usize = 0,
    saw_write_stream: bool = false,

    fn invalid(decoder: *Decoder, index: u64, code: u64, errno: u16, reason: []const u8) Invalid {
        _ = decoder;
        assert(reason.len > 0);
        return .{ .index = index, .code = code, .errno = errno, .reason = reason };
    }

    fn fail(decoder: *Decoder, reason: []const u8) Error {
        assert(reason.len > 0);
        decoder.reason = reason;
        return error.Invalid;
    }

    /// Reserves `size` bytes of frame storage, or null past the 4 MiB plan bound.
    fn take(decoder: *Decoder, size: usize) ?[]u8 {
        if (size > decoder.storage.frames.len - decoder.frames_used) return null;
        const bytes = decoder.storage.frames[decoder.frames_used..][0..size];
        decoder.frames_used += size;
        return bytes;
    }

    /// Decodes one frame. Returns true for END.
    fn frame(decoder: *Decoder, frame_number: u64, code: protocol.FrameType, payload: []const u8) Error!bool {
        var cursor = Cursor{ .bytes = payload };
        if (frame_number == 0) {
            if (code != .hello) return decoder.fail("the plan does not start with HELLO");
            try decoder.hello(try decoder.fields(protocol.Hello, &cursor));
            return false;
        }
        switch (code) {
            .hello => return decoder.fail("HELLO after the first frame"),
            .end => {
                _ = try decoder.fields(protocol.End, &cursor);
                if (decoder.plan.control or decoder.plan.fs) return true; // check_order: one kind only.
                if (decoder.order == .before_clone) return decoder.fail("END before CLONE");
                if (decoder.order != .after_exec) return decoder.fail("the last op is not EXEC");
                if (decoder.plan.exec_fifo != decoder.plan.fifo_wait) return decoder.fail("EXEC_FIFO without FIFO_WAIT, or FIFO_WAIT without it");
                if (decoder.plan.seccomp_listener and decoder.listener_filters == 0) return decoder.fail("SECCOMP_LISTENER without a SECCOMP of flag NEW_LISTENER");
                return true;
            },
            else => {},
        }
        const tag = protocol.tag_from_frame_type(code) orelse return decoder.fail("unknown frame type");
        if (decoder.plan.ops_count == protocol.ops_max) return decoder.fail("more than 1024 ops");
        if (decoder.plan.wait_start and tag != .exec) return decoder.fail("WAIT_START is not right before EXEC");
        if (decoder.seccomp_open and tag != .seccomp and tag != .seccomp_program) return decoder.fail("SECCOMP_PROGRAM is not followed by SECCOMP");
        if (decoder.saw_init and tag != .exec and tag != .wait_start) return decoder.fail("INIT is not right before EXEC or WAIT_START");
        // startContainer hooks run after the FIFO, right before EXEC (runc's order).
        if (decoder.plan.fifo_wait and tag != .exec and tag != .hook) return decoder.fail("FIFO_WAIT is not right before EXEC (or HOOKs then EXEC)");
        try decoder.check_order(tag);
        const value = try decoder.op(tag, &cursor);
        try decoder.check_op(value);
        decoder.plan.ops[decoder.plan.ops_count] = value;
        decoder.plan.ops_count += 1;
        return false;
    }

    fn hello(decoder: *Decoder, value: protocol.Hello) Error!void {
        if (value.magic != protocol.magic) return decoder.fail("HELLO magic is not HUSK");
        if (value.version != protocol.version) {
            decoder.reason = std.fmt.bufPrint(&decoder.storage.reason, "protocol version {d}, launcher speaks {d}", .{
                value.version, protocol.version,
            }) catch unreachable; // Two u64s fit in the buffer.
            return error.Invalid;
        }
        if (value.flags & ~protocol.hello_flags_known != 0) return decoder.fail("HELLO flags has unknown bits");
        decoder.plan.flags = value.flags;
    }

    /// "Who runs an op" of protocol.md, as a state machine over the op sequence.
    fn check_order(decoder: *Decoder, tag: Op.Tag) Error!void {
        if (decoder.order == .after_exec) return decoder.fail("an op after EXEC");
        // A plan is a control plan from its first op on, or never.
        if (Op.runner(tag) == .control) {
            if (decoder.plan.fs) return decoder.fail("a control op in an fs plan");
            if (decoder.plan.ops_count > 0 and !decoder.plan.control) return decoder.fail("a control op in a container plan");
            decoder.plan.control = true;
            return;
        }
        if (Op.runner(tag) == .fs) {
            if (decoder.plan.control) return decoder.fail("an fs op in a control plan");
            if (decoder.plan.ops_count > 0 and !decoder.plan.fs) return decoder.fail("an fs op in a container plan");
            if (decoder.plan.ops_count == 0 and tag != .fs_root) return decoder.fail("an fs plan does not start with FS_ROOT");
            if (decoder.saw_write_stream) return decoder.fail("an op after WRITE_STREAM");
            decoder.plan.fs = true;
            return;
        }
        if (decoder.plan.control) return decoder.fail("a container op in a control plan");
        if (decoder.plan.fs) return decoder.fail("a container op in an fs plan");
        switch (Op.runner(tag)) {
            .launcher => if (decoder.order != .before_clone) return decoder.fail("a launcher op after CLONE"),
            .launcher_or_container => {
                if (decoder.order == .parent_ops or decoder.order == .joins) decoder.order = .container_ops;
            },
            .clone => {
                if (decoder.order != .before_clone) return decoder.fail("a second CLONE");
                decoder.order = .parent_ops;
                decoder.plan.clone_index = decoder.plan.ops_count;
            },
            .parent => switch (decoder.order) {
                .before_clone => return decoder.fail("a parent op before CLONE"),
                .parent_ops => {},
                .joins, .container_ops => return decoder.fail("a parent op after a container op"),
                .after_exec => unreachable,
            },
            .container => switch (decoder.order) {
                .before_clone => return decoder.fail("a container op before CLONE"),
                // CGROUP_JOIN only among the first container ops: no other container op
                // (nothing that could run code of the container's) runs outside its cgroups.
                .parent_ops, .joins => decoder.order = switch (tag) {
                    .cgroup_join => .joins,
                    .exec => .after_exec,
                    else => .container_ops,
                },
                .container_ops => {
                    if (tag == .cgroup_join) return decoder.fail("a CGROUP_JOIN after another container op");
                    if (tag == .exec) decoder.order = .after_exec;
                },
                .after_exec => unreachable,
            },
            .control, .fs => unreachable, // Returned above.
        }
    }

    fn op(decoder: *Decoder, tag: Op.Tag, cursor: *Cursor) Error!Op {
        switch (tag) {
            inline else => |comptime_tag| {
                @setEvalBranchQuota(12000); // TagPayload walks every field of Op, which grows with each op.
                const Payload = std.meta.TagPayload(Op, comptime_tag);
                return @unionInit(Op, @tagName(comptime_tag), try decoder.fields(Payload, cursor));
            },
        }
    }

    /// Values the framing cannot express: unknown flag bits and enum values, and the
    /// namespaces an op needs so that it cannot touch the host's (as bubblewrap re-checks).
    fn check_op(decoder: *Decoder, op_value: Op) Error!void {
        const namespaces = &decoder.plan.namespaces;
        switch (op_value) {
            .unshare => |o| {
                if (o.flags & ~protocol.unshare_flags_known != 0) return decoder.fail("unshare.flags: unknown bits");
                if (decoder.order == .before_clone) namespaces.* |= o.flags else decoder.unshared |= o.flags;
            },
            .clone => |o| {
                if (o.flags & ~protocol.clone_flags_known != 0) return decoder.fail("clone.flags: unknown bits");
                namespaces.* |= o.flags;
            },
            .mount => |o| {
                if (o.flags & ~protocol.mount_flags_known != 0) return decoder.fail("mount.flags: unknown bits");
                try decoder.need_mount_namespace();
            },
            .mkdir => |o| if (o.mode > protocol.mode_max) return decoder.fail("mkdir.mode: over 07777"),
            .touch => |o| if (o.mode > protocol.mode_max) return decoder.fail("touch.mode: over 07777"),
            .bind => |o| try decoder.check_bind(o.flags),
            .mknod_dev => |o| try decoder.check_mknod_dev(o.path, o.mode, o.rdev, o.uid, o.gid),
            .pivot_root, .mask, .readonly => try decoder.need_mount_namespace(),
            .overlay => |o| try decoder.check_overlay(o.lowers, &.{ o.upper, o.work, o.target, o.links }, o.flags),
            .copy_tree => |o| try decoder.check_copy_tree(o.source, o.target, o.opaque_xattr, o.flags),
            .set_root => |o| if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("set_root.path: not absolute"),
            .sethostname => if ((namespaces.* | decoder.unshared | decoder.joined_files) & protocol.CLONE_NEWUTS == 0) {
                return decoder.fail("sethostname without a new UTS namespace or one joined by path");
            },
            .rlimit => |o| if (o.resource >= protocol.rlimit_resource_count) return decoder.fail("rlimit.resource: unknown"),
            .caps => |o| {
                const all = o.bounding | o.effective | o.permitted | o.inheritable;
                if (all & ~protocol.capabilities_known != 0) return decoder.fail("caps: unknown capability bits");
            },
            .user => |o| {
                if (o.uid > protocol.id_max) return decoder.fail("user.uid: over 2^32 - 2");
                if (o.gid > protocol.id_max) return decoder.fail("user.gid: over 2^32 - 2");
                for (0..o.groups.count()) |i| {
                    if (o.groups.get(i) > protocol.id_max) return decoder.fail("user.groups: an id over 2^32 - 2");
                }
            },
            .exec => |o| {
                if (o.argv.len == 0) return decoder.fail("exec.argv: empty");
                // 0 would read as success; over 255 cannot be an exit status.
                inline for (.{ "failed_status", "not_found_status", "not_executable_status" }) |name| {
                    const status = @field(o, name);
                    if (status == 0 or status > 255) return decoder.fail("exec." ++ name ++ ": not 1 to 255");
                }
            },
            .uid_map => decoder.saw_uid_map = true,
            .gid_map => decoder.saw_gid_map = true,
            .write_file, .setgroups, .symlink, .loopback_up, .chdir, .no_new_privs, .close_fds => {},
            .preserve_fds => |o| if (o.count == 0 or o.count > protocol.preserved_fds_max) return decoder.fail("preserve_fds.count: not 1 to 1024"),
            .seccomp, .seccomp_program, .seccomp_listener => try decoder.check_seccomp(op_value),
            .init, .pty, .pid_fork, .pid_fork_orphan => try decoder.check_lifecycle_op(op_value),
            .wait_start, .exec_fifo, .fifo_wait, .umask, .ambient, .console, .hook, .hook_sync, .ioprio, .scheduler, .personality => try decoder.check_fifo_op(op_value),
            .status_file, .cgroup_mkdir, .cgroup_write, .cgroup_enter, .cgroup_into, .cgroup_report, .log, .tty, .attach, .cgroup_devices => try decoder.check_launcher_op(op_value),
            .cgroup_join => |o| {
                // check_order: among the first container ops.
                try decoder.cgroup_path(o.path);
                if (!std.mem.endsWith(u8, o.path, "/tasks")) return decoder.fail("cgroup_join.path: not a tasks file");
            },
            .idmap_tree, .idmap_mount, .attach_tree, .idmap_helper => try decoder.check_tree_op(op_value),
            .net_helper => |o| try decoder.check_net_helper(o.path, o.args),
            .cgroup_freeze, .cgroup_kill, .cgroup_remove, .signal_process, .pin_new, .unpin, .cgroup_set => try decoder.check_control_op(op_value),
            .net_bridge, .net_link_del, .net_sysctl, .net_veth, .net_link_up, .net_addr, .net_route, .net_connect => try decoder.check_net_op(op_value),
            .nft_elements, .nft_delete => try decoder.check_nft_op(op_value),
            .target, .setns, .setns_file, .pin => try decoder.check_join_op(op_value),
            .fs_root, .mknod, .setxattr, .read_xattrs, .write_stream, .fs_userns, .remove_tree, .overlay_probe => try decoder.check_fs_op(op_value),
        }
    }

    /// INIT and PTY, container ops (check_order). PTY: TTY (before CLONE) says the size;
    /// once; in a new mount namespace (it opens a ptmx of the container's own).
    fn check_lifecycle_op(decoder: *Decoder, op_value: Op) Error!void {
        const path = switch (op_value) {
            .init => {
                decoder.saw_init = true; // Only WAIT_START and EXEC may follow (frame()).
                return;
            },
            .pty => |o| o.path,
            .pid_fork, .pid_fork_orphan => {
                // check_order: a container op. After the UNSHARE that made the pid namespace
                // its child is born in; once; not after INIT (only WAIT_START and EXEC may be).
                if (decoder.unshared & protocol.CLONE_NEWPID == 0) return decoder.fail("PID_FORK without an UNSHARE of a pid namespace before it");
                // The orphan's parent exits: only a monitor that leaves at FIFO_WAIT does not wait for it.
                if (op_value == .pid_fork_orphan and !decoder.plan.exec_fifo) return decoder.fail("PID_FORK_ORPHAN in a plan without EXEC_FIFO");
                if (decoder.saw_pid_fork) return decoder.fail("a second PID_FORK");
                decoder.saw_pid_fork = true;
                return;
            },
            else => unreachable,
        };
        if (decoder.ttys != 1 or decoder.plan.pty_inside) return decoder.fail("PTY not once, after TTY");
        if (path.len == 0 or path[0] != '/') return decoder.fail("pty.path: not absolute");
        if ((decoder.plan.namespaces | decoder.entered | decoder.unshared) & protocol.CLONE_NEWNS == 0) return decoder.fail("pty without a new or entered mount namespace");
        decoder.plan.pty_inside = true;
    }

    /// protocol.md "SECCOMP": a program of 1 to 4096 instructions, in SECCOMP_PROGRAM parts
    /// that stand right before their SECCOMP; flags the kernel knows.
    fn check_seccomp(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .seccomp_program => |o| {
                decoder.seccomp_open = true;
                decoder.seccomp_pending += o.program.count();
                if (decoder.seccomp_pending > protocol.seccomp_instructions_max) return decoder.fail("seccomp: a program over 4096 instructions");
            },
            .seccomp => |o| {
                const total = decoder.seccomp_pending + o.program.count();
                decoder.seccomp_open = false;
                decoder.seccomp_pending = 0;
                if (o.flags & ~protocol.seccomp_flags_known != 0) return decoder.fail("seccomp.flags: unknown bits");
                if (o.program.count() == 0) return decoder.fail("seccomp.program: empty");
                if (total > protocol.seccomp_instructions_max) return decoder.fail("seccomp: a program over 4096 instructions");
                if (o.flags & protocol.seccomp_flag_new_listener != 0) {
                    // One listener, and somewhere for it to go (protocol.md "The seccomp listener").
                    if (!decoder.plan.seccomp_listener) return decoder.fail("seccomp.flags: NEW_LISTENER without SECCOMP_LISTENER");
                    if (decoder.listener_filters == 1) return decoder.fail("a second SECCOMP with NEW_LISTENER");
                    decoder.listener_filters += 1;
                }
            },
            .seccomp_listener => |o| {
                if (o.path.len == 0 or o.path.len >= 108) return decoder.fail("seccomp_listener.path: empty or over 107 bytes");
                if (decoder.plan.seccomp_listener) return decoder.fail("a second SECCOMP_LISTENER");
                if (o.state_prefix.len + o.state_middle.len + o.state_suffix.len > protocol.listener_state_max) return decoder.fail("seccomp_listener.state: over 16384 bytes");
                decoder.plan.seccomp_listener = true; // check_order: a launcher op.
            },
            else => unreachable,
        }
    }

    /// protocol.md "Hooks in the container": kind 3 or 4, an absolute path, an absolute or
    /// empty dir, a timeout that fits poll's, a state that fits an empty pipe.
    /// HOOK_SYNC: at most one, not with WAIT_START (check_order: a container op; its START
    /// comes as WAIT_START's does).
    fn check_hook(decoder: *Decoder, op_value: Op) Error!void {
        const o = switch (op_value) {
            .hook => |hook_op| hook_op,
            .hook_sync => {
                if (decoder.plan.hook_sync or decoder.plan.wait_start) return decoder.fail("HOOK_SYNC twice, or with WAIT_START");
                decoder.plan.hook_sync = true;
                return;
            },
            else => unreachable,
        };
        if (o.kind != hook.kind_create_container and o.kind != hook.kind_start_container) return decoder.fail("hook.kind: not 3 (createContainer) or 4 (startContainer)");
        if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("hook.path: not absolute");
        if (o.dir.len > 0 and o.dir[0] != '/') return decoder.fail("hook.dir: not absolute");
        if (o.timeout_s > hook.timeout_s_max) return decoder.fail("hook.timeout_s: over 2000000");
        if (o.state_prefix.len + o.state_suffix.len > hook.state_bytes_max) return decoder.fail("hook.state: over 16384 bytes");
    }

    /// protocol.md "Left waiting on a FIFO": one EXEC_FIFO, absolute, in a plan whose launcher
    /// leaves (no die flags, no status file, log or attach socket, no WAIT_START); FIFO_WAIT
    /// after it (check_order: a container op; frame: right before EXEC).
    /// Also runc's process ops: UMASK (≤ 0777), AMBIENT (known capabilities), and WAIT_START,
    /// which an EXEC_FIFO plan cannot have.
    fn check_fifo_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .hook, .hook_sync => try decoder.check_hook(op_value),
            .ioprio => |o| {
                const class = o.value >> 13;
                if (class < 1 or class > 3 or o.value & 0x1fff > 7) return decoder.fail("ioprio.value: not class 1-3 with a level 0-7");
            },
            .scheduler => |o| {
                const nice: i64 = @bitCast(o.nice);
                const realtime = o.policy == 1 or o.policy == 2;
                if (o.policy > 5 or o.policy == 4) return decoder.fail("scheduler.policy: not 0-3 or 5");
                if (nice < -20 or nice > 19) return decoder.fail("scheduler.nice: not -20 to 19");
                if (if (realtime) o.priority < 1 or o.priority > 99 else o.priority != 0) return decoder.fail("scheduler.priority: not 1-99 (FIFO, RR) or 0");
            },
            .personality => |o| if (o.persona > 0xffffffff) return decoder.fail("personality.persona: over 32 bits"),
            .wait_start => {
                if (decoder.plan.exec_fifo or decoder.plan.hook_sync) return decoder.fail("WAIT_START in a plan with EXEC_FIFO or HOOK_SYNC");
                decoder.plan.wait_start = true; // check_order: a container op.
            },
            .umask => |o| if (o.mask > 0o777) return decoder.fail("umask.mask: over 0777"),
            .console => |o| {
                if (o.path.len == 0 or o.path.len >= 108) return decoder.fail("console.path: empty or over 107 bytes");
                if (decoder.consoles == 1 or decoder.logs == 1) return decoder.fail("a second CONSOLE, or CONSOLE with LOG");
                decoder.consoles += 1;
            },
            .ambient => |o| if (o.capabilities & ~protocol.capabilities_known != 0) return decoder.fail("ambient: unknown capability bits"),
            .exec_fifo => |o| {
                if (o.path.len < 2 or o.path[0] != '/') return decoder.fail("exec_fifo.path: not absolute");
                if (decoder.plan.exec_fifo) return decoder.fail("a second EXEC_FIFO");
                const dies = protocol.hello_flag_die_with_parent | protocol.hello_flag_dies_with_monitor;
                if (decoder.plan.flags & dies != 0) return decoder.fail("EXEC_FIFO with a HELLO die flag");
                if (decoder.status_files + decoder.logs > 0) return decoder.fail("EXEC_FIFO with STATUS_FILE or LOG");
                decoder.plan.exec_fifo = true;
            },
            .fifo_wait => {
                if (!decoder.plan.exec_fifo) return decoder.fail("FIFO_WAIT without EXEC_FIFO");
                decoder.plan.fifo_wait = true;
            },
            else => unreachable,
        }
    }

    /// protocol.md "Joining namespaces": one TARGET, before any SETNS; before CLONE only the
    /// namespaces the monitor can live in (or that reach only its children), after it any
    /// but pid; SETNS_FILE names exactly one type; PIN ("Pinned namespaces") pins one the plan made.
    fn check_join_op(decoder: *Decoder, op_value: Op) Error!void {
        const before = decoder.order == .before_clone;
        const allowed = if (before) protocol.setns_before_clone_known else protocol.setns_after_clone_known;
        switch (op_value) {
            .target => |o| {
                if (o.pid == 0 or o.pid > std.math.maxInt(i32)) return decoder.fail("target.pid: not 1 to 2^31 - 1");
                if (decoder.saw_target) return decoder.fail("a second TARGET");
                decoder.saw_target = true;
            },
            .setns => |o| {
                if (!decoder.saw_target) return decoder.fail("setns before TARGET");
                if (o.flags == 0) return decoder.fail("setns.flags: no namespace");
                if (o.flags & ~allowed != 0) return decoder.fail(if (before) "setns.flags: a namespace the launcher cannot enter" else "setns.flags: unknown bits or pid");
                // The user namespace only for the pid namespace it owns (a rootless exec).
                if (before and o.flags & protocol.CLONE_NEWUSER != 0 and o.flags & protocol.CLONE_NEWPID == 0) return decoder.fail("setns.flags: a user namespace the launcher cannot enter without its pid namespace");
                if (!before) decoder.entered |= o.flags;
            },
            .pin => |o| {
                // check_order: a parent op. Only a namespace this plan made can be pinned.
                if (@popCount(o.nstype) != 1 or o.nstype & decoder.plan.namespaces == 0) return decoder.fail("pin.nstype: not one namespace the plan made");
                if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("pin.path: not absolute");
            },
            .setns_file => |o| {
                if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("setns_file.path: not absolute");
                if (@popCount(o.nstype) != 1) return decoder.fail("setns_file.nstype: not one namespace");
                if (o.nstype & ~allowed != 0 or (before and o.nstype == protocol.CLONE_NEWUSER)) return decoder.fail(if (before) "setns_file.nstype: a namespace the launcher cannot enter" else "setns_file.nstype: unknown or pid");
                if (!before) decoder.entered |= o.nstype;
                decoder.joined_files |= o.nstype;
            },
            else => unreachable,
        }
    }

    /// protocol.md "Networks": link names the kernel takes, addresses and MACs as the core
    /// writes them, sysctl keys under net/; the container's ops need a new net namespace.
    fn check_net_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .net_bridge => |o| {
                if (!net.valid_ifname(o.name)) return decoder.fail("net_bridge.name: not a link name");
                if (net.parse_cidr_any(o.address) == null) return decoder.fail("net_bridge.address: not A.B.C.D/N or IPv6/N");
            },
            .net_link_del => |o| if (!net.valid_ifname(o.name)) return decoder.fail("net_link_del.name: not a link name"),
            .net_sysctl => |o| if (!net.valid_sysctl_key(o.key)) return decoder.fail("net_sysctl.key: not a key under net/"),
            .net_veth => |o| {
                if (decoder.plan.namespaces & protocol.CLONE_NEWNET == 0) return decoder.fail("net_veth without a new network namespace");
                if (!net.valid_ifname(o.host) or !net.valid_ifname(o.peer) or !net.valid_ifname(o.bridge)) return decoder.fail("net_veth: not a link name");
                if (net.parse_mac(o.mac) == null) return decoder.fail("net_veth.mac: not xx:xx:xx:xx:xx:xx");
            },
            .net_link_up => |o| {
                if (decoder.plan.namespaces & protocol.CLONE_NEWNET == 0) return decoder.fail("net_link_up without a new network namespace");
                if (!net.valid_ifname(o.name)) return decoder.fail("net_link_up.name: not a link name");
            },
            .net_addr => |o| {
                if (decoder.plan.namespaces & protocol.CLONE_NEWNET == 0) return decoder.fail("net_addr without a new network namespace");
                if (!net.valid_ifname(o.name)) return decoder.fail("net_addr.name: not a link name");
                if (net.parse_cidr_any(o.address) == null) return decoder.fail("net_addr.address: not A.B.C.D/N or IPv6/N");
                if (o.flags & ~net.addr_flags_known != 0) return decoder.fail("net_addr.flags: unknown bits");
            },
            .net_connect => |o| {
                if (!net.valid_ifname(o.host) or !net.valid_ifname(o.peer) or !net.valid_ifname(o.bridge)) return decoder.fail("net_connect: not a link name");
                if (net.parse_mac(o.mac) == null) return decoder.fail("net_connect.mac: not xx:xx:xx:xx:xx:xx");
                if (net.parse_cidr(o.address) == null) return decoder.fail("net_connect.address: not A.B.C.D/N");
                if (o.pid == 0 or o.pid > std.math.maxInt(i32)) return decoder.fail("net_connect.pid: out of range");
            },
            .net_route => |o| {
                if (decoder.plan.namespaces & protocol.CLONE_NEWNET == 0) return decoder.fail("net_route without a new network namespace");
                if (!net.valid_ifname(o.name)) return decoder.fail("net_route.name: not a link name");
                if (net.parse_ip(o.gateway) == null) return decoder.fail("net_route.gateway: not A.B.C.D or IPv6");
            },
            else => unreachable,
        }
    }

    /// protocol.md "NFT_ELEMENTS": a known family, names the kernel takes, keys of 1 to 16
    /// words and values of 0 to 16, whole elements of 32-bit words; at most 16 in a plan.
    fn check_nft_op(decoder: *Decoder, op_value: Op) Error!void {
        const o = switch (op_value) {
            .nft_elements => |o| blk: {
                if (decoder.nft_elements == protocol.nft_elements_max) return decoder.fail("more than 16 NFT_ELEMENTS");
                decoder.nft_elements += 1;
                break :blk o;
            },
            .nft_delete => |o| o,
            else => unreachable,
        };
        if (std.mem.indexOfScalar(u64, &nft.families, o.family) == null) return decoder.fail("nft: family not inet, ip or ip6");
        if (!nft.valid_name(o.table) or !nft.valid_name(o.set)) return decoder.fail("nft: a table or set name the kernel does not take");
        if (o.flags & ~nft.flags_known != 0) return decoder.fail("nft.flags: unknown bits");
        if (o.key_words == 0 or o.key_words > nft.element_words_max or o.data_words > nft.element_words_max) return decoder.fail("nft: a key of 1 to 16 words, a value of 0 to 16");
        const count = o.words.count();
        if (count == 0 or count % (o.key_words + o.data_words) != 0) return decoder.fail("nft.words: not whole elements");
        for (0..count) |i| if (o.words.get(i) > std.math.maxInt(u32)) return decoder.fail("nft.words: a word over 32 bits");
    }

    /// BIND: known flags, at most one atime mode, in a mount namespace of the container's own.
    fn check_bind(decoder: *Decoder, flags: u64) Error!void {
        if (flags & ~protocol.bind_flags_known != 0) return decoder.fail("bind.flags: unknown bits");
        if (@popCount(flags & protocol.bind_flags_atime) > 1) return decoder.fail("bind.flags: more than one atime mode");
        try decoder.need_mount_namespace();
    }

    /// MKNOD_DEV: a clean relative path in a mount namespace of the container's own, a device
    /// or FIFO with permission bits only, a 32-bit device number, an owner chown can set.
    fn check_mknod_dev(decoder: *Decoder, path: []const u8, mode: u64, rdev: u64, uid: u64, gid: u64) Error!void {
        if (!protocol.is_clean_relative(path) or std.mem.eql(u8, path, ".")) return decoder.fail("mknod_dev.path: not a clean relative path");
        const kind = mode & protocol.S_IFMT;
        if (kind != protocol.S_IFCHR and kind != protocol.S_IFBLK and kind != protocol.S_IFIFO) return decoder.fail("mknod_dev.mode: not a device or FIFO");
        if (mode & ~(protocol.S_IFMT | protocol.mode_max) != 0) return decoder.fail("mknod_dev.mode: unknown bits");
        if (rdev > std.math.maxInt(u32)) return decoder.fail("mknod_dev.rdev: over 32 bits");
        // chown's -1 (leave as is) is not an owner a plan may ask for.
        if (uid >= std.math.maxInt(u32) or gid >= std.math.maxInt(u32)) return decoder.fail("mknod_dev: uid or gid out of range");
        try decoder.need_mount_namespace();
    }

    /// protocol.md "Fs plans": an absolute root; paths inside it clean and relative; a
    /// device or FIFO with a mode and a 32-bit device number; an xattr name and hex value
    /// the kernel takes.
    fn check_fs_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .fs_root => |o| if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("fs_root.path: not absolute"),
            .mknod => |o| {
                if (std.mem.eql(u8, o.path, ".") or !protocol.is_clean_relative(o.path)) return decoder.fail("mknod.path: not a clean relative path");
                const kind = o.mode & protocol.S_IFMT;
                if (kind != protocol.S_IFCHR and kind != protocol.S_IFBLK and kind != protocol.S_IFIFO) return decoder.fail("mknod.mode: not a device or FIFO");
                if (o.mode & ~(protocol.S_IFMT | protocol.mode_max) != 0) return decoder.fail("mknod.mode: unknown bits");
                if (o.rdev > std.math.maxInt(u32)) return decoder.fail("mknod.rdev: over 32 bits");
            },
            .setxattr => |o| {
                if (!protocol.is_clean_relative(o.path)) return decoder.fail("setxattr.path: not a clean relative path");
                if (o.name.len == 0 or o.name.len > protocol.xattr_name_bytes_max) return decoder.fail("setxattr.name: empty or over 255 bytes");
                if (o.value.len % 2 != 0) return decoder.fail("setxattr.value: odd number of hex digits");
                for (o.value) |c| {
                    if (!std.ascii.isDigit(c) and !(c >= 'a' and c <= 'f')) return decoder.fail("setxattr.value: not lowercase hex");
                }
            },
            .read_xattrs => |o| if (!protocol.is_clean_relative(o.path)) return decoder.fail("read_xattrs.path: not a clean relative path"),
            .write_stream => decoder.saw_write_stream = true, // check_order: nothing after it.
            .fs_userns => |o| {
                // Right after FS_ROOT: every op after it runs in the user namespace.
                if (decoder.plan.ops_count != 1) return decoder.fail("fs_userns is not right after FS_ROOT");
                try decoder.check_fs_helper(o.newuidmap, o.uid_args);
                try decoder.check_fs_helper(o.newgidmap, o.gid_args);
            },
            .remove_tree => |o| if (std.mem.eql(u8, o.path, ".") or !protocol.is_clean_relative(o.path)) return decoder.fail("remove_tree.path: not a clean relative path"),
            .overlay_probe => {},
            else => unreachable,
        }
    }

    /// protocol.md "Control plans": cgroup paths as for the other cgroup ops; a pid the
    /// kernel can have, a signal number 1 to 64.
    fn check_control_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .cgroup_freeze => |o| {
                try decoder.cgroup_path(o.path);
                if (o.frozen > 1) return decoder.fail("cgroup_freeze.frozen: not 0 or 1");
            },
            .cgroup_kill => |o| try decoder.cgroup_path(o.path),
            .cgroup_remove => |o| try decoder.cgroup_path(o.path),
            .cgroup_set => |o| try decoder.cgroup_path(o.path),
            .signal_process => |o| {
                if (o.pid == 0 or o.pid > std.math.maxInt(i32)) return decoder.fail("signal_process.pid: not 1 to 2^31 - 1");
                if (o.signo == 0 or o.signo > protocol.signal_max) return decoder.fail("signal_process.signo: not 1 to 64");
            },
            .pin_new => |o| {
                if (o.flags == 0 or o.flags & ~protocol.pin_new_known != 0) return decoder.fail("pin_new.flags: not net, ipc, uts, cgroup");
                if (o.dir.len == 0 or o.dir[0] != '/') return decoder.fail("pin_new.dir: not absolute");
                if (o.dir.len > protocol.path_bytes_max - 8) return decoder.fail("pin_new.dir: too long");
            },
            .unpin => |o| if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("unpin.path: not absolute"),
            else => unreachable,
        }
    }

    /// protocol.md "cgroups" and "The status file".
    fn check_launcher_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .status_file => |o| {
                if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("status_file.path: not absolute");
                if (o.path.len > protocol.status_path_bytes_max) return decoder.fail("status_file.path: longer than 4091 bytes");
                if (decoder.status_files == 1) return decoder.fail("a second STATUS_FILE");
                if (decoder.plan.exec_fifo) return decoder.fail("STATUS_FILE in a plan with EXEC_FIFO");
                decoder.status_files += 1;
            },
            .cgroup_mkdir => |o| {
                try decoder.cgroup_path(o.path);
                if (o.flags & ~protocol.cgroup_mkdir_flags_known != 0) return decoder.fail("cgroup_mkdir.flags: unknown bits");
                if (decoder.cgroup_mkdirs == protocol.cgroup_mkdirs_max) return decoder.fail("more than 32 CGROUP_MKDIR");
                decoder.cgroup_mkdirs += 1;
            },
            .cgroup_write => |o| try decoder.cgroup_path(o.path),
            .cgroup_devices => |o| {
                // The kernel's verifier checks the program itself; here only its size.
                try decoder.cgroup_path(o.path);
                if (o.program.count() == 0) return decoder.fail("cgroup_devices.program: empty");
            },
            .log => |o| {
                if (o.path.len == 0 or o.path[0] != '/') return decoder.fail("log.path: not absolute");
                if (decoder.logs == 1) return decoder.fail("a second LOG");
                if (decoder.plan.exec_fifo) return decoder.fail("LOG in a plan with EXEC_FIFO");
                if (decoder.consoles > 0) return decoder.fail("LOG in a plan with CONSOLE");
                decoder.logs += 1;
            },
            .tty => |o| {
                if (decoder.logs == 0 or decoder.ttys == 1 or decoder.attaches == 1) return decoder.fail("TTY not once, after LOG, before ATTACH");
                if (o.rows == 0 or o.rows > 0xffff or o.cols == 0 or o.cols > 0xffff) return decoder.fail("tty: rows and cols not 1 to 65535");
                decoder.ttys += 1;
            },
            .attach => |o| {
                if (decoder.logs == 0 or decoder.attaches == 1) return decoder.fail("ATTACH not once, after LOG");
                if (o.path.len < 2 or o.path[0] != '/' or o.path[o.path.len - 1] == '/') return decoder.fail("attach.path: not an absolute file path");
                if (o.flags & ~attach.flags_known != 0) return decoder.fail("attach.flags: unknown bits");
                decoder.attaches += 1;
            },
            .cgroup_enter => |o| {
                try decoder.cgroup_path(o.path);
                if (!std.mem.endsWith(u8, o.path, "/cgroup.procs")) return decoder.fail("cgroup_enter.path: not a cgroup.procs file");
            },
            .cgroup_into => |o| {
                try decoder.cgroup_path(o.path);
                if (decoder.cgroup_intos == 1) return decoder.fail("a second CGROUP_INTO");
                decoder.cgroup_intos += 1;
            },
            .cgroup_report => |o| {
                try decoder.cgroup_path(o.path);
                if (decoder.cgroup_reports == protocol.cgroup_reports_max) return decoder.fail("more than 16 CGROUP_REPORT");
                decoder.cgroup_reports += 1;
            },
            else => unreachable,
        }
    }

    /// protocol.md "IDMAP_HELPER": a parent op (check_order) of a plan with CLONE_NEWUSER.
    fn check_helper_op(decoder: *Decoder, path: []const u8, args: protocol.Strs) Error!void {
        assert(decoder.order == .parent_ops); // check_order ran first.
        if (path.len == 0 or path[0] != '/') return decoder.fail("idmap_helper.path: not absolute");
        if (args.len == 0 or args.len % 3 != 0) return decoder.fail("idmap_helper.args: not triples of inside outside count");
        if (args.len > idmap_helper.args_max) return decoder.fail("idmap_helper.args: over 340 lines");
        const clone_flags = decoder.plan.ops[decoder.plan.clone_index].clone.flags;
        if (clone_flags & protocol.CLONE_NEWUSER == 0) return decoder.fail("idmap_helper without CLONE_NEWUSER");
    }

    /// protocol.md "NET_HELPER": a parent op of a plan whose CLONE makes a network namespace.
    fn check_net_helper(decoder: *Decoder, path: []const u8, args: protocol.Strs) Error!void {
        assert(decoder.order == .parent_ops); // check_order ran first.
        if (path.len == 0 or path[0] != '/') return decoder.fail("net_helper.path: not absolute");
        if (args.len > idmap_helper.net_args_max) return decoder.fail("net_helper.args: over 256");
        const clone_flags = decoder.plan.ops[decoder.plan.clone_index].clone.flags;
        if (clone_flags & protocol.CLONE_NEWNET == 0) return decoder.fail("net_helper without CLONE_NEWNET");
    }

    /// FS_USERNS's helpers: as IDMAP_HELPER's path and args.
    fn check_fs_helper(decoder: *Decoder, path: []const u8, args: protocol.Strs) Error!void {
        if (path.len == 0 or path[0] != '/') return decoder.fail("fs_userns: a helper path not absolute");
        if (args.len == 0 or args.len % 3 != 0) return decoder.fail("fs_userns: args not triples of inside outside count");
        if (args.len > idmap_helper.args_max) return decoder.fail("fs_userns: args over 340 lines");
    }

    fn cgroup_path(decoder: *Decoder, path: []const u8) Error!void {
        if (!protocol.is_clean_absolute(path)) return decoder.fail("cgroup path: not absolute and clean");
    }

    /// protocol.md "Idmapped trees": slots are filled once, after the maps, and attached
    /// once, after they were filled.
    fn check_tree_op(decoder: *Decoder, op_value: Op) Error!void {
        switch (op_value) {
            .idmap_helper => |o| try decoder.check_helper_op(o.path, o.args),
            .idmap_tree => |o| {
                if (o.source.len == 0 or o.source[0] != '/') return decoder.fail("idmap_tree.source: not absolute");
                if (o.slot >= protocol.tree_slots) return decoder.fail("idmap_tree.slot: over 15");
                assert(decoder.order == .parent_ops); // check_order ran first.
                const clone_flags = decoder.plan.ops[decoder.plan.clone_index].clone.flags;
                if (clone_flags & protocol.CLONE_NEWUSER == 0) return decoder.fail("idmap_tree without CLONE_NEWUSER");
                if (!decoder.saw_uid_map or !decoder.saw_gid_map) return decoder.fail("idmap_tree before UID_MAP and GID_MAP");
                const bit = @as(u16, 1) << @intCast(o.slot);
                if (decoder.slots_filled & bit != 0) return decoder.fail("idmap_tree.slot: filled twice");
                decoder.slots_filled |= bit;
                decoder.plan.trees_count += 1;
            },
            .idmap_mount => |o| {
                if (o.source.len == 0 or o.source[0] != '/') return decoder.fail("idmap_mount.source: not absolute");
                if (o.slot >= protocol.tree_slots) return decoder.fail("idmap_mount.slot: over 15");
                if (o.flags & ~protocol.idmap_mount_flags_known != 0) return decoder.fail("idmap_mount.flags: unknown bits");
                if ((o.uid_map.len == 0) != (o.gid_map.len == 0)) return decoder.fail("idmap_mount: one map empty, the other not");
                if (o.uid_map.len == 0) {
                    // The container's own maps: as IDMAP_TREE's rules.
                    const clone_flags = decoder.plan.ops[decoder.plan.clone_index].clone.flags;
                    if (clone_flags & protocol.CLONE_NEWUSER == 0) return decoder.fail("idmap_mount without maps or CLONE_NEWUSER");
                    if (!decoder.saw_uid_map or !decoder.saw_gid_map) return decoder.fail("idmap_mount without maps before UID_MAP and GID_MAP");
                }
                const bit = @as(u16, 1) << @intCast(o.slot);
                if (decoder.slots_filled & bit != 0) return decoder.fail("idmap_mount.slot: filled twice");
                decoder.slots_filled |= bit;
                decoder.plan.trees_count += 1;
            },
            .attach_tree => |o| {
                if (o.slot >= protocol.tree_slots) return decoder.fail("attach_tree.slot: over 15");
                const bit = @as(u16, 1) << @intCast(o.slot);
                if (decoder.slots_filled & bit == 0) return decoder.fail("attach_tree.slot: no IDMAP_TREE filled it");
                if (decoder.slots_attached & bit != 0) return decoder.fail("attach_tree.slot: attached twice");
                decoder.slots_attached |= bit;
                try decoder.need_mount_namespace();
            },
            else => unreachable,
        }
    }

    /// protocol.md "COPY_TREE": absolute paths, an xattr name the kernel takes, known flags.
    fn check_copy_tree(decoder: *Decoder, source: Str, target: Str, opaque_xattr: Str, flags: u64) Error!void {
        if (flags & ~protocol.copy_tree_flags_known != 0) return decoder.fail("copy_tree.flags: unknown bits");
        if (source.len == 0 or source[0] != '/' or target.len == 0 or target[0] != '/') return decoder.fail("copy_tree: a path not absolute");
        if (opaque_xattr.len > protocol.xattr_name_bytes_max) return decoder.fail("copy_tree.opaque_xattr: over 255 bytes");
        try decoder.need_mount_namespace();
    }

    /// protocol.md "OVERLAY": 1 to 500 lowers, absolute paths, known flags, one per plan.
    fn check_overlay(decoder: *Decoder, lowers: Strs, paths: []const Str, flags: u64) Error!void {
        if (flags & ~protocol.overlay_flags_known != 0) return decoder.fail("overlay.flags: unknown bits");
        if (lowers.len == 0 or lowers.len > protocol.overlay_lowers_max) return decoder.fail("overlay.lowers: not 1 to 500");
        for (lowers) |lower| {
            const path = std.mem.span(lower.?);
            if (path.len == 0 or path[0] != '/') return decoder.fail("overlay.lowers: a path not absolute");
        }
        for (paths) |path| if (path.len == 0 or path[0] != '/') return decoder.fail("overlay: a path not absolute");
        if (decoder.overlays == 1) return decoder.fail("a second OVERLAY");
        decoder.overlays += 1;
        try decoder.need_mount_namespace();
    }

    fn need_mount_namespace(decoder: *Decoder) Error!void {
        if ((decoder.plan.namespaces | decoder.unshared) & protocol.CLONE_NEWNS == 0) {
            return decoder.fail("a mount op without a new mount namespace");
        }
    }

    /// Decodes the fields of `T` in declaration order; `T`'s shape is the wire format.
    fn fields(decoder: *Decoder, comptime T: type, cursor: *Cursor) Error!T {
        var value: T = undefined;
        inline for (std.meta.fields(T)) |field| {
            @field(value, field.name) = switch (field.type) {
                u64 => cursor.int(u64) orelse return decoder.fail(field.name ++ ": past the frame's end"),
                Str => try decoder.str(cursor, field.name, comptime bound_of(field.name)),
                Strs => try decoder.strs(cursor, field.name),
                U64s => try decoder.words(cursor, field.name),
                else => @compileError("unsupported field type in " ++ @typeName(T)),
            };
        }
        if (cursor.bytes.len != 0) return decoder.fail("bytes left over after the last field");
        return value;
    }

    fn bound_of(comptime name: []const u8) usize {
        return if (protocol.is_path_field(name)) protocol.path_bytes_max else protocol.str_bytes_max;
    }

    fn str(decoder: *Decoder, cursor: *Cursor, comptime name: []const u8, comptime bound: usize) Error!Str {
        const length = cursor.int(u32) orelse return decoder.fail(name ++ ": past the frame's end");
        if (length > bound) return decoder.fail(std.fmt.comptimePrint("{s}: longer than {d} bytes", .{ name, bound }));
        const bytes = cursor.take(length) orelse return decoder.fail(name ++ ": past the frame's end");
        if (std.mem.indexOfScalar(u8, bytes, 0) != null) return decoder.fail(name ++ ": contains NUL");
        const strings = &decoder.storage.strings;
        // n + 4 wire bytes for n + 1 bytes here: the arena cannot run out before the frames do.
        assert(decoder.strings_used + length + 1 <= strings.len);
        const copy = strings[decoder.strings_used..][0 .. length + 1];
        @memcpy(copy[0..length], bytes);
        copy[length] = 0;
        decoder.strings_used += length + 1;
        return copy[0..length :0];
    }

    fn strs(decoder: *Decoder, cursor: *Cursor, comptime name: []const u8) Error!Strs {
        const count = cursor.int(u32) orelse return decoder.fail(name ++ ": past the frame's end");
        if (count > protocol.strs_count_max) return decoder.fail(name ++ ": more than 4096 strings");
        // Only EXEC and OVERLAY have strs, one of each at most (check_order, check_op), so
        // this cannot trigger on a valid plan; it stays a failure to keep totality obvious.
        if (decoder.pointers_used + count + 1 > decoder.storage.pointers.len) {
            return decoder.fail(name ++ ": too many strings in the plan");
        }
        const list = decoder.storage.pointers[decoder.pointers_used..][0 .. count + 1];
        for (list[0..count]) |*pointer| {
            pointer.* = (try decoder.str(cursor, name, protocol.str_bytes_max)).ptr;
        }
        list[count] = null;
        decoder.pointers_used += count + 1;
        return list[0..count :null];
    }

    fn words(decoder: *Decoder, cursor: *Cursor, comptime name: []const u8) Error!U64s {
        const count = cursor.int(u32) orelse return decoder.fail(name ++ ": past the frame's end");
        if (count > protocol.u64s_count_max) return decoder.fail(name ++ ": more than 1024 numbers");
        const bytes = cursor.take(@as(usize, count) * 8) orelse return decoder.fail(name ++ ": past the frame's end");
        return .{ .bytes = bytes };
    }
};

const Cursor = struct {
    bytes: []const u8,

    fn take(cursor: *Cursor, size: usize) ?[]const u8 {
        if (size > cursor.bytes.len) return null;
        const bytes = cursor.bytes[0..size];
        cursor.bytes = cursor.bytes[size..];
        return bytes;
    }

    fn int(cursor: *Cursor, comptime T: type) ?T {
        const bytes = cursor.take(@sizeOf(T)) orelse return null;
        return std.mem.readInt(T, bytes[0..@sizeOf(T)], .little);
    }
};

/// Bytes `Buffered` reads at once: more than a typical plan (a few KiB), and a pipe's
/// default capacity, so one read usually takes all that is there.
pub const buffered_bytes = 64 * 1024;

/// A reader over `Inner` that reads up to `buffered_bytes` at a time and hands them out,
/// so that a plan costs a read or two instead of two per frame. It reads only when it
/// holds nothing and is asked for bytes, so it never waits for bytes nobody asked for;
/// what it got past the caller's last frame stays `pending` for the next reads (after a
/// one-shot launcher's END: the START and SIGNAL frames that came with the plan).
pub fn Buffered(comptime Inner: type) type {
    return struct {
        const Self = @This();

        inner: Inner,
        bytes: [buffered_bytes]u8 = undefined,
        start: usize = 0,
        end: usize = 0,

        pub fn read(reader: *Self, buffer: []u8) ReadResult {
            assert(reader.start <= reader.end and reader.end <= reader.bytes.len);
            if (buffer.len == 0) return .{ .bytes = 0 };
            if (reader.start == reader.end) {
                // Nothing held: a large request goes straight to `buffer`.
                if (buffer.len >= reader.bytes.len) return reader.inner.read(buffer);
                switch (reader.inner.read(&reader.bytes)) {
                    .bytes => |n| {
                        assert(n <= reader.bytes.len);
                        if (n == 0) return .{ .bytes = 0 };
                        reader.start = 0;
                        reader.end = n;
                    },
                    .errno => |errno| return .{ .errno = errno },
                }
            }
            const n = @min(buffer.len, reader.end - reader.start);
            @memcpy(buffer[0..n], reader.bytes[reader.start..][0..n]);
            reader.start += n;
            return .{ .bytes = n };
        }

        /// Bytes read from `inner` and not yet handed out.
        pub fn pending(reader: *const Self) usize {
            return reader.end - reader.start;
        }

        /// Drops the bytes held (their fd was closed).
        pub fn discard(reader: *Self) void {
            reader.start = 0;
            reader.end = 0;
        }
    };
}

/// A reader over bytes in memory: used by tests and by nothing else.
pub const SliceReader = struct {
    bytes: []const u8,
    /// Hand out at most this many bytes per read, to exercise short reads.
    chunk: usize = std.math.maxInt(usize),

    pub fn read(reader: *SliceReader, buffer: []u8) ReadResult {
        const n = @min(buffer.len, reader.bytes.len, reader.chunk);
        @memcpy(buffer[0..n], reader.bytes[0..n]);
        reader.bytes = reader.bytes[n..];
        return .{ .bytes = n };
    }
};
