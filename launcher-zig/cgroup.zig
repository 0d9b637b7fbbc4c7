//! cgroup ops (protocol.md "cgroups"): CGROUP_MKDIR, CGROUP_WRITE, CGROUP_INTO and
//! CGROUP_REPORT run in the launcher before CLONE, CGROUP_ENTER in the parent, CGROUP_JOIN
//! in the container process before any other container op. The plan's
//! paths are checked again here, where they are used: every directory or file must be on a
//! cgroup filesystem (statfs), else EXDEV. At the end the monitor sends the reports, then
//! removes the directories the launcher owns with teardown.zig (rmdir; thaw, kill and
//! children only if rmdir says EBUSY), bounded in time.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const root = @import("root.zig");
const teardown = @import("teardown.zig");

/// What the cgroup ops keep until the end: a part of state.zig's State. The strings live
/// in the plan's storage, which outlives every use.
pub const State = struct {
    /// Directories made without `shared`, in creation order: removed in reverse at the end.
    owned: [protocol.cgroup_mkdirs_max][:0]const u8,
    owned_count: usize,
    /// CGROUP_REPORT's files, read and sent as CGROUP_FILE at the end.
    reports: [protocol.cgroup_reports_max][:0]const u8,
    reports_count: usize,
    /// CGROUP_INTO: the cgroup v2 directory CLONE creates the container process in (its
    /// fd until CLONE, else -1), and its path, or null.
    into_fd: sys.fd_t,
    into_path: ?[:0]const u8,

    /// Nothing owned, reported or opened; the arrays are written before they are read.
    pub fn init(cgroups: *State) void {
        cgroups.owned_count = 0;
        cgroups.reports_count = 0;
        cgroups.into_fd = -1;
        cgroups.into_path = null;
    }
};

fn check_cgroup_fd(fd: sys.fd_t) sys.Error!void {
    const filesystem = try sys.filesystem_type(fd);
    if (filesystem != sys.CGROUP_SUPER_MAGIC and filesystem != sys.CGROUP2_SUPER_MAGIC) return error.XDEV;
}

/// mkdir(path, 0755) after checking that the parent is a cgroup directory.
pub fn mkdir(cgroups: *State, path: [:0]const u8, flags: u64) sys.Error!void {
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
    assert(cgroups.owned_count < cgroups.owned.len); // The decoder bounds CGROUP_MKDIR.
    cgroups.owned[cgroups.owned_count] = path;
    cgroups.owned_count += 1;
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

/// Loads `program` as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup
/// v2 directory `path` with BPF_F_ALLOW_MULTI (runc's flag: a container may attach its own
/// below). Both fds are closed here: the attachment holds the program, and it goes away with
/// the directory.
pub fn devices(path: [*:0]const u8, program: protocol.U64s) sys.Error!void {
    assert(program.count() > 0); // The decoder requires it.
    assert(program.count() <= protocol.u64s_count_max);
    var instructions: [protocol.u64s_count_max]u64 = undefined;
    for (0..program.count()) |i| instructions[i] = program.get(i);
    const directory = try sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    defer sys.close(directory);
    if (try sys.filesystem_type(directory) != sys.CGROUP2_SUPER_MAGIC) return error.XDEV;
    const loaded = try sys.bpf_prog_load_cgroup_device(instructions[0..program.count()]);
    defer sys.close(loaded);
    try sys.bpf_prog_attach_cgroup_device(directory, loaded);
}

/// Opens the cgroup v2 directory CLONE will create the container process in.
pub fn into(cgroups: *State, path: [:0]const u8) sys.Error!void {
    assert(cgroups.into_path == null); // The decoder allows one CGROUP_INTO.
    assert(cgroups.into_fd == -1);
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW, 0);
    errdefer sys.close(fd);
    if (try sys.filesystem_type(fd) != sys.CGROUP2_SUPER_MAGIC) return error.XDEV;
    cgroups.into_fd = fd;
    cgroups.into_path = path;
}

/// After CLONE, in the parent: if clone3 could not use CLONE_INTO_CGROUP, the pid goes to
/// the directory's cgroup.procs now, before the container process is released.
pub fn after_clone(cgroups: *State, pid: sys.pid_t, into_cgroup: bool) sys.Error!void {
    assert(pid > 0);
    const path = cgroups.into_path orelse return;
    assert(cgroups.into_fd >= 0);
    sys.close(cgroups.into_fd);
    cgroups.into_fd = -1;
    if (into_cgroup) return;
    var buffer: [protocol.path_bytes_max + 16]u8 = undefined;
    const procs = std.fmt.bufPrintZ(&buffer, "{s}/cgroup.procs", .{path}) catch unreachable; // Path ≤ 4095.
    try enter(procs, pid);
}

pub fn report(cgroups: *State, path: [:0]const u8) void {
    assert(cgroups.reports_count < cgroups.reports.len); // The decoder bounds CGROUP_REPORT.
    cgroups.reports[cgroups.reports_count] = path;
    cgroups.reports_count += 1;
}

/// At the end, before cleanup: one CGROUP_FILE event per report file that can be read.
/// Returns how many were sent.
pub fn send_reports(cgroups: *const State, channel: *events.Channel) usize {
    var content: [protocol.cgroup_report_bytes_max]u8 = undefined;
    var sent: usize = 0;
    for (cgroups.reports[0..cgroups.reports_count]) |path| {
        const n = read_file(path, &content) catch continue; // Missing here: no event.
        channel.cgroup_file(path, content[0..n]);
        sent += 1;
    }
    return sent;
}

/// Reads up to `buffer.len` bytes of a file on a cgroup filesystem.
pub fn read_file(path: [*:0]const u8, buffer: []u8) sys.Error!usize {
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

/// Removes the owned directories, newest first, with the one teardown (teardown.zig).
/// Never fails: what cannot be removed within the time bound is left for a later husk
/// command.
pub fn cleanup(cgroups: *State) void {
    const deadline = sys.monotonic_ns() + teardown.remove_ns_max;
    while (cgroups.owned_count > 0) {
        cgroups.owned_count -= 1;
        teardown.remove(cgroups.owned[cgroups.owned_count], deadline) catch {};
    }
}

test "a path outside a cgroup filesystem is refused with EXDEV" {
    var dir = std.testing.tmpDir(.{});
    defer dir.cleanup();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const base = try dir.dir.realpath(".", &path_buffer);
    var z: [4096]u8 = undefined;
    const made = try std.fmt.bufPrintZ(&z, "{s}/husk-test", .{base});
    var cgroups: State = undefined;
    cgroups.init();
    try std.testing.expectError(error.XDEV, mkdir(&cgroups, made, 0));
    try std.testing.expectEqual(@as(usize, 0), cgroups.owned_count);
    try dir.dir.writeFile(.{ .sub_path = "file", .data = "" });
    const file = try std.fmt.bufPrintZ(&z, "{s}/file", .{base});
    try std.testing.expectError(error.XDEV, write(file, "1"));
    const parent = try std.fmt.bufPrintZ(&z, "{s}", .{base});
    try std.testing.expectError(error.XDEV, into(&cgroups, parent));
    try std.testing.expect(cgroups.into_path == null);
    try std.testing.expectEqual(@as(sys.fd_t, -1), cgroups.into_fd);
    const tasks = try std.fmt.bufPrintZ(&z, "{s}/tasks", .{base});
    try dir.dir.writeFile(.{ .sub_path = "tasks", .data = "" });
    try std.testing.expectError(error.XDEV, join(tasks));
    // A symlink is not followed, even to a cgroup file.
    try dir.dir.deleteFile("tasks");
    try dir.dir.symLink("/sys/fs/cgroup/memory/tasks", "tasks", .{});
    try std.testing.expectError(error.LOOP, join(tasks));
}

test "a report of a file that cannot be read sends nothing" {
    var cgroups: State = undefined;
    cgroups.init();
    report(&cgroups, "/nonexistent/husk/memory.events");
    // Missing here: no CGROUP_FILE, neither sent nor recorded for the status file.
    var channel: events.Channel = undefined;
    channel.init(null);
    channel.recording = true;
    try std.testing.expectEqual(@as(usize, 0), send_reports(&cgroups, &channel));
    try std.testing.expectEqual(@as(usize, 0), channel.recorded_frames().len);
}
