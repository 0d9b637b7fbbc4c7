//! File ops: WRITE_FILE, MKDIR, TOUCH, SYMLINK. Each creates through the parent
//! directory's fd so the last component is never followed when it is made.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const root = @import("root.zig");

/// Creates or truncates `path` (0644, never through a symlink at the last component) and
/// writes `content` in one write: proc files such as timens_offsets or uid_map take a
/// whole write or nothing.
pub fn write_file(current: *?sys.fd_t, path: []const u8, content: []const u8) sys.Error!void {
    var parent: root.Parent = undefined;
    try root.open_parent(current.*, path, &parent);
    defer sys.close(parent.fd);
    const flags = sys.O.WRONLY | sys.O.CREAT | sys.O.TRUNC | sys.O.NOFOLLOW | sys.O.NOCTTY;
    const fd = try sys.openat(parent.fd, parent.name, flags, 0o644);
    defer sys.close(fd);
    if (content.len > 0) try sys.write_once(fd, content);
}

pub fn mkdir(current: *?sys.fd_t, path: []const u8, mode: u64) sys.Error!void {
    assert(mode <= 0o7777); // The decoder bounds it.
    try root.mkdir_all(current.*, path, @intCast(mode));
}

/// An empty regular file if nothing is there; parents are made like MKDIR with 0755.
pub fn touch(current: *?sys.fd_t, path: []const u8, mode: u64) sys.Error!void {
    assert(mode <= 0o7777);
    var parent: root.Parent = undefined;
    try make_parents(current, path);
    try root.open_parent(current.*, path, &parent);
    defer sys.close(parent.fd);
    const flags = sys.O.WRONLY | sys.O.CREAT | sys.O.EXCL | sys.O.NOFOLLOW | sys.O.NOCTTY;
    const fd = sys.openat(parent.fd, parent.name, flags, @intCast(mode)) catch |err| switch (err) {
        error.EXIST => return,
        else => return err,
    };
    sys.close(fd);
}

pub fn symlink(current: *?sys.fd_t, target: [*:0]const u8, linkpath: []const u8) sys.Error!void {
    var parent: root.Parent = undefined;
    try root.open_parent(current.*, linkpath, &parent);
    defer sys.close(parent.fd);
    try sys.symlinkat(target, parent.fd, parent.name);
}

/// Makes the directories above `path`'s last component.
pub fn make_parents(current: *?sys.fd_t, path: []const u8) sys.Error!void {
    const trimmed = std.mem.trimRight(u8, path, "/");
    const slash = std.mem.lastIndexOfScalar(u8, trimmed, '/') orelse return;
    if (slash == 0) return;
    try root.mkdir_all(current.*, trimmed[0..slash], 0o755);
}

test "file ops create inside a root" {
    const testing = std.testing;
    var dir = testing.tmpDir(.{});
    defer dir.cleanup();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const base = try dir.dir.realpath(".", &path_buffer);
    var z: [4096]u8 = undefined;
    @memcpy(z[0..base.len], base);
    z[base.len] = 0;
    var current: ?sys.fd_t = null;
    try root.set(&current, z[0..base.len :0]);
    defer sys.close(current.?);
    try touch(&current, "x/y/file", 0o600);
    try touch(&current, "x/y/file", 0o600); // Already there: fine.
    try write_file(&current, "x/y/file", "hello");
    var read_buffer: [16]u8 = undefined;
    try testing.expectEqualStrings("hello", try dir.dir.readFile("x/y/file", &read_buffer));
    try symlink(&current, "/etc/passwd", "x/link");
    try testing.expectError(error.EXIST, symlink(&current, "/etc/passwd", "x/link"));
    // Writing through a symlink at the last component is refused.
    try testing.expectError(error.LOOP, write_file(&current, "x/link", "no"));
    try mkdir(&current, "x/d/e", 0o700);
    try dir.dir.access("x/d/e", .{});
}
