//! EXEC: execve, with an execvpe-like search when the path has no `/`.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

/// Returns only on failure, with the errno execvpe would report: the last attempt's,
/// except that EACCES seen on the way wins over a final ENOENT.
pub fn exec(path: [:0]const u8, argv: protocol.Strs, env: protocol.Strs, search: protocol.Strs) sys.Error {
    assert(argv.len >= 1); // The decoder requires it.
    if (path.len == 0) return error.NOENT;
    if (std.mem.indexOfScalar(u8, path, '/') != null) return sys.execve(path, argv.ptr, env.ptr);
    var saw_access_denied = false;
    var buffer: [protocol.path_bytes_max * 2 + 2]u8 = undefined;
    for (search) |directory_pointer| {
        const directory = std.mem.span(directory_pointer.?);
        const candidate = join(directory, path, &buffer) orelse continue; // Too long to exist.
        switch (sys.execve(candidate, argv.ptr, env.ptr)) {
            error.NOENT, error.NOTDIR, error.NAMETOOLONG => {},
            error.ACCES => saw_access_denied = true,
            else => |err| return err,
        }
    }
    return if (saw_access_denied) error.ACCES else error.NOENT;
}

/// `directory/name`; an empty directory means the current one, as in PATH.
fn join(directory: []const u8, name: []const u8, buffer: []u8) ?[:0]const u8 {
    assert(name.len <= protocol.path_bytes_max);
    if (directory.len > protocol.path_bytes_max) return null;
    const prefix = directory;
    const separator: []const u8 = if (prefix.len == 0 or prefix[prefix.len - 1] == '/') "" else "/";
    return std.fmt.bufPrintZ(buffer, "{s}{s}{s}", .{ prefix, separator, name }) catch unreachable;
}

test "join" {
    var buffer: [protocol.path_bytes_max * 2 + 2]u8 = undefined;
    try std.testing.expectEqualStrings("/bin/sh", join("/bin", "sh", &buffer).?);
    try std.testing.expectEqualStrings("/bin/sh", join("/bin/", "sh", &buffer).?);
    try std.testing.expectEqualStrings("sh", join("", "sh", &buffer).?);
}
