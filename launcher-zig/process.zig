//! Process ops, run in the container process: SETHOSTNAME, LOOPBACK_UP, CHDIR, RLIMIT,
//! CAPS, USER, NO_NEW_PRIVS, CLOSE_FDS, PRESERVE_FDS.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const root = @import("root.zig");

pub fn sethostname(name: []const u8) sys.Error!void {
    try sys.sethostname(name);
}

pub fn loopback_up() sys.Error!void {
    try sys.interface_up("lo");
}

/// A relative path resolves in the current root like any other; an absolute one as given.
pub fn chdir(current: *?sys.fd_t, path: []const u8) sys.Error!void {
    const fd = try root.open(current.*, path, sys.O.PATH | sys.O.DIRECTORY);
    defer sys.close(fd);
    try sys.fchdir(fd);
}

pub fn rlimit(resource: u64, soft: u64, hard: u64) sys.Error!void {
    assert(resource < protocol.rlimit_resource_count);
    try sys.setrlimit(@intCast(resource), soft, hard);
}

/// Drops every capability not in `bounding` from the bounding set (including ones newer
/// than this launcher knows: the loop runs until the kernel says EINVAL), clears the
/// ambient set, then sets the other three.
pub fn caps(bounding: u64, effective: u64, permitted: u64, inheritable: u64) sys.Error!void {
    assert(bounding & ~protocol.capabilities_known == 0);
    var capability: u64 = 0;
    while (capability < 64) : (capability += 1) {
        if (bounding & (@as(u64, 1) << @intCast(capability)) != 0) continue;
        // Already gone (an earlier CAPS, before USER dropped CAP_SETPCAP): nothing to drop.
        const held = sys.prctl(sys.PR_CAPBSET_READ, capability, 0) catch |err| switch (err) {
            error.INVAL => break, // Past the kernel's last capability.
            else => return err,
        };
        if (held == 0) continue;
        _ = sys.prctl(sys.PR_CAPBSET_DROP, capability, 0) catch |err| switch (err) {
            error.INVAL => if (capability > protocol.capability_last) break else return err,
            else => return err,
        };
    }
    _ = try sys.prctl(sys.PR_CAP_AMBIENT, sys.PR_CAP_AMBIENT_CLEAR_ALL, 0);
    try sys.capset(effective, permitted, inheritable);
}

/// AMBIENT: raises each capability of `capabilities` into the ambient set (each must be
/// permitted and inheritable already: a CAPS op before it says so).
pub fn ambient(capabilities: u64) sys.Error!void {
    assert(capabilities & ~protocol.capabilities_known == 0);
    var capability: u64 = 0;
    while (capability <= protocol.capability_last) : (capability += 1) {
        if (capabilities & (@as(u64, 1) << @intCast(capability)) == 0) continue;
        _ = try sys.prctl(sys.PR_CAP_AMBIENT, sys.PR_CAP_AMBIENT_RAISE, capability);
    }
}

/// setgroups, setresgid, setresuid. PR_SET_KEEPCAPS keeps the permitted set across the
/// switch away from uid 0, so a CAPS op after USER can still set the capabilities.
pub fn user(uid: u64, gid: u64, groups: protocol.U64s) sys.Error!void {
    assert(uid <= protocol.id_max);
    assert(gid <= protocol.id_max);
    var group_ids: [protocol.u64s_count_max]u32 = undefined;
    const count = groups.count();
    assert(count <= group_ids.len);
    for (group_ids[0..count], 0..) |*group, i| group.* = @intCast(groups.get(i));
    sys.setgroups(group_ids[0..count]) catch |err| switch (err) {
        // In a user namespace whose setgroups is "deny" the list cannot change; an empty
        // list asked for nothing the kernel would let us do.
        error.PERM => if (count != 0) return err,
        else => return err,
    };
    _ = try sys.prctl(sys.PR_SET_KEEPCAPS, 1, 0);
    try sys.setresgid(@intCast(gid));
    try sys.setresuid(@intCast(uid));
    _ = try sys.prctl(sys.PR_SET_KEEPCAPS, 0, 0);
}

pub fn no_new_privs() sys.Error!void {
    _ = try sys.prctl(sys.PR_SET_NO_NEW_PRIVS, 1, 0);
}

/// Marks every fd above 2 close-on-exec: the event fd still works until EXEC.
pub fn close_fds() sys.Error!void {
    try sys.close_range_cloexec(3);
}

/// PRESERVE_FDS (runc's --preserve-fds): fds 3 to 3+count-1, which the orchestrator placed
/// there, lose the close-on-exec flag CLOSE_FDS gave them; every other fd still closes.
pub fn preserve_fds(count: u64) sys.Error!void {
    assert(count >= 1 and count <= protocol.preserved_fds_max);
    var fd: sys.fd_t = 3;
    while (fd < 3 + @as(sys.fd_t, @intCast(count))) : (fd += 1) try sys.clear_cloexec(fd);
}
