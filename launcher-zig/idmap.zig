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
