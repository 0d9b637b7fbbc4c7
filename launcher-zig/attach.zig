//! ATTACH (protocol.md "The attach socket"): the monitor listens on a Unix socket in the
//! container's state directory; `husk attach` (and `husk run -it`) connect to it. Whatever the
//! container writes goes to every client as OUTPUT frames (as well as to the log); INPUT
//! frames from a client go to the container's stdin (its pty, or with ATTACH's stdin flag and
//! no pty a pipe kept open for it); RESIZE sets the pty's window size. The monitor never waits
//! on a client: one that cannot take a frame whole is dropped, and input the container does
//! not read yet is held (one buffer) while no more is read from the clients.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const protocol = @import("protocol.zig");

pub const flag_stdin: u64 = 1 << 0;
/// The monitor releases the container only once a client is attached (or after
/// `first_client_wait_ms`): `husk run -it` sees the container's first output.
pub const flag_wait_client: u64 = 1 << 1;
pub const flags_known: u64 = flag_stdin | flag_wait_client;
pub const clients_max = 4;
pub const input_bytes_max = 4096;
pub const output_bytes_max = 8192;
const first_client_wait_ms = 10_000;

pub const Frame = enum(u16) {
    input = 0x0058,
    resize = 0x0059,
    input_end = 0x005a,
    stdout = 0x8020,
    stderr = 0x8021,
};

const Client = struct {
    fd: sys.fd_t,
    len: usize,
    buffer: [protocol.header_size + input_bytes_max]u8,
};

/// A part of state.zig's State.
pub const State = struct {
    listen_fd: sys.fd_t,
    flags: u64,
    /// No pty, stdin kept open: [read end (the container's fd 0), write end (the monitor's)].
    stdin_pipe: [2]sys.fd_t,
    /// Where INPUT goes: the pty master or the stdin pipe's write end; -1 when none (any more).
    input_fd: sys.fd_t,
    /// The pty master, for RESIZE; -1 without a pty.
    tty_fd: sys.fd_t,
    clients: [clients_max]Client,
    /// Input the container has not taken yet.
    pending: [input_bytes_max]u8,
    pending_len: usize,

    pub fn init(at: *State) void {
        at.listen_fd = -1;
        at.flags = 0;
        at.stdin_pipe = .{ -1, -1 };
        at.input_fd = -1;
        at.tty_fd = -1;
        for (&at.clients) |*client| client.fd = -1;
        at.pending_len = 0;
    }

    pub fn active(at: *const State) bool {
        return at.listen_fd >= 0;
    }
};

/// ATTACH, before CLONE: the socket at `path` (an old one there is replaced: a restarted
/// container's), and the stdin pipe when asked for and there is no pty.
pub fn open(at: *State, path: [:0]const u8, flags: u64, tty: bool) sys.Error!void {
    assert(!at.active());
    assert(path.len > 1 and path[0] == '/'); // The decoder requires it.
    const slash = std.mem.lastIndexOfScalar(u8, path, '/').?;
    var dir_buffer: [protocol.path_bytes_max + 1]u8 = undefined;
    const dir = std.fmt.bufPrintZ(&dir_buffer, "{s}", .{if (slash == 0) "/" else path[0..slash]}) catch unreachable;
    const dir_fd = try sys.openat(sys.AT_FDCWD, dir, sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(dir_fd);
    const name = path[slash + 1 ..];
    sys.unlinkat(dir_fd, name) catch |err| if (err != error.NOENT) return err;
    // Through the directory's fd: a state directory's path may be longer than sun_path.
    var short: [128]u8 = undefined;
    const through = std.fmt.bufPrint(&short, "/proc/self/fd/{d}/{s}", .{ dir_fd, name }) catch return error.NAMETOOLONG;
    at.listen_fd = try sys.listen_unix(through, clients_max);
    at.flags = flags;
    if (flags & flag_stdin != 0 and !tty) try sys.pipe(&at.stdin_pipe);
}

/// Container process, right after CLONE: the stdin pipe's read end becomes its fd 0.
pub fn in_container(at: *State) sys.Error!void {
    if (!at.active()) return;
    sys.close(at.listen_fd);
    at.listen_fd = -1;
    if (at.stdin_pipe[0] < 0) return;
    try sys.dup_to(at.stdin_pipe[0], 0);
    if (at.stdin_pipe[0] != 0) sys.close(at.stdin_pipe[0]);
    sys.close(at.stdin_pipe[1]);
    at.stdin_pipe = .{ -1, -1 };
}

/// Monitor, right after CLONE. `tty_fd`: the pty master, or -1.
pub fn in_monitor(at: *State, tty_fd: sys.fd_t) sys.Error!void {
    if (!at.active()) return;
    at.tty_fd = tty_fd;
    if (at.stdin_pipe[0] >= 0) {
        sys.close(at.stdin_pipe[0]);
        try sys.set_nonblocking(at.stdin_pipe[1]);
        at.input_fd = at.stdin_pipe[1];
    } else if (tty_fd >= 0 and at.flags & flag_stdin != 0) {
        at.input_fd = tty_fd; // Non-blocking already (logger.zig).
    }
}

/// Monitor, once the container process sent the pty it made in its own devpts (PTY): input
/// and RESIZE go to that master.
pub fn in_monitor_tty(at: *State, tty_fd: sys.fd_t) void {
    assert(tty_fd >= 0);
    if (!at.active()) return;
    at.tty_fd = tty_fd;
    if (at.flags & flag_stdin != 0) at.input_fd = tty_fd;
}

/// Monitor, before it releases the container: with flag_wait_client, the first client.
pub fn wait_first_client(at: *State) void {
    if (!at.active() or at.flags & flag_wait_client == 0) return;
    var fds = [1]sys.PollFd{.{ .fd = at.listen_fd, .events = sys.POLLIN, .revents = 0 }};
    const ready = sys.poll_timeout(&fds, first_client_wait_ms) catch 0;
    if (ready > 0) accept_clients(at);
}

/// The stdin pipe or the pty is gone (the container ended): no more input.
pub fn input_gone(at: *State, fd: sys.fd_t) void {
    if (at.input_fd == fd) at.input_fd = -1;
    if (at.tty_fd == fd) at.tty_fd = -1;
}

/// Adds the socket, the clients (unless input is pending) and, with input pending, the
/// input fd; returns how many.
pub fn poll_fds(at: *const State, fds: []sys.PollFd) usize {
    if (!at.active()) return 0;
    var count: usize = 0;
    fds[count] = .{ .fd = at.listen_fd, .events = sys.POLLIN, .revents = 0 };
    count += 1;
    if (at.pending_len > 0 and at.input_fd >= 0) {
        fds[count] = .{ .fd = at.input_fd, .events = sys.POLLOUT, .revents = 0 };
        return count + 1;
    }
    for (at.clients) |client| {
        if (client.fd < 0) continue;
        fds[count] = .{ .fd = client.fd, .events = sys.POLLIN, .revents = 0 };
        count += 1;
    }
    return count;
}

pub const poll_fds_max = 1 + clients_max;

pub fn on_ready(at: *State, fds: []const sys.PollFd) void {
    for (fds) |polled| {
        if (polled.revents == 0) continue;
        if (polled.fd == at.listen_fd) {
            accept_clients(at);
        } else if (polled.fd == at.input_fd and at.pending_len > 0) {
            flush_input(at);
        } else {
            for (&at.clients) |*client| {
                if (client.fd == polled.fd) read_client(at, client);
            }
        }
    }
}

fn accept_clients(at: *State) void {
    while (true) {
        const fd = sys.accept(at.listen_fd) catch return; // EAGAIN: no one else waits.
        const slot = for (&at.clients) |*client| {
            if (client.fd < 0) break client;
        } else {
            sys.close(fd); // Full: this one is turned away.
            continue;
        };
        slot.fd = fd;
        slot.len = 0;
    }
}

/// Output to every client, as one frame each; a client that cannot take it whole is dropped.
pub fn broadcast(at: *State, stdout: bool, bytes: []const u8) void {
    if (!at.active()) return;
    assert(bytes.len > 0 and bytes.len <= output_bytes_max);
    var out: [protocol.header_size + output_bytes_max]u8 = undefined;
    std.mem.writeInt(u32, out[0..4], @intCast(bytes.len), .little);
    std.mem.writeInt(u16, out[4..6], @intFromEnum(if (stdout) Frame.stdout else Frame.stderr), .little);
    std.mem.writeInt(u16, out[6..8], 0, .little);
    @memcpy(out[8..][0..bytes.len], bytes);
    const whole = out[0 .. 8 + bytes.len];
    for (&at.clients) |*client| {
        if (client.fd < 0) continue;
        const n = sys.write(client.fd, whole) catch 0;
        if (n != whole.len) drop(client);
    }
}

fn drop(client: *Client) void {
    assert(client.fd >= 0);
    sys.close(client.fd);
    client.fd = -1;
    client.len = 0;
}

/// One read from a client, then every whole frame it holds.
fn read_client(at: *State, client: *Client) void {
    const n = sys.read(client.fd, client.buffer[client.len..]) catch |err| {
        if (err != error.AGAIN) drop(client);
        return;
    };
    if (n == 0) return drop(client); // Detached, or gone.
    client.len += n;
    while (client.fd >= 0 and at.pending_len == 0) {
        if (client.len < protocol.header_size) return;
        const length = std.mem.readInt(u32, client.buffer[0..4], .little);
        const kind = std.mem.readInt(u16, client.buffer[4..6], .little);
        const flags = std.mem.readInt(u16, client.buffer[6..8], .little);
        if (flags != 0 or length > input_bytes_max) return drop(client); // Malformed.
        const end = protocol.header_size + length;
        if (client.len < end) return;
        if (!frame(at, kind, client.buffer[protocol.header_size..end])) return drop(client);
        std.mem.copyForwards(u8, client.buffer[0 .. client.len - end], client.buffer[end..client.len]);
        client.len -= end;
    }
}

/// One client frame; false if it is malformed.
fn frame(at: *State, kind: u16, payload: []const u8) bool {
    switch (kind) {
        @intFromEnum(Frame.input) => input(at, payload),
        @intFromEnum(Frame.resize) => {
            if (payload.len != 16) return false;
            const rows = std.mem.readInt(u64, payload[0..8], .little);
            const cols = std.mem.readInt(u64, payload[8..16], .little);
            if (rows == 0 or cols == 0 or rows > 0xffff or cols > 0xffff) return false;
            if (at.tty_fd >= 0) resize(at.tty_fd, @intCast(rows), @intCast(cols)) catch {};
        },
        @intFromEnum(Frame.input_end) => {
            if (payload.len != 0) return false;
            // A pipe is closed (the container reads EOF); a pty stays (as docker's).
            if (at.input_fd >= 0 and at.input_fd == at.stdin_pipe[1]) {
                sys.close(at.input_fd);
                at.stdin_pipe[1] = -1;
                at.input_fd = -1;
                at.pending_len = 0;
            }
        },
        else => return false,
    }
    return true;
}

pub fn resize(tty_fd: sys.fd_t, rows: u16, cols: u16) sys.Error!void {
    const size = sys.WinSize{ .rows = rows, .cols = cols };
    _ = try sys.ioctl(tty_fd, sys.TIOCSWINSZ, @intFromPtr(&size));
}

fn input(at: *State, bytes: []const u8) void {
    assert(at.pending_len == 0);
    if (at.input_fd < 0 or bytes.len == 0) return; // No stdin: docker drops it too.
    const n = sys.write(at.input_fd, bytes) catch |err| if (err == error.AGAIN) 0 else bytes.len;
    if (n == bytes.len) return;
    @memcpy(at.pending[0 .. bytes.len - n], bytes[n..]);
    at.pending_len = bytes.len - n;
}

fn flush_input(at: *State) void {
    assert(at.pending_len > 0 and at.input_fd >= 0);
    const n = sys.write(at.input_fd, at.pending[0..at.pending_len]) catch |err| if (err == error.AGAIN) 0 else at.pending_len;
    std.mem.copyForwards(u8, at.pending[0 .. at.pending_len - n], at.pending[n..at.pending_len]);
    at.pending_len -= n;
}

test "client frames: input, resize bounds, unknown kinds" {
    var at: State = undefined;
    at.init();
    try std.testing.expect(frame(&at, @intFromEnum(Frame.input), "dropped: no stdin"));
    var size: [16]u8 = undefined;
    std.mem.writeInt(u64, size[0..8], 24, .little);
    std.mem.writeInt(u64, size[8..16], 80, .little);
    try std.testing.expect(frame(&at, @intFromEnum(Frame.resize), &size));
    std.mem.writeInt(u64, size[0..8], 0, .little);
    try std.testing.expect(!frame(&at, @intFromEnum(Frame.resize), &size));
    try std.testing.expect(!frame(&at, @intFromEnum(Frame.resize), size[0..8]));
    try std.testing.expect(!frame(&at, @intFromEnum(Frame.stdout), ""));
    try std.testing.expect(!frame(&at, @intFromEnum(Frame.input_end), "x"));
}
