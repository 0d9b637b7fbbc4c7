//! The monitor: after the parent ops the launcher stays in the host's namespaces, forwards
//! signals to the container process, reaps it, sends EXIT and exits with its status.
//! Signals arrive through a signalfd (they were blocked before CLONE), so there are no
//! handlers and no races with the wait. One poll covers the signalfd, the status pipe
//! (STARTED when EXEC succeeded) and the control fd (START and SIGNAL: protocol.md
//! "Starting a created container"; a server's child always has one).

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const events = @import("events.zig");
const ns = @import("ns.zig");
const cgroup = @import("cgroup.zig");
const ending = @import("status.zig");
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");
const control = @import("control.zig");
const logger = @import("logger.zig");
const attach = @import("attach.zig");
const fifo = @import("fifo.zig");
const listener = @import("listener.zig");
const Launcher = @import("state.zig").State;

const forwarded = [_]u6{ sys.SIGHUP, sys.SIGINT, sys.SIGQUIT, sys.SIGUSR1, sys.SIGUSR2, sys.SIGTERM, sys.SIGWINCH };

/// Everything the monitor reads from its signalfd.
pub const signals: sys.SignalSet = blk: {
    var set: sys.SignalSet = sys.signal_bit(sys.SIGCHLD);
    for (forwarded) |signal| set |= sys.signal_bit(signal);
    break :blk set;
};

/// The container's stdio the monitor polls besides its own fds: the log's two pipes, the
/// attach socket and its clients.
const poll_fds_stdio = 2 + attach.poll_fds_max;

/// struct signalfd_siginfo: 128 bytes, signal number first.
const SignalInfo = extern struct { signo: u32, rest: [124]u8 };
comptime {
    assert(@sizeOf(SignalInfo) == 128);
}

/// What the monitor holds and learns while it waits (a part of state.zig's State).
pub const State = struct {
    /// Where START and SIGNAL frames come from (protocol.md "Starting a created
    /// container"): a one-shot launcher's plan fd when the plan has WAIT_START; a server's
    /// child's control pipe always. Null: none.
    control_fd: ?sys.fd_t,
    /// Reads `control_fd`. A one-shot launcher reads its plan through it too, so that bytes
    /// that came after END (START, SIGNAL) are held here and read first. main sets the fd.
    control_reader: decode.Buffered(PlanFdReader),
    /// The container process's status pipe: a byte (it failed an op; the launcher's
    /// status), or EOF (EXEC succeeded: STARTED), once seen.
    status_seen: bool,
    status_byte: ?u8,
    /// The monitor killed the container before START: its EOF is no STARTED.
    cancelled: bool,
    /// A malformed control frame: the launcher ends with EXIT kind 2 (the plan's failed
    /// status).
    control_failed: bool,
    /// A server's child with die_with_parent: EOF on its control pipe after START means the
    /// server died (it keeps the pipe of a started container open to its end), so the
    /// container is killed, and the monitor ends as usual (cleanup, status file) instead of
    /// dying with it.
    control_eof_kills: bool,

    /// Every field but the reader's 64 KiB buffer (written before it is read).
    pub fn init(monitor: *State) void {
        monitor.control_fd = null;
        monitor.control_reader.inner = .{ .fd = 0 };
        monitor.control_reader.start = 0;
        monitor.control_reader.end = 0;
        monitor.status_seen = false;
        monitor.status_byte = null;
        monitor.cancelled = false;
        monitor.control_failed = false;
        monitor.control_eof_kills = false;
    }
};

/// `failed_status`: the plan's status for a launcher failure.
pub fn run(state: *Launcher, failed_status: u8) noreturn {
    assert(state.role == .monitor);
    const status = wait_for_exit(state);
    finish(state, status, failed_status);
}

/// An EXEC_FIFO plan (fifo.zig): the container process either waits at FIFO_WAIT (its
/// status byte is 0: READY, EXIT kind detached, and this process leaves it to the caller's
/// subreaper, its cgroups with it), or failed an op (a status byte), or was killed (EOF):
/// then it is reaped and the launcher ends as for any container.
pub fn run_detached(state: *Launcher, failed_status: u8) noreturn {
    assert(state.role == .monitor);
    const m = &state.monitor;
    // HOOK_SYNC: START (or EOF, which cancels) comes on the control fd before FIFO_WAIT;
    // SECCOMP_LISTENER's number comes before it too.
    while (m.control_fd != null or state.container.listener_fd >= 0) {
        if (m.control_fd != null and m.control_reader.pending() > 0) {
            read_control(state);
            continue;
        }
        var fds: [3]sys.PollFd = undefined;
        fds[0] = .{ .fd = state.container.status_fd, .events = sys.POLLIN, .revents = 0 };
        var count: usize = 1;
        const listener_at = count;
        if (state.container.listener_fd >= 0) {
            fds[count] = .{ .fd = state.container.listener_fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        const control_at = count;
        if (m.control_fd) |fd| {
            fds[count] = .{ .fd = fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        _ = sys.poll(fds[0..count]) catch break;
        if (listener_at < control_at and fds[listener_at].revents != 0) serve_listener(state);
        if (control_at < count and fds[control_at].revents != 0) read_control(state);
        if (fds[0].revents != 0) break;
    }
    var byte: [1]u8 = undefined;
    const n = sys.read(state.container.status_fd, &byte) catch 0;
    m.status_seen = true;
    if (n == 1 and byte[0] == fifo.waiting_byte) {
        state.events.ready();
        state.cgroup.owned_count = 0; // The container's now: `delete` removes them.
        state.events.exit(.detached, 0);
        sys.exit(0);
    }
    if (n == 1) m.status_byte = byte[0];
    var status: u32 = 0;
    _ = sys.wait4(state.container.pid, &status, 0) catch unreachable; // Our own child.
    finish(state, status, failed_status);
}

fn wait_for_exit(state: *Launcher) u32 {
    const container = state.container;
    const m = &state.monitor;
    const fd = sys.signalfd(signals) catch return wait_blocking(state); // Still reap, just don't forward.
    while (true) {
        // Frames already read (with the plan, or with an earlier frame): poll won't see them.
        if (m.control_fd != null and m.control_reader.pending() > 0) {
            read_control(state);
            continue;
        }
        var fds: [4 + poll_fds_stdio]sys.PollFd = undefined;
        fds[0] = .{ .fd = fd, .events = sys.POLLIN, .revents = 0 };
        var count: usize = 1;
        const status_at = count;
        if (!m.status_seen) {
            fds[count] = .{ .fd = container.status_fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        const control_at = count;
        if (m.control_fd) |fd_of_control| {
            fds[count] = .{ .fd = fd_of_control, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        const listener_at = count;
        if (state.container.listener_fd >= 0) { // Not `container`: a copy, and serving closes it.
            fds[count] = .{ .fd = state.container.listener_fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        const stdio_at = count;
        count += logger.poll_fds(&state.logger, fds[count..]);
        const attach_at = count;
        count += attach.poll_fds(&state.attach, fds[count..]);
        _ = sys.poll(fds[0..count]) catch return wait_blocking(state);
        // New clients first, so they get this round's output; output before the exit: what
        // the container wrote last is in the log first.
        attach.on_ready(&state.attach, fds[attach_at..count]);
        logger.on_ready(&state.logger, &state.attach, fds[stdio_at..attach_at]);
        // The status pipe first: STARTED goes out before a quick container's EXIT.
        if (!m.status_seen and fds[status_at].revents != 0) read_status(state);
        if (m.control_fd != null and fds[control_at].revents != 0) read_control(state);
        if (listener_at < stdio_at and fds[listener_at].revents != 0) serve_listener(state);
        if (fds[0].revents == 0) continue;
        var info: SignalInfo = undefined;
        const n = sys.read(fd, std.mem.asBytes(&info)) catch return wait_blocking(state);
        assert(n == @sizeOf(SignalInfo));
        if (info.signo == sys.SIGCHLD) {
            var status: u32 = 0;
            const pid = sys.wait4(container.pid, &status, sys.WNOHANG) catch return wait_blocking(state);
            if (pid == container.pid) return status;
            continue;
        }
        // Before START a signal means: this container will not run.
        if (ns.waiting(state)) {
            cancel(state);
            continue;
        }
        // The container process may be gone already (ESRCH): its SIGCHLD is on its way.
        sys.kill(container.pid, container.pidfd, info.signo) catch {};
    }
}

/// SECCOMP_LISTENER: the container process wrote its listener's number (or ended).
fn serve_listener(state: *Launcher) void {
    listener.serve(&state.listener, &state.container.listener_fd, state.container.pid, state.container.pidfd);
}

fn cancel(state: *Launcher) void {
    const m = &state.monitor;
    m.cancelled = true;
    ns.cancel(state);
}

/// One byte (the container process failed an op) or EOF (it reached execve and the
/// kernel closed the close-on-exec pipe: STARTED). Also called after the reap, when the
/// write end is closed for sure, so it never blocks.
fn read_status(state: *Launcher) void {
    const m = &state.monitor;
    assert(!m.status_seen);
    m.status_seen = true;
    var byte: [1]u8 = undefined;
    const n = sys.read(state.container.status_fd, &byte) catch 0;
    if (n == 1) {
        m.status_byte = byte[0];
        return;
    }
    // EOF while still waiting for START: killed from outside before EXEC.
    if (!m.cancelled and !ns.waiting(state)) state.events.started(sys.monotonic_ns());
}

pub const PlanFdReader = struct {
    fd: sys.fd_t,

    pub fn read(reader: *PlanFdReader, buffer: []u8) decode.ReadResult {
        const n = sys.read(reader.fd, buffer) catch |err| return .{ .errno = sys.errno_of(err) };
        return .{ .bytes = n };
    }
};

/// START, SIGNAL, EOF or a malformed frame on the control fd.
fn read_control(state: *Launcher) void {
    const m = &state.monitor;
    assert(m.control_reader.inner.fd == m.control_fd.?);
    switch (control.read_control(&m.control_reader)) {
        .start => if (ns.waiting(state)) ns.start(state) else if (!m.cancelled) {
            // Not waiting: no WAIT_START, or a second START. (After a cancel it is late.)
            stop_control(state, .{ .code = @intFromEnum(protocol.ControlType.start), .errno = sys.EINVAL, .reason = "START when the container does not wait for it" });
        },
        .signal => |signo| if (ns.waiting(state)) cancel(state) else {
            sys.kill(state.container.pid, state.container.pidfd, @intCast(signo)) catch {};
        },
        .eof => {
            // The orchestrator is gone (or cancels): a container not started never will.
            close_control(state);
            if (ns.waiting(state)) {
                cancel(state);
            } else if (m.control_eof_kills) {
                sys.kill(state.container.pid, state.container.pidfd, sys.SIGKILL) catch {};
            }
        },
        .broken => |b| stop_control(state, b),
    }
}

fn stop_control(state: *Launcher, why: control.Broken) void {
    const m = &state.monitor;
    state.events.failure(protocol.index_hello, why.code, why.errno, why.reason);
    close_control(state);
    if (ns.waiting(state)) {
        m.control_failed = true;
        cancel(state);
    }
}

fn close_control(state: *Launcher) void {
    const m = &state.monitor;
    sys.close(m.control_fd.?);
    m.control_fd = null;
    m.control_reader.discard();
}

fn wait_blocking(state: *Launcher) u32 {
    if (ns.waiting(state)) cancel(state); // Nothing could start it now.
    var status: u32 = 0;
    _ = sys.wait4(state.container.pid, &status, 0) catch unreachable; // Our own child.
    return status;
}

/// The reports, then the launcher's end (status.zig): EXIT kind 2 if the container process
/// failed an op (it left its status byte in the status pipe) or the control fd was
/// malformed before START, else the container's exit or signal.
fn finish(state: *Launcher, wait_status: u32, failed_status: u8) noreturn {
    const m = &state.monitor;
    if (!m.status_seen) read_status(state);
    logger.drain(&state.logger, &state.attach);
    _ = cgroup.send_reports(&state.cgroup, &state.events);
    if (m.status_byte) |byte| ending.end(state, .launcher_failed, byte, byte);
    if (m.control_failed) ending.end(state, .launcher_failed, failed_status, failed_status);
    const signal = wait_status & 0x7f;
    if (signal == 0) {
        const code: u8 = @intCast((wait_status >> 8) & 0xff);
        ending.end(state, .exited, code, code);
    }
    ending.end(state, .signaled, signal, @intCast(128 + signal));
}
