//! Idmapped trees (protocol.md "Idmapped trees"): IDMAP_TREE in the parent makes a
//! detached, idmapped copy of a host tree and sends it over the CLONE socketpair
//! (SCM_RIGHTS, one byte: the slot); the container process receives them all after its
//! release, and ATTACH_TREE moves one onto a target inside its root.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const root = @import("root.zig");

/// Parent op: open_tree(source, OPEN_TREE_CLONE | AT_RECURSIVE), idmap it through the
/// container's user namespace, send it as `slot`.
pub fn idmap_tree(source: [*:0]const u8, slot: u64, pid: sys.pid_t, socket: sys.fd_t) sys.Error!void {
    assert(slot < protocol.tree_slots);
    assert(pid > 0);
    assert(socket >= 0); // CLONE made the pair because the plan has IDMAP_TREE.
    var buffer: [32]u8 = undefined;
    const userns_path = std.fmt.bufPrintZ(&buffer, "/proc/{d}/ns/user", .{pid}) catch unreachable;
    const userns_fd = try sys.openat(sys.AT_FDCWD, userns_path, sys.O.RDONLY, 0);
    defer sys.close(userns_fd);
    const tree_fd = try sys.open_tree(source, true);
    defer sys.close(tree_fd); // The container process holds its own copy once sent.
    try sys.mount_setattr_idmap(tree_fd, userns_fd, true);
    try sys.send_fd(socket, tree_fd, @intCast(slot));
}

/// IDMAP_MOUNT flags as mount_setattr's MOUNT_ATTR_* bits (RDONLY 1, NOSUID 2, NODEV 4, NOEXEC 8).
fn mount_attrs(flags: u64) u64 {
    var attrs: u64 = 0;
    if (flags & protocol.idmap_mount_readonly != 0) attrs |= 1;
    if (flags & (1 << 3) != 0) attrs |= 2;
    if (flags & (1 << 4) != 0) attrs |= 4;
    if (flags & (1 << 5) != 0) attrs |= 8;
    return attrs;
}

/// Parent op IDMAP_MOUNT (an OCI mount's uidMappings/gidMappings): open_tree(source), the
/// idmapping from a user namespace with these maps (made by a short-lived child), or the
/// container's when they are empty; then ro/nosuid/nodev/noexec; sent as `slot`.
pub fn idmap_mount(o: anytype, pid: sys.pid_t, socket: sys.fd_t) sys.Error!void {
    assert(o.slot < protocol.tree_slots);
    assert(socket >= 0); // CLONE made the pair: the plan fills a slot.
    const userns_fd = if (o.uid_map.len == 0) try container_userns(pid) else try userns_with_maps(o.uid_map, o.gid_map);
    defer sys.close(userns_fd);
    const recursive = o.flags & protocol.idmap_mount_recursive != 0;
    const tree_fd = try sys.open_tree(o.source, recursive);
    defer sys.close(tree_fd); // The container process holds its own copy once sent.
    // EINVAL here: the source's filesystem (or a mount under it, recursively) cannot be idmapped.
    try sys.mount_setattr_idmap(tree_fd, userns_fd, o.flags & protocol.idmap_mount_idmap_recursive != 0);
    const attrs = mount_attrs(o.flags);
    if (attrs != 0) try sys.mount_setattr_set(tree_fd, attrs, recursive);
    try sys.send_fd(socket, tree_fd, @intCast(o.slot));
}

fn container_userns(pid: sys.pid_t) sys.Error!sys.fd_t {
    var buffer: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buffer, "/proc/{d}/ns/user", .{pid}) catch unreachable;
    return sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY, 0);
}

/// A user namespace with `uid_map` and `gid_map` (the kernel's text), held by an fd: a child
/// makes it (CLONE_NEWUSER) and waits on a pipe while its maps are written and its namespace
/// opened; closing the pipe ends it, and it is reaped before this returns.
fn userns_with_maps(uid_map: []const u8, gid_map: []const u8) sys.Error!sys.fd_t {
    var pipe: [2]sys.fd_t = undefined;
    try sys.pipe(&pipe);
    const child = sys.clone_process(protocol.CLONE_NEWUSER, -1) catch |err| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return err;
    };
    if (child.pid == 0) {
        sys.close(pipe[1]);
        var byte: [1]u8 = undefined;
        _ = sys.read(pipe[0], &byte) catch {}; // EOF: the parent is done with us.
        sys.exit(0);
    }
    sys.close(pipe[0]);
    defer {
        sys.close(pipe[1]);
        var status: u32 = 0;
        _ = sys.wait4(child.pid, &status, 0) catch {};
        if (child.pidfd >= 0) sys.close(child.pidfd);
    }
    try write_map(child.pid, "uid_map", uid_map);
    try write_map(child.pid, "gid_map", gid_map);
    return container_userns(child.pid);
}

fn write_map(pid: sys.pid_t, name: []const u8, text: []const u8) sys.Error!void {
    var buffer: [40]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buffer, "/proc/{d}/{s}", .{ pid, name }) catch unreachable;
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.NOFOLLOW, 0);
    defer sys.close(fd);
    try sys.write_once(fd, text);
}

/// Container process, right after its release: receives `count` trees (the plan's number
/// of IDMAP_TREE ops) into their slots, then closes the socket.
/// `slots`: the container process's received detached mounts (state.zig), -1 when empty.
pub fn receive(slots: *[protocol.tree_slots]sys.fd_t, socket: sys.fd_t, count: usize) sys.Error!void {
    assert(count > 0 and count <= protocol.tree_slots);
    defer sys.close(socket);
    for (0..count) |_| {
        const received = try sys.receive_fd(socket);
        if (received.byte >= protocol.tree_slots or slots[received.byte] != -1) {
            sys.close(received.fd);
            return error.BADMSG;
        }
        slots[received.byte] = received.fd;
    }
}

/// move_mount(slot, target), the target opened O_PATH per protocol.md "Paths".
pub fn attach_tree(slots: *[protocol.tree_slots]sys.fd_t, current: ?sys.fd_t, slot: u64, target: []const u8) sys.Error!void {
    assert(slot < protocol.tree_slots);
    const tree_fd = slots[slot];
    if (tree_fd < 0) return error.BADF; // The decoder and `receive` make this impossible.
    const target_fd = try root.open(current, target, sys.O.PATH);
    defer sys.close(target_fd);
    try sys.move_mount(tree_fd, target_fd);
    sys.close(tree_fd);
    slots[slot] = -1;
}

test "trees travel over a socketpair with their slot" {
    var pair: [2]sys.fd_t = undefined;
    try sys.socketpair(&pair);
    const file = try sys.openat(sys.AT_FDCWD, "/", sys.O.PATH, 0);
    try sys.send_fd(pair[0], file, 3);
    try sys.send_fd(pair[0], file, 5);
    sys.close(file);
    sys.close(pair[0]);
    var slots = [_]sys.fd_t{-1} ** protocol.tree_slots;
    try receive(&slots, pair[1], 2);
    defer for (&slots) |*fd| {
        if (fd.* >= 0) sys.close(fd.*);
        fd.* = -1;
    };
    try std.testing.expect(slots[3] >= 0 and slots[5] >= 0 and slots[3] != slots[5]);
    try std.testing.expectEqual(@as(u32, sys.S_IFDIR), try sys.file_type(slots[3]));
    try std.testing.expectEqual(@as(sys.fd_t, -1), slots[0]);
}

test "a slot sent twice, or a message without an fd, is refused" {
    var pair: [2]sys.fd_t = undefined;
    try sys.socketpair(&pair);
    const file = try sys.openat(sys.AT_FDCWD, "/", sys.O.PATH, 0);
    try sys.send_fd(pair[0], file, 1);
    try sys.send_fd(pair[0], file, 1);
    sys.close(file);
    var slots = [_]sys.fd_t{-1} ** protocol.tree_slots;
    try std.testing.expectError(error.BADMSG, receive(&slots, pair[1], 2));
    defer for (&slots) |*fd| {
        if (fd.* >= 0) sys.close(fd.*);
        fd.* = -1;
    };
    sys.close(pair[0]);
    var second: [2]sys.fd_t = undefined;
    try sys.socketpair(&second);
    _ = try sys.write(second[0], "x");
    try std.testing.expectError(error.BADMSG, sys.receive_fd(second[1]));
    sys.close(second[0]);
    sys.close(second[1]);
}
