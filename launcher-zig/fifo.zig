//! runc's process model (protocol.md "Left waiting on a FIFO"): the launcher makes a FIFO
//! (EXEC_FIFO) and holds it open read-write; the container process inherits it, runs every
//! op up to FIFO_WAIT, says so through its status pipe (a 0 byte, which no failure status
//! is) and blocks reading one byte from the FIFO. The monitor then sends READY and EXIT
//! kind `detached` and exits without reaping, so the container is reparented to the
//! engine's subreaper (conmon, containerd's shim). Whoever later writes a byte into the
//! FIFO (`husk-runc start`) lets it go on to EXEC. The container holds the FIFO's only
//! reader: a `start` of a container that died opens it with ENXIO instead of hanging.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const protocol = @import("protocol.zig");
const State = @import("state.zig").State;

/// The status byte that means "waiting at FIFO_WAIT" (failure statuses are 1 to 255).
pub const waiting_byte: u8 = 0;

/// Launcher, before CLONE: a new FIFO at `path` (it must not exist), opened read-write and
/// close-on-exec, so that neither open blocks and the container never sees EOF on it.
pub fn open(state: *State, path: [:0]const u8) sys.Error!void {
    assert(state.before_clone());
    assert(state.fifo_fd < 0); // The decoder allows one EXEC_FIFO.
    try sys.mknodat(sys.AT_FDCWD, path, @intCast(protocol.S_IFIFO | 0o600), 0);
    state.fifo_fd = try sys.openat(sys.AT_FDCWD, path, sys.O.RDWR | sys.O.CLOEXEC | sys.O.NOFOLLOW, 0);
}

/// Container process, at FIFO_WAIT: tells the monitor it waits, lets go of what ties it to
/// the launcher's caller (the event fd), then blocks until a byte arrives.
pub fn wait(state: *State) sys.Error!void {
    assert(state.role == .container);
    const container = &state.container;
    assert(state.fifo_fd >= 0);
    assert(container.status_fd >= 0);
    _ = sys.write(container.status_fd, &[1]u8{waiting_byte}) catch {};
    sys.close(container.status_fd);
    container.status_fd = -1;
    // The orchestrator waits for its event pipe's EOF; this process must not hold it open.
    if (state.events.fd) |fd| sys.close(fd);
    state.events.fd = null;
    var byte: [1]u8 = undefined;
    // This process holds a writer itself, so a read returns a byte, never EOF.
    const n = try sys.read(state.fifo_fd, &byte);
    if (n != 1) return error.PIPE;
    sys.close(state.fifo_fd);
    state.fifo_fd = -1;
}
