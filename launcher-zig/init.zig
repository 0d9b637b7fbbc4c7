//! INIT (protocol.md "husk's init"): `run --init`. The container process forks right before
//! EXEC; the child goes on to EXEC the container's command, the parent stays as the
//! container's pid 1 and execs the launcher's own sealed copy as `husk-init --init PID`
//! (a clean image and command line: nothing of the plan stays in its memory). That init
//! reaps every process that ends in the namespace (orphans are reparented to it), forwards
//! every signal it can catch to its child, and exits with the child's status (128+S when
//! the child was killed by signal S, as docker's tini-based init does).

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const State = @import("state.zig").State;

/// Signals the init cannot or must not take for its child: SIGKILL and SIGSTOP, and the
/// ones the kernel sends a faulting process itself (tini's list). Every other one is
/// blocked, read from a signalfd and forwarded; SIGCHLD is read to reap.
const not_forwarded = [_]u6{ sys.SIGKILL, sys.SIGSTOP, 4, 5, 6, 7, 8, 11, 31 }; // ILL TRAP ABRT BUS FPE SEGV SYS

/// Everything the init reads from its signalfd (SIGCHLD included).
pub const signals: sys.SignalSet = blk: {
    var set: sys.SignalSet = ~@as(sys.SignalSet, 0);
    for (not_forwarded) |signal| set &= ~sys.signal_bit(signal);
    break :blk set;
};

const PR_SET_NAME = 15;
const PR_SET_CHILD_SUBREAPER = 36;
const TIOCSPGRP: u32 = 0x5410;

/// Container process, at INIT: forks. Returns in the child, which goes on to EXEC (in a
/// process group of its own, the terminal's foreground one if fd 0 is a terminal). The
/// parent never returns: it becomes husk's init, or, if it cannot, kills the child and
/// fails the op the usual way (the caller's error path).
pub fn fork_init(state: *State) sys.Error!void {
    assert(state.role == .container);
    // Blocked before the fork, so that no signal meant for the child is lost, or kills the
    // init with its default action, before the init reads its signalfd. The child's EXEC
    // unblocks everything (run.zig restore_signals).
    try sys.sigprocmask_set(signals);
    const child = try sys.fork();
    if (child == 0) {
        own_process_group();
        return;
    }
    return become_init(child);
}

/// What the parent of PID_FORK becomes: husk's init for the child, or nothing (it exits, and
/// the child is reparented to the nearest subreaper: runc's model, PID_FORK_ORPHAN).
pub const ForkParent = enum { init, orphan };

/// Container process, at PID_FORK (protocol.md "A joined user namespace"): it entered a user
/// namespace and unshared a pid namespace, which only its children enter. Forks: the child,
/// pid 1 of that namespace, reports its host pid (INNER_PID) and goes on with the plan; the
/// parent becomes husk's init for it, as at INIT, so the monitor's child, pidfd and status
/// pipe stay what they were.
pub fn fork_pid(state: *State, parent_becomes: ForkParent) sys.Error!void {
    assert(state.role == .container);
    if (parent_becomes == .orphan) return fork_orphan(state);
    try sys.sigprocmask_set(signals);
    const parent = sys.getpid();
    const child = try sys.fork();
    if (child == 0) {
        // Dies with its init as the container process dies with its monitor (a fork does not
        // keep the parent-death signal); an init that died before this took effect is seen
        // below. /proc is still the host's here (before the container's mounts): its `self`
        // and stat name this process and its parent as the host sees them.
        _ = try sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0);
        const host = try host_view();
        if (host.parent != parent) sys.exit(125);
        state.events.inner_pid(host.pid);
        return;
    }
    return become_init(child);
}

/// PID_FORK_ORPHAN: the child goes on as the container's process with no parent-death signal
/// (its parent is about to go) and says its host pid; the parent exits without a word, its
/// status pipe and event fd closing with it (the child holds its own copies).
fn fork_orphan(state: *State) sys.Error!void {
    const child = try sys.fork();
    if (child == 0) {
        const host = try host_view();
        state.events.inner_pid(host.pid);
        return;
    }
    assert(child > 0);
    sys.exit(0);
}

/// This process's pid and its parent's, in the host's pid namespace (/proc/self/stat of the
/// host's procfs): its own pid namespace shows itself as 1 and its parent as 0.
fn host_view() sys.Error!struct { pid: sys.pid_t, parent: sys.pid_t } {
    var buffer: [512]u8 = undefined;
    const fd = try sys.openat(sys.AT_FDCWD, "/proc/self/stat", sys.O.RDONLY | sys.O.CLOEXEC, 0);
    defer sys.close(fd);
    const text = buffer[0..try sys.read(fd, &buffer)];
    const name_end = std.mem.lastIndexOfScalar(u8, text, ')') orelse return error.INVAL;
    var fields = std.mem.tokenizeScalar(u8, text[name_end + 1 ..], ' ');
    _ = fields.next(); // state
    const parent = std.fmt.parseInt(sys.pid_t, fields.next() orelse "", 10) catch return error.INVAL;
    const pid = std.fmt.parseInt(sys.pid_t, std.mem.sliceTo(text, ' '), 10) catch return error.INVAL;
    assert(pid > 0);
    return .{ .pid = pid, .parent = parent };
}

/// The parent of a fork above: execs husk's init for `child`; if that fails, kills the child
/// and returns the error (the caller fails the op).
fn become_init(child: sys.pid_t) sys.Error!void {
    assert(child > 0);
    var pid_buffer: [16]u8 = undefined;
    const pid_text = std.fmt.bufPrintZ(&pid_buffer, "{d}", .{child}) catch unreachable;
    const argv = [_:null]?[*:0]const u8{ "husk-init", "--init", pid_text.ptr };
    const envp = [_:null]?[*:0]const u8{};
    // The sealed copy this launcher runs from (self_protect.zig), seen through the
    // container's own /proc: a magic link, so it works after pivot_root.
    const err = sys.execve("/proc/self/exe", &argv, &envp);
    sys.kill(child, -1, sys.SIGKILL) catch {};
    var status: u32 = 0;
    _ = sys.wait4(child, &status, 0) catch {};
    return err;
}

/// The child: its own process group (so a terminal's ctrl-c reaches it once, not also
/// through the init), given the terminal's foreground if it has one (tini's isolate_child).
fn own_process_group() void {
    _ = sys.setpgid(0, 0) catch return;
    // SIGTTOU is blocked here (fork_init), so a background group may take the foreground.
    const pgrp: i32 = sys.getpid();
    _ = sys.ioctl(0, TIOCSPGRP, @intFromPtr(&pgrp)) catch {}; // ENOTTY: no terminal.
}

/// `husk-launcher --init PID` (main.zig): runs until its child PID has ended, then exits
/// with its status. Never returns.
pub fn serve(child: sys.pid_t) noreturn {
    assert(child > 0);
    _ = sys.prctl(PR_SET_NAME, @intFromPtr("husk-init"), 0) catch {};
    // Not pid 1 (a pid namespace joined, or the host's): orphans of the child's tree still
    // come here instead of to an init that is not the container's.
    _ = sys.prctl(PR_SET_CHILD_SUBREAPER, 1, 0) catch {};
    sys.sigprocmask_set(signals) catch sys.exit(125); // Already so (fork_init); made sure.
    const fd = sys.signalfd(signals) catch sys.exit(125);
    // The child may have ended before the signalfd existed: its SIGCHLD is pending, so
    // the first read sees it.
    while (true) {
        var info: [128]u8 = undefined;
        const n = sys.read(fd, &info) catch continue;
        assert(n == info.len);
        const signo = std.mem.readInt(u32, info[0..4], .little);
        if (signo == sys.SIGCHLD) {
            if (reap(child)) |status| exit_as(status);
            continue;
        }
        sys.kill(child, -1, signo) catch {}; // ESRCH: it is ending; its SIGCHLD follows.
    }
}

/// Reaps every process that has ended; the child's wait status if it was one of them.
fn reap(child: sys.pid_t) ?u32 {
    var child_status: ?u32 = null;
    for (0..65536) |_| {
        var status: u32 = 0;
        const pid = sys.wait4(-1, &status, sys.WNOHANG) catch break; // ECHILD: none left.
        if (pid <= 0) break;
        if (pid == child) child_status = status;
    }
    return child_status;
}

/// The child's exit status, or 128+S for signal S.
fn exit_as(wait_status: u32) noreturn {
    const signal = wait_status & 0x7f;
    if (signal == 0) sys.exit(@intCast((wait_status >> 8) & 0xff));
    sys.exit(@intCast(128 + signal));
}

test "the init forwards what can be caught and reads SIGCHLD" {
    try std.testing.expect(signals & sys.signal_bit(sys.SIGCHLD) != 0);
    try std.testing.expect(signals & sys.signal_bit(sys.SIGTERM) != 0);
    try std.testing.expect(signals & sys.signal_bit(sys.SIGKILL) == 0);
    try std.testing.expect(signals & sys.signal_bit(11) == 0);
    try std.testing.expect(signals & sys.signal_bit(34) != 0); // SIGRTMIN: a StopSignal may be one.
}
