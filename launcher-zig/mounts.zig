//! Mount ops: MOUNT, BIND, PIVOT_ROOT, MASK, READONLY, SET_ROOT. Targets are opened
//! O_PATH inside the current root and mounted on through /proc/self/fd/N, so a symlink
//! planted in an image cannot redirect a mount onto the host.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const root = @import("root.zig");
const files = @import("files.zig");

pub fn mount(current: *?sys.fd_t, source: [:0]const u8, target: []const u8, fstype: [:0]const u8, flags: u64, data: [:0]const u8) sys.Error!void {
    assert(flags & ~protocol.mount_flags_known == 0);
    const target_fd = try root.open(current.*, target, sys.O.PATH);
    defer sys.close(target_fd);
    var target_buffer: [32]u8 = undefined;
    try sys.mount(source, root.fd_path(target_fd, &target_buffer), fstype, flags, data);
}

pub fn bind(current: *?sys.fd_t, source: []const u8, target: []const u8, flags: u64) sys.Error!void {
    assert(flags & ~protocol.bind_flags_known == 0);
    const source_fd = try root.open(current.*, source, sys.O.PATH);
    defer sys.close(source_fd);
    if (flags & protocol.bind_flag_create != 0 and !try root.exists(current.*, target)) {
        if (try sys.file_type(source_fd) == sys.S_IFDIR) {
            try root.mkdir_all(current.*, target, 0o755);
        } else {
            try files.touch(current, target, 0o644);
        }
    }
    const recursive = flags & protocol.bind_flag_recursive != 0;
    try bind_fd(current, source_fd, target, recursive);
    var attributes: u64 = 0;
    if (flags & protocol.bind_flag_readonly != 0) attributes |= sys.MOUNT_ATTR_RDONLY;
    if (flags & protocol.bind_flag_nosuid != 0) attributes |= sys.MOUNT_ATTR_NOSUID;
    if (flags & protocol.bind_flag_nodev != 0) attributes |= sys.MOUNT_ATTR_NODEV;
    if (flags & protocol.bind_flag_noexec != 0) attributes |= sys.MOUNT_ATTR_NOEXEC;
    if (flags & protocol.bind_flag_nodiratime != 0) attributes |= sys.MOUNT_ATTR_NODIRATIME;
    // The decoder let through at most one atime mode; relatime is the field's zero.
    var clear: u64 = 0;
    if (flags & protocol.bind_flags_atime != 0) clear = sys.MOUNT_ATTR__ATIME;
    if (flags & protocol.bind_flag_noatime != 0) attributes |= sys.MOUNT_ATTR_NOATIME;
    if (flags & protocol.bind_flag_strictatime != 0) attributes |= sys.MOUNT_ATTR_STRICTATIME;
    if (attributes != 0 or clear != 0) try set_attributes(current, target, attributes, clear, recursive);
}

fn bind_fd(current: *?sys.fd_t, source_fd: sys.fd_t, target: []const u8, recursive: bool) sys.Error!void {
    const target_fd = try root.open(current.*, target, sys.O.PATH);
    defer sys.close(target_fd);
    var source_buffer: [32]u8 = undefined;
    var target_buffer: [32]u8 = undefined;
    const flags = sys.MS_BIND | (if (recursive) sys.MS_REC else 0);
    try sys.mount(root.fd_path(source_fd, &source_buffer), root.fd_path(target_fd, &target_buffer), "", flags, "");
}

/// mknod of `path` inside the current root (parents made 0755), then its mode set exactly
/// (mknod's is cut by the umask) and its owner; something already there is kept, as runc
/// keeps it.
pub fn mknod_dev(current: *?sys.fd_t, path: []const u8, mode: u64, rdev: u64, uid: u64, gid: u64) sys.Error!void {
    assert(mode & ~(protocol.S_IFMT | protocol.mode_max) == 0); // The decoder bounds them.
    assert(rdev <= std.math.maxInt(u32) and uid < std.math.maxInt(u32) and gid < std.math.maxInt(u32));
    try files.make_parents(current, path);
    var parent: root.Parent = undefined;
    try root.open_parent(current.*, path, &parent);
    defer sys.close(parent.fd);
    sys.mknodat(parent.fd, parent.name, @intCast(mode), @intCast(rdev)) catch |err| switch (err) {
        error.EXIST => return,
        else => return err,
    };
    const fd = try sys.openat(parent.fd, parent.name, sys.O.PATH | sys.O.NOFOLLOW, 0);
    defer sys.close(fd);
    var buffer: [32]u8 = undefined;
    try sys.fchmodat(sys.AT_FDCWD, root.fd_path(fd, &buffer), @intCast(mode & protocol.mode_max));
    try sys.lchownat(parent.fd, parent.name, @intCast(uid), @intCast(gid));
}

/// Re-opens `target` (now the root of the new mount, not what was under it), clears the
/// MOUNT_ATTR_* bits `clear` and sets `attributes` on it, on the whole tree if `recursive`.
fn set_attributes(current: *?sys.fd_t, target: []const u8, attributes: u64, clear: u64, recursive: bool) sys.Error!void {
    const fd = try root.open(current.*, target, sys.O.PATH);
    defer sys.close(fd);
    try sys.mount_setattr(fd, attributes, clear, recursive);
}

/// Binds newroot on itself unless it is a mount's root already (pivot_root needs a mount
/// point; a stage directory is not one, an overlay or a bundle rootfs bound on itself before
/// its mounts is: binding that again would drop its unbindable submounts, which a recursive
/// bind does not copy), then chdir(newroot); pivot_root(".", "."); the old root made a
/// recursive slave; umount2(".", MNT_DETACH); chdir("/"): the old root is stacked on the new
/// one and detached, without a directory for it.
///
/// The slave step is not a policy choice but what makes the detach safe whatever `/`'s
/// propagation the plan set: a bundle may ask for `private` or `shared` (rootfsPropagation),
/// which leaves the old root's submounts peers of the host's, and detaching them would then
/// unmount the host's own (every /run/netns/NAME, and on a systemd host every leaf mount). A
/// slave receives from its master but sends nothing back, as runc does before its unmount.
pub fn pivot_root(current: *?sys.fd_t, newroot: []const u8) sys.Error!void {
    {
        const fd = try root.open(current.*, newroot, sys.O.PATH | sys.O.DIRECTORY);
        defer sys.close(fd);
        if (!try sys.is_mount_root(fd)) try bind_fd(current, fd, newroot, true);
    }
    // Opened again: the fd above is the directory under the new mount.
    const fd = try root.open(current.*, newroot, sys.O.PATH | sys.O.DIRECTORY);
    defer sys.close(fd);
    try sys.fchdir(fd);
    try sys.pivot_root(".", ".");
    try sys.mount("", ".", "", sys.MS_SLAVE | sys.MS_REC, "");
    try sys.umount2(".", sys.MNT_DETACH);
    try sys.chdir("/");
    try root.set(current, "/");
}

/// A directory gets an empty read-only tmpfs, anything else /dev/null; missing: skipped.
pub fn mask(current: *?sys.fd_t, path: []const u8) sys.Error!void {
    const fd = root.open(current.*, path, sys.O.PATH) catch |err| switch (err) {
        error.NOENT => return,
        else => return err,
    };
    defer sys.close(fd);
    var target_buffer: [32]u8 = undefined;
    const target = root.fd_path(fd, &target_buffer);
    if (try sys.file_type(fd) == sys.S_IFDIR) {
        const flags = sys.MS_RDONLY | sys.MS_NOSUID | sys.MS_NODEV | sys.MS_NOEXEC;
        return sys.mount("tmpfs", target, "tmpfs", flags, "");
    }
    const null_fd = try sys.openat(sys.AT_FDCWD, "/dev/null", sys.O.PATH, 0);
    defer sys.close(null_fd);
    var source_buffer: [32]u8 = undefined;
    try sys.mount(root.fd_path(null_fd, &source_buffer), target, "", sys.MS_BIND, "");
}

/// Binds the path on itself, recursively, then makes the whole tree read-only.
pub fn readonly(current: *?sys.fd_t, path: []const u8) sys.Error!void {
    const fd = root.open(current.*, path, sys.O.PATH) catch |err| switch (err) {
        error.NOENT => return,
        else => return err,
    };
    defer sys.close(fd);
    try bind_fd(current, fd, path, true);
    try set_attributes(current, path, sys.MOUNT_ATTR_RDONLY, 0, true);
}

pub fn set_root(current: *?sys.fd_t, path: [*:0]const u8) sys.Error!void {
    assert(path[0] == '/'); // The decoder requires an absolute path.
    try root.set(current, path);
}
