//! The write stream of an fs plan (protocol.md "The write stream"): after WRITE_STREAM and
//! END, records follow on the plan fd — make a directory, write a file with its data, a
//! symlink, a hard link, remove an entry — and the launcher does each in order, inside the
//! plan's root, until an END record. This is how an image layer's many files are written
//! (ts/image/layer-writer.ts decides what goes where): the launcher does the system calls
//! while the orchestrator parses and hashes the next part of the tar, on another core.
//!
//! Every path is resolved inside the root as fs_plan.zig does it: the parent directory with
//! openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, the last component never followed (files
//! are created O_EXCL|O_NOFOLLOW). The parent's fd is kept while records name the same
//! directory (a tar lists a directory's files together), so a file costs about what it
//! costs GNU tar: openat, write, fchown, futimens, close.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");

pub const header_size = 32;

pub const Kind = enum(u8) { end = 0, dir = 1, file = 2, symlink = 3, link = 4, remove = 5, owner = 6, _ };

pub const flag_chown: u8 = 1 << 0;
pub const flag_chmod: u8 = 1 << 1;
pub const flag_times: u8 = 1 << 2;
pub const flag_directory: u8 = 1 << 3;
const flags_known: u8 = 0b1111;

pub const Record = struct {
    kind: Kind,
    flags: u8,
    path_len: u16,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    size: u64,

    pub fn parse(bytes: *const [header_size]u8) Record {
        return .{
            .kind = @enumFromInt(bytes[0]),
            .flags = bytes[1],
            .path_len = std.mem.readInt(u16, bytes[2..4], .little),
            .mode = std.mem.readInt(u32, bytes[4..8], .little),
            .uid = std.mem.readInt(u32, bytes[8..12], .little),
            .gid = std.mem.readInt(u32, bytes[12..16], .little),
            .mtime = std.mem.readInt(i64, bytes[16..24], .little),
            .size = std.mem.readInt(u64, bytes[24..32], .little),
        };
    }

    /// Null when the header is well formed, else what is wrong with it.
    pub fn malformed(record: *const Record) ?[]const u8 {
        switch (record.kind) {
            .end => return if (record.path_len == 0 and record.size == 0) null else "END with a path or size",
            .dir, .file, .symlink, .link, .remove, .owner => {},
            _ => return "unknown kind",
        }
        if (record.flags & ~flags_known != 0) return "unknown flags";
        if (record.path_len == 0 or record.path_len > protocol.path_bytes_max) return "path length not 1 to 4095";
        if (record.mode > protocol.mode_max) return "mode over 07777";
        switch (record.kind) {
            .symlink, .link => if (record.size == 0 or record.size > protocol.path_bytes_max) return "target length not 1 to 4095",
            .file => {},
            else => if (record.size != 0) return "a size on a record without data",
        }
        return null;
    }
};

/// Why a record failed: the errno and what was being done. Set before error.Failed.
const Failure = struct { errno: u16, reason: []const u8 };
var failure: Failure = .{ .errno = 0, .reason = "" };
const Failed = error{Failed};

fn failing(errno: u16, reason: []const u8) Failed {
    failure = .{ .errno = errno, .reason = reason };
    return error.Failed;
}

var path_buffer: [protocol.path_bytes_max + 1]u8 = undefined;
var target_buffer: [protocol.path_bytes_max + 1]u8 = undefined;
/// 1 MiB: the socket hands over at most its buffer (~208 KiB) per read, and every page of
/// this buffer is faulted in once as the reads wander through it (8 MiB cost ~50 ms of
/// page faults on a VM, for nothing).
var input_buffer: [1024 * 1024]u8 = undefined;

/// The records as they come, read ahead into a buffer whenever the socket holds
/// something (between records, without waiting): the orchestrator then finds room on its
/// socket while this side is busy in system calls, and goes on parsing instead of waiting.
pub const Input = struct {
    fd: sys.fd_t,
    bytes: []u8,
    start: usize = 0,
    end: usize = 0,
    /// recv(MSG_DONTWAIT) works: a pipe is only read when bytes are needed.
    socket: bool = true,

    /// Over `fd`, holding first the bytes a reader already took from it (after END).
    pub fn init(fd: sys.fd_t, already: []const u8) Input {
        assert(already.len <= input_buffer.len);
        @memcpy(input_buffer[0..already.len], already);
        return .{ .fd = fd, .bytes = &input_buffer, .end = already.len };
    }

    fn held(input: *const Input) usize {
        return input.end - input.start;
    }

    /// Moves what is held to the front when the room after it runs short.
    fn compact(input: *Input) void {
        if (input.start == input.end) {
            input.start = 0;
            input.end = 0;
        } else if (input.bytes.len - input.end < input.bytes.len / 4 and input.start > 0) {
            std.mem.copyForwards(u8, input.bytes[0..input.held()], input.bytes[input.start..input.end]);
            input.end -= input.start;
            input.start = 0;
        }
    }

    /// What the socket holds now, if there is room and little is held.
    fn top_up(input: *Input) void {
        if (!input.socket or input.fd < 0 or input.held() >= input.bytes.len / 4) return;
        input.compact();
        if (input.end == input.bytes.len) return;
        const n = sys.recv_now(input.fd, input.bytes[input.end..]) catch |err| {
            if (err == error.NOTSOCK) input.socket = false;
            return;
        };
        input.end += n;
    }

    /// Waits until at least one more byte is held; false at the end of the input.
    fn fill(input: *Input) Failed!bool {
        input.compact();
        assert(input.end < input.bytes.len);
        if (input.fd < 0) return false;
        const n = sys.read(input.fd, input.bytes[input.end..]) catch |err| return failed(err, "read the write stream");
        input.end += n;
        return n > 0;
    }

    /// Exactly `buffer.len` bytes into `buffer`; fewer only at the end of the input.
    fn read(input: *Input, buffer: []u8) Failed!usize {
        var done: usize = 0;
        while (done < buffer.len) {
            if (input.held() == 0 and !try input.fill()) break;
            const n = @min(input.held(), buffer.len - done);
            @memcpy(buffer[done..][0..n], input.bytes[input.start..][0..n]);
            input.start += n;
            done += n;
        }
        return done;
    }

    /// Up to `max` bytes held (at least one), waiting for them; empty at the end of the input.
    fn some(input: *Input, max: usize) Failed![]const u8 {
        if (input.held() == 0 and !try input.fill()) return input.bytes[0..0];
        const n = @min(input.held(), max);
        defer input.start += n;
        return input.bytes[input.start..][0..n];
    }
};

/// The directory the last records were in, open (O_PATH), and its path inside the root.
const Parent = struct {
    fd: sys.fd_t = -1,
    path: [protocol.path_bytes_max + 1]u8 = undefined,
    len: usize = 0,

    /// The parent of `path` (clean, relative), opened inside `root` unless it is the one held.
    fn of(parent: *Parent, root: sys.fd_t, path: []const u8) sys.Error!sys.fd_t {
        const slash = std.mem.lastIndexOfScalar(u8, path, '/');
        const dir = if (slash) |s| path[0..s] else ".";
        if (parent.fd >= 0 and std.mem.eql(u8, dir, parent.path[0..parent.len])) return parent.fd;
        parent.forget();
        @memcpy(parent.path[0..dir.len], dir);
        parent.path[dir.len] = 0;
        const resolve = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS;
        parent.fd = try sys.openat2(root, parent.path[0..dir.len :0], sys.O.PATH | sys.O.DIRECTORY, resolve);
        parent.len = dir.len;
        return parent.fd;
    }

    /// A removal may have taken the directory held (or made its path name another).
    fn forget(parent: *Parent) void {
        if (parent.fd >= 0) sys.close(parent.fd);
        parent.fd = -1;
        parent.len = 0;
    }
};

/// Runs records from `reader` (the plan fd's buffered reader, past END) in `root` until END;
/// sends EXIT 0, or ERROR and EXIT 125.
pub fn run(channel: *events.Channel, root: sys.fd_t, reader: anytype) noreturn {
    var input = Input.init(reader.inner.fd, reader.bytes[reader.start..reader.end]);
    reader.discard();
    var parent = Parent{};
    var number: u64 = 0;
    while (true) : (number += 1) {
        input.top_up();
        var header: [header_size]u8 = undefined;
        const got = input.read(&header) catch fail(channel, number, failure);
        if (got == 0) fail(channel, number, .{ .errno = sys.EINVAL, .reason = "the write stream ends before END" });
        if (got < header.len) fail(channel, number, .{ .errno = sys.EINVAL, .reason = "the write stream ends inside a record" });
        const record = Record.parse(&header);
        if (record.malformed()) |reason| fail(channel, number, .{ .errno = sys.EINVAL, .reason = reason });
        if (record.kind == .end) break;
        const path = read_name(&input, record.path_len, &path_buffer) catch fail(channel, number, failure);
        if (std.mem.eql(u8, path, ".") or !protocol.is_clean_relative(path)) {
            fail(channel, number, .{ .errno = sys.EINVAL, .reason = "path: not a clean relative path" });
        }
        apply(root, &parent, &record, path, &input) catch {
            var message = events.Message{};
            message.print("{s} {s}: {s}", .{ @tagName(record.kind), path, failure.reason });
            channel.failure(number, code, failure.errno, message.slice());
            channel.exit(.launcher_failed, 125);
            sys.exit(125);
        };
    }
    channel.exit(.exited, 0);
    sys.exit(0);
}

const code: u64 = 0x0074;

fn fail(channel: *events.Channel, number: u64, why: Failure) noreturn {
    var message = events.Message{};
    message.print("write stream record {d}: {s}", .{ number, why.reason });
    channel.failure(number, code, why.errno, message.slice());
    channel.exit(.launcher_failed, 125);
    sys.exit(125);
}

/// A path or link target of `len` bytes, NUL-terminated in `buffer`; no NUL inside.
fn read_name(input: *Input, len: usize, buffer: *[protocol.path_bytes_max + 1]u8) Failed![:0]const u8 {
    assert(len >= 1 and len <= protocol.path_bytes_max);
    const got = try input.read(buffer[0..len]);
    if (got < len) return failing(sys.EINVAL, "the write stream ends inside a record");
    if (std.mem.indexOfScalar(u8, buffer[0..len], 0) != null) return failing(sys.EINVAL, "a NUL byte in a name");
    buffer[len] = 0;
    return buffer[0..len :0];
}

fn apply(root: sys.fd_t, parent: *Parent, record: *const Record, path: [:0]const u8, input: *Input) Failed!void {
    const slash = std.mem.lastIndexOfScalar(u8, path, '/');
    const name: [:0]const u8 = path[if (slash) |s| s + 1 else 0.. :0];
    switch (record.kind) {
        .dir => {
            const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
            sys.mkdirat(dir, name, record.mode) catch |err| return failed(err, "mkdir");
        },
        .file => try write_file(root, parent, record, name, path, input),
        .symlink => {
            const target = try read_name(input, @intCast(record.size), &target_buffer);
            const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
            sys.symlinkat(target, dir, name) catch |err| return failed(err, "symlink");
            if (record.flags & flag_chown != 0) sys.lchownat(dir, name, record.uid, record.gid) catch |err| return failed(err, "lchown");
            if (record.flags & flag_times != 0) sys.lutimesat(dir, name, record.mtime) catch |err| return failed(err, "set times");
        },
        .link => {
            const target = try read_name(input, @intCast(record.size), &target_buffer);
            if (std.mem.eql(u8, target, ".") or !protocol.is_clean_relative(target)) return failing(sys.EINVAL, "target: not a clean relative path");
            // The target's parent is opened on its own: the held one is the new name's.
            const target_slash = std.mem.lastIndexOfScalar(u8, target, '/');
            var other = Parent{};
            defer other.forget();
            const from = other.of(root, target) catch |err| return failed(err, "open the target's parent");
            const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
            sys.linkat(from, target[if (target_slash) |s| s + 1 else 0.. :0], dir, name) catch |err| return failed(err, "link");
        },
        .remove => {
            const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
            if (record.flags & flag_directory != 0) {
                sys.rmdirat(dir, name) catch |err| return failed(err, "rmdir");
            } else sys.unlinkat(dir, name) catch |err| return failed(err, "unlink");
            parent.forget(); // The directory held may be the one removed, or under it.
        },
        .owner => {
            // A rootless layer's owners, set in its user namespace (fs_userns.zig).
            const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
            sys.lchownat(dir, name, record.uid, record.gid) catch |err| return failed(err, "lchown");
            if (record.flags & flag_chmod != 0) try chmod_again(dir, name, record.mode);
        },
        .end => unreachable,
        _ => unreachable, // Record.malformed refused it.
    }
}

fn write_file(root: sys.fd_t, parent: *Parent, record: *const Record, name: [:0]const u8, path: []const u8, input: *Input) Failed!void {
    const dir = parent.of(root, path) catch |err| return failed(err, "open its parent");
    const create = sys.O.WRONLY | sys.O.CREAT | sys.O.EXCL | sys.O.NOFOLLOW;
    const fd = sys.openat(dir, name, create, record.mode & 0o777) catch |err| return failed(err, "create");
    defer sys.close(fd);
    var left = record.size;
    while (left > 0) {
        const bytes = try input.some(@intCast(@min(left, std.math.maxInt(usize))));
        if (bytes.len == 0) return failing(sys.EINVAL, "the write stream ends inside a file's data");
        var at: usize = 0;
        while (at < bytes.len) {
            const n = sys.write(fd, bytes[at..]) catch |err| return failed(err, "write");
            if (n == 0) return failing(sys.EIO, "write");
            at += n;
        }
        left -= bytes.len;
    }
    if (record.flags & flag_chown != 0) sys.fchown(fd, record.uid, record.gid) catch |err| return failed(err, "chown");
    // chown clears set-id bits; the orchestrator asks for the mode again when it matters.
    if (record.flags & flag_chmod != 0) sys.fchmod(fd, record.mode) catch |err| return failed(err, "chmod");
    if (record.flags & flag_times != 0) sys.futimes(fd, record.mtime) catch |err| return failed(err, "set times");
}

/// chown cleared a file's set-id bits: its mode again, on a regular file or directory only
/// (never through a symlink), through /proc/self/fd of an O_PATH fd.
fn chmod_again(dir: sys.fd_t, name: [*:0]const u8, mode: u32) Failed!void {
    const fd = sys.openat(dir, name, sys.O.PATH | sys.O.NOFOLLOW, 0) catch |err| return failed(err, "open");
    defer sys.close(fd);
    const kind = sys.file_type(fd) catch |err| return failed(err, "stat");
    if (kind != sys.S_IFREG and kind != sys.S_IFDIR) return failing(sys.EINVAL, "chmod: not a file or directory");
    var proc: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&proc, "/proc/self/fd/{d}", .{fd}) catch unreachable; // 32 bytes hold it.
    sys.fchmodat(sys.AT_FDCWD, path, mode) catch |err| return failed(err, "chmod");
}

fn failed(err: sys.Error, what: []const u8) Failed {
    return failing(sys.errno_of(err), what);
}

test "records parse and malformed ones are named" {
    var bytes = [_]u8{0} ** header_size;
    bytes[0] = 2; // FILE
    bytes[1] = flag_times;
    std.mem.writeInt(u16, bytes[2..4], 5, .little);
    std.mem.writeInt(u32, bytes[4..8], 0o644, .little);
    std.mem.writeInt(i64, bytes[16..24], 1_700_000_000, .little);
    std.mem.writeInt(u64, bytes[24..32], 3, .little);
    const record = Record.parse(&bytes);
    try std.testing.expectEqual(Kind.file, record.kind);
    try std.testing.expectEqual(@as(u64, 3), record.size);
    try std.testing.expect(record.malformed() == null);
    bytes[0] = 9;
    try std.testing.expectEqualStrings("unknown kind", Record.parse(&bytes).malformed().?);
    bytes[0] = 1; // DIR with a size
    try std.testing.expectEqualStrings("a size on a record without data", Record.parse(&bytes).malformed().?);
    bytes[0] = 3; // SYMLINK with no target
    std.mem.writeInt(u64, bytes[24..32], 0, .little);
    try std.testing.expectEqualStrings("target length not 1 to 4095", Record.parse(&bytes).malformed().?);
    bytes[1] = 0x80;
    try std.testing.expectEqualStrings("unknown flags", Record.parse(&bytes).malformed().?);
}

test "a stream of records builds a tree inside the root and nothing outside" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("root");
    try tmp.dir.symLink("/", "root/out", .{});
    const root = try sys.openat(tmp.dir.fd, "root", sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(root);
    var stream: [4096]u8 = undefined;
    var len: usize = 0;
    const add = struct {
        fn record(buffer: []u8, at: *usize, kind: Kind, flags: u8, path: []const u8, mode: u32, extra: []const u8) void {
            var h = [_]u8{0} ** header_size;
            h[0] = @intFromEnum(kind);
            h[1] = flags;
            std.mem.writeInt(u16, h[2..4], @intCast(path.len), .little);
            std.mem.writeInt(u32, h[4..8], mode, .little);
            std.mem.writeInt(i64, h[16..24], 1_000_000_000, .little);
            std.mem.writeInt(u64, h[24..32], extra.len, .little);
            @memcpy(buffer[at.*..][0..header_size], &h);
            at.* += header_size;
            @memcpy(buffer[at.*..][0..path.len], path);
            at.* += path.len;
            @memcpy(buffer[at.*..][0..extra.len], extra);
            at.* += extra.len;
        }
    }.record;
    add(&stream, &len, .dir, 0, "d", 0o755, "");
    add(&stream, &len, .file, flag_times, "d/f", 0o640, "abc");
    add(&stream, &len, .link, 0, "d/g", 0, "d/f");
    add(&stream, &len, .symlink, 0, "d/s", 0, "/etc/passwd");
    add(&stream, &len, .dir, 0, "out", 0o755, ""); // EEXIST: a record that fails
    var input = Input.init(-1, stream[0..len]);
    var parent = Parent{};
    defer parent.forget();
    for (0..4) |_| {
        var header: [header_size]u8 = undefined;
        try std.testing.expectEqual(@as(usize, header_size), try input.read(&header));
        const record = Record.parse(&header);
        try std.testing.expect(record.malformed() == null);
        const path = try read_name(&input, record.path_len, &path_buffer);
        try apply(root, &parent, &record, path, &input);
    }
    var header: [header_size]u8 = undefined;
    _ = try input.read(&header);
    const record = Record.parse(&header);
    const path = try read_name(&input, record.path_len, &path_buffer);
    try std.testing.expectError(error.Failed, apply(root, &parent, &record, path, &input));
    try std.testing.expectEqual(sys.EEXIST, failure.errno);
    var content: [8]u8 = undefined;
    try std.testing.expectEqualStrings("abc", try tmp.dir.readFile("root/d/g", &content));
    const stat = try tmp.dir.statFile("root/d/f");
    try std.testing.expectEqual(@as(u32, 0o640), @as(u32, @intCast(stat.mode & 0o777)));
    try std.testing.expectEqual(@as(i128, 1_000_000_000 * std.time.ns_per_s), stat.mtime);
    var link: [64]u8 = undefined;
    try std.testing.expectEqualStrings("/etc/passwd", try tmp.dir.readLink("root/d/s", &link));
}
