//! The launcher's mutable state, in one struct: which process this is (its role) and what
//! that process holds between ops, its event channel included. main.zig owns the one
//! instance (in .bss, set up by `init`) and passes it to the code that reads or changes it;
//! nothing else keeps a copy. A new process gets its own copy with its memory: the
//! container process at CLONE, a server's child at fork.
//!
//! Not here, and why: the plan and its decode storage (main.zig), fixed storage the
//! decoder fills once and every op only reads; sys.zig's `last_errno`, the syscall layer's
//! errno register (set by the failing call, read right after by `errno_of`).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const ns = @import("ns.zig");
const monitor = @import("monitor.zig");
const server = @import("server.zig");
const events = @import("events.zig");
const cgroup = @import("cgroup.zig");
const logger = @import("logger.zig");
const nft = @import("nft.zig");
const attach = @import("attach.zig");
const idmap_helper = @import("idmap_helper.zig");
const hook = @import("hook.zig");
const listener = @import("listener.zig");

/// Which process this is. A process changes role only forward: launcher or server_child →
/// (CLONE) monitor in the launcher, container in the new process; server → server_child in
/// a RUN's fork.
pub const Role = enum {
    /// A one-shot launcher before CLONE: it reads a plan and runs the launcher ops.
    launcher,
    /// `--server`: it reads requests and forks a child per RUN.
    server,
    /// A server's forked child before CLONE: a one-shot launcher for one RUN, whose control
    /// fd is a pipe from the server; with die_with_parent it dies with that pipe.
    server_child,
    /// After CLONE, in the launcher: it runs the parent ops, then watches the container.
    monitor,
    /// After CLONE, in the new process: it runs the container ops, then EXEC.
    container,
};

pub const State = struct {
    role: Role,
    /// CLONE's process and the pipes between the monitor and it.
    container: ns.Container,
    /// What the monitor learns while it waits (monitor.zig).
    monitor: monitor.State,
    /// Container process: the current root relative paths resolve in (root.zig), or null.
    root_fd: ?sys.fd_t,
    /// Container process: the received idmapped trees by slot (idmap.zig); -1 when empty.
    trees: [protocol.tree_slots]sys.fd_t,
    /// STATUS_FILE's path, once armed (status.zig).
    status_path: ?[:0]const u8,
    /// Server mode: the RUNs in flight (server.zig).
    server: server.State,
    /// Where events go, the status file's record of them, the server's batch (events.zig).
    events: events.Channel,
    /// The cgroups this launcher made, reports, and CGROUP_INTO's directory (cgroup.zig).
    cgroup: cgroup.State,
    /// TARGET's pidfd (setns.zig): the process whose namespaces SETNS enters; -1 without.
    target_fd: sys.fd_t,
    target_pid: u64,
    /// EXEC_FIFO's FIFO, held read-write (fifo.zig); -1 without.
    fifo_fd: sys.fd_t,
    /// CONSOLE's pty slave until the container process takes it (console.zig); -1 without.
    console_fd: sys.fd_t,
    /// LOG's file and pipes (logger.zig).
    logger: logger.State,
    /// ATTACH's socket, clients and the container's stdin (attach.zig).
    attach: attach.State,
    /// The last IDMAP_HELPER's output, for its error message (idmap_helper.zig).
    helper_output: idmap_helper.Output,
    /// How the last HOOK ended, for its error message (hook.zig).
    hook_outcome: hook.Outcome,
    /// NET_HELPER's daemon (pasta), stopped when the launcher ends; pid 0 without.
    net_daemon_pid: sys.pid_t,
    net_daemon_pidfd: sys.fd_t,
    /// The read end of its output pipe, kept open: pasta writing to a closed pipe would die.
    net_daemon_output: sys.fd_t,
    /// NFT_ELEMENTS that ran: the monitor deletes them when the launcher ends (status.zig).
    published: [protocol.nft_elements_max]nft.Elements,
    published_count: usize,
    /// SECCOMP_LISTENER's op, and a failed hand-over's stage (listener.zig).
    listener: listener.State,

    /// Sets every field but the big buffers, which are written before they are read (so
    /// the instance stays in .bss instead of costing the binary its size).
    /// `event_fd`: the --event-fd, if any.
    pub fn init(state: *State, role: Role, event_fd: ?sys.fd_t) void {
        assert(role == .launcher or role == .server); // The roles a process starts in.
        state.role = role;
        state.container = .{};
        state.monitor.init();
        state.root_fd = null;
        state.trees = [_]sys.fd_t{-1} ** protocol.tree_slots;
        state.status_path = null;
        state.server.init();
        state.events.init(event_fd);
        state.cgroup.init();
        state.target_fd = -1;
        state.target_pid = 0;
        state.fifo_fd = -1;
        state.console_fd = -1;
        state.logger.init();
        state.attach.init();
        state.helper_output = .{};
        state.hook_outcome = .{};
        state.net_daemon_pid = 0;
        state.net_daemon_pidfd = -1;
        state.net_daemon_output = -1;
        state.published_count = 0;
        state.listener = .{};
    }

    /// Whether this process runs the ops before CLONE.
    pub fn before_clone(state: *const State) bool {
        return state.role == .launcher or state.role == .server_child;
    }
};

test "init leaves a launcher with nothing open" {
    var state: State = undefined;
    state.init(.launcher, null);
    try std.testing.expectEqual(Role.launcher, state.role);
    try std.testing.expect(state.before_clone());
    try std.testing.expectEqual(@as(sys.fd_t, -1), state.container.status_fd);
    try std.testing.expectEqual(@as(sys.fd_t, -1), state.trees[0]);
    try std.testing.expect(state.status_path == null);
    try std.testing.expect(state.root_fd == null);
    try std.testing.expectEqual(@as(usize, 0), state.server.in_use.count());
    try std.testing.expect(state.events.fd == null and !state.events.trace and !state.events.recording);
    try std.testing.expectEqual(@as(usize, 0), state.events.recorded_frames().len);
    try std.testing.expectEqual(@as(usize, 0), state.cgroup.owned_count + state.cgroup.reports_count);
    try std.testing.expect(state.cgroup.into_path == null);
    try std.testing.expectEqual(@as(sys.fd_t, -1), state.cgroup.into_fd);
}
