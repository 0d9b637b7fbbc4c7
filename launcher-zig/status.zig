//! The launcher's end (protocol.md "The status file" and "The monitor"): owned cgroups
//! removed, the status file written (temp + fsync + rename), then EXIT, then exit. Every
//! way the launcher ends after an op ran goes through `end`.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const cgroup = @import("cgroup.zig");
const nft = @import("nft.zig");
const State = @import("state.zig").State;

/// STATUS_FILE: from now on the last events are kept for the file.
pub fn arm(state: *State, path: [:0]const u8) void {
    assert(path.len > 0 and path[0] == '/'); // The decoder requires it.
    assert(state.status_path == null); // At most one STATUS_FILE.
    state.status_path = path;
    state.events.recording = true;
}

/// Cleanup, status file, EXIT, exit. The CGROUP_FILE events, if any, were sent before.
pub fn end(state: *State, kind: protocol.ExitKind, value: u64, exit_status: u8) noreturn {
    assert(state.role != .container); // The container process leaves all this to the monitor.
    // NET_HELPER's pasta serves a network namespace that is gone or going: it leaves now.
    if (state.net_daemon_pid > 0) sys.kill(state.net_daemon_pid, state.net_daemon_pidfd, sys.SIGTERM) catch {};
    // Published ports go with the container: nothing reaches its address once it is gone.
    for (state.published[0..state.published_count]) |elements| nft.delete(elements) catch {};
    cgroup.cleanup(&state.cgroup);
    state.events.record_exit(kind, value);
    if (state.status_path) |path| write(path, state.events.recorded_frames()) catch {};
    state.events.exit(kind, value);
    sys.exit(exit_status);
}

/// `path.tmp` written whole and fsynced, then renamed over `path`.
fn write(path: [:0]const u8, frames: []const u8) sys.Error!void {
    assert(path.len <= protocol.status_path_bytes_max);
    var buffer: [protocol.path_bytes_max + 1]u8 = undefined;
    const temporary = std.fmt.bufPrintZ(&buffer, "{s}.tmp", .{path}) catch unreachable; // Bounded above.
    const flags = sys.O.WRONLY | sys.O.CREAT | sys.O.TRUNC | sys.O.NOFOLLOW | sys.O.NOCTTY;
    const fd = try sys.openat(sys.AT_FDCWD, temporary, flags, 0o644);
    defer sys.close(fd);
    try sys.write_once(fd, frames);
    try sys.fsync(fd);
    try sys.renameat(sys.AT_FDCWD, temporary, sys.AT_FDCWD, path);
}

test "the status file is replaced whole" {
    var dir = std.testing.tmpDir(.{});
    defer dir.cleanup();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const base = try dir.dir.realpath(".", &path_buffer);
    var z: [4096]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&z, "{s}/status", .{base});
    try dir.dir.writeFile(.{ .sub_path = "status", .data = "old and longer" });
    try write(path, "new");
    var read_buffer: [32]u8 = undefined;
    try std.testing.expectEqualStrings("new", try dir.dir.readFile("status", &read_buffer));
    try std.testing.expectError(error.FileNotFound, dir.dir.access("status.tmp", .{}));
}
