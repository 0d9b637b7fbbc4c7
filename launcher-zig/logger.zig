//! LOG (protocol.md "The container log"): the container's stdout and stderr are two pipes
//! whose read ends the monitor holds; whatever it reads goes to the log file as CRI lines,
//! `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`, one per line of output (F) or per
//! piece of a line not yet ended when it was read (P; the reader joins them with what
//! follows). Nothing is held back: a prompt with no newline is in the log as soon as it is
//! written, and the monitor's memory stays two fixed buffers whatever the container prints.
//! A write to the log that fails (disk full) is dropped: the container must never block on
//! its monitor.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const attach = @import("attach.zig");

pub const Stream = enum(u1) { stdout = 0, stderr = 1 };

/// What one read takes from a pipe; a line longer than this is logged in P pieces.
pub const read_bytes_max = 8 * 1024;
comptime {
    assert(read_bytes_max <= attach.output_bytes_max);
}
/// `2026-12-03T07:15:00.123456789Z stdout P ` is at most this long.
const header_bytes_max = 30 + 1 + 6 + 1 + 1 + 1;
/// One read's lines with their headers always fit: each line of n bytes costs at most
/// n + 1 + header_bytes_max, and a flush happens before one would not fit.
const out_bytes_max = 2 * read_bytes_max;
comptime {
    assert(header_bytes_max == 40);
    assert(read_bytes_max + 1 + header_bytes_max <= out_bytes_max);
}

/// A part of state.zig's State: the log file and the pipes, -1 when not in use.
pub const State = struct {
    log_fd: sys.fd_t,
    /// TTY: stream stdout is a pty (read end: its master, write end: its slave), stderr none.
    tty: bool,
    /// Per stream: [read end, write end]. The container process keeps only the write ends
    /// (as its fds 1 and 2), the monitor only the read ends.
    pipes: [2][2]sys.fd_t,
    /// PTY (the pty made in the container's devpts): the socketpair its master comes back
    /// on, [monitor's end, container's end]; the size TTY asked for. -1 when not in use.
    pty_socket: [2]sys.fd_t,
    rows: u16,
    cols: u16,
    in_buffer: [read_bytes_max]u8,
    out_buffer: [out_bytes_max]u8,
    out_len: usize,

    /// Every field but the buffers (written before they are read).
    pub fn init(log: *State) void {
        log.log_fd = -1;
        log.tty = false;
        log.pipes = .{ .{ -1, -1 }, .{ -1, -1 } };
        log.pty_socket = .{ -1, -1 };
        log.rows = 0;
        log.cols = 0;
        log.out_len = 0;
    }

    pub fn active(log: *const State) bool {
        return log.log_fd >= 0;
    }
};

/// LOG, before CLONE: opens the log (appended to: a restarted container adds to it) and
/// makes the pipes.
pub fn open(log: *State, path: [:0]const u8) sys.Error!void {
    assert(path.len > 0 and path[0] == '/'); // The decoder requires it.
    assert(!log.active()); // At most one LOG.
    const flags = sys.O.WRONLY | sys.O.CREAT | sys.O.APPEND | sys.O.NOFOLLOW | sys.O.NOCTTY;
    log.log_fd = try sys.openat(sys.AT_FDCWD, path, flags, 0o600);
    try sys.pipe(&log.pipes[0]);
    try sys.pipe(&log.pipes[1]);
}

/// TTY, before CLONE, after LOG: the output pipes give way to a pty of `rows` x `cols`; the
/// container gets its slave as fds 0, 1, 2 and as its controlling terminal, the monitor keeps
/// the master. `inside` (the plan has PTY): the container process makes the pty in its own
/// devpts later and sends the master back over a socketpair made here; else the pty is made
/// now, in the host's devpts.
pub fn open_tty(log: *State, rows: u16, cols: u16, inside: bool) sys.Error!void {
    assert(log.active() and !log.tty); // The decoder requires LOG first, one TTY.
    for (&log.pipes) |*pipe| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        pipe.* = .{ -1, -1 };
    }
    log.tty = true;
    log.rows = rows;
    log.cols = cols;
    if (inside) return sys.socketpair(&log.pty_socket);
    const master = try sys.openat(sys.AT_FDCWD, "/dev/ptmx", sys.O.RDWR | sys.O.NOCTTY, 0);
    errdefer sys.close(master);
    const slave = try open_peer(master, rows, cols);
    log.pipes[0] = .{ master, slave };
}

/// Unlocks the pty `master`, sizes it, and opens its slave through the master (TIOCGPTPEER:
/// the slave of that devpts instance, whatever the mount table says).
fn open_peer(master: sys.fd_t, rows: u16, cols: u16) sys.Error!sys.fd_t {
    assert(master >= 0);
    var unlock: u32 = 0;
    _ = try sys.ioctl(master, sys.TIOCSPTLCK, @intFromPtr(&unlock));
    const slave: sys.fd_t = @intCast(try sys.ioctl(master, sys.TIOCGPTPEER, sys.O.RDWR | sys.O.NOCTTY | sys.O.CLOEXEC));
    attach.resize(master, rows, cols) catch |err| {
        sys.close(slave);
        return err;
    };
    return slave;
}

/// PTY, in the container process (after PIVOT_ROOT): opens `path`, the ptmx of the container's
/// own devpts, so the slave is /dev/pts/N inside; makes the slave its controlling terminal
/// and fds 0, 1, 2, and sends the master to the monitor (SCM_RIGHTS), as runc's console socket.
pub fn pty_inside(log: *State, path: [:0]const u8) sys.Error!void {
    assert(log.tty and log.pty_socket[1] >= 0); // The decoder requires TTY first.
    const master = try sys.openat(sys.AT_FDCWD, path, sys.O.RDWR | sys.O.NOCTTY | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0);
    defer sys.close(master);
    const slave = try open_peer(master, log.rows, log.cols);
    try become_terminal(slave);
    try sys.send_fd(log.pty_socket[1], master, 0);
    sys.close(log.pty_socket[1]);
    log.pty_socket[1] = -1;
}

/// The slave as the controlling terminal of a session of our own, and fds 0, 1, 2.
fn become_terminal(slave: sys.fd_t) sys.Error!void {
    assert(slave >= 0);
    try sys.setsid();
    _ = try sys.ioctl(slave, sys.TIOCSCTTY, 0);
    for (0..3) |fd| try sys.dup_to(slave, @intCast(fd));
    if (slave > 2) sys.close(slave);
}

/// Monitor, after releasing the container process, with PTY: waits for the master (EOF: the
/// container process ended first, so there is none), then reads it as `run.zig`'s TTY does.
pub fn receive_pty(log: *State, at: *attach.State) void {
    if (log.pty_socket[0] < 0) return;
    const received = sys.receive_fd(log.pty_socket[0]);
    sys.close(log.pty_socket[0]);
    log.pty_socket[0] = -1;
    const master = (received catch return).fd;
    sys.set_nonblocking(master) catch {};
    log.pipes[0] = .{ master, -1 };
    attach.in_monitor_tty(at, master);
}

/// The pty master (for input and RESIZE), or -1.
pub fn tty_fd(log: *const State) sys.fd_t {
    return if (log.tty) log.pipes[0][0] else -1;
}

/// Container process, right after CLONE: its stdout and stderr become the pipes (or its
/// stdin, stdout and stderr the pty, its controlling terminal in a session of its own).
pub fn in_container(log: *State) sys.Error!void {
    if (!log.active()) return;
    if (log.pty_socket[0] >= 0) {
        sys.close(log.pty_socket[0]); // PTY makes the pty later; the monitor's end is its.
        log.pty_socket[0] = -1;
    } else if (log.tty) {
        sys.close(log.pipes[0][0]);
        try become_terminal(log.pipes[0][1]);
        log.pipes[0] = .{ -1, -1 };
    }
    for (&log.pipes, 0..) |*pipe, index| {
        if (pipe[1] < 0) continue; // TTY: done above.
        try sys.dup_to(pipe[1], @intCast(1 + index));
        sys.close(pipe[0]);
        if (pipe[1] != 1 + index) sys.close(pipe[1]);
        pipe.* = .{ -1, -1 };
    }
    sys.close(log.log_fd);
    log.log_fd = -1;
}

/// Monitor, right after CLONE: only the read ends stay, non-blocking (draining at the end
/// must not wait for a process that still holds a write end).
pub fn in_monitor(log: *State) sys.Error!void {
    if (!log.active()) return;
    if (log.pty_socket[1] >= 0) {
        sys.close(log.pty_socket[1]); // The container process's end.
        log.pty_socket[1] = -1;
    }
    for (&log.pipes) |*pipe| {
        if (pipe[0] < 0) continue; // TTY: no stderr.
        sys.close(pipe[1]);
        pipe[1] = -1;
        try sys.set_nonblocking(pipe[0]);
    }
}

/// Adds the open read ends to `fds`; returns how many.
pub fn poll_fds(log: *const State, fds: []sys.PollFd) usize {
    var count: usize = 0;
    for (log.pipes) |pipe| {
        if (pipe[0] < 0) continue;
        fds[count] = .{ .fd = pipe[0], .events = sys.POLLIN, .revents = 0 };
        count += 1;
    }
    return count;
}

/// After a poll: reads each ready pipe once (the poll comes round again for more).
pub fn on_ready(log: *State, at: *attach.State, fds: []const sys.PollFd) void {
    for (fds) |polled| {
        if (polled.revents == 0) continue;
        const stream: Stream = if (polled.fd == log.pipes[0][0]) .stdout else .stderr;
        assert(polled.fd == log.pipes[@intFromEnum(stream)][0]);
        _ = read_once(log, at, stream);
    }
    flush(log);
}

/// At the container's end: what the pipes still hold, without waiting for more.
pub fn drain(log: *State, at: *attach.State) void {
    if (!log.active()) return;
    for ([_]Stream{ .stdout, .stderr }) |stream| {
        var reads: usize = 0;
        // Bounded: a process outside the container could keep writing forever.
        while (reads < 1024 and read_once(log, at, stream)) reads += 1;
    }
    flush(log);
}

/// One read from `stream`'s pipe, logged. False at EOF (the pipe is then closed), when it
/// is empty for now, or on an error.
fn read_once(log: *State, at: *attach.State, stream: Stream) bool {
    const fd = log.pipes[@intFromEnum(stream)][0];
    if (fd < 0) return false;
    // A pty's master reads EIO once the last slave is closed: its end, like a pipe's EOF.
    const n = sys.read(fd, &log.in_buffer) catch |err| {
        if (err == error.AGAIN) return false;
        close_pipe(log, at, stream);
        return false;
    };
    if (n == 0) {
        close_pipe(log, at, stream);
        return false;
    }
    add_lines(log, stream, log.in_buffer[0..n], sys.realtime_ns());
    attach.broadcast(at, stream == .stdout, log.in_buffer[0..n]);
    return true;
}

fn close_pipe(log: *State, at: *attach.State, stream: Stream) void {
    const pipe = &log.pipes[@intFromEnum(stream)];
    assert(pipe[0] >= 0);
    attach.input_gone(at, pipe[0]); // The pty master takes input too.
    sys.close(pipe[0]);
    pipe[0] = -1;
}

/// Each line of `bytes` as an F line; a last piece with no newline as a P line.
fn add_lines(log: *State, stream: Stream, bytes: []const u8, time_ns: u64) void {
    assert(bytes.len > 0 and bytes.len <= read_bytes_max);
    var rest = bytes;
    while (rest.len > 0) {
        const end = std.mem.indexOfScalar(u8, rest, '\n');
        const text = if (end) |at| rest[0..at] else rest;
        if (log.out_len + header_bytes_max + text.len + 1 > log.out_buffer.len) flush(log);
        log.out_len += format_line(log.out_buffer[log.out_len..], time_ns, stream, end == null, text);
        rest = if (end) |at| rest[at + 1 ..] else rest[rest.len..];
    }
}

fn flush(log: *State) void {
    if (log.out_len == 0) return;
    // O_APPEND: one write lands whole; a failure (ENOSPC) loses these lines, not the container.
    _ = sys.write(log.log_fd, log.out_buffer[0..log.out_len]) catch {};
    log.out_len = 0;
}

/// Writes one CRI line into `out`; returns its length.
pub fn format_line(out: []u8, time_ns: u64, stream: Stream, partial: bool, text: []const u8) usize {
    assert(out.len >= header_bytes_max + text.len + 1);
    const header = format_time(out[0..30], time_ns);
    var at = header.len;
    const words = [2][]const u8{ " stdout ", " stderr " };
    @memcpy(out[at..][0..8], words[@intFromEnum(stream)]);
    at += 8;
    out[at] = if (partial) 'P' else 'F';
    out[at + 1] = ' ';
    at += 2;
    @memcpy(out[at..][0..text.len], text);
    at += text.len;
    out[at] = '\n';
    return at + 1;
}

/// RFC 3339 in UTC with nanoseconds, always 9 digits (so lines sort as text):
/// `2026-12-03T07:15:00.123456789Z`.
pub fn format_time(out: *[30]u8, time_ns: u64) []const u8 {
    const seconds = time_ns / std.time.ns_per_s;
    const epoch = std.time.epoch.EpochSeconds{ .secs = seconds };
    const year_day = epoch.getEpochDay().calculateYearDay();
    const month_day = year_day.calculateMonthDay();
    const day_seconds = epoch.getDaySeconds();
    const text = std.fmt.bufPrint(out, "{d:0>4}-{d:0>2}-{d:0>2}T{d:0>2}:{d:0>2}:{d:0>2}.{d:0>9}Z", .{
        year_day.year,
        month_day.month.numeric(),
        month_day.day_index + 1,
        day_seconds.getHoursIntoDay(),
        day_seconds.getMinutesIntoHour(),
        day_seconds.getSecondsIntoMinute(),
        time_ns % std.time.ns_per_s,
    }) catch unreachable; // Years up to 9999: 30 bytes.
    assert(text.len == 30);
    return text;
}

test "CRI lines: time, stream, full or partial" {
    var out: [128]u8 = undefined;
    // 2026-12-03T07:15:00.000000042Z
    const time_ns: u64 = 1796282100 * std.time.ns_per_s + 42;
    const n = format_line(&out, time_ns, .stderr, false, "hello");
    try std.testing.expectEqualStrings("2026-12-03T07:15:00.000000042Z stderr F hello\n", out[0..n]);
    const m = format_line(&out, 0, .stdout, true, "");
    try std.testing.expectEqualStrings("1970-01-01T00:00:00.000000000Z stdout P \n", out[0..m]);
}

test "lines of one read: each full line F, an unended piece P" {
    var log: State = undefined;
    log.init();
    add_lines(&log, .stdout, "a\nbb\nccc", 0);
    const expected = "1970-01-01T00:00:00.000000000Z stdout F a\n" ++
        "1970-01-01T00:00:00.000000000Z stdout F bb\n" ++
        "1970-01-01T00:00:00.000000000Z stdout P ccc\n";
    try std.testing.expectEqualStrings(expected, log.out_buffer[0..log.out_len]);
    log.out_len = 0;
    add_lines(&log, .stdout, "\n", 0);
    try std.testing.expectEqualStrings("1970-01-01T00:00:00.000000000Z stdout F \n", log.out_buffer[0..log.out_len]);
}
