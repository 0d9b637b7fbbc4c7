//! Acting on cgroups that exist (protocol.md "Control plans"): freeze and thaw, kill every
//! process, and remove a directory. The one copy of the launcher's teardown: the monitor
//! uses `remove` at the container's end for the directories it owns (cgroup.zig `cleanup`),
//! and the control ops CGROUP_FREEZE, CGROUP_KILL and CGROUP_REMOVE use the same functions
//! on the paths a control plan names.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const cgroup = @import("cgroup.zig");

/// How long one removal may take, all EBUSY retries included.
pub const remove_ns_max = 5 * std.time.ns_per_s;
/// How long a freeze or thaw may take to be reported done by the kernel.
const freeze_ns_max = 5 * std.time.ns_per_s;
const freeze_pause_ns = 5 * std.time.ns_per_ms;
const attempts_max = 100;
const attempt_pause_ns = 10 * std.time.ns_per_ms;
/// kill_all's rounds: the deadline ends them first; this bounds the loop if the clock does not.
const kill_rounds_max = remove_ns_max / attempt_pause_ns + 1;
const depth_max = 8;

/// What a control op's path is: a cgroup v1 or v2 directory (ENOENT if gone, EXDEV if on
/// another filesystem, ELOOP for a symlink).
pub const Kind = enum { v1, v2 };

pub fn kind_of(path: [*:0]const u8) sys.Error!Kind {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.PATH | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    defer sys.close(fd);
    return switch (try sys.filesystem_type(fd)) {
        sys.CGROUP_SUPER_MAGIC => .v1,
        sys.CGROUP2_SUPER_MAGIC => .v2,
        else => error.XDEV,
    };
}

/// CGROUP_FREEZE: v1 `freezer.state` FROZEN or THAWED, v2 `cgroup.freeze` 1 or 0; returns
/// once the kernel says every process is in the new state (v1 `freezer.state` reads back
/// the state, v2 `cgroup.events` says `frozen 1` / `frozen 0`), ETIMEDOUT after 5 s.
pub fn freeze(path: [:0]const u8, frozen: bool) sys.Error!void {
    assert(protocol.is_clean_absolute(path)); // The decoder requires it.
    var buffer = PathBuffer{};
    try buffer.push(path);
    const kind = try kind_of(path);
    const file = buffer.child(if (kind == .v1) "freezer.state" else "cgroup.freeze") orelse return error.NAMETOOLONG;
    const value = if (kind == .v1) (if (frozen) "FROZEN" else "THAWED") else (if (frozen) "1" else "0");
    try cgroup.write(file, value);
    buffer.pop(path.len);
    const check_file = buffer.child(if (kind == .v1) "freezer.state" else "cgroup.events") orelse return error.NAMETOOLONG;
    const expected = if (kind == .v1) value else (if (frozen) "frozen 1" else "frozen 0");
    const deadline = sys.monotonic_ns() + freeze_ns_max;
    // Each round reads one small file; the deadline bounds the rounds.
    while (true) {
        if (try file_has_line(check_file, expected)) return;
        if (sys.monotonic_ns() > deadline) return error.TIMEDOUT;
        sys.sleep_ns(freeze_pause_ns);
    }
}

/// Whether a cgroup file (at most 4 KiB are read) has `line` as one of its lines.
fn file_has_line(path: [*:0]const u8, line: []const u8) sys.Error!bool {
    var content: [protocol.cgroup_report_bytes_max]u8 = undefined;
    const n = try cgroup.read_file(path, &content);
    var lines = std.mem.splitScalar(u8, content[0..n], '\n');
    while (lines.next()) |each| if (std.mem.eql(u8, each, line)) return true;
    return false;
}

/// CGROUP_KILL: v2 `cgroup.kill` where the kernel has it; else freeze, SIGKILL each pid in
/// `cgroup.procs`, thaw (a frozen process dies once thawed; frozen, none can fork meanwhile).
/// Then SIGKILL what is still listed until `cgroup.procs` is empty: EBUSY if it is not
/// within 5 s. (1 s was too short: a fork bomb's 20 dying processes on a loaded 2-core
/// machine were still listed after it, and `rm -f` failed.)
pub fn kill(path: [:0]const u8) sys.Error!void {
    assert(protocol.is_clean_absolute(path)); // The decoder requires it.
    const kind = try kind_of(path);
    var buffer = PathBuffer{};
    try buffer.push(path);
    const killed = kind == .v2 and write_child(&buffer, "cgroup.kill", "1");
    if (!killed) {
        _ = write_child(&buffer, if (kind == .v1) "freezer.state" else "cgroup.freeze", if (kind == .v1) "FROZEN" else "1");
        const procs = buffer.child("cgroup.procs") orelse return error.NAMETOOLONG;
        _ = try kill_listed(procs);
        buffer.pop(path.len);
        _ = write_child(&buffer, if (kind == .v1) "freezer.state" else "cgroup.freeze", if (kind == .v1) "THAWED" else "0");
    }
    if (!kill_all(&buffer, sys.monotonic_ns() + remove_ns_max)) return error.BUSY;
}

/// CGROUP_REMOVE: the control op's checks (a cgroup directory, or gone already), then
/// `remove`.
pub fn remove_checked(path: [:0]const u8) sys.Error!void {
    assert(protocol.is_clean_absolute(path)); // The decoder requires it.
    _ = kind_of(path) catch |err| switch (err) {
        error.NOENT => return, // Gone already: what the op asks for.
        else => return err,
    };
    try remove(path, sys.monotonic_ns() + remove_ns_max);
}

/// rmdir; only if it says EBUSY (processes or child cgroups in it): thaw, kill, remove
/// child cgroups, rmdir, repeated while rmdir says EBUSY and the deadline allows. A
/// directory gone already (ENOENT) is removed.
pub fn remove(path: [:0]const u8, deadline: u64) sys.Error!void {
    var buffer = PathBuffer{};
    try buffer.push(path);
    return remove_tree(&buffer, 0, deadline);
}

fn remove_tree(path: *PathBuffer, depth: usize, deadline: u64) sys.Error!void {
    assert(depth <= depth_max);
    // Fast path, the usual end: the container process was reaped, and with it (pid 1 of its
    // pid namespace) everything it started, so the cgroup is empty and rmdir works at once.
    // An empty cgroup has nothing to thaw or kill, and rmdir refuses a populated one or one
    // with children (EBUSY), so trying it first changes nothing but the cost: one syscall
    // instead of ten.
    if (rmdir(path)) |_| return else |err| if (err != error.BUSY) return err;
    var attempt: usize = 0;
    while (attempt < attempts_max) : (attempt += 1) {
        thaw(path);
        _ = kill_all(path, deadline);
        if (depth < depth_max) remove_children(path, depth, deadline);
        if (rmdir(path)) |_| return else |err| if (err != error.BUSY) return err;
        if (sys.monotonic_ns() > deadline) return error.BUSY;
        sys.sleep_ns(attempt_pause_ns);
    }
    return error.BUSY;
}

/// rmdir, where ENOENT (gone already) counts as done.
fn rmdir(path: *PathBuffer) sys.Error!void {
    sys.rmdirat(sys.AT_FDCWD, path.z()) catch |err| switch (err) {
        error.NOENT => return,
        else => return err,
    };
}

/// Writes `value` to the file `name` of the directory `path`; false if it cannot.
fn write_child(path: *PathBuffer, name: []const u8, value: []const u8) bool {
    const len = path.len;
    defer path.pop(len);
    const file = path.child(name) orelse return false;
    cgroup.write(file, value) catch return false;
    return true;
}

/// v2 cgroup.freeze and v1 freezer.state: a frozen process cannot die of SIGKILL.
fn thaw(path: *PathBuffer) void {
    _ = write_child(path, "cgroup.freeze", "0");
    _ = write_child(path, "freezer.state", "THAWED");
}

/// cgroup.kill if the kernel has it; then SIGKILL whatever cgroup.procs still lists,
/// until it is empty (rounds 10 ms apart, within the deadline). True when cgroup.procs
/// was seen empty (or is gone).
fn kill_all(path: *PathBuffer, deadline: u64) bool {
    const len = path.len;
    defer path.pop(len);
    _ = write_child(path, "cgroup.kill", "1");
    const procs = path.child("cgroup.procs") orelse return false;
    var round: usize = 0;
    while (round < kill_rounds_max) : (round += 1) {
        const listed = kill_listed(procs) catch return true; // Gone: nothing to kill.
        if (listed == 0) return true;
        if (sys.monotonic_ns() > deadline) return false;
        sys.sleep_ns(attempt_pause_ns);
    }
    return false;
}

/// SIGKILLs every pid in a cgroup.procs file; returns how many were listed.
fn kill_listed(procs: [*:0]const u8) sys.Error!usize {
    const fd = try sys.openat(sys.AT_FDCWD, procs, sys.O.RDONLY | sys.O.NOFOLLOW, 0);
    defer sys.close(fd);
    var parser = PidParser{};
    var buffer: [4096]u8 = undefined;
    // A cgroup holds at most pid_max (4194304) pids of 8 bytes each: 8192 reads of 4 KiB.
    var reads: usize = 0;
    while (reads < 8192) : (reads += 1) {
        const n = try sys.read(fd, &buffer);
        if (n == 0) break;
        for (buffer[0..n]) |byte| if (parser.feed(byte)) |pid| kill_pid(pid);
    }
    if (parser.feed('\n')) |pid| kill_pid(pid);
    return parser.count;
}

fn kill_pid(pid: sys.pid_t) void {
    // A pid read from cgroup.procs is in the cgroup now; one that exits and is reused in
    // between cannot be told apart without a pidfd per pid, and the kernel's cgroup.kill
    // (every host but the oldest) does not have the window at all.
    sys.kill(pid, -1, 9) catch {}; // ESRCH: it died meanwhile.
}

/// Decimal pids separated by newlines, fed one byte at a time (reads may split a number).
const PidParser = struct {
    value: u64 = 0,
    digits: usize = 0,
    count: usize = 0,

    fn feed(parser: *PidParser, byte: u8) ?sys.pid_t {
        if (byte >= '0' and byte <= '9') {
            if (parser.digits < 10) parser.value = parser.value * 10 + (byte - '0');
            parser.digits += 1;
            return null;
        }
        defer parser.* = .{ .count = parser.count };
        if (parser.digits == 0 or parser.digits > 10) return null;
        if (parser.value == 0 or parser.value > std.math.maxInt(sys.pid_t)) return null;
        parser.count += 1;
        return @intCast(parser.value);
    }
};

/// Removes the subdirectories of `path` (child cgroups the container made), depth first.
/// A child that cannot be removed shows as EBUSY of its parent.
fn remove_children(path: *PathBuffer, depth: usize, deadline: u64) void {
    const fd = sys.openat(sys.AT_FDCWD, path.z(), sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0) catch return;
    defer sys.close(fd);
    var buffer: [2048]u8 align(8) = undefined;
    // Each getdents either returns entries or ends the loop; a cgroup rarely has many.
    var reads: usize = 0;
    while (reads < 1024) : (reads += 1) {
        const n = sys.getdents64(fd, &buffer) catch return;
        if (n == 0) return;
        var offset: usize = 0;
        while (offset + 19 < n) {
            const record_len = std.mem.readInt(u16, buffer[offset + 16 ..][0..2], .little);
            if (record_len < 20 or offset + record_len > n) return; // Never from a kernel.
            const kind = buffer[offset + 18];
            const name = std.mem.sliceTo(buffer[offset + 19 .. offset + record_len], 0);
            offset += record_len;
            const DT_DIR = 4;
            if (kind != DT_DIR or std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) continue;
            const len = path.len;
            if (path.child(name) == null) continue;
            remove_tree(path, depth + 1, deadline) catch {};
            path.pop(len);
        }
    }
}

/// A path being walked: a directory, then `/name` pushed and popped.
const PathBuffer = struct {
    bytes: [protocol.path_bytes_max + 1]u8 = undefined,
    len: usize = 0,

    fn push(path: *PathBuffer, part: []const u8) error{NAMETOOLONG}!void {
        if (path.len + part.len > protocol.path_bytes_max) return error.NAMETOOLONG;
        @memcpy(path.bytes[path.len..][0..part.len], part);
        path.len += part.len;
        path.bytes[path.len] = 0;
    }

    /// `dir/name`, NUL-terminated, or null if too long. Undo with `pop(len)`.
    fn child(path: *PathBuffer, name: []const u8) ?[:0]const u8 {
        const len = path.len;
        path.push("/") catch return null;
        path.push(name) catch {
            path.pop(len);
            return null;
        };
        return path.bytes[0..path.len :0];
    }

    fn pop(path: *PathBuffer, len: usize) void {
        assert(len <= path.len);
        path.len = len;
        path.bytes[len] = 0;
    }

    fn z(path: *PathBuffer) [:0]const u8 {
        return path.bytes[0..path.len :0];
    }
};

test "pids are parsed across reads, junk is skipped" {
    var parser = PidParser{};
    var pids: [8]sys.pid_t = undefined;
    var count: usize = 0;
    for ("12\n3") |byte| if (parser.feed(byte)) |pid| {
        pids[count] = pid;
        count += 1;
    };
    for ("45\n0\n99999999999\nx\n7") |byte| if (parser.feed(byte)) |pid| {
        pids[count] = pid;
        count += 1;
    };
    if (parser.feed('\n')) |pid| {
        pids[count] = pid;
        count += 1;
    }
    try std.testing.expectEqualSlices(sys.pid_t, &.{ 12, 345, 7 }, pids[0..count]);
    try std.testing.expectEqual(@as(usize, 3), parser.count);
}

test "control ops refuse a directory outside a cgroup filesystem, and a gone one is removed" {
    var dir = std.testing.tmpDir(.{});
    defer dir.cleanup();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const base = try dir.dir.realpath(".", &path_buffer);
    var z: [4096]u8 = undefined;
    try dir.dir.makeDir("husk-test");
    const made = try std.fmt.bufPrintZ(&z, "{s}/husk-test", .{base});
    try std.testing.expectError(error.XDEV, freeze(made, true));
    try std.testing.expectError(error.XDEV, kill(made));
    try std.testing.expectError(error.XDEV, remove_checked(made));
    // Refused before anything was done: the directory is still there.
    try dir.dir.access("husk-test", .{});
    const gone = try std.fmt.bufPrintZ(&z, "{s}/husk-gone", .{base});
    try remove_checked(gone);
    try std.testing.expectError(error.NOENT, kill(gone));
}
