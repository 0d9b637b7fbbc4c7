//! Events to the orchestrator: each frame is built whole in a fixed buffer and sent with
//! one write(), so the container process and the monitor, which share the fd, never
//! interleave inside a frame. Events are best effort: if the orchestrator is gone (EPIPE;
//! SIGPIPE is ignored) the launcher carries on, because the container must still be
//! monitored and reaped. Without an event fd only failures are reported, as one line on
//! stderr.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

pub const message_bytes_max = 200;
const frame_bytes_max = protocol.header_size + 3 * 8 + 4 + message_bytes_max;
/// CGROUP_FILE: a path and up to 4 KiB of a file.
const cgroup_file_bytes_max = protocol.header_size + 4 + protocol.path_bytes_max + 4 + protocol.cgroup_report_bytes_max;
const exit_bytes = protocol.header_size + 2 * 8;
/// XATTR: an op index, a name and up to 4 KiB of value as hex.
const xattr_bytes_max = protocol.header_size + 8 + 4 + protocol.xattr_name_bytes_max + 4 + 2 * protocol.xattr_read_bytes_max;
/// The largest event frame (XATTR or CGROUP_FILE), and a TAGGED frame around it.
pub const event_bytes_max = @max(cgroup_file_bytes_max, xattr_bytes_max);
pub const tagged_bytes_max = protocol.header_size + 8 + event_bytes_max;
const batch_bytes = 64 * 1024;
comptime {
    assert(frame_bytes_max <= event_bytes_max and exit_bytes <= event_bytes_max);
}

/// Where events go and what this process keeps of them: a part of state.zig's State, so
/// the container process gets a copy at CLONE and a server's child at fork (which then
/// `rebind`s it to its own pipe). Only `init` sets it up; the big buffers are written
/// before they are read, so the instance stays in .bss.
pub const Channel = struct {
    /// The event fd, or null: then only failures are reported, on stderr.
    fd: ?sys.fd_t,
    /// HELLO's trace flag: OP_TIME events are sent (and ops timed).
    trace: bool,
    /// The last events, kept for the status file (protocol.md "The status file"): every
    /// CGROUP_FILE, then EXIT. Only the launcher's own process records, once STATUS_FILE
    /// armed it.
    recording: bool,
    recorded: [protocol.cgroup_reports_max * cgroup_file_bytes_max + exit_bytes]u8,
    recorded_len: usize,
    /// The server relays what its children's pipes held in one poll round as one write:
    /// the orchestrator then reads a container's last events (CGROUP_FILE..., EXIT) at
    /// once. Only the server batches, between `batch_begin` and `batch_flush`, and never
    /// forks in between, so a child never inherits a batch.
    batching: bool,
    batch: [batch_bytes]u8,
    batch_len: usize,

    /// Every field but the buffers. `fd` is the --event-fd, if any.
    pub fn init(channel: *Channel, fd: ?sys.fd_t) void {
        if (fd) |event_fd| assert(event_fd >= 0);
        channel.fd = fd;
        channel.trace = false;
        channel.recording = false;
        channel.recorded_len = 0;
        channel.batching = false;
        channel.batch_len = 0;
    }

    /// A server's child (after fork): its own event pipe replaces the server's event fd.
    pub fn rebind(channel: *Channel, fd: sys.fd_t) void {
        assert(channel.fd != null);
        assert(!channel.batching and channel.batch_len == 0); // Never forked in a batch.
        channel.fd = fd;
    }

    fn record(channel: *Channel, bytes: []const u8) void {
        if (!channel.recording) return;
        // At most 16 reports, then one EXIT.
        assert(channel.recorded_len + bytes.len <= channel.recorded.len);
        @memcpy(channel.recorded[channel.recorded_len..][0..bytes.len], bytes);
        channel.recorded_len += bytes.len;
    }

    /// What the status file holds once `record_exit` ran.
    pub fn recorded_frames(channel: *const Channel) []const u8 {
        return channel.recorded[0..channel.recorded_len];
    }

    pub fn batch_begin(channel: *Channel) void {
        assert(!channel.batching and channel.batch_len == 0);
        channel.batching = true;
    }

    pub fn batch_flush(channel: *Channel) void {
        assert(channel.batching);
        channel.batching = false;
        const fd = channel.fd orelse return;
        write_all(fd, channel.batch[0..channel.batch_len]);
        channel.batch_len = 0;
    }

    fn batch_add(channel: *Channel, fd: sys.fd_t, bytes: []const u8) void {
        comptime assert(tagged_bytes_max <= batch_bytes);
        if (channel.batch_len + bytes.len > channel.batch.len) {
            write_all(fd, channel.batch[0..channel.batch_len]);
            channel.batch_len = 0;
        }
        @memcpy(channel.batch[channel.batch_len..][0..bytes.len], bytes);
        channel.batch_len += bytes.len;
    }

    /// One whole frame in one write (or into the batch); dropped without an event fd.
    fn send(channel: *Channel, bytes: []const u8) void {
        assert(bytes.len >= protocol.header_size and bytes.len <= tagged_bytes_max);
        const fd = channel.fd orelse return;
        if (channel.batching) return channel.batch_add(fd, bytes);
        sys.write_once(fd, bytes) catch {};
    }

    pub fn hello(channel: *Channel) void {
        var frame = Frame{};
        frame.int(protocol.version);
        channel.send(frame.finish(.hello));
    }

    pub fn pid(channel: *Channel, value: sys.pid_t) void {
        assert(value > 0);
        var frame = Frame{};
        frame.int(@intCast(value));
        channel.send(frame.finish(.pid));
    }

    pub fn op_time(channel: *Channel, index: u64, code: u64, nanoseconds: u64) void {
        if (!channel.trace) return;
        var frame = Frame{};
        frame.int(index);
        frame.int(code);
        frame.int(nanoseconds);
        channel.send(frame.finish(.op_time));
    }

    /// INNER_PID: after PID_FORK, the host pid of the container's pid 1 (sent by it).
    pub fn inner_pid(channel: *Channel, value: sys.pid_t) void {
        assert(value > 0);
        var frame = Frame{};
        frame.int(@intCast(value));
        channel.send(frame.finish(.inner_pid));
    }

    /// READY: the container process stands at WAIT_START (sent by the container process).
    pub fn ready(channel: *Channel) void {
        var frame = Frame{};
        channel.send(frame.finish(.ready));
    }

    /// STARTED: EXEC succeeded; `at_ns` is the monitor's CLOCK_MONOTONIC when it saw it.
    pub fn started(channel: *Channel, at_ns: u64) void {
        var frame = Frame{};
        frame.int(at_ns);
        channel.send(frame.finish(.started));
    }

    /// TAGGED (server mode): `tag`, then the whole event frame `event`, in one write.
    pub fn tagged(channel: *Channel, tag: u64, event: []const u8) void {
        assert(event.len >= protocol.header_size and event.len <= event_bytes_max);
        var frame = FrameOf(tagged_bytes_max){};
        frame.int(tag);
        @memcpy(frame.bytes[frame.len..][0..event.len], event);
        frame.len += event.len;
        channel.send(frame.finish(.tagged));
    }

    /// A TAGGED ERROR the server makes itself (a refused RUN, a monitor that died).
    pub fn tagged_failure(channel: *Channel, tag: u64, index: u64, code: u64, errno: u16, message: []const u8) void {
        var frame = Frame{};
        frame.int(index);
        frame.int(code);
        frame.int(errno);
        frame.str(message[0..@min(message.len, message_bytes_max)]);
        channel.tagged(tag, frame.finish(.@"error"));
    }

    /// A TAGGED EXIT the server makes itself.
    pub fn tagged_exit(channel: *Channel, tag: u64, kind: protocol.ExitKind, value: u64) void {
        var frame = FrameOf(exit_bytes){};
        frame.int(@intFromEnum(kind));
        frame.int(value);
        channel.tagged(tag, frame.finish(.exit));
    }

    pub fn exit(channel: *Channel, kind: protocol.ExitKind, value: u64) void {
        var frame = FrameOf(exit_bytes){};
        frame.int(@intFromEnum(kind));
        frame.int(value);
        channel.send(frame.finish(.exit));
    }

    /// Records the EXIT that `exit` will send, for the status file written in between.
    pub fn record_exit(channel: *Channel, kind: protocol.ExitKind, value: u64) void {
        var frame = FrameOf(exit_bytes){};
        frame.int(@intFromEnum(kind));
        frame.int(value);
        channel.record(frame.finish(.exit));
    }

    /// CGROUP_FILE: sent, and recorded for the status file.
    pub fn cgroup_file(channel: *Channel, path: []const u8, content: []const u8) void {
        assert(path.len <= protocol.path_bytes_max);
        assert(content.len <= protocol.cgroup_report_bytes_max);
        var frame = FrameOf(cgroup_file_bytes_max){};
        frame.str(path);
        frame.str(content);
        const bytes = frame.finish(.cgroup_file);
        channel.record(bytes);
        channel.send(bytes);
    }

    /// XATTR (an fs plan's READ_XATTRS): the op's index, the name, the value in lowercase hex.
    pub fn xattr(channel: *Channel, index: u64, name: []const u8, value: []const u8) void {
        assert(name.len <= protocol.xattr_name_bytes_max);
        assert(value.len <= protocol.xattr_read_bytes_max);
        var frame = FrameOf(xattr_bytes_max){};
        frame.int(index);
        frame.str(name);
        std.mem.writeInt(u32, frame.bytes[frame.len..][0..4], @intCast(2 * value.len), .little);
        frame.len += 4;
        for (value) |byte| {
            frame.bytes[frame.len] = "0123456789abcdef"[byte >> 4];
            frame.bytes[frame.len + 1] = "0123456789abcdef"[byte & 15];
            frame.len += 2;
        }
        channel.send(frame.finish(.xattr));
    }

    pub fn failure(channel: *Channel, index: u64, code: u64, errno: u16, message: []const u8) void {
        const text = message[0..@min(message.len, message_bytes_max)];
        if (channel.fd == null) return stderr_line(index, code, errno, text);
        var frame = Frame{};
        frame.int(index);
        frame.int(code);
        frame.int(errno);
        assert(text.len <= message_bytes_max);
        frame.str(text);
        channel.send(frame.finish(.@"error"));
    }
};

/// The server is the only writer of its event fd: a batch may go in several writes.
fn write_all(fd: sys.fd_t, bytes: []const u8) void {
    var at: usize = 0;
    while (at < bytes.len) {
        const n = sys.write(fd, bytes[at..]) catch return;
        if (n == 0) return;
        at += n;
    }
}

const Frame = FrameOf(frame_bytes_max);

fn FrameOf(comptime bytes_max: usize) type {
    return struct {
        bytes: [bytes_max]u8 = undefined,
        len: usize = protocol.header_size,

        const Self = @This();

        fn int(frame: *Self, value: u64) void {
            assert(frame.len + 8 <= frame.bytes.len);
            std.mem.writeInt(u64, frame.bytes[frame.len..][0..8], value, .little);
            frame.len += 8;
        }

        fn str(frame: *Self, value: []const u8) void {
            assert(frame.len + 4 + value.len <= frame.bytes.len);
            std.mem.writeInt(u32, frame.bytes[frame.len..][0..4], @intCast(value.len), .little);
            @memcpy(frame.bytes[frame.len + 4 ..][0..value.len], value);
            frame.len += 4 + value.len;
        }

        fn finish(frame: *Self, event_type: protocol.EventType) []const u8 {
            assert(frame.len >= protocol.header_size);
            std.mem.writeInt(u32, frame.bytes[0..4], @intCast(frame.len - protocol.header_size), .little);
            std.mem.writeInt(u16, frame.bytes[4..6], @intFromEnum(event_type), .little);
            std.mem.writeInt(u16, frame.bytes[6..8], 0, .little);
            return frame.bytes[0..frame.len];
        }
    };
}

/// `husk-launcher: op 7 (mount): EPERM: mount proc on proc`
fn stderr_line(index: u64, code: u64, errno: u16, message: []const u8) void {
    var line = Message{};
    line.append("husk-launcher: ");
    if (index == protocol.index_hello) {
        line.append("hello");
    } else {
        line.print("op {d} (", .{index});
        if (protocol.frame_name(code)) |name| line.append(name) else line.print("type 0x{x}", .{code});
        line.append(")");
    }
    var errno_buffer: [16]u8 = undefined;
    // errno 0: a failure that is no syscall's (sys.no_errno); the message says it all.
    if (errno == 0) line.append(": ") else line.print(": {s}: ", .{sys.errno_name(errno, &errno_buffer)});
    line.append(message);
    line.append("\n");
    _ = sys.write(2, line.slice()) catch {};
}

pub fn stderr(text: []const u8) void {
    _ = sys.write(2, text) catch {};
}

pub fn stdout(text: []const u8) void {
    _ = sys.write(1, text) catch {};
}

/// A bounded text builder for error messages: what does not fit is cut, never overflowed.
pub const Message = struct {
    bytes: [message_bytes_max + 64]u8 = undefined,
    len: usize = 0,

    pub fn append(message: *Message, text: []const u8) void {
        const n = @min(text.len, message.bytes.len - message.len);
        @memcpy(message.bytes[message.len..][0..n], text[0..n]);
        message.len += n;
    }

    /// Formats into what is left; output that does not fit is cut.
    pub fn print(message: *Message, comptime format: []const u8, args: anytype) void {
        var stream = std.io.fixedBufferStream(message.bytes[message.len..]);
        stream.writer().print(format, args) catch {};
        message.len += stream.pos;
    }

    pub fn slice(message: *const Message) []const u8 {
        assert(message.len <= message.bytes.len);
        return message.bytes[0..message.len];
    }
};

test "TAGGED wraps a whole event frame after the tag" {
    var pipe: [2]sys.fd_t = undefined;
    try sys.pipe(&pipe);
    defer sys.close(pipe[0]);
    defer sys.close(pipe[1]);
    var channel: Channel = undefined;
    channel.init(pipe[1]);
    channel.tagged_exit(0x1122334455667788, .exited, 3);
    var bytes: [64]u8 = undefined;
    const n = try sys.read(pipe[0], &bytes);
    try std.testing.expectEqual(@as(usize, 8 + 8 + 24), n);
    try std.testing.expectEqual(@as(u32, 32), std.mem.readInt(u32, bytes[0..4], .little));
    try std.testing.expectEqual(@as(u16, 0x8010), std.mem.readInt(u16, bytes[4..6], .little));
    try std.testing.expectEqual(@as(u64, 0x1122334455667788), std.mem.readInt(u64, bytes[8..16], .little));
    try std.testing.expectEqual(@as(u32, 16), std.mem.readInt(u32, bytes[16..20], .little));
    try std.testing.expectEqual(@as(u16, 0x8005), std.mem.readInt(u16, bytes[20..22], .little));
    try std.testing.expectEqual(@as(u64, 3), std.mem.readInt(u64, bytes[32..40], .little));
}

test "a message is cut, never overflowed" {
    var message = Message{};
    message.append("mount ");
    for (0..100) |_| message.append("0123456789");
    try std.testing.expectEqual(message.bytes.len, message.slice().len);
    try std.testing.expect(std.mem.startsWith(u8, message.slice(), "mount 0123"));
}

test "CGROUP_FILE and EXIT are recorded for the status file, in order" {
    var channel: Channel = undefined;
    channel.init(null); // No event fd: the frames are only recorded.
    channel.cgroup_file("/sys/fs/cgroup/memory/x/not-recorded", "before STATUS_FILE\n");
    try std.testing.expectEqual(@as(usize, 0), channel.recorded_frames().len);
    channel.recording = true;
    channel.cgroup_file("/sys/fs/cgroup/memory/x/memory.oom_control", "oom_kill 1\n");
    channel.record_exit(.signaled, 9);
    const bytes = channel.recorded_frames();
    const first_length = std.mem.readInt(u32, bytes[0..4], .little);
    try std.testing.expectEqual(@as(u16, 0x8006), std.mem.readInt(u16, bytes[4..6], .little));
    try std.testing.expectEqual(@as(u32, 4 + 42 + 4 + 11), first_length);
    const exit_frame = bytes[8 + first_length ..];
    try std.testing.expectEqual(@as(usize, 24), exit_frame.len);
    try std.testing.expectEqual(@as(u16, 0x8005), std.mem.readInt(u16, exit_frame[4..6], .little));
    try std.testing.expectEqual(@as(u64, 9), std.mem.readInt(u64, exit_frame[16..24], .little));
}

test "a batch goes out at its flush, in one write, and a rebound channel writes to its new fd" {
    var pipe: [2]sys.fd_t = undefined;
    try sys.pipe(&pipe);
    defer sys.close(pipe[0]);
    defer sys.close(pipe[1]);
    var channel: Channel = undefined;
    channel.init(pipe[1]);
    channel.batch_begin();
    channel.tagged_exit(1, .exited, 0);
    channel.tagged_exit(2, .exited, 0);
    var fds = [1]std.posix.pollfd{.{ .fd = pipe[0], .events = std.posix.POLL.IN, .revents = 0 }};
    try std.testing.expectEqual(@as(usize, 0), try std.posix.poll(&fds, 0)); // Held.
    channel.batch_flush();
    var bytes: [128]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 2 * 40), try sys.read(pipe[0], &bytes));
    try std.testing.expectEqual(@as(u64, 2), std.mem.readInt(u64, bytes[48..56], .little));

    var other: [2]sys.fd_t = undefined;
    try sys.pipe(&other);
    defer sys.close(other[0]);
    defer sys.close(other[1]);
    channel.rebind(other[1]);
    channel.hello();
    try std.testing.expectEqual(@as(usize, 16), try sys.read(other[0], &bytes));
    try std.testing.expectEqual(@as(u16, @intFromEnum(protocol.EventType.hello)), std.mem.readInt(u16, bytes[4..6], .little));
}
