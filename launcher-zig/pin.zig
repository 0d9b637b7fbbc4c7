//! Pinned namespaces (protocol.md "Pinned namespaces"): a namespace lives on with no process
//! in it while a bind mount of its nsfs file exists. PIN_NEW makes new ones and pins each
//! under a directory; UNPIN removes one pin. Both run in a control plan (no clone): the
//! launcher unshares itself, and the binds are made in its (the host's) mount namespace.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

const Kind = struct { flag: u64, name: []const u8 };
/// The types PIN_NEW makes, as /proc/self/ns names them.
const kinds = [_]Kind{
    .{ .flag = protocol.CLONE_NEWNET, .name = "net" },
    .{ .flag = protocol.CLONE_NEWUTS, .name = "uts" },
    .{ .flag = protocol.CLONE_NEWIPC, .name = "ipc" },
    .{ .flag = protocol.CLONE_NEWCGROUP, .name = "cgroup" },
};
comptime {
    var all: u64 = 0;
    for (kinds) |kind| all |= kind.flag;
    assert(all == protocol.pin_new_known);
}

const UMOUNT_NOFOLLOW: u32 = 8;
const Path = [protocol.path_bytes_max + 1]u8;

/// PIN_NEW: unshare(flags), then for each type bind /proc/self/ns/TYPE on `dir`/TYPE, a file
/// made here (exclusive: a pin is never made over anything). A failure undoes the pins made.
pub fn create(flags: u64, dir: []const u8) sys.Error!void {
    assert(flags != 0 and flags & ~protocol.pin_new_known == 0); // The decoder checked.
    try sys.unshare(flags);
    for (kinds, 0..) |kind, made| {
        if (flags & kind.flag == 0) continue;
        pin_one(dir, kind.name) catch |err| {
            for (kinds[0..made]) |undo| {
                if (flags & undo.flag == 0) continue;
                var buffer: Path = undefined;
                remove(join(&buffer, dir, undo.name)) catch {};
            }
            return err;
        };
    }
}

fn join(buffer: *Path, dir: []const u8, name: []const u8) [:0]const u8 {
    return std.fmt.bufPrintZ(buffer, "{s}/{s}", .{ dir, name }) catch unreachable; // The decoder bounds dir.
}

fn pin_one(dir: []const u8, name: []const u8) sys.Error!void {
    var buffer: Path = undefined;
    const path = join(&buffer, dir, name);
    var source_buffer: [32]u8 = undefined;
    const source = std.fmt.bufPrintZ(&source_buffer, "/proc/self/ns/{s}", .{name}) catch unreachable;
    try bind_new(source, path);
}

/// PIN (a parent op): /proc/PID/ns/TYPE of CLONE's process bound on `path`, made here.
pub fn pin_child(pid: sys.pid_t, nstype: u64, path: [:0]const u8) sys.Error!void {
    assert(pid > 0);
    const name = name_of(nstype);
    var source_buffer: [48]u8 = undefined;
    const source = std.fmt.bufPrintZ(&source_buffer, "/proc/{d}/ns/{s}", .{ pid, name }) catch unreachable;
    try bind_new(source, path);
}

/// /proc/PID/ns's name for a CLONE_NEW* bit (the decoder allows one bit of the known ones).
fn name_of(nstype: u64) []const u8 {
    return switch (nstype) {
        protocol.CLONE_NEWNET => "net",
        protocol.CLONE_NEWUTS => "uts",
        protocol.CLONE_NEWIPC => "ipc",
        protocol.CLONE_NEWCGROUP => "cgroup",
        protocol.CLONE_NEWNS => "mnt",
        protocol.CLONE_NEWPID => "pid",
        protocol.CLONE_NEWUSER => "user",
        protocol.CLONE_NEWTIME => "time",
        else => unreachable,
    };
}

fn bind_new(source: [:0]const u8, path: [*:0]const u8) sys.Error!void {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.CREAT | sys.O.EXCL | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0o444);
    sys.close(fd);
    sys.mount(source, path, "", sys.MS_BIND, "") catch |err| {
        sys.unlinkat(sys.AT_FDCWD, path) catch {};
        return err;
    };
}

/// UNPIN: detach the bind mount on `path` (only if it is one of an nsfs file: a pin whose
/// mount is gone is a plain file) and remove the file. A missing path is done already.
pub fn remove(path: [*:0]const u8) sys.Error!void {
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O.PATH | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0) catch |err| switch (err) {
        error.NOENT => return,
        else => return err,
    };
    const fstype = sys.filesystem_type(fd) catch |err| {
        sys.close(fd);
        return err;
    };
    sys.close(fd);
    if (fstype == sys.NSFS_MAGIC) try sys.umount2(path, sys.MNT_DETACH | UMOUNT_NOFOLLOW);
    try sys.unlinkat(sys.AT_FDCWD, path);
}
