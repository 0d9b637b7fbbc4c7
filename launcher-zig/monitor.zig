//! The monitor: after the parent ops the launcher stays in the host's namespaces, forwards
//! signals to the container process, reaps it, sends EXIT and exits with its status.
//! Signals arrive through a signalfd (they were blocked before CLONE), so there are no
//! handlers and no races with the wait.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const events = @import("events.zig");
const ns = @import("ns.zig");
const cgroup = @import("cgroup.zig");
const ending = @import("status.zig");

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

pub fn run() noreturn {
    assert(ns.role() == .parent);
    const status = wait_for_exit();
    finish(status);
}

fn wait_for_exit() u32 {
    const container = ns.container;
    const fd = sys.signalfd(signals) catch return wait_blocking(); // Still reap, just don't forward.
    while (true) {
        var info: SignalInfo = undefined;
        const n = sys.read(fd, std.mem.asBytes(&info)) catch return wait_blocking();
        assert(n == @sizeOf(SignalInfo));
        if (info.signo == SIGCHLD) {
            var status: u32 = 0;
            const pid = sys.wait4(container.pid, &status, sys.WNOHANG) catch return wait_blocking();
            if (pid == container.pid) return status;
            continue;
        }
        // The container process may be gone already (ESRCH): its SIGCHLD is on its way.
        sys.kill(container.pid, container.pidfd, info.signo) catch {};
    }
}

fn wait_blocking() u32 {
    var status: u32 = 0;
    _ = sys.wait4(ns.container.pid, &status, 0) catch unreachable; // Our own child.
    return status;
}

/// The reports, then the launcher's end (status.zig): EXIT kind 2 if the container process
/// failed an op (it left its status byte in the status pipe), else the container's exit
/// or signal.
fn finish(wait_status: u32) noreturn {
    cgroup.send_reports();
    var byte: [1]u8 = undefined;
    const failed = sys.read(ns.container.status_fd, &byte) catch 0;
    if (failed == 1) ending.end(.launcher_failed, byte[0], byte[0]);
    const signal = wait_status & 0x7f;
    if (signal == 0) {
        const code: u8 = @intCast((wait_status >> 8) & 0xff);
        ending.end(.exited, code, code);
    }
    ending.end(.signaled, signal, @intCast(128 + signal));
}
