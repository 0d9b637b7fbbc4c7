//! CONSOLE (protocol.md "The console socket"): runc's `--console-socket`. Before CLONE the
//! launcher makes a pty in the host's devpts, sends its master over the AF_UNIX socket at
//! the path (SCM_RIGHTS, as runc does: the engine, conmon or the shim, holds the terminal)
//! and keeps the slave for the container process, which makes it its stdin, stdout, stderr
//! and controlling terminal in a session of its own right after CLONE.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const State = @import("state.zig").State;

/// Launcher, before CLONE.
pub fn open(state: *State, path: []const u8) sys.Error!void {
    assert(state.before_clone());
    assert(state.console_fd < 0); // The decoder allows one CONSOLE.
    const master = try sys.openat(sys.AT_FDCWD, "/dev/ptmx", sys.O.RDWR | sys.O.NOCTTY, 0);
    defer sys.close(master);
    var unlock: u32 = 0;
    _ = try sys.ioctl(master, sys.TIOCSPTLCK, @intFromPtr(&unlock));
    const slave: sys.fd_t = @intCast(try sys.ioctl(master, sys.TIOCGPTPEER, sys.O.RDWR | sys.O.NOCTTY | sys.O.CLOEXEC));
    errdefer sys.close(slave);
    const socket = try sys.connect_unix(path);
    defer sys.close(socket);
    try sys.send_fd(socket, master, 'p');
    state.console_fd = slave;
}

/// Container process, right after CLONE: the slave becomes fds 0, 1, 2 and the controlling
/// terminal of a new session. The monitor just closes its copy.
pub fn in_container(state: *State) sys.Error!void {
    const slave = state.console_fd;
    if (slave < 0) return;
    try sys.setsid();
    _ = try sys.ioctl(slave, sys.TIOCSCTTY, 0);
    for (0..3) |fd| try sys.dup_to(slave, @intCast(fd));
    if (slave > 2) sys.close(slave);
    state.console_fd = -1;
}

pub fn in_monitor(state: *State) void {
    if (state.console_fd >= 0) sys.close(state.console_fd);
    state.console_fd = -1;
}
