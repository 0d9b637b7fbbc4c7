//! IDMAP_HELPER (protocol.md "IDMAP_HELPER"): a rootless map of subordinate ids can only be
//! written by the setuid newuidmap/newgidmap, which check /etc/subuid and /etc/subgid
//! themselves. The launcher runs the helper the plan names as `path PID args…`, with the
//! container process's pid and the arguments the core computed, waits for it, and turns a
//! refusal into an op failure carrying the helper's own words (its first output line).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const sys = @import("sys.zig");

/// The most arguments after the pid: `inside outside count` for each of the kernel's 340 lines.
pub const args_max = 340 * 3;
/// What is kept of the helper's output for the error message.
pub const output_bytes_max = 160;

/// The helper's output, kept for the error message of a failed IDMAP_HELPER.
pub const Output = struct {
    bytes: [output_bytes_max]u8 = undefined,
    len: usize = 0,

    /// The first line, without the helper's own `newuidmap: ` prefix.
    pub fn first_line(output: *const Output) []const u8 {
        assert(output.len <= output.bytes.len);
        var line = output.bytes[0..output.len];
        if (std.mem.indexOfScalar(u8, line, '\n')) |end| line = line[0..end];
        return line;
    }
};

/// NET_HELPER's most arguments before the pid.
pub const net_args_max = 256;

/// NET_HELPER: runs `path args… pid` (pasta in the foreground, which joins the process's user
/// and network namespaces, sets the network up, writes its pid as the first line, and stays)
/// as the launcher's own child, killed by the kernel when the launcher dies
/// (PR_SET_PDEATHSIG: even a SIGKILLed monitor leaves no pasta behind). Waits for that first
/// line; a helper that exits before it failed. Returns the helper's pid; the read end of
/// its output pipe stays open in `output_fd` (a closed pipe would end pasta by SIGPIPE).
pub fn run_net(path: [:0]const u8, args: protocol.Strs, pid: sys.pid_t, output: *Output, output_fd: *sys.fd_t) sys.Error!sys.pid_t {
    assert(pid > 0);
    assert(args.len <= net_args_max); // The decoder checks it.
    var pid_text: [16]u8 = undefined;
    const pid_z = std.fmt.bufPrintZ(&pid_text, "{d}", .{pid}) catch unreachable;
    var argv: [net_args_max + 3]?[*:0]const u8 = undefined;
    argv[0] = path.ptr;
    for (args, 0..) |a, i| argv[1 + i] = a;
    argv[1 + args.len] = pid_z.ptr;
    argv[2 + args.len] = null;
    const envp = [_:null]?[*:0]const u8{};
    var pipe: [2]sys.fd_t = undefined;
    try sys.pipe(&pipe);
    const parent = sys.getpid();
    const child = sys.fork() catch |err| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return err;
    };
    if (child == 0) {
        // Dies with the launcher; a launcher gone before this line was armed leaves it too.
        _ = sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0) catch sys.exit(exec_failed_status);
        if (sys.getppid() != parent) sys.exit(exec_failed_status);
        exec_child(path, @ptrCast(&argv), &envp, pipe[1]);
    }
    sys.close(pipe[1]);
    output.len = read_line(pipe[0], &output.bytes);
    if (output.len > 0 and output.bytes[output.len - 1] == '\n') {
        output_fd.* = pipe[0];
        return child;
    }
    sys.close(pipe[0]);
    var status: u32 = 0;
    _ = try sys.wait4(child, &status, 0);
    try outcome(status, output);
    return error.PERM; // It exited 0 without its pid: not the helper we speak to.
}

/// Reads until a newline, EOF or a full buffer.
fn read_line(fd: sys.fd_t, buffer: []u8) usize {
    var len: usize = 0;
    while (len < buffer.len) {
        const n = sys.read(fd, buffer[len..]) catch return len;
        if (n == 0) return len;
        len += n;
        if (std.mem.indexOfScalar(u8, buffer[len - n .. len], '\n') != null) return len;
    }
    return len;
}

/// Status a child exits with when execve of the helper failed (the errno is written first).
const exec_failed_status = 127;

/// Runs `path pid args…` and waits. Ok when the helper exits 0. Otherwise error.PERM (it
/// refused; `output` says why), or the errno of its execve (e.g. NOENT: not installed).
pub fn run(path: [:0]const u8, args: protocol.Strs, pid: sys.pid_t, output: *Output) sys.Error!void {
    assert(pid > 0);
    assert(args.len <= args_max); // The decoder checks it.
    var pid_text: [16]u8 = undefined;
    const pid_z = std.fmt.bufPrintZ(&pid_text, "{d}", .{pid}) catch unreachable;
    var argv: [args_max + 3]?[*:0]const u8 = undefined;
    argv[0] = path.ptr;
    argv[1] = pid_z.ptr;
    for (args, 0..) |a, i| argv[2 + i] = a;
    argv[2 + args.len] = null;
    const envp = [_:null]?[*:0]const u8{};

    var pipe: [2]sys.fd_t = undefined;
    try sys.pipe(&pipe); // Both ends close-on-exec.
    const child = sys.fork() catch |err| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return err;
    };
    if (child == 0) exec_child(path, @ptrCast(&argv), &envp, pipe[1]);
    sys.close(pipe[1]);
    output.len = read_all(pipe[0], &output.bytes);
    sys.close(pipe[0]);
    var status: u32 = 0;
    _ = try sys.wait4(child, &status, 0);
    return outcome(status, output);
}

/// In the forked child: stdout and stderr to the pipe, signals as a fresh process has them,
/// no fd of the launcher's beyond 0-2, an empty environment (the helper is setuid).
fn exec_child(path: [:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8, out: sys.fd_t) noreturn {
    sys.dup_to(out, 1) catch sys.exit(exec_failed_status);
    sys.dup_to(out, 2) catch sys.exit(exec_failed_status);
    sys.signals_default();
    sys.sigprocmask_set(0) catch sys.exit(exec_failed_status);
    sys.close_range_cloexec(3) catch sys.exit(exec_failed_status);
    const err = sys.execve(path, argv, envp);
    // The parent reads this as the helper's output: `exec: ERRNO`.
    var name: [16]u8 = undefined;
    var text: [48]u8 = undefined;
    const line = std.fmt.bufPrint(&text, "exec: {s}\n", .{sys.errno_name(sys.errno_of(err), &name)}) catch "exec failed\n";
    _ = sys.write(2, line) catch {};
    sys.exit(exec_failed_status);
}

/// Reads until EOF or the buffer is full; what does not fit is drained and dropped.
fn read_all(fd: sys.fd_t, buffer: []u8) usize {
    var len: usize = 0;
    var drain: [256]u8 = undefined;
    while (true) {
        const target = if (len < buffer.len) buffer[len..] else drain[0..];
        const n = sys.read(fd, target) catch return len;
        if (n == 0) return len;
        if (len < buffer.len) len += n;
    }
}

fn outcome(status: u32, output: *const Output) sys.Error!void {
    const exited = status & 0x7f == 0;
    const code = (status >> 8) & 0xff;
    if (exited and code == 0) return;
    if (exited and code == exec_failed_status and std.mem.startsWith(u8, output.first_line(), "exec: ")) {
        return if (std.mem.indexOf(u8, output.first_line(), "ENOENT") != null) error.NOENT else error.ACCES;
    }
    return error.PERM;
}

test "outcome: 0 is success, a refusal is EPERM, a failed exec its errno" {
    var output = Output{};
    try outcome(0, &output);
    try std.testing.expectError(error.PERM, outcome(1 << 8, &output));
    try std.testing.expectError(error.PERM, outcome(9, &output)); // killed
    const text = "exec: ENOENT\n";
    @memcpy(output.bytes[0..text.len], text);
    output.len = text.len;
    try std.testing.expectError(error.NOENT, outcome(127 << 8, &output));
    try std.testing.expectEqualStrings("exec: ENOENT", output.first_line());
}

test "run: the helper gets the pid then the arguments; a refusal is EPERM" {
    var output = Output{};
    const args = [_:null]?[*:0]const u8{ "0", "1000", "1" };
    try run("/bin/echo", &args, 4242, &output);
    try std.testing.expectEqualStrings("4242 0 1000 1", output.first_line());
    try std.testing.expectError(error.PERM, run("/bin/false", &args, 4242, &output));
}

test "run: a missing helper gives ENOENT" {
    var output = Output{};
    const args = [_:null]?[*:0]const u8{};
    try std.testing.expectError(error.NOENT, run("/nonexistent/newuidmap", &args, sys.getpid(), &output));
}
