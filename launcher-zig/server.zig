//! Server mode (protocol.md "Server mode"): one long-lived launcher that reads tagged
//! requests from its plan fd and runs each RUN's plan in a forked child, which is then
//! exactly a one-shot launcher for it (its monitor). Each child has an event pipe the
//! server polls and relays as TAGGED frames, and a control pipe the server writes START
//! and SIGNAL to. Single-threaded, one poll loop, bounded: at most 64 children.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const control = @import("control.zig");
const Launcher = @import("state.zig").State;

const EAGAIN = sys.EAGAIN;
const EEXIST = sys.EEXIST;

/// One RUN in flight: its monitor (a child of the server) and the two pipes.
const Child = struct {
    tag: u64,
    pid: sys.pid_t,
    /// Read end of the child's event pipe.
    event_fd: sys.fd_t,
    /// Write end of the child's control pipe, or -1 once closed.
    control_fd: sys.fd_t,
    /// Bytes of events read but not yet a whole frame.
    pending: [2 * events.event_bytes_max]u8,
    pending_len: usize,
    saw_exit: bool,
    /// It sent STARTED: its container runs; the control pipe stays open until its end.
    saw_started: bool,
    /// RUN flag `run_quiet`: STARTED is not relayed, PID waits in `held` for the next event.
    quiet: bool,
    held: [protocol.header_size + 8]u8,
    held_len: usize,
};

/// The RUNs in flight (a part of state.zig's State): a slot per child, in use or free.
pub const State = struct {
    children: [protocol.server_children_max]Child,
    in_use: std.StaticBitSet(protocol.server_children_max),

    /// Every slot free; the children's buffers are written before they are read.
    pub fn init(server: *State) void {
        server.in_use = std.StaticBitSet(protocol.server_children_max).initEmpty();
    }
};

/// What the caller needs to turn into a one-shot launcher in a child.
pub const Forked = struct { control_fd: sys.fd_t };

pub const FdReader = struct {
    fd: sys.fd_t,

    pub fn read(reader: *FdReader, buffer: []u8) decode.ReadResult {
        const n = sys.read(reader.fd, buffer) catch |err| return .{ .errno = sys.errno_of(err) };
        return .{ .bytes = n };
    }
};

/// Serves until the plan fd closes and every child has ended. Returns in a forked child
/// only: `plan` then holds its plan, the event fd is rebound to its pipe, and the caller
/// runs it as a one-shot launcher whose control fd is `control_fd`.
pub fn serve(state: *Launcher, plan_fd: sys.fd_t, storage: *decode.Storage, plan: *decode.Plan) Forked {
    assert(state.role == .server);
    const server = &state.server;
    var reading = true;
    var exit_status: u8 = 0;
    // Requests are read in chunks (decode.zig `Buffered`): a RUN and its plan cost a read or
    // two instead of two per frame. Whatever is held is handled before the next poll, which
    // sees only the fd.
    var reader = decode.Buffered(FdReader){ .inner = .{ .fd = plan_fd } };
    while (reading or server.in_use.count() > 0) {
        var fds: [1 + protocol.server_children_max]sys.PollFd = undefined;
        var slots: [protocol.server_children_max]usize = undefined;
        var count: usize = 0;
        var iterator = server.in_use.iterator(.{});
        while (iterator.next()) |slot| {
            fds[count] = .{ .fd = server.children[slot].event_fd, .events = sys.POLLIN, .revents = 0 };
            slots[count] = slot;
            count += 1;
        }
        const children_count = count;
        if (reading) {
            fds[count] = .{ .fd = plan_fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        _ = sys.poll(fds[0..count]) catch |err| {
            // Cannot wait for anything: stop taking requests and end the children.
            state.events.failure(protocol.index_hello, 0, sys.errno_of(err), "poll");
            stop_reading(server);
            reap_all(server);
            sys.exit(125);
        };
        state.events.batch_begin();
        for (fds[0..children_count], slots[0..children_count]) |pollfd, slot| {
            if (pollfd.revents != 0) relay(state, slot);
        }
        state.events.batch_flush();
        if (!reading or fds[children_count].revents == 0) continue;
        if (handle_requests(state, &reader, storage, plan, &reading, &exit_status)) |forked| return forked;
    }
    sys.exit(exit_status);
}

/// Handles the requests the reader holds (at least one read is due): RUN, START, SIGNAL,
/// EOF. Returns in a RUN's forked child only; else null once nothing is held or reading
/// stopped (then `exit_status` is the server's).
fn handle_requests(state: *Launcher, reader: *decode.Buffered(FdReader), storage: *decode.Storage, plan: *decode.Plan, reading: *bool, exit_status: *u8) ?Forked {
    assert(state.role == .server);
    assert(reading.*);
    const server = &state.server;
    while (true) {
        switch (control.read_request(reader, storage, plan)) {
            .run => |run| {
                if (run.invalid) |invalid| {
                    state.events.tagged_failure(run.tag, invalid.index, invalid.code, invalid.errno, invalid.reason);
                    state.events.tagged_exit(run.tag, .launcher_failed, 125);
                } else if (start_child(state, run.tag, run.quiet)) |forked| {
                    return forked;
                }
                if (run.lost) {
                    state.events.failure(protocol.index_hello, @intFromEnum(protocol.ControlType.run), protocol_errno(run.invalid), "the request stream cannot be read past this RUN");
                    reading.* = false;
                    exit_status.* = 125;
                    stop_reading(server);
                }
            },
            .start => |tag| send_control(server, tag, .start, 0),
            .signal => |s| send_control(server, s.tag, .signal, s.signo),
            .eof => {
                reading.* = false;
                stop_reading(server);
            },
            .broken => |b| {
                state.events.failure(protocol.index_hello, b.code, b.errno, b.reason);
                reading.* = false;
                exit_status.* = 125;
                stop_reading(server);
            },
        }
        if (!reading.* or reader.pending() == 0) return null;
    }
}

fn protocol_errno(invalid: ?decode.Invalid) u16 {
    return if (invalid) |i| (if (i.errno != 0) i.errno else sys.EINVAL) else sys.EINVAL;
}

fn find(server: *State, tag: u64) ?usize {
    var iterator = server.in_use.iterator(.{});
    while (iterator.next()) |slot| {
        if (server.children[slot].tag == tag) return slot;
    }
    return null;
}

/// Forks a child for the plan just decoded. Returns in the child; in the server null
/// (the child runs, or the RUN was refused with ERROR and EXIT for its tag).
fn start_child(state: *Launcher, tag: u64, quiet: bool) ?Forked {
    assert(state.role == .server);
    const server = &state.server;
    const channel = &state.events;
    const code = @intFromEnum(protocol.ControlType.run);
    if (find(server, tag) != null) {
        channel.tagged_failure(tag, protocol.index_hello, code, EEXIST, "a RUN with a tag in flight");
        channel.tagged_exit(tag, .launcher_failed, 125);
        return null;
    }
    const slot = blk: {
        var free = server.in_use.complement().iterator(.{});
        break :blk free.next() orelse {
            channel.tagged_failure(tag, protocol.index_hello, code, EAGAIN, "more than 64 containers in flight");
            channel.tagged_exit(tag, .launcher_failed, 125);
            return null;
        };
    };
    var event_pipe: [2]sys.fd_t = undefined;
    var control_pipe: [2]sys.fd_t = undefined;
    sys.pipe(&event_pipe) catch |err| return refuse(channel, tag, err, "event pipe");
    sys.pipe(&control_pipe) catch |err| {
        sys.close(event_pipe[0]);
        sys.close(event_pipe[1]);
        return refuse(channel, tag, err, "control pipe");
    };
    const pid = sys.fork() catch |err| {
        for (event_pipe ++ control_pipe) |fd| sys.close(fd);
        return refuse(channel, tag, err, "fork");
    };
    if (pid == 0) {
        // The child keeps stdio, its control read end and its event write end; every
        // other fd of the server (its pipes, the siblings') goes, so that a sibling's
        // pipes see EOF when the server closes them.
        keep_only(control_pipe[0], event_pipe[1]);
        channel.rebind(event_pipe[1]);
        return .{ .control_fd = control_pipe[0] };
    }
    sys.close(event_pipe[1]);
    sys.close(control_pipe[0]);
    server.children[slot] = .{
        .tag = tag,
        .pid = pid,
        .event_fd = event_pipe[0],
        .control_fd = control_pipe[1],
        .pending = undefined,
        .pending_len = 0,
        .saw_exit = false,
        .saw_started = false,
        .quiet = quiet,
        .held = undefined,
        .held_len = 0,
    };
    server.in_use.set(slot);
    return null;
}

fn refuse(channel: *events.Channel, tag: u64, err: sys.Error, what: []const u8) ?Forked {
    const errno = sys.errno_of(err); // First, before anything else can fail.
    channel.tagged_failure(tag, protocol.index_hello, @intFromEnum(protocol.ControlType.run), errno, what);
    channel.tagged_exit(tag, .launcher_failed, 125);
    return null;
}

/// Closes every fd above 2 but `a` and `b`.
fn keep_only(a: sys.fd_t, b: sys.fd_t) void {
    assert(a > 2 and b > 2 and a != b);
    const low: u32 = @intCast(@min(a, b));
    const high: u32 = @intCast(@max(a, b));
    sys.close_range(3, low - 1);
    sys.close_range(low + 1, high - 1);
    sys.close_range(high + 1, std.math.maxInt(u32));
}

/// START or SIGNAL to a child's control pipe, as a one-shot launcher reads them. A tag not
/// in flight is ignored: its container may have ended already.
fn send_control(server: *State, tag: u64, comptime kind: enum { start, signal }, signo: u64) void {
    const slot = find(server, tag) orelse return;
    const fd = server.children[slot].control_fd;
    if (fd < 0) return;
    var frame: [protocol.header_size + 8]u8 = undefined;
    const length: u32 = if (kind == .start) 0 else 8;
    const code: protocol.ControlType = if (kind == .start) .start else .signal;
    std.mem.writeInt(u32, frame[0..4], length, .little);
    std.mem.writeInt(u16, frame[4..6], @intFromEnum(code), .little);
    std.mem.writeInt(u16, frame[6..8], 0, .little);
    std.mem.writeInt(u64, frame[8..16], signo, .little);
    // EPIPE: the monitor has ended; its EOF on the event pipe is on its way.
    sys.write_once(fd, frame[0 .. protocol.header_size + length]) catch {};
}

/// The plan fd is done: the control pipe of every child that has not sent STARTED closes,
/// so a container still waiting for START is killed by its monitor. Running ones go on to
/// their end with their control pipe open: its EOF means the server died.
fn stop_reading(server: *State) void {
    var iterator = server.in_use.iterator(.{});
    while (iterator.next()) |slot| {
        const child = &server.children[slot];
        if (child.saw_started) continue;
        if (child.control_fd >= 0) sys.close(child.control_fd);
        child.control_fd = -1;
    }
}

/// After a failed poll: wait for every child in turn (their pipes are not read).
fn reap_all(server: *State) void {
    var iterator = server.in_use.iterator(.{});
    while (iterator.next()) |slot| {
        var status: u32 = 0;
        _ = sys.wait4(server.children[slot].pid, &status, 0) catch {};
    }
}

/// Reads what the child's event pipe holds and sends each whole frame as TAGGED. At EOF
/// (the monitor has exited) reaps it; a monitor that ended without EXIT gets an ERROR and
/// an EXIT kind 2 from the server, so that every RUN ends with exactly one EXIT.
fn relay(state: *Launcher, slot: usize) void {
    assert(state.role == .server);
    const child = &state.server.children[slot];
    const space = child.pending[child.pending_len..];
    assert(space.len >= events.event_bytes_max);
    const n = sys.read(child.event_fd, space) catch 0;
    if (n == 0) return end_child(state, slot);
    child.pending_len += n;
    var at: usize = 0;
    while (child.pending_len - at >= protocol.header_size) {
        const bytes = child.pending[at..child.pending_len];
        const length = std.mem.readInt(u32, bytes[0..4], .little);
        if (length > events.event_bytes_max - protocol.header_size) {
            // Not an event of ours: drop what is buffered rather than relay garbage.
            at = child.pending_len;
            break;
        }
        const size = protocol.header_size + length;
        if (bytes.len < size) break;
        const code = std.mem.readInt(u16, bytes[4..6], .little);
        if (code == @intFromEnum(protocol.EventType.exit)) child.saw_exit = true;
        if (code == @intFromEnum(protocol.EventType.started)) child.saw_started = true;
        at += size;
        if (child.quiet and code == @intFromEnum(protocol.EventType.started)) continue;
        if (child.quiet and code == @intFromEnum(protocol.EventType.pid) and size <= child.held.len and child.held_len == 0) {
            @memcpy(child.held[0..size], bytes[0..size]);
            child.held_len = size;
            continue;
        }
        send_held(&state.events, child);
        state.events.tagged(child.tag, bytes[0..size]);
    }
    const left = child.pending_len - at;
    std.mem.copyForwards(u8, child.pending[0..left], child.pending[at..child.pending_len]);
    child.pending_len = left;
}

/// A quiet child's PID, before its next event.
fn send_held(channel: *events.Channel, child: *Child) void {
    if (child.held_len == 0) return;
    channel.tagged(child.tag, child.held[0..child.held_len]);
    child.held_len = 0;
}

fn end_child(state: *Launcher, slot: usize) void {
    const child = &state.server.children[slot];
    send_held(&state.events, child);
    sys.close(child.event_fd);
    if (child.control_fd >= 0) sys.close(child.control_fd);
    var status: u32 = 0;
    _ = sys.wait4(child.pid, &status, 0) catch {};
    if (!child.saw_exit) {
        var message = events.Message{};
        const signal = status & 0x7f;
        if (signal != 0) message.print("the monitor was killed by signal {d}", .{signal}) else message.print("the monitor exited with status {d} without EXIT", .{(status >> 8) & 0xff});
        state.events.tagged_failure(child.tag, protocol.index_hello, 0, 0, message.slice());
        state.events.tagged_exit(child.tag, .launcher_failed, 125);
    }
    state.server.in_use.unset(slot);
}
