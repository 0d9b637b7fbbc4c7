//! husk-runc's fast front (runc_main.zig): a container's record under --root as
//! ts/runc/state.ts writes it (state.json), its status read from the kernel as statusOf
//! reads it, and `state`'s JSON as JSON.stringify(ociState(...), null, 2) prints it. A record
//! of any other shape is `error.Unsupported`: the front then hands the call to Node.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

pub const Status = enum { creating, created, running, paused, stopped };

pub const Unsupported = error{Unsupported};

/// The fields the fast front reads; strings and lists point into the parsed JSON.
pub const Record = struct {
    id: []const u8,
    pid: i64,
    start_time: []const u8,
    bundle: []const u8,
    rootfs: []const u8,
    created: []const u8,
    annotations: std.json.ObjectMap,
    cgroup_dirs: []const std.json.Value,
    /// The default parent's directories (husk-runc/ in each hierarchy), removed when empty.
    cgroup_parent_dirs: []const std.json.Value,
    freezer_path: ?[]const u8,
    freezer_frozen: []const std.json.Value,
    hooks: ?std.json.ObjectMap,
    creator: ?i64,
    creator_start: ?[]const u8,
};

pub const record_bytes_max = 256 * 1024;
var heap: [2 * 1024 * 1024]u8 = undefined;
var text_buffer: [record_bytes_max]u8 = undefined;

/// Reads `<dir>/state.json`; null when it does not exist (ENOENT, ENOTDIR), as readState.
pub fn read(dir: []const u8) Unsupported!?Record {
    var path_buffer: [4200]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "{s}/state.json", .{dir}) catch return error.Unsupported;
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.CLOEXEC, 0) catch |err| switch (err) {
        error.NOENT, error.NOTDIR => return null,
        else => return error.Unsupported,
    };
    defer sys.close(fd);
    var done: usize = 0;
    while (done < text_buffer.len) {
        const n = sys.read(fd, text_buffer[done..]) catch return error.Unsupported;
        if (n == 0) break;
        done += n;
    }
    if (done == text_buffer.len) return error.Unsupported;
    // A lone surrogate escape: JavaScript writes it back escaped, std.json would not.
    if (std.ascii.indexOfIgnoreCase(text_buffer[0..done], "\\ud") != null) return error.Unsupported;
    var fixed = std.heap.FixedBufferAllocator.init(&heap);
    const value = std.json.parseFromSliceLeaky(std.json.Value, fixed.allocator(), text_buffer[0..done], .{}) catch return error.Unsupported;
    return try record_of(value);
}

fn field(object: std.json.ObjectMap, name: []const u8) ?std.json.Value {
    return object.get(name);
}

fn string(object: std.json.ObjectMap, name: []const u8) Unsupported![]const u8 {
    const v = field(object, name) orelse return error.Unsupported;
    return if (v == .string) v.string else error.Unsupported;
}

fn optional_string(object: std.json.ObjectMap, name: []const u8) Unsupported!?[]const u8 {
    const v = field(object, name) orelse return null;
    return if (v == .string) v.string else error.Unsupported;
}

fn optional_integer(object: std.json.ObjectMap, name: []const u8) Unsupported!?i64 {
    const v = field(object, name) orelse return null;
    if (v != .integer or v.integer < 0 or v.integer > std.math.maxInt(i32)) return error.Unsupported;
    return v.integer;
}

fn record_of(value: std.json.Value) Unsupported!Record {
    if (value != .object) return error.Unsupported;
    const o = value.object;
    const dirs = field(o, "cgroupDirs") orelse return error.Unsupported;
    const annotations = field(o, "annotations") orelse return error.Unsupported;
    if (dirs != .array or annotations != .object) return error.Unsupported;
    for (dirs.array.items) |d| if (d != .string) return error.Unsupported;
    var record = Record{
        .id = try string(o, "id"),
        .pid = (try optional_integer(o, "pid")) orelse return error.Unsupported,
        // alive() compares it with /proc: absent, Node's undefined === undefined differs.
        .start_time = try string(o, "startTime"),
        .bundle = try string(o, "bundle"),
        .rootfs = try string(o, "rootfs"),
        .created = try string(o, "created"),
        .annotations = annotations.object,
        .cgroup_dirs = dirs.array.items,
        .cgroup_parent_dirs = &.{},
        .freezer_path = null,
        .freezer_frozen = &.{},
        .hooks = null,
        .creator = try optional_integer(o, "creator"),
        .creator_start = try optional_string(o, "creatorStart"),
    };
    if (record.creator != null and record.creator_start == null) return error.Unsupported;
    try check_annotations(record.annotations);
    if (field(o, "freezer")) |f| {
        if (f != .object) return error.Unsupported;
        record.freezer_path = try string(f.object, "path");
        const words = field(f.object, "frozen") orelse return error.Unsupported;
        if (words != .array) return error.Unsupported;
        for (words.array.items) |w| if (w != .string) return error.Unsupported;
        record.freezer_frozen = words.array.items;
    }
    if (field(o, "cgroupParentDirs")) |p| {
        if (p != .array) return error.Unsupported;
        for (p.array.items) |d| if (d != .string) return error.Unsupported;
        record.cgroup_parent_dirs = p.array.items;
    }
    if (field(o, "hooks")) |h| {
        if (h != .object) return error.Unsupported;
        record.hooks = h.object;
    }
    assert(record.pid >= 0);
    return record;
}

/// String values only, and no key JavaScript would move to the front (an array index).
fn check_annotations(annotations: std.json.ObjectMap) Unsupported!void {
    var it = annotations.iterator();
    while (it.next()) |entry| {
        if (entry.value_ptr.* != .string) return error.Unsupported;
        const key = entry.key_ptr.*;
        const digits = key.len > 0 and for (key) |c| {
            if (c < '0' or c > '9') break false;
        } else true;
        if (digits) return error.Unsupported;
    }
}

/// Whether config.json gave hooks of `kind` (poststart, poststop): Node runs those.
pub fn has_hooks(record: *const Record, kind: []const u8) bool {
    const hooks = record.hooks orelse return false;
    const list = hooks.get(kind) orelse return false;
    return list != .array or list.array.items.len > 0;
}

/// Field 22 of /proc/PID/stat as text, or null when the process is gone or a zombie
/// (processStart in ts/runtime/state.ts).
pub fn process_start(pid: i64, buffer: *[1024]u8) ?[]const u8 {
    assert(pid > 0);
    var path_buffer: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "/proc/{d}/stat", .{pid}) catch unreachable; // An i32 fits.
    const stat = read_small(path, buffer) orelse return null;
    const close = std.mem.lastIndexOfScalar(u8, stat, ')') orelse return null;
    if (close + 2 > stat.len) return null;
    var fields = std.mem.splitScalar(u8, stat[close + 2 ..], ' ');
    var number: usize = 3;
    while (fields.next()) |f| : (number += 1) {
        if (number == 3 and (std.mem.eql(u8, f, "Z") or std.mem.eql(u8, f, "X"))) return null;
        if (number == 22) return f;
    }
    return null;
}

fn started_as(pid: i64, start: []const u8) bool {
    var buffer: [1024]u8 = undefined;
    const now = process_start(pid, &buffer) orelse return false;
    return std.mem.eql(u8, now, start);
}

pub fn alive(record: *const Record) bool {
    return record.pid > 0 and started_as(record.pid, record.start_time);
}

/// statusOf: creating/stopped before the init is known; then the kernel's answer.
pub fn status(record: *const Record, dir: []const u8) Status {
    if (record.pid == 0) {
        const creator = record.creator orelse return .stopped;
        return if (creator > 0 and started_as(creator, record.creator_start.?)) .creating else .stopped;
    }
    if (!alive(record)) return .stopped;
    if (record.freezer_path) |path| if (is_frozen(path, record.freezer_frozen)) return .paused;
    var path_buffer: [4200]u8 = undefined;
    const fifo = std.fmt.bufPrintZ(&path_buffer, "{s}/exec.fifo", .{dir}) catch return .running;
    return if (sys.access_exists(fifo)) .created else .running;
}

fn is_frozen(path: []const u8, words: []const std.json.Value) bool {
    var path_buffer: [4200]u8 = undefined;
    const z = std.fmt.bufPrintZ(&path_buffer, "{s}", .{path}) catch return false;
    var buffer: [256]u8 = undefined;
    const content = read_small(z, &buffer) orelse return false;
    const word = std.mem.trim(u8, content, " \t\r\n\x0b\x0c");
    for (words) |w| if (std.mem.eql(u8, w.string, word)) return true;
    return false;
}

/// A small file's bytes (up to the buffer), or null.
pub fn read_small(path: [*:0]const u8, buffer: []u8) ?[]const u8 {
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O.RDONLY | sys.O.CLOEXEC, 0) catch return null;
    defer sys.close(fd);
    var done: usize = 0;
    while (done < buffer.len) {
        const n = sys.read(fd, buffer[done..]) catch return null;
        if (n == 0) break;
        done += n;
    }
    return buffer[0..done];
}

/// JSON.stringify of a string: `"`, `\` and control characters escaped as JavaScript does.
pub fn write_string(out: anytype, s: []const u8) !void {
    try out.writeByte('"');
    for (s) |c| switch (c) {
        '"' => try out.writeAll("\\\""),
        '\\' => try out.writeAll("\\\\"),
        '\n' => try out.writeAll("\\n"),
        '\r' => try out.writeAll("\\r"),
        '\t' => try out.writeAll("\\t"),
        0x08 => try out.writeAll("\\b"),
        0x0c => try out.writeAll("\\f"),
        0...0x07, 0x0b, 0x0e...0x1f => try out.print("\\u{x:0>4}", .{c}),
        else => try out.writeByte(c),
    };
    try out.writeByte('"');
}

/// `husk-runc state`'s output: ociState, indented by 2 as JSON.stringify(…, null, 2).
pub fn write_state(out: anytype, record: *const Record, current: Status) !void {
    assert(record.pid >= 0);
    const pid: i64 = if (current == .stopped) 0 else record.pid;
    try out.writeAll("{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": ");
    try write_string(out, record.id);
    try out.print(",\n  \"pid\": {d},\n  \"status\": \"{s}\",\n  \"bundle\": ", .{ pid, @tagName(current) });
    try write_string(out, record.bundle);
    try out.writeAll(",\n  \"rootfs\": ");
    try write_string(out, record.rootfs);
    try out.writeAll(",\n  \"created\": ");
    try write_string(out, record.created);
    try out.writeAll(",\n  \"annotations\": ");
    if (record.annotations.count() == 0) {
        try out.writeAll("{}");
    } else {
        try out.writeAll("{");
        var it = record.annotations.iterator();
        var first = true;
        while (it.next()) |entry| : (first = false) {
            try out.writeAll(if (first) "\n    " else ",\n    ");
            try write_string(out, entry.key_ptr.*);
            try out.writeAll(": ");
            try write_string(out, entry.value_ptr.string);
        }
        try out.writeAll("\n  }");
    }
    try out.writeAll(",\n  \"owner\": \"\"\n}\n");
}

test "write_string escapes as JSON.stringify" {
    var buffer: [128]u8 = undefined;
    var stream = std.io.fixedBufferStream(&buffer);
    try write_string(stream.writer(), "a\"b\\c\n\x01\x7f é");
    try std.testing.expectEqualStrings("\"a\\\"b\\\\c\\n\\u0001\x7f é\"", stream.getWritten());
}
