//! cgroup ops (protocol.md "cgroups"): CGROUP_MKDIR, CGROUP_WRITE, CGROUP_INTO and
//! CGROUP_REPORT run in the launcher before CLONE, CGROUP_ENTER in the parent, CGROUP_JOIN
//! in the container process before any other container op. The plan's
//! paths are checked again here, where they are used: every directory or file must be on a
//! cgroup filesystem (statfs), else EXDEV. At the end the monitor sends the reports, then
//! removes the directories the launcher owns: thaw, kill, rmdir, bounded in time.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const root = @import("root.zig");

/// Directories made without `shared`, in creation order: removed in reverse at the end.
/// The strings live in the plan's storage, which outlives every use.
var owned: [protocol.cgroup_mkdirs_max][:0]const u8 = undefined;
var owned_count: usize = 0;
var reports: [protocol.cgroup_reports_max][:0]const u8 = undefined;
var reports_count: usize = 0;
/// CGROUP_INTO: the cgroup v2 directory CLONE creates the container process in.
pub var into_fd: sys.fd_t = -1;
pub var into_path: ?[:0]const u8 = null;

const cleanup_ns_max = 5 * std.time.ns_per_s;
const attempts_max = 100;
const attempt_pause_ns = 10 * std.time.ns_per_ms;
const depth_max = 8;

fn check_cgroup_fd(fd: sys.fd_t) sys.Error!void {
    const filesystem = try sys.filesystem_type(fd);
    if (filesystem != sys.CGROUP_SUPER_MAGIC and filesystem != sys.CGROUP2_SUPER_MAGIC) return error.XDEV;
}

/// mkdir(path, 0755) after checking that the parent is a cgroup directory.
pub fn mkdir(path: [:0]const u8, flags: u64) sys.Error!void {
    assert(protocol.is_clean_absolute(path)); // The decoder requires it.
    assert(flags & ~protocol.cgroup_mkdir_flags_known == 0);
    const shared = flags & protocol.cgroup_mkdir_flag_shared != 0;
    var parent: root.Parent = undefined;
    try root.open_parent(null, path, &parent); // An absolute path: no root needed.
    defer sys.close(parent.fd);
    try check_cgroup_fd(parent.fd);
    sys.mkdirat(parent.fd, parent.name, 0o755) catch |err| switch (err) {
        error.EXIST => if (shared) {
            // Fine if it is a cgroup directory, not a file or a symlink out.
            const fd = try sys.openat(parent.fd, parent.name, sys.O.PATH | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
            defer sys.close(fd);
            return check_cgroup_fd(fd);
        } else return err,
        else => return err,
    };
    if (shared) return;
    assert(owned_count < owned.len); // The decoder bounds CGROUP_MKDIR.
    owned[owned_count] = path;
    owned_count += 1;
}

/// Writes `value` in one write to an existing file of a cgroup directory.
pub fn write(path: [*:0]const u8, value: []const u8) sys.Error!void {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.NOFOLLOW | sys.O.NOCTTY, 0);
    defer sys.close(fd);
    try check_cgroup_fd(fd);
    try sys.write_once(fd, value);
}

/// Parent op: the container process's pid to a cgroup.procs file.
pub fn enter(path: [*:0]const u8, pid: sys.pid_t) sys.Error!void {
    assert(pid > 0);
    var buffer: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&buffer, "{d}", .{pid}) catch unreachable; // An i32 fits.
    try write(path, text);
}

/// Container op, among the first: the calling thread moves itself into a v1 cgroup by
/// writing "0" to its `tasks` file. A thread moving itself is the one migration the kernel
/// does without the global cgroup_threadgroup_rwsem (cgroup_procs_write_start), whose first
/// writer waits for an RCU grace period (8-15 ms on a hybrid host, where a start joins nine
/// v1 hierarchies). `tasks` moves one thread: the container process has exactly one, as the
/// launcher never starts a thread and CLONE copies only the calling one.
pub fn join(path: [*:0]const u8) sys.Error!void {
    assert(sys.gettid() == sys.getpid()); // The thread group's only thread, its leader.
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.NOFOLLOW | sys.O.NOCTTY, 0);
    defer sys.close(fd);
    if (try sys.filesystem_type(fd) != sys.CGROUP_SUPER_MAGIC) return error.XDEV;
    try sys.write_once(fd, "0");
}

/// Opens the cgroup v2 directory CLONE will create the container process in.
pub fn into(path: [:0]const u8) sys.Error!void {
    assert(into_path == null); // The decoder allows one CGROUP_INTO.
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    errdefer sys.close(fd);
    if (try sys.filesystem_type(fd) != sys.CGROUP2_SUPER_MAGIC) return error.XDEV;
    into_fd = fd;
    into_path = path;
}

/// After CLONE, in the parent: if clone3 could not use CLONE_INTO_CGROUP, the pid goes to
/// the directory's cgroup.procs now, before the container process is released.
pub fn after_clone(pid: sys.pid_t, into_cgroup: bool) sys.Error!void {
    const path = into_path orelse return;
    sys.close(into_fd);
    into_fd = -1;
    if (into_cgroup) return;
    var buffer: [protocol.path_bytes_max + 16]u8 = undefined;
    const procs = std.fmt.bufPrintZ(&buffer, "{s}/cgroup.procs", .{path}) catch unreachable; // Path ≤ 4095.
    try enter(procs, pid);
}

pub fn report(path: [:0]const u8) void {
    assert(reports_count < reports.len); // The decoder bounds CGROUP_REPORT.
    reports[reports_count] = path;
    reports_count += 1;
}

/// At the end, before cleanup: one CGROUP_FILE event per report file that can be read.
pub fn send_reports() void {
    var content: [protocol.cgroup_report_bytes_max]u8 = undefined;
    for (reports[0..reports_count]) |path| {
        const n = read_file(path, &content) catch continue; // Missing here: no event.
        events.cgroup_file(path, content[0..n]);
    }
}

/// Reads up to `buffer.len` bytes of a file on a cgroup filesystem.
fn read_file(path: [*:0]const u8, buffer: []u8) sys.Error!usize {
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.NOFOLLOW | sys.O.NOCTTY, 0);
    defer sys.close(fd);
    try check_cgroup_fd(fd);
    var done: usize = 0;
    // Each read either fills some of the buffer or ends the loop.
    while (done < buffer.len) {
        const n = try sys.read(fd, buffer[done..]);
        if (n == 0) break;
        done += n;
    }
    return done;
}

/// Removes the owned directories, newest first. Never fails: what cannot be removed within
/// the time bound is left for a later husk command.
pub fn cleanup() void {
    const deadline = sys.monotonic_ns() + cleanup_ns_max;
    while (owned_count > 0) {
        owned_count -= 1;
        var path = PathBuffer{};
        path.push(owned[owned_count]) catch continue;
        remove_tree(&path, 0, deadline);
    }
}

/// A path being walked: a directory, then `/name` pushed and popped.
const PathBuffer = struct {
    bytes: [protocol.path_bytes_max + 1]u8 = undefined,
    len: usize = 0,

    fn push(path: *PathBuffer, part: []const u8) error{NameTooLong}!void {
        if (path.len + part.len > protocol.path_bytes_max) return error.NameTooLong;
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

/// rmdir; if it says EBUSY (processes or child cgroups in it): thaw, kill, remove child
/// cgroups, rmdir, repeated while rmdir says EBUSY.
fn remove_tree(path: *PathBuffer, depth: usize, deadline: u64) void {
    assert(depth <= depth_max);
    // Fast path, the usual end: the container process was reaped, and with it (pid 1 of its
    // pid namespace) everything it started, so the cgroup is empty and rmdir works at once.
    // An empty cgroup has nothing to thaw or kill, and rmdir refuses a populated one or one
    // with children (EBUSY), so trying it first changes nothing but the cost: one syscall
    // instead of ten.
    if (sys.rmdirat(sys.AT_FDCWD, path.z())) |_| {
        return;
    } else |err| switch (err) {
        error.BUSY => {},
        else => return, // Gone already (ENOENT), or not ours to remove.
    }
    var attempt: usize = 0;
    while (attempt < attempts_max) : (attempt += 1) {
        thaw(path);
        kill_all(path, deadline);
        if (depth < depth_max) remove_children(path, depth, deadline);
        sys.rmdirat(sys.AT_FDCWD, path.z()) catch |err| switch (err) {
            error.BUSY => {
                if (sys.monotonic_ns() > deadline) return;
                sys.sleep_ns(attempt_pause_ns);
                continue;
            },
            else => return, // Gone already (ENOENT), or not ours to remove.
        };
        return;
    }
}

/// v2 cgroup.freeze and v1 freezer.state: a frozen process cannot die of SIGKILL.
fn thaw(path: *PathBuffer) void {
    const len = path.len;
    defer path.pop(len);
    if (path.child("cgroup.freeze")) |file| write(file, "0") catch {};
    path.pop(len);
    if (path.child("freezer.state")) |file| write(file, "THAWED") catch {};
}

/// cgroup.kill if the kernel has it; then SIGKILL whatever cgroup.procs still lists,
/// until it is empty (at most 100 rounds, 10 ms apart, within the deadline).
fn kill_all(path: *PathBuffer, deadline: u64) void {
    const len = path.len;
    defer path.pop(len);
    if (path.child("cgroup.kill")) |file| write(file, "1") catch {};
    path.pop(len);
    const procs = path.child("cgroup.procs") orelse return;
    var round: usize = 0;
    while (round < attempts_max) : (round += 1) {
        const killed = kill_listed(procs) catch return; // Gone: nothing to kill.
        if (killed == 0) return;
        if (sys.monotonic_ns() > deadline) return;
        sys.sleep_ns(attempt_pause_ns);
    }
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
    sys.kill(pid, -1, sys.SIGKILL) catch {}; // ESRCH: it died meanwhile.
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
            remove_tree(path, depth + 1, deadline);
            path.pop(len);
        }
    }
}

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

test "a path outside a cgroup filesystem is refused with EXDEV" {
    var dir = std.testing.tmpDir(.{});
    defer dir.cleanup();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const base = try dir.dir.realpath(".", &path_buffer);
    var z: [4096]u8 = undefined;
    const made = try std.fmt.bufPrintZ(&z, "{s}/husk-test", .{base});
    try std.testing.expectError(error.XDEV, mkdir(made, 0));
    try std.testing.expectEqual(@as(usize, 0), owned_count);
    try dir.dir.writeFile(.{ .sub_path = "file", .data = "" });
    const file = try std.fmt.bufPrintZ(&z, "{s}/file", .{base});
    try std.testing.expectError(error.XDEV, write(file, "1"));
    const parent = try std.fmt.bufPrintZ(&z, "{s}", .{base});
    try std.testing.expectError(error.XDEV, into(parent));
    try std.testing.expect(into_path == null);
    const tasks = try std.fmt.bufPrintZ(&z, "{s}/tasks", .{base});
    try dir.dir.writeFile(.{ .sub_path = "tasks", .data = "" });
    try std.testing.expectError(error.XDEV, join(tasks));
    // A symlink is not followed, even to a cgroup file.
    try dir.dir.deleteFile("tasks");
    try dir.dir.symLink("/sys/fs/cgroup/memory/tasks", "tasks", .{});
    try std.testing.expectError(error.LOOP, join(tasks));
}

test "a report of a file that cannot be read sends nothing" {
    report("/nonexistent/husk/memory.events");
    defer reports_count = 0;
    send_reports(); // No event fd and no crash: the file is skipped.
}
