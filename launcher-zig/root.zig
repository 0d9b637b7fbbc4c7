//! Path resolution for ops that run in the container process (protocol.md, "Paths"):
//! a relative path resolves inside the current root with openat2(RESOLVE_IN_ROOT), so
//! `..` and symlinks, absolute ones included, cannot leave it; an absolute path is a host
//! path and is used as given. Everything is opened O_PATH and handed on as an fd, so what
//! was checked is what gets used.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

/// `current` everywhere below: the current root (SET_ROOT, or `/` after PIVOT_ROOT), null
/// until one is set. The container process keeps it in its State (state.zig).
pub fn set(current: *?sys.fd_t, path: [*:0]const u8) sys.Error!void {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.PATH | sys.O.DIRECTORY, 0);
    if (current.*) |old| sys.close(old);
    current.* = fd;
}

/// Opens `path` with `flags` (O_PATH, maybe O_DIRECTORY or O_NOFOLLOW).
pub fn open(current: ?sys.fd_t, path: []const u8, flags: u32) sys.Error!sys.fd_t {
    var buffer: [protocol.path_bytes_max + 1]u8 = undefined;
    return open_z(current, terminate(path, &buffer) orelse return error.NAMETOOLONG, flags);
}

fn open_z(current: ?sys.fd_t, path: [:0]const u8, flags: u32) sys.Error!sys.fd_t {
    if (path.len > 0 and path[0] == '/') return sys.openat(sys.AT_FDCWD, path, flags, 0);
    const root = current orelse return error.NOENT;
    // Magic links (/proc/self/fd/N, /proc/PID/root) would be a way out of the root.
    return sys.openat2(root, path, flags, sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS);
}

/// Whether `path` exists (following symlinks inside the root).
pub fn exists(current: ?sys.fd_t, path: []const u8) sys.Error!bool {
    const fd = open(current, path, sys.O.PATH) catch |err| switch (err) {
        error.NOENT => return false,
        else => return err,
    };
    sys.close(fd);
    return true;
}

pub const Parent = struct {
    fd: sys.fd_t,
    /// The last component, NUL-terminated, in `Parent.name_buffer`.
    name: [:0]const u8,
    name_buffer: [256]u8,
};

/// Opens the directory that holds `path`'s last component, for the *at() calls that
/// create things (mkdirat, symlinkat, openat O_CREAT) without following that component.
pub fn open_parent(current: ?sys.fd_t, path: []const u8, parent: *Parent) sys.Error!void {
    const trimmed = std.mem.trimRight(u8, path, "/");
    if (trimmed.len == 0) return error.EXIST; // `/` (or ``) always exists, cannot be made.
    const slash = std.mem.lastIndexOfScalar(u8, trimmed, '/');
    const name = if (slash) |at| trimmed[at + 1 ..] else trimmed;
    const directory = if (slash) |at| (if (at == 0) "/" else trimmed[0..at]) else ".";
    if (name.len >= parent.name_buffer.len) return error.NAMETOOLONG;
    @memcpy(parent.name_buffer[0..name.len], name);
    parent.name_buffer[name.len] = 0;
    parent.name = parent.name_buffer[0..name.len :0];
    parent.fd = try open(current, directory, sys.O.PATH | sys.O.DIRECTORY);
}

/// `mkdir -p`: creates each missing component with `mode`; an existing directory is fine.
pub fn mkdir_all(current: ?sys.fd_t, path: []const u8, mode: u32) sys.Error!void {
    if (path.len == 0) return error.NOENT;
    var end: usize = 0;
    // One step per component; a path has at most path_bytes_max of them.
    while (end < path.len) {
        end = if (std.mem.indexOfScalarPos(u8, path, end + 1, '/')) |at| at else path.len;
        const prefix = path[0..end];
        const component = if (std.mem.lastIndexOfScalar(u8, prefix, '/')) |at| prefix[at + 1 ..] else prefix;
        if (component.len == 0 or std.mem.eql(u8, component, ".") or std.mem.eql(u8, component, "..")) continue;
        try mkdir_one(current, prefix, mode);
    }
}

fn mkdir_one(current: ?sys.fd_t, prefix: []const u8, mode: u32) sys.Error!void {
    if (open(current, prefix, sys.O.PATH | sys.O.DIRECTORY)) |fd| {
        sys.close(fd);
        return;
    } else |err| if (err != error.NOENT) return err;
    var parent: Parent = undefined;
    try open_parent(current, prefix, &parent);
    defer sys.close(parent.fd);
    sys.mkdirat(parent.fd, parent.name, mode) catch |err| switch (err) {
        error.EXIST => {}, // A dangling symlink or a race: checked just below.
        else => return err,
    };
    const fd = try open(current, prefix, sys.O.PATH | sys.O.DIRECTORY);
    sys.close(fd);
}

fn terminate(path: []const u8, buffer: *[protocol.path_bytes_max + 1]u8) ?[:0]const u8 {
    if (path.len > protocol.path_bytes_max) return null;
    @memcpy(buffer[0..path.len], path);
    buffer[path.len] = 0;
    return buffer[0..path.len :0];
}

/// `/proc/self/fd/N`: how a mount call reaches the very file an fd holds.
pub fn fd_path(fd: sys.fd_t, buffer: *[32]u8) [:0]const u8 {
    assert(fd >= 0);
    return std.fmt.bufPrintZ(buffer, "/proc/self/fd/{d}", .{fd}) catch unreachable;
}

test "fd_path" {
    var buffer: [32]u8 = undefined;
    try std.testing.expectEqualStrings("/proc/self/fd/7", fd_path(7, &buffer));
}

test "relative paths need a root, and cannot leave it" {
    const testing = std.testing;
    var current: ?sys.fd_t = null;
    try testing.expectError(error.NOENT, open(current, "etc", sys.O.PATH));
    // Build a root with a symlink pointing out of it, and check it resolves inside.
    var dir = testing.tmpDir(.{});
    defer dir.cleanup();
    try dir.dir.makePath("inside/etc");
    try dir.dir.symLink("/", "inside/escape", .{});
    try dir.dir.symLink("../../../../..", "inside/up", .{});
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const inside = try dir.dir.realpath("inside", &path_buffer);
    var z: [protocol.path_bytes_max + 1]u8 = undefined;
    try set(&current, terminate(inside, &z).?);
    defer sys.close(current.?);
    try testing.expect(try exists(current, "etc"));
    try testing.expect(try exists(current, "escape/etc")); // `/` is the root: inside/etc.
    try testing.expect(!try exists(current, "escape/proc"));
    try testing.expect(!try exists(current, "up/proc"));
    try mkdir_all(current, "a/b/../c/./d", 0o755);
    try testing.expect(try exists(current, "a/c/d"));
    try mkdir_all(current, "escape/made", 0o755);
    try dir.dir.access("inside/made", .{}); // Made inside, not at the host's `/made`.
    var parent: Parent = undefined;
    try open_parent(current, "a/c/d/", &parent);
    sys.close(parent.fd);
    try testing.expectEqualStrings("d", parent.name);
}
