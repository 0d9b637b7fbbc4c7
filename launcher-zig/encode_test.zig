//! Test-only plan writer: the inverse of decode.zig, driven by the same structs, so tests
//! build frames from `Op` values instead of hand-counted bytes.

const std = @import("std");
const protocol = @import("protocol.zig");
const Op = protocol.Op;

pub const Writer = struct {
    bytes: std.ArrayList(u8),

    pub fn init(allocator: std.mem.Allocator) Writer {
        return .{ .bytes = std.ArrayList(u8).init(allocator) };
    }

    pub fn deinit(writer: *Writer) void {
        writer.bytes.deinit();
    }

    pub fn int(writer: *Writer, comptime T: type, value: T) !void {
        var buffer: [@sizeOf(T)]u8 = undefined;
        std.mem.writeInt(T, &buffer, value, .little);
        try writer.bytes.appendSlice(&buffer);
    }

    pub fn str(writer: *Writer, value: []const u8) !void {
        try writer.int(u32, @intCast(value.len));
        try writer.bytes.appendSlice(value);
    }

    /// A frame with a raw payload and header fields as given (to build malformed ones).
    pub fn raw_frame(writer: *Writer, code: u16, flags: u16, payload: []const u8) !void {
        try writer.int(u32, @intCast(payload.len));
        try writer.int(u16, code);
        try writer.int(u16, flags);
        try writer.bytes.appendSlice(payload);
    }

    pub fn hello(writer: *Writer, flags: u64) !void {
        try writer.hello_fields(protocol.magic, protocol.version, flags);
    }

    pub fn hello_fields(writer: *Writer, magic: u64, version: u64, flags: u64) !void {
        try writer.int(u32, 24);
        try writer.int(u16, @intFromEnum(protocol.FrameType.hello));
        try writer.int(u16, 0);
        try writer.int(u64, magic);
        try writer.int(u64, version);
        try writer.int(u64, flags);
    }

    pub fn end(writer: *Writer) !void {
        try writer.raw_frame(@intFromEnum(protocol.FrameType.end), 0, "");
    }

    pub fn op(writer: *Writer, value: Op) !void {
        const start = writer.bytes.items.len;
        try writer.raw_frame(@intFromEnum(Op.frame_type(value)), 0, "");
        switch (value) {
            inline else => |payload| {
                inline for (std.meta.fields(@TypeOf(payload))) |field| {
                    const item = @field(payload, field.name);
                    switch (field.type) {
                        u64 => try writer.int(u64, item),
                        protocol.Str => try writer.str(item),
                        protocol.Strs => {
                            try writer.int(u32, @intCast(item.len));
                            for (item) |pointer| try writer.str(std.mem.span(pointer.?));
                        },
                        protocol.U64s => {
                            try writer.int(u32, @intCast(item.count()));
                            try writer.bytes.appendSlice(item.bytes);
                        },
                        else => @compileError("unsupported field type"),
                    }
                }
            },
        }
        const length = writer.bytes.items.len - start - protocol.header_size;
        std.mem.writeInt(u32, writer.bytes.items[start..][0..4], @intCast(length), .little);
    }

    pub fn plan(writer: *Writer, flags: u64, ops: []const Op) !void {
        try writer.hello(flags);
        for (ops) |value| try writer.op(value);
        try writer.end();
    }
};

/// Deep equality of two ops, field by field (strings by content).
pub fn ops_equal(a: Op, b: Op) bool {
    if (std.meta.activeTag(a) != std.meta.activeTag(b)) return false;
    switch (a) {
        inline else => |payload_a, tag| {
            const payload_b = @field(b, @tagName(tag));
            inline for (std.meta.fields(@TypeOf(payload_a))) |field| {
                const x = @field(payload_a, field.name);
                const y = @field(payload_b, field.name);
                const same = switch (field.type) {
                    u64 => x == y,
                    protocol.Str => std.mem.eql(u8, x, y),
                    protocol.Strs => strs_equal(x, y),
                    protocol.U64s => std.mem.eql(u8, x.bytes, y.bytes),
                    else => @compileError("unsupported field type"),
                };
                if (!same) return false;
            }
            return true;
        },
    }
}

fn strs_equal(a: protocol.Strs, b: protocol.Strs) bool {
    if (a.len != b.len) return false;
    for (a, b) |x, y| {
        if (!std.mem.eql(u8, std.mem.span(x.?), std.mem.span(y.?))) return false;
    }
    return a.ptr[a.len] == null and b.ptr[b.len] == null;
}

pub fn u64s(comptime values: []const u64) protocol.U64s {
    const bytes = comptime blk: {
        @setEvalBranchQuota(20 * values.len + 1000);
        var buffer: [values.len * 8]u8 = undefined;
        for (values, 0..) |value, i| std.mem.writeInt(u64, buffer[i * 8 ..][0..8], value, .little);
        break :blk buffer;
    };
    return .{ .bytes = &bytes };
}
