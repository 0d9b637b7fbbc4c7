//! What husk-runc's fast front (runc_main.zig) does itself: each call's plain success, the
//! same syscalls the Node path's control plans make (ts/runc/*.ts). Whatever is not that
//! plain success is `.node`: the front hands the call over before it changed anything, or
//! after a step Node would do again (a removed cgroup, a written FIFO byte are not redone).

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const state = @import("runc_state.zig");
const protocol = @import("protocol.zig");
const teardown = @import("teardown.zig");
const Call = @import("runc_main.zig").Call;

pub const Outcome = union(enum) { done: u8, node };

var output: [64 * 1024]u8 = undefined;

pub fn run(call: *const Call) Outcome {
    assert(call.id.len > 0);
    var dir_buffer: [4200]u8 = undefined;
    const dir = std.fmt.bufPrint(&dir_buffer, "{s}/{s}", .{ call.root, call.id }) catch return .node;
    const found = state.read(dir) catch return .node;
    const record = found orelse {
        // delete --force of a container that does not exist succeeds; the rest is an error.
        if (call.command == .delete and call.force) return .{ .done = 0 };
        return .node;
    };
    const current = state.status(&record, dir);
    return switch (call.command) {
        .state => print_state(&record, current),
        .start => start(&record, current, dir),
        .kill => kill(&record, current, call.signal, call.all),
        .delete => delete(&record, current, dir, call.force),
        .pause => freeze(&record, current, true),
        .@"resume" => freeze(&record, current, false),
        .ps => ps_json(&record, current),
    };
}

fn emit(bytes: []const u8) Outcome {
    var done: usize = 0;
    while (done < bytes.len) done += sys.write(1, bytes[done..]) catch return .{ .done = 1 };
    return .{ .done = 0 };
}

fn print_state(record: *const state.Record, current: state.Status) Outcome {
    var stream = std.io.fixedBufferStream(&output);
    state.write_state(stream.writer(), record, current) catch return .node;
    return emit(stream.getWritten());
}

/// One byte into the exec FIFO (docs/protocol.md "Left waiting on a FIFO"), as start.ts.
fn start(record: *const state.Record, current: state.Status, dir: []const u8) Outcome {
    if (current != .created or state.has_hooks(record, "poststart")) return .node;
    var path_buffer: [4200]u8 = undefined;
    const fifo = std.fmt.bufPrintZ(&path_buffer, "{s}/exec.fifo", .{dir}) catch return .node;
    const fd = sys.openat(sys.AT_FDCWD, fifo, sys.O.WRONLY | sys.O.NONBLOCK | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0) catch return .node;
    const written = sys.write(fd, "0") catch 0;
    if (written == 1) wait_for_exec(fd);
    sys.close(fd);
    if (written != 1) return .node;
    sys.unlinkat(sys.AT_FDCWD, fifo) catch |err| {
        var name: [16]u8 = undefined;
        var line: [4400]u8 = undefined;
        const text = std.fmt.bufPrint(&line, "husk-runc: unlink {s}: {s}\n", .{ fifo, sys.errno_name(sys.errno_of(err), &name) }) catch return .{ .done = 1 };
        _ = sys.write(2, text) catch {};
        return .{ .done = 1 };
    };
    return .{ .done = 0 };
}

/// The longest `start` waits for the init to exec (its startContainer hooks run before that).
const exec_wait_ms_max: i32 = 2000;

/// Returns once the FIFO has no reader left: the init holds the only one, close-on-exec, so
/// it is gone when the init has exec'd its process (or died). A `state` or `kill` right
/// after `start` then meets the container's program, not the init still on its way to EXEC
/// (pid 1 of its pid namespace, which drops a signal it has no handler for: runtime-tools'
/// killsig lost TERM and USR2 so). Asking for no events, poll reports
/// only POLLERR (no reader) on a FIFO's write end; bounded, so a slow hook cannot hold start.
fn wait_for_exec(fd: sys.fd_t) void {
    assert(fd >= 0);
    var fds = [1]sys.PollFd{.{ .fd = fd, .events = 0, .revents = 0 }};
    _ = sys.poll_timeout(&fds, exec_wait_ms_max) catch {};
}

/// Signal numbers the front reads itself (x86_64); any other name is Node's (the core's).
fn signal_number(text: []const u8) ?u32 {
    if (text.len > 0 and text.len <= 2 and std.ascii.isDigit(text[0])) {
        const n = std.fmt.parseInt(u32, text, 10) catch return null;
        return if (n >= 1 and n <= 64) n else null;
    }
    const names = [_]struct { []const u8, u32 }{
        .{ "HUP", 1 },  .{ "INT", 2 },   .{ "QUIT", 3 },  .{ "KILL", 9 },  .{ "USR1", 10 },
        .{ "USR2", 12 }, .{ "ALRM", 14 }, .{ "TERM", 15 }, .{ "CONT", 18 }, .{ "STOP", 19 },
        .{ "WINCH", 28 },
    };
    const bare = if (std.mem.startsWith(u8, text, "SIG")) text[3..] else text;
    for (names) |entry| if (std.mem.eql(u8, entry[0], bare)) return entry[1];
    return null;
}

/// kill.ts: the init, through a pidfd opened before its start time is checked (the
/// launcher's SIGNAL_PROCESS), so a reused pid is never signalled; `--all` with KILL, every
/// process of the container (kill_container).
fn kill(record: *const state.Record, current: state.Status, signal_text: []const u8, all: bool) Outcome {
    if (current == .stopped or current == .creating) return .node;
    const signo = signal_number(signal_text) orelse return .node;
    if (all and signo == 9) return if (kill_container(record)) .{ .done = 0 } else .node;
    return if (signal_init(record, signo)) .{ .done = 0 } else .node;
}

fn signal_init(record: *const state.Record, signo: u32) bool {
    assert(signo >= 1 and signo <= 64);
    if (record.pid <= 0) return false;
    const pid: sys.pid_t = @intCast(record.pid);
    const pidfd = sys.pidfd_open(pid) catch return false;
    defer sys.close(pidfd);
    var buffer: [1024]u8 = undefined;
    const now = state.process_start(record.pid, &buffer) orelse return false;
    if (!std.mem.eql(u8, now, record.start_time)) return false;
    sys.kill(pid, pidfd, signo) catch return false;
    return true;
}

/// A cgroup directory of the record as teardown.zig takes it (clean, absolute), or null.
fn cgroup_path(value: std.json.Value, buffer: *[4200]u8) ?[:0]const u8 {
    const path = std.fmt.bufPrintZ(buffer, "{s}", .{value.string}) catch return null;
    if (path.len > protocol.path_bytes_max or !protocol.is_clean_absolute(path)) return null;
    return path;
}

/// The v1 freezer directory of the record (its freezer file is v1's freezer.state), or null.
fn v1_freezer(record: *const state.Record) ?[]const u8 {
    const path = record.freezer_path orelse return null;
    if (!std.mem.endsWith(u8, path, "/freezer.state")) return null;
    return std.fs.path.dirname(path);
}

/// killContainer: the core's kill plan run with the launcher's own teardown.zig — thaw the
/// v1 freezer directory, then CGROUP_KILL on the v2 directory, else on the freezer one,
/// else on the first; with no directory, SIGKILL to the init checked by start time. False:
/// Node's (a record without its freezer file, a directory that is not a cgroup, EBUSY).
fn kill_container(record: *const state.Record) bool {
    if (record.cgroup_dirs.len == 0) return signal_init(record, 9);
    if (record.freezer_path == null) return false;
    var freezer_buffer: [4200]u8 = undefined;
    var freezer_z: ?[:0]const u8 = null;
    if (v1_freezer(record)) |dir| {
        const z = cgroup_path(.{ .string = dir }, &freezer_buffer) orelse return false;
        teardown.freeze(z, false) catch return false;
        freezer_z = z;
    }
    var target_buffer: [4200]u8 = undefined;
    var target: ?[:0]const u8 = freezer_z;
    for (record.cgroup_dirs) |d| {
        var buffer: [4200]u8 = undefined;
        const z = cgroup_path(d, &buffer) orelse return false;
        const kind = teardown.kind_of(z) catch return false;
        if (kind == .v2) target = cgroup_path(d, &target_buffer);
    }
    if (target == null) target = cgroup_path(record.cgroup_dirs[0], &target_buffer);
    teardown.kill(target orelse return false) catch return false;
    return true;
}

/// removeCgroups: CGROUP_REMOVE (teardown.zig) of the freezer directory, the v2 ones, then
/// the rest, as the core's remove plan orders them.
fn remove_cgroups(record: *const state.Record) bool {
    const freezer = v1_freezer(record);
    for (0..3) |pass| {
        for (record.cgroup_dirs) |d| {
            var buffer: [4200]u8 = undefined;
            const z = cgroup_path(d, &buffer) orelse return false;
            const is_freezer = if (freezer) |f| std.mem.eql(u8, f, z) else false;
            // A directory gone already: last pass, where CGROUP_REMOVE finds it removed.
            const is_v2 = !is_freezer and (if (teardown.kind_of(z)) |kind| kind == .v2 else |_| false);
            const which: usize = if (is_freezer) 0 else if (is_v2) 1 else 2;
            if (which != pass) continue;
            teardown.remove_checked(z) catch return false;
        }
    }
    return true;
}

/// delete.ts: a stopped or created container, or with --force a running or paused one,
/// when it has no poststop hooks: what is left of it killed (destroy), its cgroups
/// removed, then its directory (flat, or Node's).
fn delete(record: *const state.Record, current: state.Status, dir: []const u8, force: bool) Outcome {
    if (state.has_hooks(record, "poststop")) return .node;
    const allowed = switch (current) {
        .stopped, .created => true,
        .running, .paused => force,
        .creating => false,
    };
    if (!allowed) return .node;
    if (state.alive(record) and !kill_container(record)) return .node;
    if (!remove_cgroups(record)) return .node;
    remove_default_parents(record);
    return remove_flat(dir);
}

/// commands.ts removeDefaultParents: the default parent (husk-runc/) of each hierarchy,
/// removed if empty; busy or not empty means another container is in it, which is fine.
fn remove_default_parents(record: *const state.Record) void {
    for (record.cgroup_parent_dirs) |d| {
        var buffer: [4200]u8 = undefined;
        const z = cgroup_path(d, &buffer) orelse continue;
        sys.rmdirat(sys.AT_FDCWD, z) catch {};
    }
}

/// Removes `dir` and the files in it; a subdirectory (never made by husk-runc) is Node's.
fn remove_flat(dir: []const u8) Outcome {
    var path_buffer: [4200]u8 = undefined;
    const z = std.fmt.bufPrintZ(&path_buffer, "{s}", .{dir}) catch return .node;
    const fd = sys.openat(sys.AT_FDCWD, z, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0) catch return .node;
    defer sys.close(fd);
    var buffer: [4096]u8 align(8) = undefined;
    var reads: usize = 0;
    while (reads < 64) : (reads += 1) {
        const n = sys.getdents64(fd, &buffer) catch return .node;
        if (n == 0) break;
        var offset: usize = 0;
        while (offset + 19 < n) {
            const record_len = std.mem.readInt(u16, buffer[offset + 16 ..][0..2], .little);
            if (record_len < 20 or offset + record_len > n) return .node;
            const kind = buffer[offset + 18];
            const name = std.mem.sliceTo(buffer[offset + 19 .. offset + record_len], 0);
            offset += record_len;
            if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) continue;
            const DT_DIR = 4;
            if (kind == DT_DIR) return .node;
            var name_buffer: [256]u8 = undefined;
            const name_z = std.fmt.bufPrintZ(&name_buffer, "{s}", .{name}) catch return .node;
            sys.unlinkat(fd, name_z) catch |err| if (err != error.NOENT) return .node;
        }
    }
    sys.rmdirat(sys.AT_FDCWD, z) catch |err| if (err != error.NOENT) return .node;
    return .{ .done = 0 };
}

/// pause.ts: CGROUP_FREEZE (teardown.zig's, the launcher's own) on the directory of the
/// freezer file create recorded, the one the core's freeze picks; it returns once the
/// kernel says so. Any failure is Node's.
fn freeze(record: *const state.Record, current: state.Status, frozen: bool) Outcome {
    const allowed = if (frozen) current == .running or current == .created else current == .paused;
    if (!allowed or record.cgroup_dirs.len == 0) return .node;
    const path = record.freezer_path orelse return .node;
    if (!std.mem.endsWith(u8, path, "/freezer.state") and !std.mem.endsWith(u8, path, "/cgroup.freeze")) return .node;
    var buffer: [4200]u8 = undefined;
    const dir = cgroup_path(.{ .string = std.fs.path.dirname(path) orelse return .node }, &buffer) orelse return .node;
    teardown.freeze(dir, frozen) catch return .node;
    return .{ .done = 0 };
}

const pids_max = 16 * 1024;

/// `ps --format json`: the pids of the container's cgroup and below, sorted, as ps.ts. Node
/// reads one hierarchy's directory (the one with pids); the front reads all and answers
/// only when they agree, which they do unless a process was moved in one hierarchy.
fn ps_json(record: *const state.Record, current: state.Status) Outcome {
    if (current == .stopped) return .node;
    var first: [pids_max]i32 = undefined;
    var first_count: usize = 0;
    var other: [pids_max]i32 = undefined;
    for (record.cgroup_dirs, 0..) |cgroup, i| {
        var count: usize = 0;
        const list = if (i == 0) &first else &other;
        var path_buffer: [4200]u8 = undefined;
        @memcpy(path_buffer[0..cgroup.string.len], cgroup.string);
        if (cgroup.string.len >= 4000) return .node;
        collect(&path_buffer, cgroup.string.len, 0, list, &count) catch return .node;
        std.mem.sort(i32, list[0..count], {}, std.sort.asc(i32));
        count = unique(list[0..count]);
        if (i == 0) first_count = count else if (!std.mem.eql(i32, first[0..first_count], other[0..count])) return .node;
    }
    var stream = std.io.fixedBufferStream(&output);
    const out = stream.writer();
    out.writeByte('[') catch return .node;
    for (first[0..first_count], 0..) |pid, i| out.print("{s}{d}", .{ if (i == 0) "" else ",", pid }) catch return .node;
    out.writeAll("]\n") catch return .node;
    return emit(stream.getWritten());
}

fn unique(list: []i32) usize {
    if (list.len == 0) return 0;
    var kept: usize = 1;
    for (list[1..]) |pid| if (pid != list[kept - 1]) {
        list[kept] = pid;
        kept += 1;
    };
    assert(kept <= list.len);
    return kept;
}

/// cgroup.procs of `path[0..len]` and of its subdirectories, 8 deep (host.ts subtree).
fn collect(path: *[4200]u8, len: usize, depth: usize, list: *[pids_max]i32, count: *usize) error{Unsupported}!void {
    assert(len < 4100);
    var procs: [4200]u8 = undefined;
    const procs_path = std.fmt.bufPrintZ(&procs, "{s}/cgroup.procs", .{path[0..len]}) catch return error.Unsupported;
    var buffer: [64 * 1024]u8 = undefined;
    if (state.read_small(procs_path, &buffer)) |content| {
        if (content.len == buffer.len) return error.Unsupported;
        var lines = std.mem.tokenizeScalar(u8, content, '\n');
        while (lines.next()) |line| {
            if (count.* == list.len) return error.Unsupported;
            list[count.*] = std.fmt.parseInt(i32, line, 10) catch return error.Unsupported;
            count.* += 1;
        }
    }
    if (depth >= 8) return;
    try collect_children(path, len, depth, list, count);
}

fn collect_children(path: *[4200]u8, len: usize, depth: usize, list: *[pids_max]i32, count: *usize) error{Unsupported}!void {
    path[len] = 0;
    const fd = sys.openat(sys.AT_FDCWD, path[0..len :0], sys.O.RDONLY | sys.O.DIRECTORY | sys.O.CLOEXEC, 0) catch return;
    defer sys.close(fd);
    var buffer: [4096]u8 align(8) = undefined;
    var reads: usize = 0;
    while (reads < 256) : (reads += 1) {
        const n = sys.getdents64(fd, &buffer) catch return;
        if (n == 0) return;
        var offset: usize = 0;
        while (offset + 19 < n) {
            const record_len = std.mem.readInt(u16, buffer[offset + 16 ..][0..2], .little);
            if (record_len < 20 or offset + record_len > n) return error.Unsupported;
            const kind = buffer[offset + 18];
            const name = std.mem.sliceTo(buffer[offset + 19 .. offset + record_len], 0);
            offset += record_len;
            const DT_DIR = 4;
            if (kind != DT_DIR or std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) continue;
            if (len + 1 + name.len >= 4100) return error.Unsupported;
            path[len] = '/';
            @memcpy(path[len + 1 ..][0..name.len], name);
            try collect(path, len + 1 + name.len, depth + 1, list, count);
        }
    }
}
