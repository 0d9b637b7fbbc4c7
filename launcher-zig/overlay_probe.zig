//! OVERLAY_PROBE (protocol.md "OVERLAY_PROBE"): may this process mount an overlayfs with
//! `userxattr` in a user namespace of its own, as a rootless container's OVERLAY does? The
//! kernel answers, not its version (Linux 5.11 allowed it; a distribution may forbid it, an
//! older tmpfs has no user xattrs for the upper). A forked child makes a user and mount
//! namespace (its own uid and gid as root, as `unshare -r` does), a detached tmpfs, and on it
//! a detached overlay — nothing is attached anywhere, so nothing outlives the child — and
//! exits with 0 or the errno of the call that failed, which becomes this op's error.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const root = @import("root.zig");

pub fn probe() sys.Error!void {
    const pid = try sys.fork();
    if (pid == 0) {
        const errno: u16 = if (in_child()) |_| 0 else |err| sys.errno_of(err);
        sys.exit(@intCast(@min(errno, 255)));
    }
    var status: u32 = 0;
    _ = try sys.wait4(pid, &status, 0);
    if (status & 0x7f != 0) return error.INTR; // Killed: no answer.
    const code: u16 = @intCast((status >> 8) & 0xff);
    if (code != 0) return sys.error_of_errno(code);
}

fn in_child() sys.Error!void {
    const uid = sys.getuid();
    const gid = sys.getgid();
    try sys.unshare(protocol.CLONE_NEWUSER | protocol.CLONE_NEWNS);
    var line: [64]u8 = undefined;
    try write_file("/proc/self/setgroups", "deny");
    try write_file("/proc/self/uid_map", std.fmt.bufPrint(&line, "0 {d} 1", .{uid}) catch unreachable);
    try write_file("/proc/self/gid_map", std.fmt.bufPrint(&line, "0 {d} 1", .{gid}) catch unreachable);
    const tmpfs_context = try sys.fsopen("tmpfs");
    try sys.fsconfig(tmpfs_context, sys.FSCONFIG_CMD_CREATE, null, null);
    const tmpfs = try sys.fsmount(tmpfs_context);
    for ([_][*:0]const u8{ "l", "u", "w" }) |name| try sys.mkdirat(tmpfs, name, 0o755);
    var buffer: [32]u8 = undefined;
    const base = root.fd_path(tmpfs, &buffer);
    var paths: [3][48]u8 = undefined;
    const context = try sys.fsopen("overlay");
    try sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "lowerdir", join(&paths[0], base, "l"));
    try sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "upperdir", join(&paths[1], base, "u"));
    try sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "workdir", join(&paths[2], base, "w"));
    try sys.fsconfig(context, sys.FSCONFIG_SET_FLAG, "userxattr", null);
    try sys.fsconfig(context, sys.FSCONFIG_CMD_CREATE, null, null);
    _ = try sys.fsmount(context);
}

fn write_file(path: [*:0]const u8, content: []const u8) sys.Error!void {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY, 0);
    defer sys.close(fd);
    try sys.write_once(fd, content);
}

fn join(buffer: *[48]u8, base: []const u8, name: []const u8) [*:0]const u8 {
    assert(base.len + 1 + name.len < buffer.len);
    return (std.fmt.bufPrintZ(buffer, "{s}/{s}", .{ base, name }) catch unreachable).ptr;
}
