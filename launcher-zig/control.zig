//! Frames the orchestrator sends besides the plan (protocol.md "Starting a created
//! container" and "Server mode"), decoded from a reader like decode.zig's: total, bounded,
//! no allocation. A one-shot launcher's plan fd carries, after END, START and SIGNAL
//! (`read_control`); a server's plan fd carries tagged requests: RUN (then a whole plan),
//! START and SIGNAL (`read_request`).

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");

const EINVAL = @import("sys.zig").EINVAL;

/// Why a stream cannot be read on: becomes an ERROR event (index u64 max).
pub const Broken = struct {
    code: u64,
    errno: u16,
    reason: []const u8,
};

pub const Control = union(enum) {
    start,
    signal: u64,
    /// The orchestrator closed its end at a frame boundary.
    eof,
    broken: Broken,
};

pub const Request = union(enum) {
    /// A RUN and its plan. `invalid`: the plan was refused (the ERROR for the tag);
    /// `lost`: the stream cannot be read past it (the server stops reading).
    /// `quiet`: the RUN had flag `protocol.run_quiet`.
    run: struct { tag: u64, invalid: ?decode.Invalid, lost: bool, quiet: bool = false },
    start: u64,
    signal: struct { tag: u64, signo: u64 },
    eof,
    broken: Broken,
};

const Header = struct { length: u32, code: u16, flags: u16 };

const HeaderResult = union(enum) { header: Header, eof, broken: Broken };

fn broken(code: u64, errno: u16, reason: []const u8) Broken {
    assert(reason.len > 0);
    return .{ .code = code, .errno = errno, .reason = reason };
}

/// A frame header whose flags are 0, or, for a frame of type `flagged`, within `allowed`.
fn read_header(reader: anytype) HeaderResult {
    return read_header_flags(reader, 0, 0);
}

fn read_header_flags(reader: anytype, flagged: u16, allowed: u16) HeaderResult {
    var bytes: [protocol.header_size]u8 = undefined;
    switch (decode.read_exact(reader, &bytes)) {
        .bytes => |n| if (n == 0) return .eof else if (n < bytes.len) return .{ .broken = broken(0, EINVAL, "short frame header") },
        .errno => |errno| return .{ .broken = broken(0, errno, "cannot read the plan fd") },
    }
    const length = std.mem.readInt(u32, bytes[0..4], .little);
    const code = std.mem.readInt(u16, bytes[4..6], .little);
    const flags = std.mem.readInt(u16, bytes[6..8], .little);
    const known: u16 = if (code == flagged) allowed else 0;
    if (flags & ~known != 0) return .{ .broken = broken(code, EINVAL, "frame flags are not 0") };
    return .{ .header = .{ .length = length, .code = code, .flags = flags } };
}

/// Reads exactly `payload.len` bytes, or says why not.
fn read_payload(reader: anytype, code: u64, payload: []u8) ?Broken {
    switch (decode.read_exact(reader, payload)) {
        .bytes => |n| if (n < payload.len) return broken(code, EINVAL, "frame ends early"),
        .errno => |errno| return broken(code, errno, "cannot read the plan fd"),
    }
    return null;
}

fn signal_number(code: u64, payload: []const u8) union(enum) { signo: u64, broken: Broken } {
    const signo = std.mem.readInt(u64, payload[0..8], .little);
    if (signo < 1 or signo > protocol.signal_max) return .{ .broken = broken(code, EINVAL, "SIGNAL: signal number not 1 to 64") };
    return .{ .signo = signo };
}

/// One frame of a one-shot launcher's plan fd after END: START (no fields) or SIGNAL
/// (signo u64).
pub fn read_control(reader: anytype) Control {
    const header = switch (read_header(reader)) {
        .header => |h| h,
        .eof => return .eof,
        .broken => |b| return .{ .broken = b },
    };
    const code: protocol.ControlType = @enumFromInt(header.code);
    const expected: u32 = switch (code) {
        .start => 0,
        .signal => 8,
        else => return .{ .broken = broken(header.code, EINVAL, "not a START or SIGNAL frame") },
    };
    if (header.length != expected) return .{ .broken = broken(header.code, EINVAL, "START or SIGNAL of the wrong length") };
    var payload: [8]u8 = undefined;
    if (read_payload(reader, header.code, payload[0..expected])) |b| return .{ .broken = b };
    if (code == .start) return .start;
    return switch (signal_number(header.code, &payload)) {
        .signo => |signo| .{ .signal = signo },
        .broken => |b| .{ .broken = b },
    };
}

/// One request of a server's plan fd. RUN's plan is decoded into `storage` and `plan`;
/// a plan refused for a frame read whole is skipped up to its END, so the next request
/// reads cleanly.
pub fn read_request(reader: anytype, storage: *decode.Storage, plan: *decode.Plan) Request {
    const header = switch (read_header_flags(reader, @intFromEnum(protocol.ControlType.run), protocol.run_quiet)) {
        .header => |h| h,
        .eof => return .eof,
        .broken => |b| return .{ .broken = b },
    };
    const code: protocol.ControlType = @enumFromInt(header.code);
    const expected: u32 = switch (code) {
        .run, .start => 8,
        .signal => 16,
        else => return .{ .broken = broken(header.code, EINVAL, "not a RUN, START or SIGNAL request") },
    };
    if (header.length != expected) return .{ .broken = broken(header.code, EINVAL, "RUN, START or SIGNAL of the wrong length") };
    var payload: [16]u8 = undefined;
    if (read_payload(reader, header.code, payload[0..expected])) |b| return .{ .broken = b };
    const tag = std.mem.readInt(u64, payload[0..8], .little);
    switch (code) {
        .start => return .{ .start = tag },
        .signal => return switch (signal_number(header.code, payload[8..16])) {
            .signo => |signo| .{ .signal = .{ .tag = tag, .signo = signo } },
            .broken => |b| .{ .broken = b },
        },
        .run => {
            const quiet = header.flags & protocol.run_quiet != 0;
            const invalid = decode.read_plan(reader, storage, plan) orelse
                return .{ .run = .{ .tag = tag, .invalid = null, .lost = false, .quiet = quiet } };
            const end_code = @intFromEnum(protocol.FrameType.end);
            // Refused at its END, or at a frame read whole: skip to END. Else the stream
            // is lost: where the next request starts is unknown.
            const lost = if (!invalid.whole) true else if (invalid.code == end_code) false else !skip_to_end(reader);
            return .{ .run = .{ .tag = tag, .invalid = invalid, .lost = lost, .quiet = quiet } };
        },
        _ => unreachable, // `expected` refused the rest.
    }
}

/// Reads and drops frames up to and including an END, within the plan's 4 MiB. False if
/// the stream ends, breaks a header bound or runs over.
fn skip_to_end(reader: anytype) bool {
    var skipped: usize = 0;
    var scratch: [4096]u8 = undefined;
    while (true) {
        const header = switch (read_header(reader)) {
            .header => |h| h,
            .eof, .broken => return false,
        };
        if (header.length > protocol.frame_payload_bytes_max) return false;
        skipped += protocol.header_size + header.length;
        if (skipped > protocol.plan_bytes_max) return false;
        var left: usize = header.length;
        while (left > 0) {
            const chunk = @min(left, scratch.len);
            if (read_payload(reader, header.code, scratch[0..chunk]) != null) return false;
            left -= chunk;
        }
        if (header.code == @intFromEnum(protocol.FrameType.end)) return header.length == 0;
    }
}
