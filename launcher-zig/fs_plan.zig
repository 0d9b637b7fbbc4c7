//! Runs an fs plan (protocol.md "Fs plans"): FS_ROOT, then MKNOD, SETXATTR and READ_XATTRS
//! on paths inside that root, run one after the other by the launcher itself — no CLONE, no
//! monitor. This is what Node cannot do for image layers: whiteouts (char device 0/0),
//! devices, FIFOs, and xattrs such as security.capability and overlay's opaque markers.
//!
//! Every path is resolved inside the root: its parent directory with openat2
//! RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS (`..` and symlinks, absolute ones too, stay in the
//! root), then the last component is acted on without being followed — mknodat on the
//! parent's fd, the l*xattr calls on /proc/self/fd/PARENT/NAME. The first failure ends the
//! plan: an ERROR naming the op, the errno and the path, then EXIT kind 2 value 125.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const write_stream = @import("write_stream.zig");
const fs_userns = @import("fs_userns.zig");
const overlay_probe = @import("overlay_probe.zig");

/// A SETXATTR value, decoded from its hex; READ_XATTRS' names and one value at a time.
var value_buffer: [protocol.xattr_value_bytes_max]u8 = undefined;
var names_buffer: [65536]u8 = undefined; // XATTR_LIST_MAX
var read_buffer: [protocol.xattr_read_bytes_max]u8 = undefined;

/// `reader`: the plan fd past END, where WRITE_STREAM's records come.
pub fn run(channel: *events.Channel, plan: *const decode.Plan, reader: anytype) noreturn {
    assert(plan.fs);
    const ops = plan.slice();
    assert(ops.len >= 1 and ops[0] == .fs_root); // The decoder requires it.
    sys.umask(0); // Modes exactly as the plan says.
    var root: sys.fd_t = -1;
    for (ops, 0..) |op, index| {
        assert(Op.runner(op) == .fs);
        const start_ns = if (channel.trace) sys.monotonic_ns() else 0;
        const code = @intFromEnum(Op.frame_type(op));
        run_op(channel, index, op, &root) catch |err| {
            const errno = sys.errno_of(err); // First, before anything else can fail.
            var message = events.Message{};
            describe(op, &message);
            channel.failure(index, code, errno, message.slice());
            channel.exit(.launcher_failed, 125);
            sys.exit(125);
        };
        if (channel.trace) channel.op_time(index, code, sys.monotonic_ns() - start_ns);
    }
    if (ops[ops.len - 1] == .write_stream) write_stream.run(channel, root, reader);
    channel.exit(.exited, 0);
    sys.exit(0);
}

fn run_op(channel: *events.Channel, index: usize, op: Op, root: *sys.fd_t) sys.Error!void {
    switch (op) {
        .fs_root => |o| {
            // The root is the orchestrator's own path (a layer's directory): followed as given.
            const fd = try sys.openat(sys.AT_FDCWD, o.path, sys.O.PATH | sys.O.DIRECTORY, 0);
            if (root.* >= 0) sys.close(root.*);
            root.* = fd;
        },
        .mknod => |o| {
            assert(root.* >= 0);
            const entry = try Entry.open(root.*, o.path);
            defer entry.close();
            try sys.mknodat(entry.parent, entry.name(), @intCast(o.mode), @intCast(o.rdev));
        },
        .setxattr => |o| {
            assert(root.* >= 0);
            const value = hex_decode(o.value, &value_buffer);
            const entry = try Entry.open(root.*, o.path);
            defer entry.close();
            try sys.lsetxattr(entry.proc_path(), o.name, value);
        },
        .read_xattrs => |o| {
            assert(root.* >= 0);
            const entry = try Entry.open(root.*, o.path);
            defer entry.close();
            try read_xattrs(channel, index, &entry);
        },
        .write_stream => assert(root.* >= 0), // Its records come after END: run() above.
        // Returns in the child, in the user namespace; the launcher waits for it and exits.
        .fs_userns => |o| try fs_userns.enter(channel, index, o),
        .remove_tree => |o| {
            assert(root.* >= 0);
            const entry = try Entry.open(root.*, o.path);
            defer entry.close();
            try fs_userns.remove_tree(entry.parent, entry.name());
        },
        .overlay_probe => try overlay_probe.probe(),
        else => unreachable, // The decoder keeps other ops out of fs plans.
    }
}

/// One XATTR event per xattr of the entry, in the kernel's order. A value over 4 KiB is
/// ERANGE; an xattr removed between the list and the read is skipped.
fn read_xattrs(channel: *events.Channel, index: usize, entry: *const Entry) sys.Error!void {
    const proc = entry.proc_path();
    const length = try sys.llistxattr(proc, &names_buffer);
    assert(length <= names_buffer.len);
    var names = std.mem.splitScalar(u8, names_buffer[0..length], 0);
    while (names.next()) |name| {
        if (name.len == 0) continue; // After the last NUL.
        assert(name.len <= protocol.xattr_name_bytes_max);
        // The kernel NUL-terminated each name in names_buffer.
        const name_z: [:0]const u8 = name.ptr[0..name.len :0];
        const size = sys.lgetxattr(proc, name_z, &read_buffer) catch |err| switch (err) {
            error.NODATA => continue,
            else => return err,
        };
        channel.xattr(index, name, read_buffer[0..size]);
    }
}

/// `hex` (even length, lowercase: the decoder checked) as bytes in `buffer`.
fn hex_decode(hex: []const u8, buffer: []u8) []const u8 {
    assert(hex.len % 2 == 0 and hex.len / 2 <= buffer.len);
    for (0..hex.len / 2) |i| buffer[i] = nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]);
    return buffer[0 .. hex.len / 2];
}

fn nibble(c: u8) u8 {
    assert(std.ascii.isDigit(c) or (c >= 'a' and c <= 'f'));
    return if (c <= '9') c - '0' else c - 'a' + 10;
}

/// A path inside the root: its parent directory open (O_PATH), resolved in the root, and
/// its last component, never followed.
const Entry = struct {
    parent: sys.fd_t,
    /// "/proc/self/fd/PARENT/NAME": the l*xattr calls take a path, not an fd and a name.
    proc: [32 + protocol.path_bytes_max + 1]u8,
    proc_len: usize,
    name_start: usize,

    fn open(root: sys.fd_t, path: [:0]const u8) sys.Error!Entry {
        assert(protocol.is_clean_relative(path));
        var directory: [protocol.path_bytes_max + 1]u8 = undefined;
        const slash = std.mem.lastIndexOfScalar(u8, path, '/');
        const dir_len = if (slash) |s| s else 1;
        if (slash) |s| @memcpy(directory[0..s], path[0..s]) else directory[0] = '.';
        directory[dir_len] = 0;
        const resolve = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS;
        const parent = try sys.openat2(root, directory[0..dir_len :0], sys.O.PATH | sys.O.DIRECTORY, resolve);
        var entry = Entry{ .parent = parent, .proc = undefined, .proc_len = 0, .name_start = 0 };
        const base = path[if (slash) |s| s + 1 else 0..];
        const prefix = std.fmt.bufPrint(&entry.proc, "/proc/self/fd/{d}/", .{parent}) catch unreachable; // 32 bytes hold it.
        entry.name_start = prefix.len;
        @memcpy(entry.proc[prefix.len..][0..base.len], base);
        entry.proc_len = prefix.len + base.len;
        entry.proc[entry.proc_len] = 0;
        return entry;
    }

    fn name(entry: *const Entry) [*:0]const u8 {
        return entry.proc[entry.name_start..entry.proc_len :0];
    }

    fn proc_path(entry: *const Entry) [*:0]const u8 {
        return entry.proc[0..entry.proc_len :0];
    }

    fn close(entry: *const Entry) void {
        assert(entry.parent >= 0);
        sys.close(entry.parent);
    }
};

/// The op's subject in a few words, for its ERROR.
fn describe(op: Op, message: *events.Message) void {
    switch (op) {
        .fs_root => |o| message.print("open root {s}", .{o.path}),
        .mknod => |o| message.print("mknod {s}", .{o.path}),
        .setxattr => |o| message.print("setxattr {s} on {s}", .{ o.name, o.path }),
        .read_xattrs => |o| message.print("read xattrs of {s}", .{o.path}),
        .write_stream => message.print("write stream", .{}),
        .fs_userns => |o| message.print("{s}", .{o.newuidmap}),
        .remove_tree => |o| message.print("remove {s}", .{o.path}),
        .overlay_probe => message.print("overlayfs with userxattr in a user namespace", .{}),
        else => unreachable,
    }
}

test "hex decodes to bytes" {
    var buffer: [8]u8 = undefined;
    try std.testing.expectEqualSlices(u8, "\x00\x01\xff\x7f", hex_decode("0001ff7f", &buffer));
    try std.testing.expectEqualSlices(u8, "", hex_decode("", &buffer));
}

test "an entry's parent resolves inside the root, its name is not followed" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("a/b");
    try tmp.dir.symLink("/", "a/out", .{});
    const root = try sys.openat(tmp.dir.fd, ".", sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(root);
    const entry = try Entry.open(root, "a/b/c");
    defer entry.close();
    try std.testing.expectEqualStrings("c", std.mem.span(entry.name()));
    try std.testing.expect(std.mem.startsWith(u8, std.mem.span(entry.proc_path()), "/proc/self/fd/"));
    try std.testing.expect(std.mem.endsWith(u8, std.mem.span(entry.proc_path()), "/c"));
    // "a/out" points at the host's /: inside the root it is the root itself, which has no "etc".
    try std.testing.expectError(error.NOENT, Entry.open(root, "a/out/etc/passwd"));
    const top = try Entry.open(root, "x");
    defer top.close();
    try std.testing.expectEqualStrings("x", std.mem.span(top.name()));
}
