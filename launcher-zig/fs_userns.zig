//! The rootless parts of an fs plan (protocol.md "Fs plans in a user namespace"): FS_USERNS
//! runs the rest of the plan in a new user namespace whose maps the setuid newuidmap and
//! newgidmap write — the caller's own id as 0 and its subordinate ids as 1… — so that a
//! user's image layer gets the owners its tar names (uid N inside is subordinate id
//! START + N - 1 on disk), as podman's storage does; REMOVE_TREE removes a tree such a layer
//! left, which the user alone may not (its directories belong to subordinate ids).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const dirents = @import("dirents.zig");
const events = @import("events.zig");
const idmap_helper = @import("idmap_helper.zig");

const Helpers = std.meta.TagPayload(protocol.Op, .fs_userns);

/// Returns in a child that is in the new user namespace, its maps written. The launcher
/// itself stays outside (only there may the setuid helpers write the maps), runs them with
/// the child's pid, then waits for the child and exits with its status: the child sends
/// the plan's remaining events and EXIT. A helper's refusal is this op's ERROR, as
/// IDMAP_HELPER's (`PATH PID: the helper's first line`), and the child is killed.
pub fn enter(channel: *events.Channel, index: usize, helpers: Helpers) sys.Error!void {
    var go: [2]sys.fd_t = undefined;
    try sys.pipe(&go);
    const child = sys.clone_process(protocol.CLONE_NEWUSER, -1) catch |err| {
        sys.close(go[0]);
        sys.close(go[1]);
        return err;
    };
    if (child.pid == 0) {
        sys.close(go[1]);
        // Gone with the launcher (the orchestrator kills it to abort an unpack).
        _ = sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0) catch sys.exit(125);
        var byte: [1]u8 = undefined;
        const n = sys.read(go[0], &byte) catch 0;
        sys.close(go[0]);
        if (n != 1) sys.exit(125); // The launcher failed a helper and reports it.
        return;
    }
    sys.close(go[0]);
    var output = idmap_helper.Output{};
    const code = @intFromEnum(protocol.Op.frame_type(.fs_userns));
    for ([2]struct { path: [:0]const u8, args: protocol.Strs }{
        .{ .path = helpers.newuidmap, .args = helpers.uid_args },
        .{ .path = helpers.newgidmap, .args = helpers.gid_args },
    }) |helper| {
        idmap_helper.run(helper.path, helper.args, child.pid, &output) catch |err| {
            const errno = sys.errno_of(err);
            sys.kill(child.pid, child.pidfd, sys.SIGKILL) catch {};
            var status: u32 = 0;
            _ = sys.wait4(child.pid, &status, 0) catch {};
            var message = events.Message{};
            const line = output.first_line();
            message.print("{s} {d}: {s}", .{ helper.path, child.pid, if (line.len == 0) "refused, saying nothing" else line });
            channel.failure(index, code, errno, message.slice());
            channel.exit(.launcher_failed, 125);
            sys.exit(125);
        };
    }
    _ = sys.write(go[1], "g") catch {};
    sys.close(go[1]);
    var status: u32 = 0;
    _ = sys.wait4(child.pid, &status, 0) catch sys.exit(125);
    // The child sent its EXIT; a child killed by a signal sent none, and 125 says it failed.
    const exited = status & 0x7f == 0;
    sys.exit(if (exited) @intCast((status >> 8) & 0xff) else 125);
}

/// Deepest directory REMOVE_TREE walks (a layer's paths are at most 4095 bytes: 2048 levels).
const depth_max = 2048;

/// REMOVE_TREE: `name` in `parent` (not followed) and everything under it; gone already is done.
pub fn remove_tree(parent: sys.fd_t, name: [*:0]const u8) sys.Error!void {
    sys.unlinkat(parent, name) catch |err| switch (err) {
        error.NOENT => return,
        error.ISDIR => {
            try empty(parent, name, 0);
            return sys.rmdirat(parent, name);
        },
        else => return err,
    };
}

/// Removes what the directory `name` in `parent` holds, depth first.
fn empty(parent: sys.fd_t, name: [*:0]const u8, depth: usize) sys.Error!void {
    if (depth >= depth_max) return error.NAMETOOLONG;
    const dir = try sys.openat(parent, name, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    defer sys.close(dir);
    var buffer: [1024]u8 align(8) = undefined;
    var entries = dirents.Iterator.init(dir, &buffer);
    while (try entries.next()) |entry| {
        sys.unlinkat(dir, entry) catch |err| switch (err) {
            error.ISDIR => {
                try empty(dir, entry, depth + 1);
                try sys.rmdirat(dir, entry);
            },
            error.NOENT => {},
            else => return err,
        };
    }
}

test "remove_tree removes a tree with read-only directories, and a missing one is done" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("t/a/b");
    try tmp.dir.writeFile(.{ .sub_path = "t/a/b/f", .data = "x" });
    try tmp.dir.symLink("/", "t/a/out", .{});
    const root = try sys.openat(tmp.dir.fd, ".", sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(root);
    try remove_tree(root, "t");
    try std.testing.expectError(error.FileNotFound, tmp.dir.access("t", .{}));
    try remove_tree(root, "t");
}
