//! Runs a validated plan: one `for` over the ops and one `switch` per op, as bubblewrap's
//! setup_newroot. The same loop runs in three processes in turn: the launcher (ops before
//! CLONE), the parent (parent ops, then it becomes the monitor at the first container op)
//! and the container process (container ops, skipping the parent's).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const ns = @import("ns.zig");
const files = @import("files.zig");
const overlay = @import("overlay.zig");
const copy_tree = @import("copy_tree.zig");
const mounts = @import("mounts.zig");
const process = @import("process.zig");
const exec = @import("exec.zig");
const monitor = @import("monitor.zig");
const cgroup = @import("cgroup.zig");
const idmap = @import("idmap.zig");
const idmap_helper = @import("idmap_helper.zig");
const hook = @import("hook.zig");
const ending = @import("status.zig");
const logger = @import("logger.zig");
const attach = @import("attach.zig");
const State = @import("state.zig").State;
const setns = @import("setns.zig");
const net = @import("net.zig");
const nft = @import("nft.zig");
const seccomp = @import("seccomp.zig");
const listener = @import("listener.zig");
const init_mode = @import("init.zig");
const fifo = @import("fifo.zig");
const console = @import("console.zig");

/// The exit statuses the plan chose (EXEC's fields; the decoder checked each is 1 to 255).
pub const Statuses = struct { failed: u8, not_found: u8, not_executable: u8 };

pub fn statuses(plan: *const decode.Plan) Statuses {
    const ops = plan.slice();
    const exec_op = ops[ops.len - 1].exec; // The decoder requires EXEC last.
    return .{
        .failed = @intCast(exec_op.failed_status),
        .not_found = @intCast(exec_op.not_found_status),
        .not_executable = @intCast(exec_op.not_executable_status),
    };
}

pub fn run(state: *State, plan: *const decode.Plan) noreturn {
    assert(state.before_clone());
    const ops = plan.slice();
    assert(ops.len >= 2);
    assert(ops[ops.len - 1] == .exec);
    for (ops, 0..) |op, index| {
        switch (state.role) {
            .launcher, .server_child => {},
            .monitor => if (Op.runner(op) != .parent) {
                attach.wait_first_client(&state.attach);
                ns.release(state);
                logger.receive_pty(&state.logger, &state.attach);
                if (plan.exec_fifo) monitor.run_detached(state, statuses(plan).failed);
                monitor.run(state, statuses(plan).failed);
            },
            .container => if (Op.runner(op) == .parent) continue,
            .server => unreachable, // A server runs no plan; its children do.
        }
        step(state, plan, op, index);
    }
    unreachable; // EXEC is last: it replaced this process, or failed and exited.
}

/// The container process dies with its monitor (PR_SET_PDEATHSIG): with die_with_parent (the
/// monitor dies with husk too) or dies_with_monitor (a detached monitor).
fn dies_with_monitor(plan: *const decode.Plan) bool {
    return plan.flags & (protocol.hello_flag_die_with_parent | protocol.hello_flag_dies_with_monitor) != 0;
}

fn step(state: *State, plan: *const decode.Plan, op: Op, index: usize) void {
    // Op times are for OP_TIME events only: without trace, no clock at all.
    const start_ns = if (state.events.trace) sys.monotonic_ns() else 0;
    const code = @intFromEnum(Op.frame_type(op));
    if (op == .exec) {
        // Reported before execve: after it, nothing of ours runs.
        if (state.events.trace) state.events.op_time(index, code, sys.monotonic_ns() - start_ns);
        restore_signals() catch |err| fail(state, plan, index, op, err);
    }
    run_op(state, plan, op, index) catch |err| fail(state, plan, index, op, err);
    // CLONE returns twice; its time is the launcher's, the child's includes the wait.
    if (op == .clone and state.role == .container) return;
    if (state.events.trace) state.events.op_time(index, code, sys.monotonic_ns() - start_ns);
}

/// The cgroup ops (cgroup.zig), in the launcher, the parent or the container process.
fn run_cgroup_op(state: *State, op: Op) sys.Error!void {
    switch (op) {
        .cgroup_mkdir => |o| try cgroup.mkdir(&state.cgroup, o.path, o.flags),
        .cgroup_write => |o| try cgroup.write(o.path, o.value),
        .cgroup_enter => |o| try cgroup.enter(o.path, state.container.pid),
        .cgroup_into => |o| try cgroup.into(&state.cgroup, o.path),
        .cgroup_report => |o| cgroup.report(&state.cgroup, o.path),
        .cgroup_devices => |o| try cgroup.devices(o.path, o.program),
        .cgroup_join => |o| try cgroup.join(o.path),
        else => unreachable,
    }
}

/// The image's tree on the new root: layers stacked, or (the flatten fallback) copied.
fn image_op(state: *State, op: Op) sys.Error!void {
    switch (op) {
        .overlay => |o| try overlay.overlay(&state.root_fd, o),
        .copy_tree => |o| try copy_tree.copy_tree(&state.root_fd, o),
        else => unreachable,
    }
}

fn run_op(state: *State, plan: *const decode.Plan, op: Op, index: usize) sys.Error!void {
    switch (op) {
        .unshare => |o| try sys.unshare(o.flags),
        .clone => |o| try clone_op(state, plan, o.flags),
        .write_file => |o| try files.write_file(&state.root_fd, o.path, o.content),
        .uid_map, .gid_map, .setgroups, .idmap_helper, .net_helper, .nft_elements => try map_op(state, op),
        .mkdir => |o| try files.mkdir(&state.root_fd, o.path, o.mode),
        .touch => |o| try files.touch(&state.root_fd, o.path, o.mode),
        .symlink => |o| try files.symlink(&state.root_fd, o.target, o.linkpath),
        .mount, .bind, .mknod_dev, .pivot_root, .mask, .readonly, .set_root => try mount_op(&state.root_fd, op),
        .overlay, .copy_tree => try image_op(state, op),
        .sethostname => |o| try process.sethostname(o.name),
        .loopback_up => try process.loopback_up(),
        .chdir => |o| try process.chdir(&state.root_fd, o.path),
        .rlimit => |o| try process.rlimit(o.resource, o.soft, o.hard),
        .caps => |o| try process.caps(o.bounding, o.effective, o.permitted, o.inheritable),
        .user => |o| {
            try process.user(o.uid, o.gid, o.groups);
            // Changing credentials clears the parent-death signal (prctl(2)): armed again.
            if (dies_with_monitor(plan)) _ = try sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0);
        },
        .no_new_privs => try process.no_new_privs(),
        .close_fds => try process.close_fds(),
        .exec => |o| return exec.exec(o.path, o.argv, o.env, o.search),
        .status_file => |o| ending.arm(state, o.path),
        .cgroup_mkdir, .cgroup_write, .cgroup_enter, .cgroup_into, .cgroup_report, .cgroup_devices, .cgroup_join => try run_cgroup_op(state, op),
        .idmap_tree => |o| try idmap.idmap_tree(o.source, o.slot, state.container.pid, state.container.tree_fd),
        .idmap_mount => |o| try idmap.idmap_mount(o, state.container.pid, state.container.tree_fd),
        .attach_tree => |o| try idmap.attach_tree(&state.trees, state.root_fd, o.slot, o.target),
        .seccomp, .seccomp_program => try seccomp.run_op(state, plan, index, op),
        .seccomp_listener => |o| state.listener.op = o,
        .wait_start, .exec_fifo, .fifo_wait, .umask, .ambient, .init, .pty, .pid_fork, .pid_fork_orphan, .console, .preserve_fds => try run_start_op(state, plan, op),
        .hook => |o| try hook.run(o, &state.hook_outcome),
        .ioprio => |o| try sys.ioprio_set(o.value),
        .scheduler => |o| try sys.sched_setattr(o.policy, @bitCast(o.nice), o.priority),
        .personality => |o| try sys.personality(o.persona),
        .hook_sync => ns.wait_for_start(state, statuses(plan).failed),
        .target, .setns, .setns_file, .pin => try setns.run_op(state, op),
        .net_veth, .net_link_up, .net_addr, .net_route => try net.run_op(op, state.container.pid),
        .log => |o| try logger.open(&state.logger, o.path),
        .tty => |o| try logger.open_tty(&state.logger, @intCast(o.rows), @intCast(o.cols), plan.pty_inside),
        .attach => |o| try attach.open(&state.attach, o.path, o.flags, state.logger.tty),
        // The decoder keeps control ops out of container plans: control_plan.zig runs them.
        .cgroup_freeze, .cgroup_kill, .cgroup_remove, .signal_process, .pin_new, .unpin, .fs_root, .mknod, .setxattr, .read_xattrs, .write_stream, .fs_userns, .remove_tree, .overlay_probe, .net_bridge, .net_link_del, .net_sysctl, .cgroup_set, .net_connect, .nft_delete => unreachable,
    }
}

/// CLONE: the container process and the monitor each take their ends of what it made.
fn clone_op(state: *State, plan: *const decode.Plan, flags: u64) sys.Error!void {
    const in_container = try ns.clone(state, .{
        .namespaces = flags,
        .die_with_parent = dies_with_monitor(plan),
        .cgroup_fd = state.cgroup.into_fd,
        .tree_socket = plan.trees_count > 0,
        .listener_socket = plan.seccomp_listener,
        .wait_start = plan.wait_start or plan.hook_sync,
        .failed_status = statuses(plan).failed,
    });
    if (in_container) {
        try logger.in_container(&state.logger);
        try console.in_container(state);
        try attach.in_container(&state.attach);
        if (plan.trees_count > 0) try idmap.receive(&state.trees, state.container.tree_fd, plan.trees_count);
    } else {
        try logger.in_monitor(&state.logger);
        console.in_monitor(state);
        try attach.in_monitor(&state.attach, logger.tty_fd(&state.logger));
        state.events.pid(state.container.pid);
        try cgroup.after_clone(&state.cgroup, state.container.pid, state.container.into_cgroup);
    }
}

/// The ops of mounts.zig, each on the current root.
fn mount_op(current: *?sys.fd_t, op: Op) sys.Error!void {
    switch (op) {
        .mount => |o| try mounts.mount(current, o.source, o.target, o.fstype, o.flags, o.data),
        .bind => |o| try mounts.bind(current, o.source, o.target, o.flags),
        .mknod_dev => |o| try mounts.mknod_dev(current, o.path, o.mode, o.rdev, o.uid, o.gid),
        .pivot_root => |o| try mounts.pivot_root(current, o.newroot),
        .mask => |o| try mounts.mask(current, o.path),
        .readonly => |o| try mounts.readonly(current, o.path),
        .set_root => |o| try mounts.set_root(current, o.path),
        else => unreachable, // run_op sends only these.
    }
}

/// NFT_ELEMENTS (the monitor): the elements added, and kept for status.zig to delete at the end.
fn publish(state: *State, o: protocol.NftOp) sys.Error!void {
    assert(state.role == .monitor);
    const elements = nft.Elements{ .family = o.family, .table = o.table, .set = o.set, .key_words = o.key_words, .data_words = o.data_words, .words = o.words };
    try nft.add(elements, o.flags & nft.flag_exclusive != 0);
    assert(state.published_count < state.published.len); // The decoder allows 16.
    state.published[state.published_count] = elements;
    state.published_count += 1;
}

/// Parent ops that give the user namespace its maps: written directly, or by the setuid
/// helper (rootless with subordinate ids); and the helpers and elements of its network.
fn map_op(state: *State, op: Op) sys.Error!void {
    assert(state.role == .monitor);
    switch (op) {
        .uid_map => |o| try ns.write_proc(state, "uid_map", o.text),
        .gid_map => |o| try ns.write_proc(state, "gid_map", o.text),
        .setgroups => |o| try ns.write_proc(state, "setgroups", o.text),
        .idmap_helper => |o| try idmap_helper.run(o.path, o.args, state.container.pid, &state.helper_output),
        .nft_elements => |o| try publish(state, o),
        .net_helper => |o| {
            // pasta, the launcher's child in the foreground: held by a pidfd, signalled when the
            // launcher ends (status.zig), killed by the kernel if the launcher is killed.
            const pid = try idmap_helper.run_net(o.path, o.args, state.container.pid, &state.helper_output, &state.net_daemon_output);
            state.net_daemon_pid = pid;
            state.net_daemon_pidfd = sys.pidfd_open(pid) catch -1;
        },
        else => unreachable,
    }
}

/// Waiting to start (WAIT_START; runc's model, fifo.zig), runc's process ops, husk's init and
/// the pty made inside (PTY).
fn run_start_op(state: *State, plan: *const decode.Plan, op: Op) sys.Error!void {
    switch (op) {
        .wait_start => ns.wait_for_start(state, statuses(plan).failed),
        .exec_fifo => |o| try fifo.open(state, o.path),
        .fifo_wait => try fifo.wait(state),
        .umask => |o| sys.umask(@intCast(o.mask)),
        .ambient => |o| try process.ambient(o.capabilities),
        .preserve_fds => |o| try process.preserve_fds(o.count),
        .console => |o| try console.open(state, o.path),
        .init => try init_mode.fork_init(state),
        .pid_fork => try init_mode.fork_pid(state, .init),
        .pid_fork_orphan => try init_mode.fork_pid(state, .orphan),
        .pty => |o| try logger.pty_inside(&state.logger, o.path),
        else => unreachable,
    }
}

/// The launcher ignores SIGPIPE and blocks the forwarded signals; both would survive
/// execve, so the container process puts them back first.
fn restore_signals() sys.Error!void {
    try sys.sigpipe_ignore(false);
    try sys.sigprocmask_set(0);
}

/// Reports a failed op and ends this process, leaving nothing behind (protocol.md:
/// after an ERROR).
fn fail(state: *State, plan: *const decode.Plan, index: usize, op: Op, err: sys.Error) noreturn {
    const errno = sys.errno_of(err); // First, before anything else can fail.
    const code = @intFromEnum(Op.frame_type(op));
    const chosen = statuses(plan);
    var message = events.Message{};
    describe(state, op, &message);
    switch (state.role) {
        .launcher, .server_child => {
            state.events.failure(index, code, errno, message.slice());
            ending.end(state, .launcher_failed, chosen.failed, chosen.failed);
        },
        .monitor => {
            state.events.failure(index, code, errno, message.slice());
            ns.kill_and_reap(state);
            ending.end(state, .launcher_failed, chosen.failed, chosen.failed);
        },
        .server => unreachable, // A server runs no op.
        .container => {
            // The orchestrator may be gone: an event must not kill us before the status.
            sys.sigpipe_ignore(true) catch {};
            state.events.failure(index, code, errno, message.slice());
            // Which of the plan's statuses: the kernel's answer picks, the plan decides.
            const status = if (op != .exec) chosen.failed else if (errno == sys.ENOENT) chosen.not_found else chosen.not_executable;
            ns.report_status(state, status);
            sys.exit(status);
        },
    }
}

/// The op's subject in a few words, e.g. `mount proc on proc`.
fn describe(state: *const State, op: Op, message: *events.Message) void {
    switch (op) {
        .unshare => |o| message.print("unshare 0x{x}", .{o.flags}),
        .clone => |o| if (state.cgroup.into_path) |path| {
            message.print("clone 0x{x} into cgroup {s}", .{ o.flags, path });
        } else {
            message.print("clone 0x{x}", .{o.flags});
        },
        .write_file => |o| message.print("write {s}", .{o.path}),
        .uid_map => message.append("write uid_map"),
        .gid_map => message.append("write gid_map"),
        .setgroups => |o| message.print("write {s} to setgroups", .{o.text}),
        .mount => |o| message.print("mount {s} on {s}", .{ if (o.source.len > 0) o.source else o.fstype, o.target }),
        .mkdir => |o| message.print("mkdir {s}", .{o.path}),
        .touch => |o| message.print("touch {s}", .{o.path}),
        .symlink => |o| message.print("symlink {s} to {s}", .{ o.linkpath, o.target }),
        .bind => |o| message.print("bind {s} on {s}", .{ o.source, o.target }),
        .pivot_root => |o| message.print("pivot_root to {s}", .{o.newroot}),
        .mask => |o| message.print("mask {s}", .{o.path}),
        .readonly => |o| message.print("make {s} read-only", .{o.path}),
        .set_root => |o| message.print("set root {s}", .{o.path}),
        .overlay => |o| overlay.describe(o, message),
        .copy_tree => |o| message.print("copy {s} into {s}", .{ o.source, o.target }),
        .sethostname => |o| message.print("set hostname {s}", .{o.name}),
        .loopback_up => message.append("bring lo up"),
        .chdir => |o| message.print("chdir {s}", .{o.path}),
        .rlimit => |o| message.print("set rlimit {d} to {d}/{d}", .{ o.resource, o.soft, o.hard }),
        .caps => message.append("set capabilities"),
        .user => |o| message.print("set user {d}:{d}", .{ o.uid, o.gid }),
        .no_new_privs, .close_fds => message.append(if (op == .no_new_privs) "set no_new_privs" else "close fds"),
        .preserve_fds, .hook, .hook_sync, .ioprio, .scheduler, .personality, .exec_fifo, .fifo_wait, .umask, .ambient, .console, .seccomp, .seccomp_listener, .mknod_dev => describe_runc_op(state, op, message),
        .exec => |o| message.print("exec {s}", .{o.path}),
        .status_file => |o| message.print("status file {s}", .{o.path}),
        .cgroup_mkdir => |o| message.print("mkdir cgroup {s}", .{o.path}),
        .cgroup_write => |o| message.print("write {s} to {s}", .{ o.value[0..@min(o.value.len, 40)], o.path }),
        .cgroup_enter => |o| message.print("enter cgroup {s}", .{o.path}),
        .cgroup_into => |o| message.print("open cgroup {s}", .{o.path}),
        .cgroup_devices => |o| message.print("attach a device program to {s}", .{o.path}),
        .cgroup_report => |o| message.print("report {s}", .{o.path}),
        .cgroup_join => |o| message.print("join cgroup {s}", .{o.path}),
        .idmap_tree => |o| message.print("idmap {s} as slot {d}", .{ o.source, o.slot }),
        .idmap_mount => |o| message.print("idmapped mount of {s} (its filesystem must support idmapped mounts)", .{o.source}),
        .idmap_helper => |o| message.print("{s} {d}: {s}", .{ o.path, state.container.pid, state.helper_output.first_line() }),
        .net_helper => |o| message.print("{s} {d}: {s}", .{ o.path, state.container.pid, state.helper_output.first_line() }),
        .attach_tree => |o| message.print("attach slot {d} on {s}", .{ o.slot, o.target }),
        .wait_start => message.append("wait for START"),
        .seccomp_program => message.append("keep a seccomp program part"),
        .init => message.append("become husk's init (exec /proc/self/exe)"),
        .pid_fork, .pid_fork_orphan => message.append("fork into the new pid namespace"),
        .pty => |o| message.print("open a pty at {s}", .{o.path}),
        .target => |o| message.print("open pid {d} started at {d}", .{ o.pid, o.start_time }),
        .setns => |o| message.print("enter namespaces 0x{x} of pid {d}", .{ o.flags, state.target_pid }),
        .setns_file => |o| message.print("enter namespace {s}", .{o.path}),
        .pin => |o| message.print("pin namespace 0x{x} on {s}", .{ o.nstype, o.path }),
        .net_veth => |o| message.print("veth {s} on bridge {s}, peer {s} in the container", .{ o.host, o.bridge, o.peer }),
        .net_link_up => |o| message.print("bring {s} up", .{o.name}),
        .net_addr => |o| message.print("add address {s} to {s}", .{ o.address, o.name }),
        .net_route => |o| message.print("default route via {s} on {s}", .{ o.gateway, o.name }),
        .nft_elements => |o| message.print("add {d} element(s) to set {s} of table {s}", .{ o.words.count() / (o.key_words + o.data_words), o.set, o.table }),
        .log => |o| message.print("open log {s}", .{o.path}),
        .tty => message.append("open a pty"),
        .attach => |o| message.print("listen on {s}", .{o.path}),
        .cgroup_freeze, .cgroup_kill, .cgroup_remove, .signal_process, .pin_new, .unpin, .fs_root, .mknod, .setxattr, .read_xattrs, .write_stream, .fs_userns, .remove_tree, .overlay_probe, .net_bridge, .net_link_del, .net_sysctl, .cgroup_set, .net_connect, .nft_delete => unreachable, // As in run_op.
    }
}

/// describe's part for runc's process model and OCI hooks (kept apart: one function each).
fn describe_runc_op(state: *const State, op: Op, message: *events.Message) void {
    switch (op) {
        .preserve_fds => |o| message.print("keep fds 3 to {d} open", .{o.count + 2}),
        .hook => |o| state.hook_outcome.print(o, message),
        .hook_sync => message.append("wait for the runtime's hooks"),
        .mknod_dev => |o| message.print("make device {s}", .{o.path}),
        .ioprio => |o| message.print("set io priority class {d} level {d}", .{ o.value >> 13, o.value & 0x1fff }),
        .scheduler => |o| message.print("set scheduling policy {d} nice {d} priority {d}", .{ o.policy, @as(i64, @bitCast(o.nice)), o.priority }),
        .personality => |o| message.print("set personality 0x{x}", .{o.persona}),
        .exec_fifo => |o| message.print("make fifo {s}", .{o.path}),
        .fifo_wait => message.append("wait on the exec fifo"),
        .umask => |o| message.print("set umask {o}", .{o.mask}),
        .ambient => |o| message.print("raise ambient capabilities 0x{x}", .{o.capabilities}),
        .console => |o| message.print("send a pty to {s}", .{o.path}),
        .seccomp => |o| if (o.flags & protocol.seccomp_flag_new_listener != 0) {
            message.print("send the seccomp listener to {s}: {s}", .{ state.listener.op.?.path, listener.stage_name(state.listener.failed_stage) });
        } else {
            message.print("load a seccomp filter (flags 0x{x})", .{o.flags});
        },
        .seccomp_listener => |o| message.print("keep listener path {s}", .{o.path}),
        else => unreachable, // describe sends only these here.
    }
}
