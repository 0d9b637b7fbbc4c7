//! SECCOMP_LISTENER (protocol.md "The seccomp listener"): SCMP_ACT_NOTIFY's listener fd
//! reaches the seccomp agent at OCI's `linux.seccomp.listenerPath`, as runc hands it over.
//! The container process loads the filter (SECCOMP with NEW_LISTENER), writes the listener's
//! fd number on the CLONE socketpair and waits; the monitor, in the host's namespaces, takes
//! a copy with pidfd_getfd, connects to the path, sends the container process state JSON with
//! the fd (SCM_RIGHTS) and replies; only then does the container process close its copy and
//! go on. The container side makes two syscalls under the new filter before the agent has the
//! fd: write (the core refuses NOTIFY on write, as runc does) and read (a NOTIFY on read
//! waits for the agent, who gets the fd meanwhile).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

/// What the launcher keeps of SECCOMP_LISTENER, and how far the hand-over got.
pub const State = struct {
    op: ?protocol.SeccompListener = null,
    /// The reply's stage of a failed hand-over (for the op's message), or 0.
    failed_stage: u32 = 0,
};

/// The monitor's reply: 0 and 0, or the errno of the stage that failed.
const Reply = extern struct { errno: u32, stage: u32 };
const stage_getfd: u32 = 1;
const stage_connect: u32 = 2;
const stage_send: u32 = 3;

/// Container process, right after the filter is loaded: the monitor passes `listener` on.
/// The socket and the listener are closed whatever happens.
pub fn hand_over(state: *State, container_fd: *sys.fd_t, listener: sys.fd_t) sys.Error!void {
    const socket = container_fd.*;
    assert(socket >= 0); // CLONE made the pair: the plan has SECCOMP_LISTENER.
    assert(listener >= 0);
    defer {
        sys.close(listener);
        sys.close(socket);
        container_fd.* = -1;
    }
    const number: u32 = @intCast(listener);
    _ = try sys.write(socket, std.mem.asBytes(&number));
    var reply: Reply = undefined;
    const n = try sys.read(socket, std.mem.asBytes(&reply));
    if (n != @sizeOf(Reply)) return sys.error_of_errno(sys.EPIPE); // The monitor is gone.
    if (reply.errno == 0) return;
    state.failed_stage = reply.stage;
    return sys.error_of_errno(@intCast(@min(reply.errno, 4095)));
}

/// Monitor: the socket is readable. A number: pass the listener on and reply. EOF: the
/// container process ended (or failed) before its SECCOMP; nothing to do. Either way the
/// socket is closed: there is one listener per plan.
pub fn serve(state: *const State, container_fd: *sys.fd_t, pid: sys.pid_t, pidfd: sys.fd_t) void {
    const socket = container_fd.*;
    assert(socket >= 0);
    defer {
        sys.close(socket);
        container_fd.* = -1;
    }
    var number: u32 = 0;
    const n = sys.read(socket, std.mem.asBytes(&number)) catch 0;
    if (n != @sizeOf(u32)) return;
    const reply = pass_on(state.op.?, number, pid, pidfd);
    // A container process killed meanwhile reads nothing: EPIPE is fine.
    _ = sys.write(socket, std.mem.asBytes(&reply)) catch {};
}

fn pass_on(op: protocol.SeccompListener, number: u32, pid: sys.pid_t, pidfd: sys.fd_t) Reply {
    assert(pid > 0);
    // clone(2)'s fallback (clone3 filtered) gives no pidfd: open one (the process waits on us).
    const own = if (pidfd >= 0) -1 else sys.pidfd_open(pid) catch |err| return .{ .errno = sys.errno_of(err), .stage = stage_getfd };
    defer if (own >= 0) sys.close(own);
    const listener = sys.pidfd_getfd(if (pidfd >= 0) pidfd else own, number) catch |err| return .{ .errno = sys.errno_of(err), .stage = stage_getfd };
    defer sys.close(listener);
    const agent = sys.connect_unix(op.path) catch |err| return .{ .errno = sys.errno_of(err), .stage = stage_connect };
    defer sys.close(agent); // One state per connection, then closed (the spec's rule).
    var buffer: [protocol.listener_state_max + 64]u8 = undefined;
    // The decoder bounds the three parts to 16384 bytes; two pids add at most 22.
    const text = std.fmt.bufPrint(&buffer, "{s}{d}{s}{d}{s}", .{ op.state_prefix, pid, op.state_middle, pid, op.state_suffix }) catch unreachable;
    sys.send_fd_with(agent, listener, text) catch |err| return .{ .errno = sys.errno_of(err), .stage = stage_send };
    return .{ .errno = 0, .stage = 0 };
}

/// The op's message after a failed hand-over, e.g. `send the listener to /run/agent.sock: connect`.
pub fn stage_name(stage: u32) []const u8 {
    return switch (stage) {
        stage_getfd => "take the listener (pidfd_getfd)",
        stage_connect => "connect",
        stage_send => "send the state and the listener",
        else => "load the filter",
    };
}

test "the state reaches the agent with the listener, the pid in both places" {
    var pair: [2]sys.fd_t = undefined;
    try sys.socketpair(&pair);
    defer sys.close(pair[1]);
    const file = try sys.openat(sys.AT_FDCWD, "/", sys.O.PATH, 0);
    defer sys.close(file);
    try sys.send_fd_with(pair[0], file, "{\"pid\":7}");
    sys.close(pair[0]);
    const received = try sys.receive_fd(pair[1]);
    sys.close(received.fd);
    try std.testing.expectEqual(@as(u8, '{'), received.byte);
}
