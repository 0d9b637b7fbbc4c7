//! CLONE and the parent ops. The container process is cloned fork-like and waits on a
//! release pipe until the launcher has written its id maps; a second pipe, close-on-exec,
//! tells the monitor whether the container process failed before execve (it then holds
//! one byte, the exit status) or got as far as execve (EOF).

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const monitor = @import("monitor.zig");
const State = @import("state.zig").State;

pub const Container = struct {
    pid: sys.pid_t = 0,
    pidfd: sys.fd_t = -1,
    /// Parent: write end of the release pipe. Child: -1.
    release_fd: sys.fd_t = -1,
    /// Parent: read end of the status pipe. Child: its write end.
    status_fd: sys.fd_t = -1,
    /// The socketpair IDMAP_TREE hands detached mounts over (each side its end), or -1.
    tree_fd: sys.fd_t = -1,
    /// SECCOMP_LISTENER's socketpair (each side its end; listener.zig), or -1.
    listener_fd: sys.fd_t = -1,
    /// Whether CLONE_INTO_CGROUP placed the process (else the parent moves it).
    into_cgroup: bool = false,
    /// WAIT_START's pipe. Parent: its write end until START (or a cancel). Child: its
    /// read end until WAIT_START. -1 otherwise.
    start_fd: sys.fd_t = -1,
};

pub const CloneOptions = struct {
    namespaces: u64,
    die_with_parent: bool,
    /// CGROUP_INTO's directory, or -1.
    cgroup_fd: sys.fd_t,
    /// Whether the plan has IDMAP_TREE ops, which need the socketpair.
    tree_socket: bool,
    /// Whether the plan has SECCOMP_LISTENER, whose number and reply cross a socketpair.
    listener_socket: bool = false,
    /// Whether the plan has WAIT_START, which needs the start pipe.
    wait_start: bool = false,
    /// The plan's status for a failure (the container process exits with it if the
    /// launcher goes before releasing it).
    failed_status: u8,
};

/// Creates the container process. Returns true in the container process (role container),
/// false in the launcher (role monitor). Signals the monitor forwards are blocked first, so
/// none is lost (or kills the launcher) between here and the monitor's signalfd.
pub fn clone(state: *State, options: CloneOptions) sys.Error!bool {
    assert(state.before_clone());
    const container = &state.container;
    assert(container.pid == 0);
    var release_pipe: [2]sys.fd_t = undefined;
    var status_pipe: [2]sys.fd_t = undefined;
    var tree_pair = [2]sys.fd_t{ -1, -1 };
    var start_pipe = [2]sys.fd_t{ -1, -1 };
    var listener_pair = [2]sys.fd_t{ -1, -1 };
    try sys.pipe(&release_pipe);
    try sys.pipe(&status_pipe);
    if (options.wait_start) try sys.pipe(&start_pipe);
    if (options.tree_socket) try sys.socketpair(&tree_pair);
    if (options.listener_socket) try sys.socketpair(&listener_pair);
    try sys.sigprocmask_set(monitor.signals);
    const child = try sys.clone_process(options.namespaces, options.cgroup_fd);
    if (child.pid == 0) {
        state.role = .container;
        sys.close(release_pipe[1]);
        sys.close(status_pipe[0]);
        if (options.tree_socket) sys.close(tree_pair[0]);
        if (options.wait_start) sys.close(start_pipe[1]);
        if (options.listener_socket) sys.close(listener_pair[0]);
        container.status_fd = status_pipe[1];
        container.tree_fd = tree_pair[1];
        container.listener_fd = listener_pair[1];
        container.start_fd = start_pipe[0];
        try wait_for_release(release_pipe[0], options.die_with_parent, options.failed_status);
        return true;
    }
    sys.close(release_pipe[0]);
    sys.close(status_pipe[1]);
    if (options.tree_socket) sys.close(tree_pair[1]);
    if (options.wait_start) sys.close(start_pipe[0]);
    if (options.listener_socket) sys.close(listener_pair[1]);
    state.role = .monitor;
    container.* = .{
        .pid = child.pid,
        .pidfd = child.pidfd,
        .release_fd = release_pipe[1],
        .status_fd = status_pipe[0],
        .tree_fd = tree_pair[0],
        .listener_fd = listener_pair[0],
        .into_cgroup = child.into_cgroup,
        .start_fd = start_pipe[1],
    };
    return false;
}

fn wait_for_release(release_fd: sys.fd_t, die_with_parent: bool, failed_status: u8) sys.Error!void {
    // Set before reading: if the launcher is already gone, the read below sees EOF.
    if (die_with_parent) _ = try sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0);
    var byte: [1]u8 = undefined;
    const n = try sys.read(release_fd, &byte);
    // EOF: the launcher failed a parent op or died; it reports, this process just goes.
    if (n == 0) sys.exit(failed_status);
    sys.close(release_fd);
}

/// Parent: lets the container process run its ops.
pub fn release(state: *State) void {
    assert(state.role == .monitor);
    const container = &state.container;
    assert(container.pid > 0);
    assert(container.release_fd >= 0);
    // If this fails the child reads EOF and exits with the plan's failed status; the
    // monitor reports that.
    _ = sys.write(container.release_fd, "r") catch {};
    sys.close(container.release_fd);
    container.release_fd = -1;
    if (container.tree_fd >= 0) sys.close(container.tree_fd); // Every tree was sent.
    container.tree_fd = -1;
}

/// Container process, at WAIT_START: sends READY, then waits for the monitor's byte.
pub fn wait_for_start(state: *State, failed_status: u8) void {
    assert(state.role == .container);
    const container = &state.container;
    assert(container.pid == 0);
    assert(container.start_fd >= 0); // CLONE made the pipe: the plan has WAIT_START.
    state.events.ready();
    var byte: [1]u8 = undefined;
    const n = sys.read(container.start_fd, &byte) catch 0;
    if (n == 0) {
        // The monitor cancelled the start (and kills this process) or is gone.
        report_status(state, failed_status);
        sys.exit(failed_status);
    }
    sys.close(container.start_fd);
    container.start_fd = -1;
}

/// Whether the container process waits for START (WAIT_START, not started, not cancelled).
pub fn waiting(state: *const State) bool {
    const container = &state.container;
    return container.pid > 0 and container.start_fd >= 0;
}

/// Monitor: lets the container process go on from WAIT_START to EXEC.
pub fn start(state: *State) void {
    assert(waiting(state));
    const container = &state.container;
    // If the container process is gone already (EPIPE), its SIGCHLD is on its way.
    _ = sys.write(container.start_fd, "s") catch {};
    sys.close(container.start_fd);
    container.start_fd = -1;
}

/// Monitor: the container will never start: it is killed (the monitor reaps it).
pub fn cancel(state: *State) void {
    assert(waiting(state));
    const container = &state.container;
    sys.kill(container.pid, container.pidfd, sys.SIGKILL) catch {};
    sys.close(container.start_fd);
    container.start_fd = -1;
}

/// Parent op: writes `text` to /proc/PID/<name> in one write, as the kernel requires.
pub fn write_proc(state: *const State, name: []const u8, text: []const u8) sys.Error!void {
    assert(state.role == .monitor);
    const container = &state.container;
    assert(container.pid > 0);
    var buffer: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buffer, "/proc/{d}/{s}", .{ container.pid, name }) catch unreachable;
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.NOFOLLOW, 0);
    defer sys.close(fd);
    try sys.write_once(fd, text);
}

/// Parent, after a failed parent op: leave no container process behind.
pub fn kill_and_reap(state: *const State) void {
    assert(state.role == .monitor);
    const container = &state.container;
    assert(container.pid > 0);
    sys.kill(container.pid, container.pidfd, sys.SIGKILL) catch {};
    var status: u32 = 0;
    _ = sys.wait4(container.pid, &status, 0) catch {};
}

/// Container process, after a failed op: tells the monitor the exit status is the
/// launcher's (EXIT kind 2), not the container's.
pub fn report_status(state: *const State, status: u8) void {
    assert(state.role == .container);
    const container = &state.container;
    if (container.status_fd < 0) return; // Failed before CLONE finished.
    _ = sys.write(container.status_fd, &[1]u8{status}) catch {};
}
