//! Runs a control plan (protocol.md "Control plans"): HELLO, control ops, END, run one
//! after the other by the launcher itself — no CLONE, no monitor. This is how the
//! orchestrator freezes, kills and removes a container's cgroups and signals its
//! processes without acting on them itself. Every op runs even when an earlier one
//! failed (each removal is worth trying); each failure is an ERROR naming the op and the
//! errno, and the EXIT says whether any failed.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const teardown = @import("teardown.zig");
const pin = @import("pin.zig");
const net = @import("net.zig");
const nft = @import("nft.zig");
const cgroup = @import("cgroup.zig");

pub fn run(channel: *events.Channel, plan: *const decode.Plan) noreturn {
    assert(plan.control);
    const ops = plan.slice();
    assert(ops.len >= 1);
    var failed: usize = 0;
    for (ops, 0..) |op, index| {
        assert(Op.runner(op) == .control); // The decoder requires it.
        const start_ns = if (channel.trace) sys.monotonic_ns() else 0;
        const code = @intFromEnum(Op.frame_type(op));
        run_op(op) catch |err| {
            const errno = sys.errno_of(err); // First, before anything else can fail.
            var message = events.Message{};
            describe(op, &message);
            channel.failure(index, code, errno, message.slice());
            failed += 1;
        };
        if (channel.trace) channel.op_time(index, code, sys.monotonic_ns() - start_ns);
    }
    if (failed > 0) {
        channel.exit(.launcher_failed, 125);
        sys.exit(125);
    }
    channel.exit(.exited, 0);
    sys.exit(0);
}

fn run_op(op: Op) sys.Error!void {
    switch (op) {
        .cgroup_freeze => |o| try teardown.freeze(o.path, o.frozen == 1),
        .cgroup_kill => |o| try teardown.kill(o.path),
        .cgroup_remove => |o| try teardown.remove_checked(o.path),
        .signal_process => |o| try signal(@intCast(o.pid), o.start_time, @intCast(o.signo)),
        .pin_new => |o| try pin.create(o.flags, o.dir),
        .unpin => |o| try pin.remove(o.path),
        .net_bridge => |o| try net.bridge(o.name, o.address),
        .net_link_del => |o| try net.link_delete(o.name),
        .net_sysctl => |o| try net.sysctl(o.key, o.value),
        .net_connect => |o| try connect(o.pid, o.start_time, .{ .host = o.host, .peer = o.peer, .bridge = o.bridge, .mac = o.mac, .address = o.address }),
        .cgroup_set => |o| try cgroup.write(o.path, o.value),
        .nft_delete => |o| try nft.delete(.{ .family = o.family, .table = o.table, .set = o.set, .key_words = o.key_words, .data_words = o.data_words, .words = o.words }),
        else => unreachable, // The decoder keeps container ops out of control plans.
    }
}

/// SIGNAL_PROCESS: `signo` to `pid` only if it is still the process that started at
/// `start_time` (/proc/PID/stat field 22). The pidfd is opened first and the start time
/// read after, so the process checked is the one signalled: a pid reused in between fails
/// the check. A process that is gone, or whose pid now names another, is ESRCH.
fn signal(pid: sys.pid_t, start_time: u64, signo: u32) sys.Error!void {
    assert(pid > 0);
    assert(signo >= 1 and signo <= protocol.signal_max);
    const pidfd = try sys.pidfd_open(pid);
    defer sys.close(pidfd);
    if (try start_time_of(pid) != start_time) return error.SRCH;
    try sys.kill(pid, pidfd, signo);
}

/// NET_CONNECT: the network namespace of `pid` is opened first and the start time read
/// after, so the namespace joined is that process's (a pid reused in between is ESRCH).
fn connect(pid_value: u64, start_time: u64, link: net.Connect) sys.Error!void {
    assert(pid_value > 0 and pid_value <= std.math.maxInt(i32));
    const pid: sys.pid_t = @intCast(pid_value);
    var path_buffer: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "/proc/{d}/ns/net", .{pid}) catch unreachable; // An i32 fits.
    const namespace = sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.CLOEXEC, 0) catch return error.SRCH;
    defer sys.close(namespace);
    if (try start_time_of(pid) != start_time) return error.SRCH;
    try net.connect(namespace, link);
}

/// Field 22 of /proc/PID/stat; ESRCH if it cannot be read or parsed (the process is gone).
pub fn start_time_of(pid: sys.pid_t) sys.Error!u64 {
    var path_buffer: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "/proc/{d}/stat", .{pid}) catch unreachable; // An i32 fits.
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.NOCTTY, 0) catch return error.SRCH;
    defer sys.close(fd);
    var buffer: [1024]u8 = undefined;
    var done: usize = 0;
    // /proc/PID/stat is under 1 KiB (a 16-byte comm and 52 numbers); each read adds or ends.
    while (done < buffer.len) {
        const n = sys.read(fd, buffer[done..]) catch return error.SRCH;
        if (n == 0) break;
        done += n;
    }
    return parse_start_time(buffer[0..done]) orelse error.SRCH;
}

/// The command name (field 2) may hold spaces and parentheses: fields are counted after
/// the last ')'. Field 3 is the state, field 22 the start time.
fn parse_start_time(stat: []const u8) ?u64 {
    const close = std.mem.lastIndexOfScalar(u8, stat, ')') orelse return null;
    var fields = std.mem.tokenizeScalar(u8, stat[close + 1 ..], ' ');
    var number: usize = 3;
    while (fields.next()) |field| : (number += 1) {
        if (number == 22) return std.fmt.parseInt(u64, field, 10) catch null;
    }
    return null;
}

/// The op's subject in a few words, for its ERROR.
fn describe(op: Op, message: *events.Message) void {
    switch (op) {
        .cgroup_freeze => |o| message.print("{s} cgroup {s}", .{ if (o.frozen == 1) "freeze" else "thaw", o.path }),
        .cgroup_kill => |o| message.print("kill cgroup {s}", .{o.path}),
        .cgroup_remove => |o| message.print("remove cgroup {s}", .{o.path}),
        .signal_process => |o| message.print("signal {d} to pid {d} started at {d}", .{ o.signo, o.pid, o.start_time }),
        .pin_new => |o| message.print("pin new namespaces 0x{x} in {s}", .{ o.flags, o.dir }),
        .unpin => |o| message.print("unpin {s}", .{o.path}),
        .net_bridge => |o| message.print("bridge {s} with {s}", .{ o.name, o.address }),
        .net_link_del => |o| message.print("delete link {s}", .{o.name}),
        .net_sysctl => |o| message.print("write {s} to /proc/sys/{s}", .{ o.value[0..@min(o.value.len, 40)], o.key }),
        .net_connect => |o| message.print("veth {s} on bridge {s}, peer {s} with {s} in pid {d}'s network namespace", .{ o.host, o.bridge, o.peer, o.address, o.pid }),
        .nft_delete => |o| message.print("delete {d} element(s) from set {s} of table {s}", .{ o.words.count() / (o.key_words + o.data_words), o.set, o.table }),
        .cgroup_set => |o| message.print("write {s} to {s}", .{ o.value[0..@min(o.value.len, 40)], o.path }),
        else => unreachable,
    }
}

test "the start time is field 22, counted after the command name" {
    const stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
    try std.testing.expectEqual(@as(?u64, 123456), parse_start_time(stat));
    try std.testing.expectEqual(@as(?u64, null), parse_start_time("42 (a) S 1"));
    try std.testing.expectEqual(@as(?u64, null), parse_start_time("no parenthesis"));
}

test "a process is signalled only when its start time matches" {
    const own = sys.getpid();
    const start = try start_time_of(own);
    // Signal 0 does not exist for pidfd_send_signal's checks here; SIGCONT is harmless to us.
    const SIGCONT = 18;
    try signal(own, start, SIGCONT);
    try std.testing.expectError(error.SRCH, signal(own, start + 1, SIGCONT));
}
