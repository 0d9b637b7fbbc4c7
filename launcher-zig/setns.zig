//! Joining namespaces that exist (protocol.md "Joining namespaces"): TARGET opens a pidfd
//! for a process the plan names by pid and start time, SETNS enters its namespaces through
//! that pidfd, SETNS_FILE enters the namespace an nsfs file names (a pinned one). `husk
//! exec`, `husk enter` and `run --net ns:NAME|container:OTHER` are plans made of these.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const control_plan = @import("control_plan.zig");
const State = @import("state.zig").State;
const protocol = @import("protocol.zig");
const pin = @import("pin.zig");
const root = @import("root.zig");

/// The ops of "Joining namespaces" and PIN, as run.zig's run_op dispatches them.
pub fn run_op(state: *State, op: protocol.Op) sys.Error!void {
    switch (op) {
        .target => |o| try target(state, o.pid, o.start_time),
        .setns => |o| try enter(state, o.flags),
        .setns_file => |o| try enter_file(o.path, o.nstype),
        .pin => |o| try pin.pin_child(state.container.pid, o.nstype, o.path),
        else => unreachable, // run.zig dispatches only these here.
    }
}

/// TARGET: a pidfd for `pid`, kept only if the process it names started at `start_time`.
/// The pidfd is opened first and the start time read after, so the process checked is the
/// one whose namespaces are entered (as SIGNAL_PROCESS). Gone, or a reused pid: ESRCH.
pub fn target(state: *State, pid: u64, start_time: u64) sys.Error!void {
    assert(state.before_clone());
    assert(state.target_fd == -1); // The decoder allows one TARGET.
    const pidfd = try sys.pidfd_open(@intCast(pid));
    errdefer sys.close(pidfd);
    if (try control_plan.start_time_of(@intCast(pid)) != start_time) return error.SRCH;
    state.target_fd = pidfd; // Close-on-exec (pidfd_open's default): gone at EXEC.
    state.target_pid = pid;
}

/// SETNS: setns(pidfd, flags), all of `flags` in one step; the kernel enters the user
/// namespace first, so the others are entered with its capabilities (as nsenter does).
pub fn enter(state: *const State, flags: u64) sys.Error!void {
    assert(state.target_fd >= 0); // The decoder requires TARGET first.
    assert(flags != 0);
    try sys.setns(state.target_fd, flags);
}

/// SETNS_FILE: the file must be an nsfs file (a pinned namespace's bind mount, or
/// /proc/PID/ns/TYPE) of type `nstype`: a stale pin whose mount is gone is a plain file
/// (EINVAL), a namespace of another type too. /proc/PID/ns/TYPE is a magic link (what
/// engines name: containerd's CRI joins a pod's namespaces so), so the path is followed, but
/// first as O_PATH, which opens nothing: only a file found to be nsfs is opened for setns
/// (through /proc/self/fd), never a FIFO or a device the path might name.
pub fn enter_file(path: [*:0]const u8, nstype: u64) sys.Error!void {
    assert(@popCount(nstype) == 1);
    const found = try sys.openat(sys.AT_FDCWD, path, sys.O.PATH | sys.O.CLOEXEC, 0);
    defer sys.close(found);
    if (try sys.filesystem_type(found) != sys.NSFS_MAGIC) return error.INVAL;
    var buffer: [32]u8 = undefined;
    const fd = try sys.openat(sys.AT_FDCWD, root.fd_path(found, &buffer), sys.O.RDONLY | sys.O.CLOEXEC, 0);
    defer sys.close(fd);
    if (try sys.namespace_type(fd) != nstype) return error.INVAL;
    try sys.setns(fd, nstype);
}
