//! COPY_TREE (protocol.md "COPY_TREE"): the flatten fallback where the kernel refuses
//! overlayfs in a user namespace. The tree at `source` is merged into the directory `target`
//! (a directory there stays and takes the source's metadata; anything else there is
//! replaced), keeping types, modes, owners, times and xattrs. The core decides what the
//! layers mean: with flag `whiteouts` a character device 0/0 in the source removes what the
//! target has at its path (an overlayfs whiteout), and a directory whose xattr `opaque_xattr`
//! is `y` replaces the target's directory instead of merging into it; that xattr is not copied.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const dirents = @import("dirents.zig");
const root = @import("root.zig");
const fs_userns = @import("fs_userns.zig");

pub const CopyTree = std.meta.TagPayload(protocol.Op, .copy_tree);

/// Deepest directory walked (a path is at most 4095 bytes: 2048 levels).
const depth_max = 2048;

const Options = struct { whiteouts: bool, opaque_xattr: [:0]const u8 };

/// xattr names and one value at a time; never held across a recursion.
var names: [65536]u8 = undefined;
var value: [65536]u8 = undefined;
/// A symlink's target (at most PATH_MAX with its NUL).
var link_target: [4097]u8 = undefined;

pub fn copy_tree(current: *?sys.fd_t, o: CopyTree) sys.Error!void {
    assert(o.flags & ~protocol.copy_tree_flags_known == 0); // The decoder checked.
    const source = try root.open(current.*, o.source, sys.O.RDONLY | sys.O.DIRECTORY);
    defer sys.close(source);
    const target = try root.open(current.*, o.target, sys.O.RDONLY | sys.O.DIRECTORY);
    defer sys.close(target);
    const options = Options{ .whiteouts = o.flags & protocol.copy_tree_flag_whiteouts != 0, .opaque_xattr = o.opaque_xattr };
    try copy_entries(source, target, options, 0);
}

/// Each entry of the directory `source` into the directory `target`.
fn copy_entries(source: sys.fd_t, target: sys.fd_t, options: Options, depth: usize) sys.Error!void {
    if (depth >= depth_max) return error.NAMETOOLONG;
    var buffer: [1024]u8 align(8) = undefined;
    var entries = dirents.Iterator.init(source, &buffer);
    while (try entries.next()) |name| try copy_entry(source, target, name, options, depth);
}

fn copy_entry(source: sys.fd_t, target: sys.fd_t, name: [*:0]const u8, options: Options, depth: usize) sys.Error!void {
    var stat: sys.Stat = undefined;
    try sys.lstatat(source, name, &stat);
    const kind = stat.mode & sys.S_IFMT;
    if (kind == sys.S_IFCHR and stat.rdev == 0 and options.whiteouts) return fs_userns.remove_tree(target, name);
    if (kind == sys.S_IFDIR) return copy_directory(source, target, name, &stat, options, depth);
    try fs_userns.remove_tree(target, name);
    switch (kind) {
        sys.S_IFREG => try copy_file(source, target, name, &stat),
        sys.S_IFLNK => {
            const length = try sys.readlinkat(source, name, link_target[0 .. link_target.len - 1]);
            if (length >= link_target.len - 1) return error.NAMETOOLONG;
            link_target[length] = 0;
            try sys.symlinkat(link_target[0..length :0], target, name);
            try chown(target, name, &stat);
            try sys.lutimesat_ns(target, name, stat.mtim.sec, stat.mtim.nsec);
        },
        else => {
            // Devices, FIFOs and sockets: made again (a device outside a user namespace's
            // power is EPERM, named by the op's error).
            try sys.mknodat(target, name, stat.mode & (sys.S_IFMT | 0o7777), @intCast(stat.rdev));
            try chown(target, name, &stat);
            try sys.lutimesat_ns(target, name, stat.mtim.sec, stat.mtim.nsec);
        },
    }
}

fn copy_directory(source: sys.fd_t, target: sys.fd_t, name: [*:0]const u8, stat: *const sys.Stat, options: Options, depth: usize) sys.Error!void {
    const from = try sys.openat(source, name, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    defer sys.close(from);
    var existing: sys.Stat = undefined;
    const there = if (sys.lstatat(target, name, &existing)) |_| true else |err| switch (err) {
        error.NOENT => false,
        else => return err,
    };
    if (there and (existing.mode & sys.S_IFMT != sys.S_IFDIR or is_opaque(from, options))) try fs_userns.remove_tree(target, name);
    sys.mkdirat(target, name, 0o700) catch |err| switch (err) {
        error.EXIST => {},
        else => return err,
    };
    const to = try sys.openat(target, name, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    defer sys.close(to);
    try copy_entries(from, to, options, depth + 1);
    try fchown(to, stat);
    try sys.fchmod(to, stat.mode & 0o7777);
    try copy_xattrs(from, to, options);
    try sys.futimens(to, stat.mtim.sec, stat.mtim.nsec);
}

fn copy_file(source: sys.fd_t, target: sys.fd_t, name: [*:0]const u8, stat: *const sys.Stat) sys.Error!void {
    const from = try sys.openat(source, name, sys.O.RDONLY | sys.O.NOFOLLOW, 0);
    defer sys.close(from);
    const to = try sys.openat(target, name, sys.O.WRONLY | sys.O.CREAT | sys.O.EXCL | sys.O.NOFOLLOW, 0o600);
    defer sys.close(to);
    var left: u64 = @intCast(stat.size);
    while (left > 0) {
        const sent = try sys.sendfile(to, from, @intCast(@min(left, 1 << 30)));
        if (sent == 0) break; // The file shrank while we copied: what it held is what it has.
        left -= @min(left, sent);
    }
    // Owner first: chown clears set-id bits and security.capability, which come after it.
    try fchown(to, stat);
    try sys.fchmod(to, stat.mode & 0o7777);
    try copy_xattrs(from, to, .{ .whiteouts = false, .opaque_xattr = "" });
    try sys.futimens(to, stat.mtim.sec, stat.mtim.nsec);
}

/// An owner the namespace does not map (the overflow id, "nobody") is EINVAL: the copy stays
/// the copier's own, root's inside.
fn fchown(fd: sys.fd_t, stat: *const sys.Stat) sys.Error!void {
    sys.fchown(fd, stat.uid, stat.gid) catch |err| switch (err) {
        error.INVAL => {},
        else => return err,
    };
}

fn chown(dir: sys.fd_t, name: [*:0]const u8, stat: *const sys.Stat) sys.Error!void {
    sys.lchownat(dir, name, stat.uid, stat.gid) catch |err| switch (err) {
        error.INVAL => {},
        else => return err,
    };
}

fn is_opaque(dir: sys.fd_t, options: Options) bool {
    if (options.opaque_xattr.len == 0) return false;
    const length = sys.fgetxattr(dir, options.opaque_xattr, value[0..2]) catch return false;
    return length == 1 and value[0] == 'y';
}

/// Every xattr this process may read of `from`, set on `to`, but the opaque marker. One the
/// target cannot take (a `trusted.` name in a user namespace, a file system without user
/// xattrs) is left out, as `cp -a` leaves it.
fn copy_xattrs(from: sys.fd_t, to: sys.fd_t, options: Options) sys.Error!void {
    const listed = sys.flistxattr(from, &names) catch |err| switch (err) {
        error.OPNOTSUPP => return,
        else => return err,
    };
    var start: usize = 0;
    while (start < listed) {
        const end = std.mem.indexOfScalarPos(u8, names[0..listed], start, 0) orelse listed;
        if (end == listed) return error.IO; // Never from a kernel: each name ends in NUL.
        const xattr: [:0]const u8 = names[start..end :0];
        start = end + 1;
        if (options.opaque_xattr.len > 0 and std.mem.eql(u8, xattr, options.opaque_xattr)) continue;
        const length = sys.fgetxattr(from, xattr, &value) catch |err| switch (err) {
            error.NODATA => continue, // Removed in between.
            else => return err,
        };
        sys.fsetxattr(to, xattr, value[0..length]) catch |err| switch (err) {
            error.PERM, error.OPNOTSUPP => {},
            else => return err,
        };
    }
}

test "copy_tree merges a tree, applies whiteouts and opaque directories, keeps modes and links" {
    const testing = std.testing;
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("to/gone");
    try tmp.dir.makePath("to/keep");
    try tmp.dir.writeFile(.{ .sub_path = "to/keep/old", .data = "old" });
    try tmp.dir.writeFile(.{ .sub_path = "to/file", .data = "replaced" });
    try tmp.dir.makePath("from/keep");
    try tmp.dir.writeFile(.{ .sub_path = "from/keep/new", .data = "new" });
    try tmp.dir.writeFile(.{ .sub_path = "from/file", .data = "copied" });
    try tmp.dir.symLink("/outside", "from/link", .{});
    const base = try sys.openat(tmp.dir.fd, ".", sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(base);
    // A whiteout: a character device 0/0 (any user may make one since Linux 5.8).
    try sys.mknodat(base, "from/gone", sys.S_IFCHR | 0o600, 0);
    const from = try sys.openat(base, "from", sys.O.RDONLY | sys.O.DIRECTORY, 0);
    defer sys.close(from);
    const to = try sys.openat(base, "to", sys.O.RDONLY | sys.O.DIRECTORY, 0);
    defer sys.close(to);
    try copy_entries(from, to, .{ .whiteouts = true, .opaque_xattr = "user.overlay.opaque" }, 0);
    var buffer: [64]u8 = undefined;
    try testing.expectEqualStrings("copied", try tmp.dir.readFile("to/file", &buffer));
    try testing.expectEqualStrings("old", try tmp.dir.readFile("to/keep/old", &buffer));
    try testing.expectEqualStrings("new", try tmp.dir.readFile("to/keep/new", &buffer));
    try testing.expectEqualStrings("/outside", try tmp.dir.readLink("to/link", &buffer));
    try testing.expectError(error.FileNotFound, tmp.dir.access("to/gone", .{}));
}
