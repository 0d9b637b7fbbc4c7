//! HOOK (protocol.md "Hooks in the container"): an OCI createContainer or startContainer hook,
//! run by the container process itself, so that it is in the container's namespaces, cgroups
//! and (for startContainer) credentials, as runc's init runs them. The hook gets the OCI state
//! on stdin (the plan's two halves around this process's own pid, which is what runc puts
//! there: getpid() in the container's pid namespace), its args and env, `dir` as its working
//! directory when given, and is killed after `timeout_s` seconds (0: no limit). A hook that
//! fails fails the op; its first output line goes into the error message.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");
const Output = @import("idmap_helper.zig").Output;

/// The state's two halves, with the pid, must fit in an empty pipe (which holds 64 KiB for a
/// process within its pipe pages), so that it is written whole before the hook starts and
/// no hook that never reads it can block the container.
pub const state_bytes_max = 16384;
/// OCI_HOOK kinds (the core's HOOK_KINDS order, 1-based) the launcher runs.
pub const kind_create_container: u64 = 3;
pub const kind_start_container: u64 = 4;
/// The longest timeout, in seconds (poll's milliseconds stay in an i32).
pub const timeout_s_max: u64 = 2_000_000;

/// How the last hook ended, for the error message (run.zig describe).
pub const Outcome = struct {
    output: Output = .{},
    /// The wait status; meaningless when it timed out or did not start.
    status: u32 = 0,
    timed_out: bool = false,

    pub fn print(outcome: *const Outcome, o: protocol.Hook, message: anytype) void {
        const kind = if (o.kind == kind_create_container) "createContainer" else "startContainer";
        message.print("hooks.{s}[{d}] {s}: ", .{ kind, o.index, o.path });
        const line = outcome.output.first_line();
        if (outcome.timed_out) {
            message.print("timed out after {d} s", .{o.timeout_s});
        } else if (std.mem.startsWith(u8, line, "exec: ")) {
            message.print("cannot run it: {s}", .{line["exec: ".len..]});
            return;
        } else if (outcome.status & 0x7f != 0) {
            message.print("killed by signal {d}", .{outcome.status & 0x7f});
        } else {
            message.print("exited with status {d}", .{(outcome.status >> 8) & 0xff});
        }
        if (line.len > 0) message.print(": {s}", .{line});
    }
};

/// Status the forked child exits with when execve failed (its errno written first).
const exec_failed_status = 127;

pub fn run(o: protocol.Hook, outcome: *Outcome) sys.Error!void {
    assert(o.path.len > 0 and o.path[0] == '/'); // The decoder checks it.
    assert(o.state_prefix.len + o.state_suffix.len <= state_bytes_max);
    outcome.* = .{};
    var input: [2]sys.fd_t = undefined;
    try sys.pipe(&input); // Both ends close-on-exec; the child dups its end to 0.
    defer sys.close(input[0]);
    write_state(input[1], o.state_prefix, o.state_suffix) catch |err| {
        sys.close(input[1]);
        return err;
    };
    sys.close(input[1]);
    var output: [2]sys.fd_t = undefined;
    try sys.pipe(&output);
    const child = sys.fork() catch |err| {
        sys.close(output[0]);
        sys.close(output[1]);
        return err;
    };
    if (child == 0) exec_child(o, input[0], output[1]);
    sys.close(output[1]);
    defer sys.close(output[0]);
    const pidfd = sys.pidfd_open(child) catch |err| {
        sys.kill(child, -1, sys.SIGKILL) catch {};
        var ignored: u32 = 0;
        _ = sys.wait4(child, &ignored, 0) catch {};
        return err;
    };
    defer sys.close(pidfd);
    outcome.timed_out = !try wait(pidfd, output[0], o.timeout_s, &outcome.output);
    if (outcome.timed_out) sys.kill(child, pidfd, sys.SIGKILL) catch {};
    _ = try sys.wait4(child, &outcome.status, 0);
    // The message says it all (Outcome.print), a failed exec's errno too.
    if (outcome.timed_out or outcome.status != 0) return sys.no_errno();
}

/// prefix, this process's pid, suffix: into the empty pipe without blocking (it fits).
fn write_state(fd: sys.fd_t, prefix: []const u8, suffix: []const u8) sys.Error!void {
    var pid_text: [16]u8 = undefined;
    const pid = std.fmt.bufPrint(&pid_text, "{d}", .{sys.getpid()}) catch unreachable;
    try sys.set_nonblocking(fd);
    for ([_][]const u8{ prefix, pid, suffix }) |part| {
        if (part.len == 0) continue;
        const n = try sys.write(fd, part);
        if (n != part.len) return error.AGAIN;
    }
}

/// Reads the hook's output until it exits or the time is up. True when it exited.
fn wait(pidfd: sys.fd_t, output_fd: sys.fd_t, timeout_s: u64, output: *Output) sys.Error!bool {
    assert(timeout_s <= timeout_s_max);
    const deadline_ns: u64 = if (timeout_s == 0) std.math.maxInt(u64) else sys.monotonic_ns() + timeout_s * std.time.ns_per_s;
    var open = true;
    var drain: [256]u8 = undefined;
    while (true) {
        var fds = [2]sys.PollFd{
            .{ .fd = pidfd, .events = sys.POLLIN, .revents = 0 },
            .{ .fd = if (open) output_fd else -1, .events = sys.POLLIN, .revents = 0 },
        };
        const now = sys.monotonic_ns();
        if (now >= deadline_ns) return false;
        const left_ms = if (timeout_s == 0) -1 else @as(i32, @intCast(@min((deadline_ns - now) / std.time.ns_per_ms + 1, std.math.maxInt(i32))));
        _ = if (left_ms < 0) try sys.poll(&fds) else try sys.poll_timeout(&fds, left_ms);
        if (fds[1].revents != 0) {
            const target = if (output.len < output.bytes.len) output.bytes[output.len..] else drain[0..];
            const n = sys.read(output_fd, target) catch 0;
            if (n == 0) open = false else if (output.len < output.bytes.len) output.len += n;
        }
        if (fds[0].revents != 0) {
            // Exited: what it wrote is in the pipe already; a process it left behind may keep
            // the pipe open, so the rest is read without waiting.
            sys.set_nonblocking(output_fd) catch return true;
            while (open and output.len < output.bytes.len) {
                const n = sys.read(output_fd, output.bytes[output.len..]) catch break;
                if (n == 0) break;
                output.len += n;
            }
            return true;
        }
    }
}

/// In the forked child: the state on stdin, stdout and stderr to the output pipe, signals as a
/// fresh process has them, no fd beyond 0-2, `dir` as the working directory.
fn exec_child(o: protocol.Hook, input: sys.fd_t, output: sys.fd_t) noreturn {
    sys.dup_to(input, 0) catch sys.exit(exec_failed_status);
    sys.dup_to(output, 1) catch sys.exit(exec_failed_status);
    sys.dup_to(output, 2) catch sys.exit(exec_failed_status);
    sys.signals_default();
    sys.sigprocmask_set(0) catch sys.exit(exec_failed_status);
    sys.close_range_cloexec(3) catch sys.exit(exec_failed_status);
    if (o.dir.len > 0) sys.chdir(o.dir.ptr) catch |err| fail_child("chdir", err);
    const own_path = [_:null]?[*:0]const u8{o.path.ptr};
    const argv: [*:null]const ?[*:0]const u8 = if (o.args.len == 0) &own_path else o.args.ptr;
    fail_child("exec", sys.execve(o.path.ptr, argv, o.env.ptr));
}

/// The parent reads `exec: ERRNO` (or `chdir: ERRNO`) as the hook's output.
fn fail_child(what: []const u8, err: sys.Error) noreturn {
    var name: [16]u8 = undefined;
    var text: [48]u8 = undefined;
    const line = std.fmt.bufPrint(&text, "{s}: {s}\n", .{ what, sys.errno_name(sys.errno_of(err), &name) }) catch "exec failed\n";
    _ = sys.write(2, line) catch {};
    sys.exit(exec_failed_status);
}

test "run: the hook reads the state with this pid; a failure says its status and first line" {
    var outcome = Outcome{};
    const args = [_:null]?[*:0]const u8{ "sh", "-c", "cat; exit 3" };
    const env = [_:null]?[*:0]const u8{};
    const hook = protocol.Hook{ .kind = 3, .index = 0, .path = "/bin/sh", .args = &args, .env = &env, .dir = "", .timeout_s = 5, .state_prefix = "{\"pid\":", .state_suffix = "}" };
    try std.testing.expectError(error.UnknownErrno, run(hook, &outcome));
    var expected: [32]u8 = undefined;
    try std.testing.expectEqualStrings(try std.fmt.bufPrint(&expected, "{{\"pid\":{d}}}", .{sys.getpid()}), outcome.output.first_line());
    try std.testing.expectEqual(@as(u32, 3 << 8), outcome.status);
}

test "run: a hook past its timeout is killed; a missing one says ENOENT" {
    var outcome = Outcome{};
    const args = [_:null]?[*:0]const u8{ "sh", "-c", "sleep 30" };
    const env = [_:null]?[*:0]const u8{};
    var hook = protocol.Hook{ .kind = 4, .index = 1, .path = "/bin/sh", .args = &args, .env = &env, .dir = "", .timeout_s = 1, .state_prefix = "", .state_suffix = "" };
    try std.testing.expectError(error.UnknownErrno, run(hook, &outcome));
    try std.testing.expect(outcome.timed_out);
    hook.path = "/nonexistent/hook";
    try std.testing.expectError(error.UnknownErrno, run(hook, &outcome));
    try std.testing.expectEqualStrings("exec: ENOENT", outcome.output.first_line());
}
