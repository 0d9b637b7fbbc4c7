//! The control streams against hand-built bytes: START and SIGNAL after a one-shot plan,
//! and a server's stream of RUN (with good, refused and broken plans), START and SIGNAL,
//! read one byte at a time as well as whole.

const std = @import("std");
const testing = std.testing;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const decode = @import("decode.zig");
const control = @import("control.zig");
const encode = @import("encode_test.zig");

var storage: decode.Storage = undefined;
var plan: decode.Plan = undefined;

const clone_op = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS | protocol.CLONE_NEWUTS } };
const exec_op = Op{ .exec = .{ .path = "/bin/true", .argv = &[_:null]?[*:0]const u8{"true"}, .env = &.{}, .search = &.{}, .failed_status = 125, .not_found_status = 127, .not_executable_status = 126 } };

fn tagged(writer: *encode.Writer, code: protocol.ControlType, tag: u64, signo: ?u64) !void {
    var payload: [16]u8 = undefined;
    std.mem.writeInt(u64, payload[0..8], tag, .little);
    var len: usize = 8;
    if (signo) |s| {
        std.mem.writeInt(u64, payload[8..16], s, .little);
        len = 16;
    }
    try writer.raw_frame(@intFromEnum(code), 0, payload[0..len]);
}

fn good_plan(writer: *encode.Writer, ops: []const Op) !void {
    try writer.hello(protocol.hello_flag_die_with_parent);
    for (ops) |op| try writer.op(op);
    try writer.end();
}

test "one-shot control: START, SIGNAL, EOF; anything else is broken" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.raw_frame(0x0003, 0, "");
    try writer.raw_frame(0x0004, 0, "\x0f" ++ "\x00" ** 7);
    for ([_]usize{ std.math.maxInt(usize), 1 }) |chunk| {
        var reader = decode.SliceReader{ .bytes = writer.bytes.items, .chunk = chunk };
        try testing.expectEqual(control.Control.start, control.read_control(&reader));
        try testing.expectEqual(@as(u64, 15), control.read_control(&reader).signal);
        try testing.expectEqual(control.Control.eof, control.read_control(&reader));
    }
    const cases = [_]struct { bytes: []const u8, reason: []const u8 }{
        .{ .bytes = "\x00\x00\x00", .reason = "short frame header" },
        .{ .bytes = "\x01\x00\x00\x00\x03\x00\x00\x00x", .reason = "wrong length" },
        .{ .bytes = "\x00\x00\x00\x00\x03\x00\x01\x00", .reason = "flags" },
        .{ .bytes = "\x00\x00\x00\x00\x05\x00\x00\x00", .reason = "not a START or SIGNAL" },
        .{ .bytes = "\x08\x00\x00\x00\x04\x00\x00\x00" ++ "\x00" ** 8, .reason = "not 1 to 64" },
        .{ .bytes = "\x08\x00\x00\x00\x04\x00\x00\x00" ++ "\x41" ++ "\x00" ** 7, .reason = "not 1 to 64" },
        .{ .bytes = "\x08\x00\x00\x00\x04\x00\x00\x00\x01", .reason = "ends early" },
    };
    for (cases) |case| {
        var reader = decode.SliceReader{ .bytes = case.bytes };
        const result = control.read_control(&reader);
        try testing.expect(result == .broken);
        try testing.expect(std.mem.indexOf(u8, result.broken.reason, case.reason) != null);
    }
}

test "server stream: RUN plans, START and SIGNAL in order; a refused plan is skipped to its END" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try tagged(&writer, .run, 1, null);
    try good_plan(&writer, &.{ clone_op, .{ .wait_start = .{} }, exec_op });
    try tagged(&writer, .start, 1, null);
    // A plan refused at its second op (a mount without CLONE_NEWNS is fine here: a
    // container op before CLONE), read whole: skipped to its END.
    try tagged(&writer, .run, 2, null);
    try good_plan(&writer, &.{ .{ .sethostname = .{ .name = "x" } }, clone_op, exec_op });
    // A plan refused at END itself (no EXEC last): nothing to skip.
    try tagged(&writer, .run, 3, null);
    try good_plan(&writer, &.{clone_op});
    try tagged(&writer, .signal, 1, 9);
    try tagged(&writer, .run, 4, null);
    try good_plan(&writer, &.{ clone_op, exec_op });
    for ([_]usize{ std.math.maxInt(usize), 1 }) |chunk| {
        var reader = decode.SliceReader{ .bytes = writer.bytes.items, .chunk = chunk };
        const first = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 1), first.run.tag);
        try testing.expect(first.run.invalid == null);
        try testing.expect(plan.wait_start);
        try testing.expectEqual(@as(u64, 1), control.read_request(&reader, &storage, &plan).start);
        const second = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 2), second.run.tag);
        try testing.expectEqual(@as(u64, 0), second.run.invalid.?.index);
        try testing.expect(!second.run.lost);
        const third = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 3), third.run.tag);
        try testing.expectEqual(@as(u64, 0x0002), third.run.invalid.?.code);
        try testing.expect(!third.run.lost);
        const signal = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 1), signal.signal.tag);
        try testing.expectEqual(@as(u64, 9), signal.signal.signo);
        const fourth = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 4), fourth.run.tag);
        try testing.expect(fourth.run.invalid == null);
        try testing.expect(!plan.wait_start);
        try testing.expectEqual(control.Request.eof, control.read_request(&reader, &storage, &plan));
    }
}

test "server stream: a plan that cannot be read past is lost; bad requests are broken" {
    {
        // A frame header over 1 MiB inside the plan: where the next request starts is unknown.
        var writer = encode.Writer.init(testing.allocator);
        defer writer.deinit();
        try tagged(&writer, .run, 7, null);
        try writer.hello(0);
        try writer.int(u32, protocol.frame_payload_bytes_max + 1);
        try writer.int(u16, 0x0011);
        try writer.int(u16, 0);
        var reader = decode.SliceReader{ .bytes = writer.bytes.items };
        const result = control.read_request(&reader, &storage, &plan);
        try testing.expectEqual(@as(u64, 7), result.run.tag);
        try testing.expect(result.run.lost);
    }
    {
        // A plan cut short (the orchestrator died mid-write): lost.
        var writer = encode.Writer.init(testing.allocator);
        defer writer.deinit();
        try tagged(&writer, .run, 8, null);
        try good_plan(&writer, &.{ clone_op, exec_op });
        var reader = decode.SliceReader{ .bytes = writer.bytes.items[0 .. writer.bytes.items.len - 3] };
        const result = control.read_request(&reader, &storage, &plan);
        try testing.expect(result.run.lost);
    }
    const cases = [_]struct { bytes: []const u8, reason: []const u8 }{
        .{ .bytes = "\x08\x00\x00\x00\x01\x00\x00\x00" ++ "\x00" ** 8, .reason = "not a RUN, START or SIGNAL" },
        .{ .bytes = "\x00\x00\x00\x00\x03\x00\x00\x00", .reason = "wrong length" },
        .{ .bytes = "\x08\x00\x00\x00\x04\x00\x00\x00" ++ "\x00" ** 8, .reason = "wrong length" },
        .{ .bytes = "\x10\x00\x00\x00\x04\x00\x00\x00" ++ "\x00" ** 8 ++ "\x00" ** 8, .reason = "not 1 to 64" },
        .{ .bytes = "\x08\x00\x00\x00\x05\x00\x02\x00" ++ "\x00" ** 8, .reason = "flags" },
        .{ .bytes = "\x08\x00\x00\x00\x03\x00\x01\x00" ++ "\x00" ** 8, .reason = "flags" },
        .{ .bytes = "\x10\x00\x00\x00\x04\x00\x01\x00" ++ "\x00" ** 8 ++ "\x09" ++ "\x00" ** 7, .reason = "flags" },
        .{ .bytes = "\x08\x00\x00\x00\x05\x00\x00\x00\x01\x02", .reason = "ends early" },
        .{ .bytes = "\x08\x00", .reason = "short frame header" },
    };
    for (cases) |case| {
        var reader = decode.SliceReader{ .bytes = case.bytes };
        const result = control.read_request(&reader, &storage, &plan);
        try testing.expect(result == .broken);
        try testing.expect(std.mem.indexOf(u8, result.broken.reason, case.reason) != null);
    }
}

test "server stream: RUN flag quiet" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try tagged(&writer, .run, 5, null);
    writer.bytes.items[6] = @intCast(protocol.run_quiet);
    try good_plan(&writer, &.{ clone_op, exec_op });
    try tagged(&writer, .run, 6, null);
    try good_plan(&writer, &.{ clone_op, exec_op });
    var reader = decode.SliceReader{ .bytes = writer.bytes.items };
    const first = control.read_request(&reader, &storage, &plan);
    try testing.expectEqual(@as(u64, 5), first.run.tag);
    try testing.expect(first.run.invalid == null and first.run.quiet);
    const second = control.read_request(&reader, &storage, &plan);
    try testing.expectEqual(@as(u64, 6), second.run.tag);
    try testing.expect(second.run.invalid == null and !second.run.quiet);
}

test "server stream: random bytes never crash the reader" {
    var prng = std.Random.DefaultPrng.init(0x6875736b);
    const random = prng.random();
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try tagged(&writer, .run, 1, null);
    try good_plan(&writer, &.{ clone_op, exec_op });
    try tagged(&writer, .signal, 1, 2);
    const original = try testing.allocator.dupe(u8, writer.bytes.items);
    defer testing.allocator.free(original);
    for (0..2000) |_| {
        @memcpy(writer.bytes.items, original);
        for (0..random.intRangeAtMost(usize, 1, 4)) |_| {
            writer.bytes.items[random.uintLessThan(usize, original.len)] = random.int(u8);
        }
        var reader = decode.SliceReader{ .bytes = writer.bytes.items[0..random.uintAtMost(usize, original.len)] };
        var requests: usize = 0;
        while (requests < 8) : (requests += 1) {
            switch (control.read_request(&reader, &storage, &plan)) {
                .eof, .broken => break,
                .run => |r| if (r.lost) break,
                else => {},
            }
        }
    }
}
