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

const EINVAL: u16 = 22;

const SIGHUP = 1;
const SIGINT = 2;
const SIGQUIT = 3;
const SIGUSR1 = 10;
const SIGUSR2 = 12;
const SIGTERM = 15;
const SIGCHLD = 17;
const SIGWINCH = 28;

const forwarded = [_]u6{ SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH };

/// Everything the monitor reads from its signalfd.
pub const signals: sys.SignalSet = blk: {
    var set: sys.SignalSet = sys.signal_bit(SIGCHLD);
    for (forwarded) |signal| set |= sys.signal_bit(signal);
    break :blk set;
};

/// struct signalfd_siginfo: 128 bytes, signal number first.
const SignalInfo = extern struct { signo: u32, rest: [124]u8 };
comptime {
    assert(@sizeOf(SignalInfo) == 128);
}

/// Where START and SIGNAL frames come from (protocol.md "Starting a created container"):
/// a one-shot launcher's plan fd when the plan has WAIT_START; a server's child's control
/// pipe always. Null: none.
pub var control_fd: ?sys.fd_t = null;
/// Reads `control_fd`. A one-shot launcher reads its plan through it too, so that bytes
/// that came after END (START, SIGNAL) are held here and read first. Its starting value is
/// all zero so that the 64 KiB buffer lives in .bss, not in the binary; main sets the fd.
pub var control_reader: decode.Buffered(PlanFdReader) = .{ .inner = .{ .fd = 0 } };

/// The container process's status pipe: a byte (it failed an op; the launcher's status),
/// or EOF (EXEC succeeded: STARTED), once seen.
var status_seen = false;
var status_byte: ?u8 = null;
/// The monitor killed the container before START: its EOF is no STARTED.
var cancelled = false;
/// A malformed control frame: the launcher ends with EXIT kind 2 (the plan's failed status).
var control_failed = false;
/// A server's child with die_with_parent: EOF on its control pipe after START means the
/// server died (it keeps the pipe of a started container open to its end), so the container
/// is killed, and the monitor ends as usual (cleanup, status file) instead of dying with it.
pub var control_eof_kills = false;

/// `failed_status`: the plan's status for a launcher failure.
pub fn run(failed_status: u8) noreturn {
    assert(ns.role() == .parent);
    const status = wait_for_exit();
    finish(status, failed_status);
}

fn wait_for_exit() u32 {
    const container = ns.container;
    const fd = sys.signalfd(signals) catch return wait_blocking(); // Still reap, just don't forward.
    while (true) {
        // Frames already read (with the plan, or with an earlier frame): poll won't see them.
        if (control_fd != null and control_reader.pending() > 0) {
            read_control();
            continue;
        }
        var fds: [3]sys.PollFd = undefined;
        fds[0] = .{ .fd = fd, .events = sys.POLLIN, .revents = 0 };
        var count: usize = 1;
        const status_at = count;
        if (!status_seen) {
            fds[count] = .{ .fd = container.status_fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        const control_at = count;
        if (control_fd) |fd_of_control| {
            fds[count] = .{ .fd = fd_of_control, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        _ = sys.poll(fds[0..count]) catch return wait_blocking();
        // The status pipe first: STARTED goes out before a quick container's EXIT.
        if (!status_seen and fds[status_at].revents != 0) read_status();
        if (control_fd != null and fds[control_at].revents != 0) read_control();
        if (fds[0].revents == 0) continue;
        var info: SignalInfo = undefined;
        const n = sys.read(fd, std.mem.asBytes(&info)) catch return wait_blocking();
        assert(n == @sizeOf(SignalInfo));
        if (info.signo == SIGCHLD) {
            var status: u32 = 0;
            const pid = sys.wait4(container.pid, &status, sys.WNOHANG) catch return wait_blocking();
            if (pid == container.pid) return status;
            continue;
        }
        // Before START a signal means: this container will not run.
        if (ns.waiting()) {
            cancel();
            continue;
        }
        // The container process may be gone already (ESRCH): its SIGCHLD is on its way.
        sys.kill(container.pid, container.pidfd, info.signo) catch {};
    }
}

fn cancel() void {
    cancelled = true;
    ns.cancel();
}

/// One byte (the container process failed an op) or EOF (it reached execve and the
/// kernel closed the close-on-exec pipe: STARTED). Also called after the reap, when the
/// write end is closed for sure, so it never blocks.
fn read_status() void {
    assert(!status_seen);
    status_seen = true;
    var byte: [1]u8 = undefined;
    const n = sys.read(ns.container.status_fd, &byte) catch 0;
    if (n == 1) {
        status_byte = byte[0];
        return;
    }
    // EOF while still waiting for START: killed from outside before EXEC.
    if (!cancelled and !ns.waiting()) events.started(sys.monotonic_ns());
}

pub const PlanFdReader = struct {
    fd: sys.fd_t,

    pub fn read(reader: *PlanFdReader, buffer: []u8) decode.ReadResult {
        const n = sys.read(reader.fd, buffer) catch |err| return .{ .errno = sys.errno_of(err) };
        return .{ .bytes = n };
    }
};

/// START, SIGNAL, EOF or a malformed frame on the control fd.
fn read_control() void {
    assert(control_reader.inner.fd == control_fd.?);
    switch (control.read_control(&control_reader)) {
        .start => if (ns.waiting()) ns.start() else if (!cancelled) {
            // Not waiting: no WAIT_START, or a second START. (After a cancel it is late.)
            stop_control(.{ .code = @intFromEnum(protocol.ControlType.start), .errno = EINVAL, .reason = "START when the container does not wait for it" });
        },
        .signal => |signo| if (ns.waiting()) cancel() else {
            sys.kill(ns.container.pid, ns.container.pidfd, @intCast(signo)) catch {};
        },
        .eof => {
            // The orchestrator is gone (or cancels): a container not started never will.
            close_control();
            if (ns.waiting()) {
                cancel();
            } else if (control_eof_kills) {
                sys.kill(ns.container.pid, ns.container.pidfd, 9) catch {};
            }
        },
        .broken => |b| stop_control(b),
    }
}

fn stop_control(why: control.Broken) void {
    events.failure(protocol.index_hello, why.code, why.errno, why.reason);
    close_control();
    if (ns.waiting()) {
        control_failed = true;
        cancel();
    }
}

fn close_control() void {
    sys.close(control_fd.?);
    control_fd = null;
    control_reader.discard();
}

fn wait_blocking() u32 {
    if (ns.waiting()) cancel(); // Nothing could start it now.
    var status: u32 = 0;
    _ = sys.wait4(ns.container.pid, &status, 0) catch unreachable; // Our own child.
    return status;
}

/// The reports, then the launcher's end (status.zig): EXIT kind 2 if the container process
/// failed an op (it left its status byte in the status pipe) or the control fd was
/// malformed before START, else the container's exit or signal.
fn finish(wait_status: u32, failed_status: u8) noreturn {
    if (!status_seen) read_status();
    cgroup.send_reports();
    if (status_byte) |byte| ending.end(.launcher_failed, byte, byte);
    if (control_failed) ending.end(.launcher_failed, failed_status, failed_status);
    const signal = wait_status & 0x7f;
    if (signal == 0) {
        const code: u8 = @intCast((wait_status >> 8) & 0xff);
        ending.end(.exited, code, code);
    }
    ending.end(.signaled, signal, @intCast(128 + signal));
}
