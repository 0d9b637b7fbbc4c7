//! `husk-launcher --hold`: husk's tiny init for a pinned pid namespace (`husk ns create
//! --pid`, protocol.md "Pinned namespaces"). A pid namespace can take new processes only while
//! its init lives, so this one stays: it reaps every child (processes entered later are
//! reparented to it) and exits on SIGTERM, SIGINT or SIGHUP. Not pid 1 of its namespace (the
//! plan made none), it has nothing to hold and exits at once.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

const stopping = [_]u6{ sys.SIGTERM, sys.SIGINT, sys.SIGHUP };

pub fn hold() noreturn {
    if (sys.getpid() != 1) sys.exit(0);
    var set: sys.SignalSet = sys.signal_bit(sys.SIGCHLD);
    for (stopping) |signal| set |= sys.signal_bit(signal);
    // Blocked and read from a signalfd: pid 1 gets only the signals it handles, and a
    // blocked one counts as handled, so SIGTERM from `husk ns rm` reaches it.
    sys.sigprocmask_set(set) catch sys.exit(125);
    const fd = sys.signalfd(set) catch sys.exit(125);
    while (true) {
        var info: [128]u8 = undefined;
        const n = sys.read(fd, &info) catch continue;
        assert(n == info.len);
        const signo = std.mem.readInt(u32, info[0..4], .little);
        if (signo != sys.SIGCHLD) sys.exit(0);
        reap();
    }
}

/// Every child that has ended (several SIGCHLD may arrive as one).
fn reap() void {
    var status: u32 = 0;
    for (0..4096) |_| {
        const pid = sys.wait4(-1, &status, sys.WNOHANG) catch return;
        if (pid <= 0) return;
    }
}
