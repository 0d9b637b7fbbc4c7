//! The decoder against hand-built frames: every op round-trips, every bound holds at its
//! edge, every malformed or misordered plan is rejected with the index, type and errno
//! protocol.md names, and random mutations never crash it. Golden plans from
//! test/golden/*.bin (written by the TS side) are validated; a missing or empty directory fails.

const std = @import("std");
const testing = std.testing;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const decode = @import("decode.zig");
const encode = @import("encode_test.zig");
const build_options = @import("build_options");

var storage: decode.Storage = undefined;
var plan: decode.Plan = undefined;

const EINVAL = @import("sys.zig").EINVAL;
const MS_REC = 0x4000;
const MS_PRIVATE = 1 << 18;

/// One op of every type, in an order a valid plan may have them.
const sample_ops = [_]Op{
    .{ .unshare = .{ .flags = protocol.CLONE_NEWTIME } },
    .{ .write_file = .{ .path = "/proc/self/timens_offsets", .content = "monotonic 86400 0\n" } },
    .{ .status_file = .{ .path = "/run/husk/abc/status" } },
    .{ .log = .{ .path = "/run/husk/abc/log" } },
    .{ .tty = .{ .rows = 24, .cols = 80 } },
    .{ .attach = .{ .path = "/run/husk/abc/attach", .flags = 3 } },
    .{ .cgroup_mkdir = .{ .path = "/sys/fs/cgroup/memory/husk", .flags = protocol.cgroup_mkdir_flag_shared } },
    .{ .cgroup_mkdir = .{ .path = "/sys/fs/cgroup/memory/husk/abc", .flags = 0 } },
    .{ .cgroup_write = .{ .path = "/sys/fs/cgroup/memory/husk/abc/memory.limit_in_bytes", .value = "33554432" } },
    .{ .cgroup_mkdir = .{ .path = "/sys/fs/cgroup/unified/husk/abc", .flags = 0 } },
    .{ .cgroup_devices = .{ .path = "/sys/fs/cgroup/unified/husk/abc", .program = encode.u64s(&.{ 0xb7, 0x95 }) } },
    .{ .cgroup_into = .{ .path = "/sys/fs/cgroup/unified/husk/abc" } },
    .{ .cgroup_report = .{ .path = "/sys/fs/cgroup/memory/husk/abc/memory.oom_control" } },
    .{ .target = .{ .pid = 4242, .start_time = 123456 } },
    .{ .setns = .{ .flags = protocol.CLONE_NEWPID } },
    .{ .setns_file = .{ .path = "/run/husk/ns/web/net", .nstype = protocol.CLONE_NEWNET } },
    .{ .clone = .{ .flags = protocol.CLONE_NEWNS | protocol.CLONE_NEWUTS | protocol.CLONE_NEWPID | protocol.CLONE_NEWUSER | protocol.CLONE_NEWNET } },
    .{ .uid_map = .{ .text = "0 100000 65536\n" } },
    .{ .setgroups = .{ .text = "deny" } },
    .{ .gid_map = .{ .text = "0 100000 65536\n" } },
    .{ .idmap_helper = .{ .path = "/usr/bin/newuidmap", .args = &[_:null]?[*:0]const u8{ "0", "1000", "1" } } },
    .{ .net_helper = .{ .path = "/usr/bin/pasta", .args = &[_:null]?[*:0]const u8{ "--quiet", "--config-net", "-t", "8080:80" } } },
    .{ .cgroup_enter = .{ .path = "/sys/fs/cgroup/memory/husk/abc/cgroup.procs" } },
    .{ .idmap_tree = .{ .source = "/usr", .slot = 15 } },
    .{ .pin = .{ .nstype = protocol.CLONE_NEWPID, .path = "/run/husk/ns/web/pid" } },
    .{ .net_veth = .{ .host = "husk-0123456789", .peer = "eth0", .bridge = "husk0", .mac = "02:42:0a:58:00:02" } },
    .{ .nft_elements = .{ .family = 1, .table = "husk", .set = "ports", .flags = 1, .key_words = 2, .data_words = 2, .words = .{ .bytes = &nft_words } } },
    .{ .cgroup_join = .{ .path = "/sys/fs/cgroup/memory/husk/abc/tasks" } },
    .{ .setns = .{ .flags = protocol.CLONE_NEWIPC } },
    .{ .mount = .{ .source = "", .target = "/", .fstype = "", .flags = MS_REC | MS_PRIVATE, .data = "" } },
    .{ .mkdir = .{ .path = "/tmp/husk-stage", .mode = 0o755 } },
    .{ .attach_tree = .{ .slot = 15, .target = "/tmp/husk-stage/lower/usr" } },
    .{ .mount = .{ .source = "tmpfs", .target = "/tmp/husk-stage", .fstype = "tmpfs", .flags = 0, .data = "size=1m" } },
    .{ .overlay = .{ .lowers = &[_:null]?[*:0]const u8{ "/tmp/husk-stage/lower/usr/top", "/layers/bottom" }, .upper = "/tmp/husk-stage/upper", .work = "/tmp/husk-stage/work", .target = "/tmp/husk-stage/root", .links = "/tmp/husk-stage/l", .flags = protocol.overlay_flags_known } },
    .{ .copy_tree = .{ .source = "/tmp/husk-stage/lower/0/ab/diff", .target = "/tmp/husk-stage/root", .opaque_xattr = "user.overlay.opaque", .flags = protocol.copy_tree_flags_known } },
    .{ .set_root = .{ .path = "/tmp/husk-stage/root" } },
    .{ .touch = .{ .path = "etc/hostname", .mode = 0o644 } },
    .{ .symlink = .{ .target = "/proc/self/fd", .linkpath = "dev/fd" } },
    .{ .bind = .{ .source = "/usr", .target = "usr", .flags = 0b111 } },
    .{ .mask = .{ .path = "proc/kcore" } },
    .{ .readonly = .{ .path = "proc/sys" } },
    .{ .pivot_root = .{ .newroot = "/tmp/husk-stage/root" } },
    .{ .sethostname = .{ .name = "box" } },
    .{ .loopback_up = .{} },
    .{ .net_link_up = .{ .name = "eth0" } },
    .{ .net_addr = .{ .name = "eth0", .address = "10.88.0.2/16", .flags = 0 } },
    .{ .net_route = .{ .gateway = "10.88.0.1", .name = "eth0" } },
    .{ .chdir = .{ .path = "/" } },
    .{ .rlimit = .{ .resource = 7, .soft = 1024, .hard = std.math.maxInt(u64) } },
    .{ .ioprio = .{ .value = (2 << 13) | 5 } },
    .{ .mknod_dev = .{ .path = "dev/test1", .mode = 0o020660, .rdev = (10 << 8) | 200, .uid = 0, .gid = 5 } },
    .{ .scheduler = .{ .policy = 3, .nice = @bitCast(@as(i64, -5)), .priority = 0 } },
    .{ .personality = .{ .persona = 8 } },
    .{ .caps = .{ .bounding = 0x3fff, .effective = 0x3ff, .permitted = 0x3ff, .inheritable = 0 } },
    .{ .user = .{ .uid = 1000, .gid = 1000, .groups = encode.u64s(&.{ 1000, 27 }) } },
    .{ .umask = .{ .mask = 0o022 } },
    .{ .ambient = .{ .capabilities = 1 << 10 } },
    .{ .no_new_privs = .{} },
    .{ .close_fds = .{} },
    .{ .preserve_fds = .{ .count = 2 } },
    .{ .seccomp_program = .{ .program = encode.u64s(&.{0x7fff000000000006}) } },
    .{ .seccomp = .{ .flags = 0b111, .program = encode.u64s(&.{0x7fff000000000006}) } },
    .{ .pty = .{ .path = "/dev/pts/ptmx" } },
    .{ .init = .{} },
    .{ .wait_start = .{} },
    .{ .exec = .{
        .path = "sh",
        .argv = &[_:null]?[*:0]const u8{ "sh", "-c", "echo $$" },
        .env = &[_:null]?[*:0]const u8{"PATH=/usr/bin:/bin"},
        .search = &[_:null]?[*:0]const u8{ "/usr/bin", "/bin" },
        .failed_status = 125,
        .not_found_status = 127,
        .not_executable_status = 126,
    } },
};

/// One control op of every type: a control plan (protocol.md "Control plans").
const sample_control_ops = [_]Op{
    .{ .cgroup_freeze = .{ .path = "/sys/fs/cgroup/freezer/husk/abc", .frozen = 1 } },
    .{ .cgroup_freeze = .{ .path = "/sys/fs/cgroup/freezer/husk/abc", .frozen = 0 } },
    .{ .cgroup_kill = .{ .path = "/sys/fs/cgroup/unified/husk/abc" } },
    .{ .cgroup_remove = .{ .path = "/sys/fs/cgroup/memory/husk/abc" } },
    .{ .signal_process = .{ .pid = 4242, .start_time = 123456, .signo = 9 } },
    .{ .pin_new = .{ .flags = protocol.CLONE_NEWNET | protocol.CLONE_NEWUTS, .dir = "/run/husk/ns/web" } },
    .{ .unpin = .{ .path = "/run/husk/ns/web/net" } },
    .{ .net_bridge = .{ .name = "husk0", .address = "10.88.0.1/16" } },
    .{ .net_sysctl = .{ .key = "net/ipv4/ip_forward", .value = "1" } },
    .{ .net_link_del = .{ .name = "husk0" } },
    .{ .net_connect = .{ .host = "husk-01234567.1", .peer = "eth1", .bridge = "husk1", .mac = "02:42:0a:59:00:02", .address = "10.89.0.2/24", .pid = 4242, .start_time = 123456 } },
    .{ .cgroup_set = .{ .path = "/sys/fs/cgroup/memory/husk/abc/memory.limit_in_bytes", .value = "33554432" } },
    .{ .nft_delete = .{ .family = 1, .table = "husk", .set = "ports", .flags = 0, .key_words = 2, .data_words = 2, .words = .{ .bytes = &nft_words } } },
};

/// tcp . 8080 : 10.88.0.5 . 80, each word little-endian in the frame.
const nft_words = [_]u8{ 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0x90, 0x1f, 0, 0, 0, 0, 5, 0, 0x58, 0x0a, 0, 0, 0, 0, 0, 0, 0x50, 0, 0, 0, 0, 0 };

/// One fs op of every type: an fs plan (protocol.md "Fs plans"), FS_ROOT first.
const sample_fs_ops = [_]Op{
    .{ .fs_root = .{ .path = "/var/lib/husk/layers/ab/diff" } },
    .{ .fs_userns = .{ .newuidmap = "/usr/bin/newuidmap", .uid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1", "1", "100000", "65536" }, .newgidmap = "/usr/bin/newgidmap", .gid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" } } },
    .{ .remove_tree = .{ .path = "old/tree" } },
    .{ .mknod = .{ .path = "etc/gone", .mode = 0o020000, .rdev = 0 } },
    .{ .setxattr = .{ .path = "usr/share", .name = "trusted.overlay.opaque", .value = "79" } },
    .{ .setxattr = .{ .path = ".", .name = "user.empty", .value = "" } },
    .{ .read_xattrs = .{ .path = "usr/bin/ping" } },
    .{ .overlay_probe = .{} },
    .{ .fs_root = .{ .path = "/var/lib/husk/layers/cd/diff" } },
    .{ .mknod = .{ .path = "dev/null", .mode = 0o020666, .rdev = 0x103 } },
    .{ .mknod = .{ .path = "fifo", .mode = 0o010600, .rdev = 0 } },
    .{ .write_stream = .{} }, // The last op of its plan.
};

const clone_op = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS | protocol.CLONE_NEWUTS } };
const exec_op = Op{ .exec = .{ .path = "/bin/true", .argv = &[_:null]?[*:0]const u8{"true"}, .env = &.{}, .search = &.{}, .failed_status = 125, .not_found_status = 127, .not_executable_status = 126 } };

var ops_buffer: [1100]Op = undefined;

/// The parts one after the other, in a static buffer (valid until the next call).
fn sequence(parts: []const []const Op) []const Op {
    var count: usize = 0;
    for (parts) |part| {
        std.debug.assert(count + part.len <= ops_buffer.len);
        for (part) |op| {
            ops_buffer[count] = op;
            count += 1;
        }
    }
    return ops_buffer[0..count];
}

/// CLONE (new mount and UTS namespaces), `middle`, EXEC /bin/true.
fn minimal(middle: []const Op) []const Op {
    return sequence(&.{ &.{clone_op}, middle, &.{exec_op} });
}

/// The launcher reads through `Buffered`; every test decodes both ways and expects the same.
var buffered: decode.Buffered(decode.SliceReader) = undefined;

fn decode_bytes(bytes: []const u8) ?decode.Invalid {
    buffered = .{ .inner = .{ .bytes = bytes } };
    const through_buffer = decode.read_plan(&buffered, &storage, &plan);
    var reader = decode.SliceReader{ .bytes = bytes };
    const direct = decode.read_plan(&reader, &storage, &plan);
    if (direct) |d| {
        const b = through_buffer.?; // Both reject, for the same reason.
        std.debug.assert(d.index == b.index and d.code == b.code and d.errno == b.errno and d.whole == b.whole);
        std.debug.assert(std.mem.eql(u8, d.reason, b.reason));
    } else std.debug.assert(through_buffer == null);
    return direct;
}

fn encode_plan(flags: u64, ops: []const Op) !std.ArrayList(u8) {
    var writer = encode.Writer.init(testing.allocator);
    errdefer writer.deinit();
    try writer.plan(flags, ops);
    return writer.bytes;
}

fn expect_valid(bytes: []const u8) !void {
    if (decode_bytes(bytes)) |invalid| {
        std.debug.print("rejected: index {d} code 0x{x} errno {d}: {s}\n", .{ invalid.index, invalid.code, invalid.errno, invalid.reason });
        return error.TestUnexpectedResult;
    }
}

fn expect_invalid(bytes: []const u8, index: u64, code: u64, errno: u16, reason_part: []const u8) !void {
    const invalid = decode_bytes(bytes) orelse return error.TestExpectedInvalid;
    errdefer std.debug.print("got: index {d} code 0x{x} errno {d}: {s}\n", .{ invalid.index, invalid.code, invalid.errno, invalid.reason });
    try testing.expectEqual(index, invalid.index);
    try testing.expectEqual(code, invalid.code);
    try testing.expectEqual(errno, invalid.errno);
    try testing.expect(std.mem.indexOf(u8, invalid.reason, reason_part) != null);
}

fn expect_ops_invalid(ops: []const Op, index: u64, reason_part: []const u8) !void {
    const bytes = try encode_plan(0, ops);
    defer bytes.deinit();
    const code = if (index < ops.len) @intFromEnum(Op.frame_type(ops[index])) else @intFromEnum(protocol.FrameType.end);
    try expect_invalid(bytes.items, index, code, EINVAL, reason_part);
}

test "every op type round-trips through the decoder" {
    var seen = std.EnumSet(Op.Tag).initEmpty();
    for (sample_ops) |op| seen.insert(op);
    for (sample_control_ops) |op| seen.insert(op); // A plan of their own: see "Control plans".
    for (sample_fs_ops) |op| seen.insert(op); // Likewise: see "Fs plans".
    seen.insert(.exec_fifo); // runc's model, tested below: "an EXEC_FIFO plan ...".
    seen.insert(.fifo_wait);
    seen.insert(.console); // Below too: a launcher op that talks to a socket.
    seen.insert(.pid_fork); // Below: only after an UNSHARE of a pid namespace.
    seen.insert(.pid_fork_orphan);
    seen.insert(.hook); // Below: "HOOK and HOOK_SYNC ...".
    seen.insert(.hook_sync);
    seen.insert(.seccomp_listener); // Below: "SECCOMP_LISTENER ...".
    seen.insert(.idmap_mount); // Below: "IDMAP_MOUNT ...".
    try testing.expectEqual(std.meta.fields(Op.Tag).len, seen.count());

    const bytes = try encode_plan(protocol.hello_flags_known, &sample_ops);
    defer bytes.deinit();
    try expect_valid(bytes.items);
    try testing.expectEqual(protocol.hello_flags_known, plan.flags);
    try testing.expectEqual(sample_ops.len, plan.ops_count);
    try testing.expectEqual(@as(usize, 16), plan.clone_index);
    try testing.expectEqual(@as(usize, 1), plan.trees_count);
    for (sample_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
    const exec = plan.slice()[plan.ops_count - 1].exec;
    try testing.expectEqualStrings("echo $$", std.mem.span(exec.argv[2].?));
    try testing.expect(exec.argv.ptr[3] == null); // argv is ready for execve.
    for (plan.slice()) |op| if (op == .user) try testing.expectEqual(@as(u64, 27), op.user.groups.get(1));
}

test "a plan read one byte at a time decodes the same" {
    const bytes = try encode_plan(0, &sample_ops);
    defer bytes.deinit();
    var reader = decode.SliceReader{ .bytes = bytes.items, .chunk = 1 };
    try testing.expect(decode.read_plan(&reader, &storage, &plan) == null);
    for (sample_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
}

test "nothing after END is read" {
    var bytes = try encode_plan(0, minimal(&.{}));
    defer bytes.deinit();
    const length = bytes.items.len;
    try bytes.appendSlice("garbage after the end");
    var reader = decode.SliceReader{ .bytes = bytes.items };
    try testing.expect(decode.read_plan(&reader, &storage, &plan) == null);
    try testing.expectEqual(bytes.items.len - length, reader.bytes.len);
}

test "Buffered: reads a plan in one read, keeps what follows END for the next reads" {
    var bytes = try encode_plan(0, &sample_ops);
    defer bytes.deinit();
    const length = bytes.items.len;
    try bytes.appendSlice("after END");
    const Counting = struct {
        slice: decode.SliceReader,
        reads: usize = 0,
        pub fn read(reader: *@This(), buffer: []u8) decode.ReadResult {
            reader.reads += 1;
            return reader.slice.read(buffer);
        }
    };
    var reader: decode.Buffered(Counting) = .{ .inner = .{ .slice = .{ .bytes = bytes.items } } };
    try testing.expect(decode.read_plan(&reader, &storage, &plan) == null);
    try testing.expect(length < decode.buffered_bytes);
    try testing.expectEqual(@as(usize, 1), reader.inner.reads);
    for (sample_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
    try testing.expectEqual(@as(usize, "after END".len), reader.pending());
    var rest: [32]u8 = undefined;
    const got = decode.read_exact(&reader, &rest).bytes;
    try testing.expectEqualStrings("after END", rest[0..got]);
    try testing.expectEqual(@as(usize, 2), reader.inner.reads); // The second read saw EOF.

    // One byte at a time underneath: still the same plan, and nothing held past END.
    bytes.items.len = length;
    var slow: decode.Buffered(decode.SliceReader) = .{ .inner = .{ .bytes = bytes.items, .chunk = 1 } };
    try testing.expect(decode.read_plan(&slow, &storage, &plan) == null);
    try testing.expectEqual(@as(usize, 0), slow.pending());
    for (sample_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
}

/// The index of the frame that starts at or contains byte `offset`, counting HELLO as -1,
/// and whether `offset` is exactly a frame boundary.
fn frame_at(bytes: []const u8, offset: usize) struct { index: u64, boundary: bool, code: u64, header_whole: bool } {
    var position: usize = 0;
    var frame_number: u64 = 0;
    while (true) : (frame_number += 1) {
        const length = std.mem.readInt(u32, bytes[position..][0..4], .little);
        const next = position + protocol.header_size + length;
        if (offset < next) return .{
            .index = frame_number -% 1,
            .boundary = offset == position,
            .code = std.mem.readInt(u16, bytes[position + 4 ..][0..2], .little),
            .header_whole = offset >= position + protocol.header_size,
        };
        position = next;
    }
}

test "every truncation of a valid plan is rejected, with the right index and errno" {
    const bytes = try encode_plan(0, &sample_ops);
    defer bytes.deinit();
    for (0..bytes.items.len) |cut| {
        const invalid = decode_bytes(bytes.items[0..cut]) orelse return error.TestExpectedInvalid;
        const where = frame_at(bytes.items, cut);
        try testing.expectEqual(where.index, invalid.index);
        // EOF between frames is "no END" (errno 0); inside a frame it is malformed.
        try testing.expectEqual(@as(u16, if (where.boundary) 0 else EINVAL), invalid.errno);
        try testing.expectEqual(if (where.header_whole) where.code else 0, invalid.code);
    }
}

test "every single-byte corruption of the HELLO header is rejected" {
    const bytes = try encode_plan(0, &sample_ops);
    defer bytes.deinit();
    for (0..protocol.header_size) |offset| {
        const original = bytes.items[offset];
        for (0..256) |value| {
            if (value == original) continue;
            bytes.items[offset] = @intCast(value);
            const invalid = decode_bytes(bytes.items) orelse return error.TestExpectedInvalid;
            _ = invalid;
        }
        bytes.items[offset] = original;
    }
    try expect_valid(bytes.items);
}

test "HELLO: magic, version and flags" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.hello_fields(0x12345678, 1, 0);
    try expect_invalid(writer.bytes.items, protocol.index_hello, 1, EINVAL, "magic");
    writer.bytes.clearRetainingCapacity();
    try writer.hello_fields(protocol.magic, 2, 0);
    try expect_invalid(writer.bytes.items, protocol.index_hello, 1, EINVAL, "protocol version 2, launcher speaks 1");
    writer.bytes.clearRetainingCapacity();
    try writer.hello_fields(protocol.magic, 1, 1 << 3);
    try expect_invalid(writer.bytes.items, protocol.index_hello, 1, EINVAL, "flags");
    writer.bytes.clearRetainingCapacity();
    try expect_invalid("", protocol.index_hello, 0, 0, "ends before END");
    try expect_invalid("\x18\x00\x00", protocol.index_hello, 0, EINVAL, "short frame header");
    // A plan that starts with an op: the error is in "HELLO itself".
    try writer.op(.{ .clone = .{ .flags = 0 } });
    try expect_invalid(writer.bytes.items, protocol.index_hello, 0x11, EINVAL, "does not start with HELLO");
    // HELLO's payload one byte short and one byte long.
    writer.bytes.clearRetainingCapacity();
    try writer.raw_frame(1, 0, &[_]u8{0} ** 23);
    try expect_invalid(writer.bytes.items, protocol.index_hello, 1, EINVAL, "past the frame's end");
    writer.bytes.clearRetainingCapacity();
    try writer.hello(0);
    writer.bytes.items[0] = 25;
    try writer.bytes.append(0);
    try expect_invalid(writer.bytes.items, protocol.index_hello, 1, EINVAL, "left over");
}

test "unknown and reserved frame types are rejected" {
    for ([_]u16{ 0, 3, 0x0019, 0x002a, 0x003a, 0x003f, 0x004e, 0x004f, 0x005c, 0x0004, 0x0005, 0x0101, 0x8001, 0x8004, 0xffff }) |code| {
        var writer = encode.Writer.init(testing.allocator);
        defer writer.deinit();
        try writer.hello(0);
        try writer.op(.{ .clone = .{ .flags = 0 } });
        try writer.raw_frame(code, 0, "");
        try writer.end();
        try expect_invalid(writer.bytes.items, 1, code, EINVAL, "unknown frame type");
    }
}

test "frame flags must be 0" {
    for ([_]u16{ 1, 0x100, 0x8000 }) |flags| {
        var writer = encode.Writer.init(testing.allocator);
        defer writer.deinit();
        try writer.hello(0);
        try writer.raw_frame(0x36, flags, ""); // NO_NEW_PRIVS
        try expect_invalid(writer.bytes.items, 0, 0x36, EINVAL, "flags are not 0");
    }
}

test "a NUL inside a str is rejected" {
    try expect_ops_invalid(minimal(&.{.{ .mkdir = .{ .path = "a\x00b", .mode = 0o755 } }}), 1, "path: contains NUL");
    try expect_ops_invalid(minimal(&.{.{ .write_file = .{ .path = "/x", .content = "a\x00" } }}), 1, "content: contains NUL");
}

test "bytes left over after the last field are rejected" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.hello(0);
    try writer.op(.{ .clone = .{ .flags = 0 } });
    const start = writer.bytes.items.len;
    try writer.op(.{ .chdir = .{ .path = "/" } });
    try writer.bytes.append('x');
    writer.bytes.items[start] += 1;
    try expect_invalid(writer.bytes.items, 1, 0x32, EINVAL, "left over");
    // An END with a payload.
    writer.bytes.clearRetainingCapacity();
    try writer.hello(0);
    try writer.raw_frame(2, 0, "x");
    try expect_invalid(writer.bytes.items, 0, 2, EINVAL, "left over");
}

test "a field that runs past its frame is rejected" {
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.hello(0);
    try writer.op(.{ .clone = .{ .flags = 0 } });
    try writer.raw_frame(0x32, 0, "\x05\x00\x00\x00/ab"); // CHDIR: str of 5 with 3 bytes.
    try writer.end();
    try expect_invalid(writer.bytes.items, 1, 0x32, EINVAL, "past the frame's end");
}

var repeat_buffer: [protocol.str_bytes_max + 2]u8 = undefined;

/// `n` times `byte`, in a static buffer (valid until the next call).
fn repeat(byte: u8, n: usize) [:0]const u8 {
    @memset(repeat_buffer[0..n], byte);
    repeat_buffer[n] = 0;
    return repeat_buffer[0..n :0];
}

test "str bounds: paths 4095, other strings 65536" {
    try expect_valid_ops(minimal(&.{.{ .mkdir = .{ .path = repeat('a', 4095), .mode = 0 } }}));
    try expect_ops_invalid(minimal(&.{.{ .mkdir = .{ .path = repeat('a', 4096), .mode = 0 } }}), 1, "path: longer than 4095");
    try expect_ops_invalid(minimal(&.{.{ .symlink = .{ .target = repeat('a', 4096), .linkpath = "x" } }}), 1, "target: longer than 4095");
    try expect_ops_invalid(minimal(&.{.{ .pivot_root = .{ .newroot = repeat('a', 4096) } }}), 1, "newroot");
    try expect_ops_invalid(minimal(&.{.{ .bind = .{ .source = repeat('a', 4096), .target = "x", .flags = 0 } }}), 1, "source");
    try expect_ops_invalid(minimal(&.{.{ .symlink = .{ .target = "x", .linkpath = repeat('a', 4096) } }}), 1, "linkpath");
    try expect_valid_ops(minimal(&.{.{ .sethostname = .{ .name = repeat('h', 65536) } }}));
    try expect_ops_invalid(minimal(&.{.{ .sethostname = .{ .name = repeat('h', 65537) } }}), 1, "name: longer than 65536");
    try expect_ops_invalid(minimal(&.{.{ .write_file = .{ .path = "x", .content = repeat('c', 65537) } }}), 1, "content");
}

fn expect_valid_ops(ops: []const Op) !void {
    const bytes = try encode_plan(0, ops);
    defer bytes.deinit();
    try expect_valid(bytes.items);
}

fn exec_with_argv(argv: protocol.Strs) [2]Op {
    var exec = exec_op;
    exec.exec.argv = argv;
    return .{ clone_op, exec };
}

test "strs bound: 4096 strings; u64s bound: 1024 numbers" {
    var pointers: [4098]?[*:0]const u8 = undefined;
    @memset(&pointers, "x");
    pointers[4096] = null;
    try expect_valid_ops(&exec_with_argv(pointers[0..4096 :null]));
    pointers[4096] = "x";
    pointers[4097] = null;
    try expect_ops_invalid(&exec_with_argv(pointers[0..4097 :null]), 1, "argv: more than 4096");
    pointers[0] = null;
    try expect_ops_invalid(&exec_with_argv(pointers[0..0 :null]), 1, "argv: empty");

    var words: [1025 * 8]u8 = undefined;
    @memset(&words, 0);
    try expect_valid_ops(minimal(&.{.{ .user = .{ .uid = 0, .gid = 0, .groups = .{ .bytes = words[0 .. 1024 * 8] } } }}));
    try expect_ops_invalid(minimal(&.{.{ .user = .{ .uid = 0, .gid = 0, .groups = .{ .bytes = &words } } }}), 1, "groups: more than 1024");
}

test "frame bound: a payload of 1 MiB is read, one byte more is not" {
    // An EXEC frame of exactly 1 MiB: path, empty env and search, argv filling the rest.
    const fixed = (4 + 1) + 4 + 4 + 4 + 3 * 8; // path "x", three counts, three statuses
    var remaining: usize = protocol.frame_payload_bytes_max - fixed;
    var pointers: [17]?[*:0]const u8 = undefined;
    var count: usize = 0;
    while (remaining > 0) : (count += 1) {
        const size = @min(remaining - 4, protocol.str_bytes_max);
        pointers[count] = repeat('a', protocol.str_bytes_max)[protocol.str_bytes_max - size ..].ptr;
        remaining -= 4 + size;
    }
    pointers[count] = null;
    var ops = exec_with_argv(pointers[0..count :null]);
    ops[1].exec.path = "x";
    const bytes = try encode_plan(0, &ops);
    defer bytes.deinit();
    const exec_header = (8 + 24) + (8 + 8); // after the HELLO and CLONE frames
    try testing.expectEqual(@as(u32, protocol.frame_payload_bytes_max), std.mem.readInt(u32, bytes.items[exec_header..][0..4], .little));
    try expect_valid(bytes.items);

    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.hello(0);
    try writer.int(u32, protocol.frame_payload_bytes_max + 1);
    try writer.int(u16, 0x38);
    try writer.int(u16, 0);
    try expect_invalid(writer.bytes.items, 0, 0x38, EINVAL, "longer than 1 MiB");
}

test "plan bound: 4 MiB" {
    var ops: [66]Op = undefined;
    const write_op = Op{ .write_file = .{ .path = "/x", .content = repeat('c', protocol.str_bytes_max) } };
    for (&ops) |*op| op.* = write_op;
    // 63 full WRITE_FILE frames fit in 4 MiB with HELLO, CLONE, EXEC and END; 64 do not.
    try expect_valid_ops(sequence(&.{ ops[0..63], &.{ clone_op, exec_op } }));
    const bytes = try encode_plan(0, sequence(&.{ ops[0..64], &.{ clone_op, exec_op } }));
    defer bytes.deinit();
    try testing.expect(bytes.items.len > protocol.plan_bytes_max);
    const invalid = decode_bytes(bytes.items).?;
    try testing.expectEqualStrings("plan longer than 4 MiB", invalid.reason);
    try testing.expectEqual(@as(u64, 63), invalid.index);
}

test "op bound: 1024 ops" {
    var ops: [1025]Op = undefined;
    for (&ops) |*op| op.* = .{ .no_new_privs = .{} };
    ops[0] = clone_op;
    ops[1023] = exec_op;
    try expect_valid_ops(ops[0..1024]);
    ops[1024] = ops[1023];
    ops[1023] = .{ .no_new_privs = .{} };
    try expect_ops_invalid(&ops, 1024, "more than 1024 ops");
}

test "order: CLONE once, parent ops right after it, EXEC last, then END" {
    const clone = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS } };
    const exec = exec_op;
    const map = Op{ .uid_map = .{ .text = "0 0 1" } };
    const chdir = Op{ .chdir = .{ .path = "/" } };
    const unshare = Op{ .unshare = .{ .flags = protocol.CLONE_NEWTIME } };
    try expect_valid_ops(&.{ unshare, clone, map, map, chdir, exec });
    try expect_valid_ops(&.{ clone, exec });
    try expect_ops_invalid(&.{ chdir, clone, exec }, 0, "container op before CLONE");
    try expect_ops_invalid(&.{ map, clone, exec }, 0, "parent op before CLONE");
    try expect_ops_invalid(&.{ clone, chdir, map, exec }, 2, "parent op after a container op");
    try expect_ops_invalid(&.{ clone, clone, exec }, 1, "second CLONE");
    try expect_ops_invalid(&.{ clone, exec, chdir }, 2, "after EXEC");
    try expect_ops_invalid(&.{ clone, exec, exec }, 2, "after EXEC");
    try expect_ops_invalid(&.{ clone, chdir }, 2, "last op is not EXEC");
    try expect_ops_invalid(&.{clone}, 1, "last op is not EXEC");
    try expect_ops_invalid(&.{unshare}, 1, "END before CLONE");
    try expect_ops_invalid(&.{exec}, 0, "container op before CLONE");
    try expect_ops_invalid(&.{}, 0, "END before CLONE");
    // No END at all: EOF at a frame boundary, errno 0, code 0.
    var bytes = try encode_plan(0, &.{ clone, exec });
    defer bytes.deinit();
    try expect_invalid(bytes.items[0 .. bytes.items.len - 8], 2, 0, 0, "ends before END");
    // A second HELLO.
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.hello(0);
    try writer.hello(0);
    try expect_invalid(writer.bytes.items, 0, 1, EINVAL, "HELLO after the first frame");
}

test "flags and enums with unknown bits or values are rejected" {
    const NEWNS = protocol.CLONE_NEWNS;
    try expect_ops_invalid(&.{ .{ .unshare = .{ .flags = 1 } }, clone_op, exec_op }, 0, "unshare.flags");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = protocol.CLONE_NEWTIME } }, exec_op }, 0, "clone.flags");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0x100 } }, exec_op }, 0, "clone.flags"); // CLONE_VM
    try expect_ops_invalid(minimal(&.{.{ .mount = .{ .source = "", .target = "/", .fstype = "", .flags = 1 << 22, .data = "" } }}), 1, "mount.flags");
    try expect_ops_invalid(minimal(&.{.{ .mount = .{ .source = "", .target = "/", .fstype = "", .flags = 1 << 32, .data = "" } }}), 1, "mount.flags");
    try expect_ops_invalid(minimal(&.{.{ .mkdir = .{ .path = "x", .mode = 0o10000 } }}), 1, "mode");
    try expect_ops_invalid(minimal(&.{.{ .touch = .{ .path = "x", .mode = 0o10000 } }}), 1, "mode");
    try expect_ops_invalid(minimal(&.{.{ .bind = .{ .source = "/a", .target = "b", .flags = 1024 } }}), 1, "bind.flags");
    try expect_ops_invalid(minimal(&.{.{ .bind = .{ .source = "/a", .target = "b", .flags = protocol.bind_flag_noatime | protocol.bind_flag_strictatime } }}), 1, "more than one atime mode");
    try expect_ops_invalid(minimal(&.{.{ .umask = .{ .mask = 0o1000 } }}), 1, "umask.mask");
    try expect_ops_invalid(minimal(&.{.{ .mknod_dev = .{ .path = "../x", .mode = 0o020600, .rdev = 0, .uid = 0, .gid = 0 } }}), 1, "mknod_dev.path");
    try expect_ops_invalid(minimal(&.{.{ .mknod_dev = .{ .path = "x", .mode = 0o100600, .rdev = 0, .uid = 0, .gid = 0 } }}), 1, "not a device or FIFO");
    try expect_ops_invalid(minimal(&.{.{ .mknod_dev = .{ .path = "x", .mode = 0o020600, .rdev = 0, .uid = std.math.maxInt(u32), .gid = 0 } }}), 1, "uid or gid");
    try expect_ops_invalid(minimal(&.{.{ .ambient = .{ .capabilities = 1 << 41 } }}), 1, "ambient");
    try expect_ops_invalid(minimal(&.{.{ .preserve_fds = .{ .count = 0 } }}), 1, "preserve_fds.count");
    try expect_ops_invalid(minimal(&.{.{ .preserve_fds = .{ .count = 1025 } }}), 1, "preserve_fds.count");
    try expect_ops_invalid(&.{.{ .cgroup_set = .{ .path = "/sys/fs/cgroup/../etc/x", .value = "1" } }}, 0, "cgroup path: not absolute and clean");
    try expect_ops_invalid(minimal(&.{.{ .set_root = .{ .path = "relative" } }}), 1, "not absolute");
    try expect_ops_invalid(minimal(&.{.{ .rlimit = .{ .resource = 16, .soft = 0, .hard = 0 } }}), 1, "rlimit.resource");
    try expect_ops_invalid(minimal(&.{.{ .caps = .{ .bounding = 1 << 41, .effective = 0, .permitted = 0, .inheritable = 0 } }}), 1, "capability");
    try expect_ops_invalid(minimal(&.{.{ .caps = .{ .bounding = 0, .effective = 0, .permitted = 0, .inheritable = 1 << 63 } }}), 1, "capability");
    try expect_valid_ops(minimal(&.{.{ .user = .{ .uid = protocol.id_max, .gid = 0, .groups = encode.u64s(&.{}) } }}));
    try expect_ops_invalid(minimal(&.{.{ .user = .{ .uid = protocol.id_max + 1, .gid = 0, .groups = encode.u64s(&.{}) } }}), 1, "uid");
    try expect_ops_invalid(minimal(&.{.{ .user = .{ .uid = 0, .gid = 1 << 32, .groups = encode.u64s(&.{}) } }}), 1, "gid");
    try expect_ops_invalid(minimal(&.{.{ .user = .{ .uid = 0, .gid = 0, .groups = encode.u64s(&.{ 1, 0xffffffff }) } }}), 1, "groups");
    // Ops that would change the host's hostname or mounts without their own namespace.
    const exec = exec_op;
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = NEWNS } }, .{ .sethostname = .{ .name = "x" } }, exec }, 1, "UTS");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0 } }, .{ .mask = .{ .path = "/x" } }, exec }, 1, "mount namespace");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0 } }, .{ .readonly = .{ .path = "/x" } }, exec }, 1, "mount namespace");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0 } }, .{ .pivot_root = .{ .newroot = "/x" } }, exec }, 1, "mount namespace");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0 } }, .{ .bind = .{ .source = "/x", .target = "/y", .flags = 0 } }, exec }, 1, "mount namespace");
    try expect_ops_invalid(&.{ .{ .clone = .{ .flags = 0 } }, .{ .mount = .{ .source = "", .target = "/", .fstype = "", .flags = 0, .data = "" } }, exec }, 1, "mount namespace");
    // A namespace from UNSHARE before CLONE counts: the launcher itself is already in it.
    try expect_valid_ops(&.{ .{ .unshare = .{ .flags = NEWNS | protocol.CLONE_NEWUTS } }, .{ .clone = .{ .flags = 0 } }, .{ .sethostname = .{ .name = "x" } }, .{ .mask = .{ .path = "/x" } }, exec });
    // A uts namespace joined by path (SETNS_FILE) is one SETHOSTNAME may name; one of another type is not.
    try expect_valid_ops(&.{ .{ .setns_file = .{ .path = "/proc/7/ns/uts", .nstype = protocol.CLONE_NEWUTS } }, .{ .clone = .{ .flags = NEWNS } }, .{ .sethostname = .{ .name = "x" } }, exec });
    try expect_ops_invalid(&.{ .{ .setns_file = .{ .path = "/proc/7/ns/net", .nstype = protocol.CLONE_NEWNET } }, .{ .clone = .{ .flags = NEWNS } }, .{ .sethostname = .{ .name = "x" } }, exec }, 2, "UTS");
}

/// Invariants of any plan the decoder accepts.
fn check_plan_invariants() !void {
    const ops = plan.slice();
    if (plan.fs) {
        // An fs plan: FS_ROOT first, fs ops only (protocol.md "Fs plans").
        try testing.expect(ops.len >= 1 and ops.len <= protocol.ops_max and ops[0] == .fs_root);
        for (ops) |op| try testing.expectEqual(Op.Runner.fs, Op.runner(op));
        return;
    }
    if (plan.control) {
        // A control plan: control ops only (protocol.md "Control plans").
        try testing.expect(ops.len >= 1 and ops.len <= protocol.ops_max);
        for (ops) |op| try testing.expectEqual(Op.Runner.control, Op.runner(op));
        return;
    }
    try testing.expect(ops.len >= 2 and ops.len <= protocol.ops_max);
    try testing.expect(ops[ops.len - 1] == .exec);
    try testing.expect(ops[plan.clone_index] == .clone);
    var clones: usize = 0;
    for (ops) |op| {
        if (op == .clone) clones += 1;
        if (op == .exec) try testing.expect(op.exec.argv.len >= 1);
    }
    try testing.expectEqual(@as(usize, 1), clones);
}

test "random mutations of a valid plan never crash the decoder" {
    const valid = try encode_plan(3, &sample_ops);
    defer valid.deinit();
    var prng = std.Random.DefaultPrng.init(0x4b535548);
    const random = prng.random();
    var buffer = std.ArrayList(u8).init(testing.allocator);
    defer buffer.deinit();
    const interesting = [_]u32{ 0, 1, 7, 8, 4095, 4096, 4097, 65536, 65537, 1 << 20, (1 << 20) + 1, 0x7fffffff, 0xffffffff };
    var accepted: usize = 0;
    for (0..5000) |_| {
        buffer.clearRetainingCapacity();
        try buffer.appendSlice(valid.items);
        const mutations = 1 + random.uintLessThan(usize, 4);
        for (0..mutations) |_| {
            if (buffer.items.len == 0) break;
            const at = random.uintLessThan(usize, buffer.items.len);
            switch (random.uintLessThan(u8, 6)) {
                0 => buffer.items[at] ^= @as(u8, 1) << random.int(u3),
                1 => buffer.items[at] = random.int(u8),
                2 => buffer.shrinkRetainingCapacity(at),
                3 => _ = buffer.orderedRemove(at),
                4 => try buffer.insert(at, random.int(u8)),
                5 => if (at + 4 <= buffer.items.len) {
                    const value = interesting[random.uintLessThan(usize, interesting.len)];
                    std.mem.writeInt(u32, buffer.items[at..][0..4], value, .little);
                },
                else => unreachable,
            }
        }
        if (decode_bytes(buffer.items)) |invalid| {
            try testing.expect(invalid.reason.len > 0);
            try testing.expect(invalid.errno == 0 or invalid.errno == EINVAL);
        } else {
            accepted += 1;
            try check_plan_invariants();
        }
    }
    // Some mutations (a flag byte, a string's content) keep the plan valid; most do not.
    try testing.expect(accepted > 0 and accepted < 5000);
}

test "golden plans in test/golden are valid, and their truncations and header corruptions are not" {
    // No directory, or no plan in it, is a failure: a check of nothing must not pass.
    var directory = try std.fs.openDirAbsolute(build_options.golden_dir, .{ .iterate = true });
    defer directory.close();
    var iterator = directory.iterate();
    var checked: usize = 0;
    while (try iterator.next()) |entry| {
        if (entry.kind != .file or !std.mem.endsWith(u8, entry.name, ".bin")) continue;
        const bytes = try directory.readFileAlloc(testing.allocator, entry.name, protocol.plan_bytes_max + 1);
        defer testing.allocator.free(bytes);
        errdefer std.debug.print("golden plan {s} failed\n", .{entry.name});
        try expect_valid(bytes);
        try check_plan_invariants();
        // What the decoder reads is exactly the file: nothing is left after END.
        var reader = decode.SliceReader{ .bytes = bytes };
        try testing.expect(decode.read_plan(&reader, &storage, &plan) == null);
        try testing.expectEqual(@as(usize, 0), reader.bytes.len);
        for (0..bytes.len) |cut| try testing.expect(decode_bytes(bytes[0..cut]) != null);
        for (0..protocol.header_size) |offset| {
            const original = bytes[offset];
            for (0..256) |value| {
                if (value == original) continue;
                bytes[offset] = @intCast(value);
                try testing.expect(decode_bytes(bytes) != null);
            }
            bytes[offset] = original;
        }
        checked += 1;
    }
    std.debug.print("golden plans checked: {d}\n", .{checked});
    try testing.expect(checked > 0);
}

// --- cgroup, status-file and idmap ops (protocol.md "cgroups", "The status file",
// "Idmapped trees") ------------------------------------------------------------------------

const memory_dir = "/sys/fs/cgroup/memory/husk-test";
const cgroup_mkdir_op = Op{ .cgroup_mkdir = .{ .path = memory_dir, .flags = 0 } };
const userns_clone = Op{ .clone = .{ .flags = protocol.CLONE_NEWUSER | protocol.CLONE_NEWNS } };
const uid_map_op = Op{ .uid_map = .{ .text = "0 100000 65536" } };
const gid_map_op = Op{ .gid_map = .{ .text = "0 100000 65536" } };

/// `before` ops, CLONE, EXEC: a plan whose launcher ops are under test.
fn launcher_plan(before: []const Op) []const Op {
    return sequence(&.{ before, &.{ clone_op, exec_op } });
}

/// CLONE(user, mount), UID_MAP, GID_MAP, `parent`, `container`, EXEC.
fn userns_plan(parent: []const Op, container: []const Op) []const Op {
    return sequence(&.{ &.{ userns_clone, uid_map_op, gid_map_op }, parent, container, &.{exec_op} });
}

fn tree(slot: u64) Op {
    return .{ .idmap_tree = .{ .source = "/usr", .slot = slot } };
}

fn attach(slot: u64) Op {
    return .{ .attach_tree = .{ .slot = slot, .target = "stage/lower/usr" } };
}

test "launcher ops stand before CLONE only" {
    const launcher_ops = [_]Op{
        .{ .status_file = .{ .path = "/run/husk/x/status" } },
        cgroup_mkdir_op,
        .{ .cgroup_write = .{ .path = memory_dir ++ "/memory.limit_in_bytes", .value = "32M" } },
        .{ .cgroup_into = .{ .path = "/sys/fs/cgroup/unified/husk-test" } },
        .{ .cgroup_report = .{ .path = memory_dir ++ "/memory.oom_control" } },
    };
    try expect_valid_ops(launcher_plan(&launcher_ops));
    try testing.expectEqual(@as(usize, 5), plan.clone_index);
    for (launcher_ops) |op| {
        try expect_ops_invalid(minimal(&.{op}), 1, "a launcher op after CLONE");
        try expect_ops_invalid(&.{ clone_op, exec_op, op }, 2, "after EXEC");
        // An UNSHARE before them is fine; they come after the launcher's UNSHARE/WRITE_FILE too.
        try expect_valid_ops(&.{ .{ .unshare = .{ .flags = protocol.CLONE_NEWTIME } }, op, .{ .write_file = .{ .path = "/x", .content = "" } }, clone_op, exec_op });
    }
}

test "cgroup paths are absolute and clean" {
    const bad = [_][:0]const u8{ "", "/", "relative/x", memory_dir ++ "/", "/sys//fs", "/sys/fs/cgroup/memory/../../../tmp", "/sys/./fs", "/sys/fs/cgroup/memory/.." };
    for (bad) |path| {
        const ops = [_]Op{
            .{ .cgroup_mkdir = .{ .path = path, .flags = 0 } },
            .{ .cgroup_write = .{ .path = path, .value = "1" } },
            .{ .cgroup_into = .{ .path = path } },
            .{ .cgroup_report = .{ .path = path } },
        };
        for (ops) |op| try expect_ops_invalid(launcher_plan(&.{op}), 0, "not absolute and clean");
        try expect_ops_invalid(minimal(&.{.{ .cgroup_enter = .{ .path = path } }}), 1, "not absolute and clean");
    }
    // Dots inside a name are fine; a path field's bound (4095) holds.
    try expect_valid_ops(launcher_plan(&.{.{ .cgroup_mkdir = .{ .path = "/sys/fs/cgroup/..a/.b.", .flags = 0 } }}));
    try expect_ops_invalid(launcher_plan(&.{.{ .cgroup_report = .{ .path = repeat('a', 4096) } }}), 0, "path: longer than 4095");
    // CGROUP_WRITE's value is not a path: 65536 bytes are fine.
    try expect_valid_ops(launcher_plan(&.{.{ .cgroup_write = .{ .path = memory_dir ++ "/x", .value = repeat('1', 65536) } }}));
}

test "CGROUP_MKDIR: flags and the 32 bound" {
    try expect_valid_ops(launcher_plan(&.{.{ .cgroup_mkdir = .{ .path = memory_dir, .flags = protocol.cgroup_mkdir_flag_shared } }}));
    try expect_ops_invalid(launcher_plan(&.{.{ .cgroup_mkdir = .{ .path = memory_dir, .flags = 2 } }}), 0, "cgroup_mkdir.flags: unknown bits");
    try expect_ops_invalid(launcher_plan(&.{.{ .cgroup_mkdir = .{ .path = memory_dir, .flags = 1 << 63 } }}), 0, "unknown bits");
    const mkdirs = [_]Op{cgroup_mkdir_op} ** 33;
    try expect_valid_ops(launcher_plan(mkdirs[0..32]));
    try expect_ops_invalid(launcher_plan(&mkdirs), 32, "more than 32 CGROUP_MKDIR");
}

test "CGROUP_REPORT: 16; CGROUP_INTO and STATUS_FILE: one" {
    const report = Op{ .cgroup_report = .{ .path = memory_dir ++ "/memory.events" } };
    const reports = [_]Op{report} ** 17;
    try expect_valid_ops(launcher_plan(reports[0..16]));
    try expect_ops_invalid(launcher_plan(&reports), 16, "more than 16 CGROUP_REPORT");
    const into = Op{ .cgroup_into = .{ .path = "/sys/fs/cgroup/unified/husk-test" } };
    try expect_ops_invalid(launcher_plan(&.{ into, into }), 1, "a second CGROUP_INTO");
    const status = Op{ .status_file = .{ .path = "/run/husk/x/status" } };
    try expect_ops_invalid(launcher_plan(&.{ status, status }), 1, "a second STATUS_FILE");
    try expect_ops_invalid(launcher_plan(&.{.{ .status_file = .{ .path = "status" } }}), 0, "status_file.path: not absolute");
    try expect_ops_invalid(launcher_plan(&.{.{ .status_file = .{ .path = "" } }}), 0, "not absolute");
    // path + ".tmp" must be a path: 4091 bytes at most.
    var long_path: [protocol.status_path_bytes_max + 2]u8 = undefined;
    @memset(&long_path, 's');
    long_path[0] = '/';
    long_path[protocol.status_path_bytes_max] = 0;
    try expect_valid_ops(launcher_plan(&.{.{ .status_file = .{ .path = long_path[0..protocol.status_path_bytes_max :0] } }}));
    long_path[protocol.status_path_bytes_max] = 's';
    long_path[protocol.status_path_bytes_max + 1] = 0;
    try expect_ops_invalid(launcher_plan(&.{.{ .status_file = .{ .path = long_path[0 .. protocol.status_path_bytes_max + 1 :0] } }}), 0, "longer than 4091");
}

test "CGROUP_ENTER is a parent op on a cgroup.procs file" {
    const enter = Op{ .cgroup_enter = .{ .path = memory_dir ++ "/cgroup.procs" } };
    const chdir = Op{ .chdir = .{ .path = "/" } };
    try expect_valid_ops(minimal(&.{ enter, enter, chdir }));
    try expect_valid_ops(userns_plan(&.{enter}, &.{}));
    try expect_ops_invalid(launcher_plan(&.{enter}), 0, "a parent op before CLONE");
    try expect_ops_invalid(minimal(&.{ chdir, enter }), 2, "a parent op after a container op");
    try expect_ops_invalid(minimal(&.{.{ .cgroup_enter = .{ .path = memory_dir ++ "/tasks" } }}), 1, "not a cgroup.procs file");
    try expect_ops_invalid(minimal(&.{.{ .cgroup_enter = .{ .path = memory_dir ++ "/xcgroup.procs" } }}), 1, "not a cgroup.procs file");
    try expect_ops_invalid(minimal(&.{.{ .cgroup_enter = .{ .path = "/cgroup.procs/x" } }}), 1, "not a cgroup.procs file");
}

test "CGROUP_JOIN: a container op among the first, on a tasks file" {
    const join = Op{ .cgroup_join = .{ .path = memory_dir ++ "/tasks" } };
    const join_pids = Op{ .cgroup_join = .{ .path = "/sys/fs/cgroup/pids/husk-test/tasks" } };
    const enter = Op{ .cgroup_enter = .{ .path = "/sys/fs/cgroup/unified/husk-test/cgroup.procs" } };
    const chdir = Op{ .chdir = .{ .path = "/" } };
    const unshare = Op{ .unshare = .{ .flags = protocol.CLONE_NEWCGROUP } };
    const user = Op{ .user = .{ .uid = 0, .gid = 0, .groups = encode.u64s(&.{}) } };
    // Right after CLONE or after the parent ops, one or more, then any container op.
    try expect_valid_ops(minimal(&.{join}));
    try expect_valid_ops(minimal(&.{ join, join_pids, unshare, chdir }));
    try expect_valid_ops(minimal(&.{ enter, join, join_pids, chdir }));
    try expect_valid_ops(userns_plan(&.{tree(0)}, &.{ join, join_pids, unshare, user, attach(0) }));
    // Not after another container op (UNSHARE and WRITE_FILE are container ops after CLONE).
    try expect_ops_invalid(minimal(&.{ chdir, join }), 2, "a CGROUP_JOIN after another container op");
    try expect_ops_invalid(minimal(&.{ join, unshare, join_pids }), 3, "a CGROUP_JOIN after another container op");
    try expect_ops_invalid(minimal(&.{ .{ .write_file = .{ .path = "/x", .content = "" } }, join }), 2, "after another container op");
    try expect_ops_invalid(userns_plan(&.{}, &.{ user, join }), 4, "after another container op");
    // Not before CLONE; a parent op cannot follow it (the container process runs it).
    try expect_ops_invalid(launcher_plan(&.{join}), 0, "a container op before CLONE");
    try expect_ops_invalid(minimal(&.{ join, enter }), 2, "a parent op after a container op");
    try expect_ops_invalid(userns_plan(&.{}, &.{ join, tree(0) }), 4, "a parent op after a container op");
    try expect_ops_invalid(&.{ clone_op, exec_op, join }, 2, "after EXEC");
    // The path: absolute, clean, a v1 `tasks` file.
    const bad = [_][:0]const u8{ "", "/", "tasks", "sys/fs/cgroup/memory/x/tasks", memory_dir ++ "/tasks/", "/sys//fs/tasks", "/sys/fs/cgroup/memory/../tasks", "/sys/./tasks" };
    for (bad) |path| try expect_ops_invalid(minimal(&.{.{ .cgroup_join = .{ .path = path } }}), 1, "not absolute and clean");
    const not_tasks = [_][:0]const u8{ memory_dir ++ "/cgroup.procs", memory_dir ++ "/xtasks", "/tasks/x", memory_dir, "/sys/fs/cgroup/unified/x/cgroup.threads" };
    for (not_tasks) |path| try expect_ops_invalid(minimal(&.{.{ .cgroup_join = .{ .path = path } }}), 1, "cgroup_join.path: not a tasks file");
    try expect_ops_invalid(minimal(&.{.{ .cgroup_join = .{ .path = repeat('a', 4096) } }}), 1, "path: longer than 4095");
    // Its frame: type 0x0047, one str.
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.op(.{ .cgroup_join = .{ .path = "/a/tasks" } });
    try testing.expectEqualSlices(u8, "\x0c\x00\x00\x00\x47\x00\x00\x00" ++ "\x08\x00\x00\x00/a/tasks", writer.bytes.items);
}

test "IDMAP_MOUNT: its own maps need no user namespace; empty maps are the container's, after them" {
    const ns_clone = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS } };
    const own = Op{ .idmap_mount = .{ .source = "/srv/data", .slot = 2, .uid_map = "0 1000 1\n", .gid_map = "0 1000 1\n", .flags = 1 | 64 } };
    try expect_valid_ops(&.{ ns_clone, own, attach(2), exec_op });
    try testing.expectEqual(@as(usize, 1), plan.trees_count);
    const theirs = Op{ .idmap_mount = .{ .source = "/srv/data", .slot = 0, .uid_map = "", .gid_map = "", .flags = 0 } };
    try expect_valid_ops(userns_plan(&.{theirs}, &.{attach(0)}));
    try expect_ops_invalid(&.{ ns_clone, theirs, exec_op }, 1, "idmap_mount without maps or CLONE_NEWUSER");
    const half = Op{ .idmap_mount = .{ .source = "/srv/data", .slot = 0, .uid_map = "0 1000 1\n", .gid_map = "", .flags = 0 } };
    try expect_ops_invalid(&.{ ns_clone, half, exec_op }, 1, "one map empty");
    const odd = Op{ .idmap_mount = .{ .source = "/srv/data", .slot = 0, .uid_map = "0 1 1\n", .gid_map = "0 1 1\n", .flags = 4 } };
    try expect_ops_invalid(&.{ ns_clone, odd, exec_op }, 1, "idmap_mount.flags: unknown bits");
    try expect_ops_invalid(&.{ ns_clone, own, own, exec_op }, 2, "idmap_mount.slot: filled twice");
    try expect_ops_invalid(&.{ own, ns_clone, exec_op }, 0, "a parent op before CLONE");
}

test "IDMAP_TREE: after the maps, with a user namespace, each slot once" {
    try expect_valid_ops(userns_plan(&.{tree(0)}, &.{attach(0)}));
    try testing.expectEqual(@as(usize, 1), plan.trees_count);
    // All 16 slots, attached in another order; a slot never attached is fine.
    var trees: [16]Op = undefined;
    for (&trees, 0..) |*op, slot| op.* = tree(slot);
    try expect_valid_ops(userns_plan(&trees, &.{ attach(15), attach(0), attach(7) }));
    try testing.expectEqual(@as(usize, 16), plan.trees_count);
    try expect_ops_invalid(userns_plan(&.{tree(16)}, &.{}), 3, "idmap_tree.slot: over 15");
    try expect_ops_invalid(userns_plan(&.{tree(std.math.maxInt(u64))}, &.{}), 3, "over 15");
    try expect_ops_invalid(userns_plan(&.{ tree(4), tree(4) }, &.{}), 4, "filled twice");
    try expect_ops_invalid(userns_plan(&.{.{ .idmap_tree = .{ .source = "usr", .slot = 0 } }}, &.{}), 3, "idmap_tree.source: not absolute");
    // The maps first: both of them.
    try expect_ops_invalid(&.{ userns_clone, tree(0), uid_map_op, gid_map_op, exec_op }, 1, "before UID_MAP and GID_MAP");
    try expect_ops_invalid(&.{ userns_clone, uid_map_op, tree(0), gid_map_op, exec_op }, 2, "before UID_MAP and GID_MAP");
    try expect_valid_ops(&.{ userns_clone, gid_map_op, uid_map_op, tree(0), exec_op });
    // A new user namespace from CLONE itself.
    const no_userns = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS } };
    try expect_ops_invalid(&.{ no_userns, uid_map_op, gid_map_op, tree(0), exec_op }, 3, "without CLONE_NEWUSER");
    const unshared_userns = Op{ .unshare = .{ .flags = protocol.CLONE_NEWUSER } };
    try expect_ops_invalid(&.{ unshared_userns, no_userns, uid_map_op, gid_map_op, tree(0), exec_op }, 4, "without CLONE_NEWUSER");
    // A parent op: not before CLONE, not after a container op.
    try expect_ops_invalid(&.{ tree(0), userns_clone, exec_op }, 0, "a parent op before CLONE");
    try expect_ops_invalid(userns_plan(&.{}, &.{ .{ .chdir = .{ .path = "/" } }, tree(0) }), 4, "a parent op after a container op");
}

test "ATTACH_TREE: a filled slot, once, in a mount namespace" {
    try expect_ops_invalid(userns_plan(&.{tree(1)}, &.{attach(2)}), 4, "no IDMAP_TREE filled it");
    try expect_ops_invalid(userns_plan(&.{}, &.{attach(0)}), 3, "no IDMAP_TREE filled it");
    try expect_ops_invalid(userns_plan(&.{tree(1)}, &.{ attach(1), attach(1) }), 5, "attached twice");
    try expect_ops_invalid(userns_plan(&.{tree(1)}, &.{.{ .attach_tree = .{ .slot = 16, .target = "x" } }}), 4, "attach_tree.slot: over 15");
    try expect_ops_invalid(userns_plan(&.{tree(1)}, &.{.{ .attach_tree = .{ .slot = 1, .target = repeat('t', 4096) } }}), 4, "target: longer than 4095");
    const userns_only = Op{ .clone = .{ .flags = protocol.CLONE_NEWUSER } };
    try expect_ops_invalid(&.{ userns_only, uid_map_op, gid_map_op, tree(0), attach(0), exec_op }, 4, "mount namespace");
    // A container op: not among the parent ops' positions before CLONE.
    try expect_ops_invalid(&.{ attach(0), userns_clone, exec_op }, 0, "a container op before CLONE");
}

test "EXEC's exit statuses: each 1 to 255, chosen by the plan" {
    for ([_]u64{ 0, 256, 1 << 40 }) |bad| {
        inline for (.{ "failed_status", "not_found_status", "not_executable_status" }) |name| {
            var exec = exec_op;
            @field(exec.exec, name) = bad;
            try expect_ops_invalid(&.{ clone_op, exec }, 1, "exec." ++ name ++ ": not 1 to 255");
        }
    }
    var exec = exec_op;
    exec.exec.failed_status = 1;
    exec.exec.not_found_status = 255;
    exec.exec.not_executable_status = 2;
    try expect_valid_ops(&.{ clone_op, exec });
    const decoded = plan.slice()[1].exec;
    try testing.expectEqual(@as(u64, 1), decoded.failed_status);
    try testing.expectEqual(@as(u64, 255), decoded.not_found_status);
    try testing.expectEqual(@as(u64, 2), decoded.not_executable_status);
}

test "the new ops' frames: golden bytes" {
    // CGROUP_MKDIR "/a" shared, then IDMAP_TREE "/u" slot 2, byte for byte.
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.op(.{ .cgroup_mkdir = .{ .path = "/a", .flags = 1 } });
    try writer.op(.{ .idmap_tree = .{ .source = "/u", .slot = 2 } });
    try writer.op(.{ .cgroup_write = .{ .path = "/a", .value = "1" } });
    try testing.expectEqualSlices(u8, "\x0e\x00\x00\x00\x40\x00\x00\x00" ++ "\x02\x00\x00\x00/a" ++ "\x01" ++ "\x00" ** 7 ++
        "\x0e\x00\x00\x00\x45\x00\x00\x00" ++ "\x02\x00\x00\x00/u" ++ "\x02" ++ "\x00" ** 7 ++
        "\x0b\x00\x00\x00\x41\x00\x00\x00" ++ "\x02\x00\x00\x00/a" ++ "\x01\x00\x00\x00" ++ "1", writer.bytes.items);
}

test "SECCOMP: parts right before it, 1 to 4096 instructions, known flags" {
    const ret_allow = encode.u64s(&.{0x7fff000000000006});
    const part = Op{ .seccomp_program = .{ .program = ret_allow } };
    const load = Op{ .seccomp = .{ .flags = 0, .program = ret_allow } };
    try expect_valid_ops(minimal(&.{ part, part, load }));
    try expect_ops_invalid(minimal(&.{ part, .{ .close_fds = .{} } }), 2, "SECCOMP_PROGRAM is not followed by SECCOMP");
    try expect_ops_invalid(minimal(&.{.{ .seccomp = .{ .flags = 16, .program = ret_allow } }}), 1, "seccomp.flags: unknown bits");
    try expect_ops_invalid(minimal(&.{.{ .seccomp = .{ .flags = 0, .program = encode.u64s(&.{}) } }}), 1, "seccomp.program: empty");
    const full = Op{ .seccomp_program = .{ .program = encode.u64s(&([_]u64{0x7fff000000000006} ** 1024)) } };
    try expect_ops_invalid(minimal(&.{ full, full, full, full, load }), 5, "over 4096 instructions");
}

test "SECCOMP_LISTENER: a launcher op, once, with exactly one SECCOMP of flag NEW_LISTENER" {
    const ret_allow = encode.u64s(&.{0x7fff000000000006});
    const listener = Op{ .seccomp_listener = .{ .path = "/run/agent.sock", .state_prefix = "{\"pid\":", .state_middle = ",\"state\":{\"pid\":", .state_suffix = "}}" } };
    const load = Op{ .seccomp = .{ .flags = 8, .program = ret_allow } };
    const plain = Op{ .seccomp = .{ .flags = 0, .program = ret_allow } };
    try expect_valid_ops(&.{ listener, clone_op, plain, load, exec_op });
    try expect_ops_invalid(minimal(&.{load}), 1, "NEW_LISTENER without SECCOMP_LISTENER");
    try expect_ops_invalid(&.{ listener, clone_op, exec_op }, 3, "SECCOMP_LISTENER without a SECCOMP of flag NEW_LISTENER");
    try expect_ops_invalid(&.{ listener, clone_op, load, load, exec_op }, 3, "a second SECCOMP with NEW_LISTENER");
    try expect_ops_invalid(&.{ listener, listener, clone_op, load, exec_op }, 1, "a second SECCOMP_LISTENER");
    try expect_ops_invalid(&.{ clone_op, listener, load, exec_op }, 1, "a launcher op after CLONE");
    const long = Op{ .seccomp_listener = .{ .path = "/" ++ "s" ** 107, .state_prefix = "", .state_middle = "", .state_suffix = "" } };
    try expect_ops_invalid(&.{ long, clone_op, load, exec_op }, 0, "seccomp_listener.path: empty or over 107 bytes");
}

test "CGROUP_DEVICES: a clean cgroup path, a program of 1 to 1024 instructions" {
    const exit = encode.u64s(&.{ 0xb4, 0x95 });
    try expect_valid_ops(launcher_plan(&.{.{ .cgroup_devices = .{ .path = "/sys/fs/cgroup/husk/abc", .program = exit } }}));
    try expect_ops_invalid(launcher_plan(&.{.{ .cgroup_devices = .{ .path = "/sys/fs/cgroup/husk/abc", .program = encode.u64s(&.{}) } }}), 0, "cgroup_devices.program: empty");
    try expect_ops_invalid(launcher_plan(&.{.{ .cgroup_devices = .{ .path = "sys/fs/cgroup", .program = exit } }}), 0, "");
}

test "PTY: a container op after TTY, once" {
    const pty = Op{ .pty = .{ .path = "/dev/pts/ptmx" } };
    try expect_ops_invalid(minimal(&.{pty}), 1, "PTY not once, after TTY");
}

test "PTY: in an exec, once the container's mount namespace is entered" {
    const pty = Op{ .pty = .{ .path = "/dev/pts/ptmx" } };
    const log = Op{ .log = .{ .path = "/l" } };
    const tty = Op{ .tty = .{ .rows = 24, .cols = 80 } };
    const target = Op{ .target = .{ .pid = 1, .start_time = 1 } };
    const enter_mount = Op{ .setns = .{ .flags = protocol.CLONE_NEWNS } };
    const enter_net = Op{ .setns = .{ .flags = protocol.CLONE_NEWNET } };
    const exec_clone = Op{ .clone = .{ .flags = 0 } };
    try expect_valid_ops(&.{ log, tty, target, exec_clone, enter_mount, pty, exec_op });
    try expect_ops_invalid(&.{ log, tty, target, exec_clone, enter_net, pty, exec_op }, 5, "pty without a new or entered mount namespace");
    try expect_ops_invalid(&.{ log, tty, target, exec_clone, pty, enter_mount, exec_op }, 4, "pty without a new or entered mount namespace");
}

test "PID_FORK: after the container process unshared a pid namespace, once; its UNSHARE counts for mounts" {
    const fork = Op{ .pid_fork = .{} };
    const joined_clone = Op{ .clone = .{ .flags = 0 } };
    const enter_user = Op{ .setns_file = .{ .path = "/run/husk/ns/u/user", .nstype = protocol.CLONE_NEWUSER } };
    const unshare_all = Op{ .unshare = .{ .flags = protocol.CLONE_NEWPID | protocol.CLONE_NEWNS | protocol.CLONE_NEWUTS } };
    const mount_proc = Op{ .mount = .{ .source = "proc", .target = "proc", .fstype = "proc", .flags = 0, .data = "" } };
    const hostname = Op{ .sethostname = .{ .name = "box" } };
    try expect_valid_ops(&.{ joined_clone, enter_user, unshare_all, fork, mount_proc, hostname, exec_op });
    try expect_ops_invalid(&.{ joined_clone, enter_user, fork, exec_op }, 2, "PID_FORK without an UNSHARE of a pid namespace before it");
    try expect_ops_invalid(&.{ joined_clone, unshare_all, fork, fork, exec_op }, 3, "a second PID_FORK");
    try expect_ops_invalid(&.{ joined_clone, enter_user, mount_proc, unshare_all, exec_op }, 2, "a mount op without a new mount namespace");
    const orphan = Op{ .pid_fork_orphan = .{} };
    const fifo = Op{ .exec_fifo = .{ .path = "/run/husk-runc/c/exec.fifo" } };
    const wait = Op{ .fifo_wait = .{} };
    try expect_valid_ops(&.{ fifo, joined_clone, enter_user, unshare_all, orphan, mount_proc, wait, exec_op });
    try expect_ops_invalid(&.{ joined_clone, enter_user, unshare_all, orphan, exec_op }, 3, "PID_FORK_ORPHAN in a plan without EXEC_FIFO");
    try expect_ops_invalid(&.{ fifo, joined_clone, unshare_all, fork, orphan, wait, exec_op }, 4, "a second PID_FORK");
}

test "INIT: a container op right before EXEC or WAIT_START, at most once" {
    const init = Op{ .init = .{} };
    const wait = Op{ .wait_start = .{} };
    const close = Op{ .close_fds = .{} };
    inline for (.{ &.{ close, init }, &.{ close, init, wait } }) |middle| {
        const bytes = try encode_plan(0, minimal(middle));
        defer bytes.deinit();
        try expect_valid(bytes.items);
    }
    try expect_ops_invalid(minimal(&.{ init, close }), 2, "INIT is not right before EXEC or WAIT_START");
    try expect_ops_invalid(minimal(&.{ init, init }), 2, "INIT is not right before EXEC or WAIT_START");
    try expect_ops_invalid(minimal(&.{ init, close, wait }), 2, "INIT is not right before EXEC or WAIT_START");
    try expect_ops_invalid(&.{ init, clone_op, exec_op }, 0, "a container op before CLONE");
}

test "WAIT_START: a container op right before EXEC, at most once" {
    const wait = Op{ .wait_start = .{} };
    const close = Op{ .close_fds = .{} };
    {
        const bytes = try encode_plan(0, minimal(&.{ close, wait }));
        defer bytes.deinit();
        try expect_valid(bytes.items);
        try testing.expect(plan.wait_start);
    }
    {
        const bytes = try encode_plan(0, minimal(&.{close}));
        defer bytes.deinit();
        try expect_valid(bytes.items);
        try testing.expect(!plan.wait_start);
    }
    // Anything but EXEC after it; a second one; before CLONE; as the last op.
    try expect_ops_invalid(minimal(&.{ wait, close }), 2, "WAIT_START is not right before EXEC");
    try expect_ops_invalid(minimal(&.{ wait, wait }), 2, "WAIT_START is not right before EXEC");
    try expect_ops_invalid(&.{ wait, clone_op, exec_op }, 0, "a container op before CLONE");
    try expect_ops_invalid(&.{ clone_op, wait }, 2, "the last op is not EXEC");
    // Its frame: type 0x0051, no fields; a field is left over.
    var writer = encode.Writer.init(testing.allocator);
    defer writer.deinit();
    try writer.op(wait);
    try testing.expectEqualSlices(u8, "\x00\x00\x00\x00\x51\x00\x00\x00", writer.bytes.items);
    var bad = encode.Writer.init(testing.allocator);
    defer bad.deinit();
    try bad.hello(0);
    try bad.op(clone_op);
    try bad.raw_frame(0x0051, 0, "x");
    try bad.op(exec_op);
    try bad.end();
    try expect_invalid(bad.bytes.items, 1, 0x0051, EINVAL, "left over");
}

// --- control plans (protocol.md "Control plans") ------------------------------------------

const kill_op = Op{ .cgroup_kill = .{ .path = "/sys/fs/cgroup/unified/husk/abc" } };

test "a control plan: control ops only, no CLONE and no EXEC, round-trips" {
    const bytes = try encode_plan(protocol.hello_flag_trace, &sample_control_ops);
    defer bytes.deinit();
    try expect_valid(bytes.items);
    try testing.expect(plan.control);
    try testing.expect(!plan.wait_start);
    try testing.expectEqual(sample_control_ops.len, plan.ops_count);
    for (sample_control_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
    try check_plan_invariants();
    // A container plan is no control plan.
    const container = try encode_plan(0, minimal(&.{}));
    defer container.deinit();
    try expect_valid(container.items);
    try testing.expect(!plan.control);
}

test "control ops and container ops never share a plan" {
    // A control op anywhere in a container plan, and a container op in a control plan.
    try expect_ops_invalid(sequence(&.{ &.{kill_op}, &.{ clone_op, exec_op } }), 1, "a container op in a control plan");
    try expect_ops_invalid(minimal(&.{kill_op}), 1, "a control op in a container plan");
    try expect_ops_invalid(sequence(&.{ &.{cgroup_mkdir_op}, &.{kill_op} }), 1, "a control op in a container plan");
    try expect_ops_invalid(sequence(&.{ &.{ kill_op, kill_op }, &.{exec_op} }), 2, "a container op in a control plan");
    // HELLO then END: no op at all is still no plan.
    try expect_ops_invalid(&.{}, 0, "END before CLONE");
}

test "control ops: clean cgroup paths, frozen 0 or 1, a pid and a signal number in range" {
    for ([_][:0]const u8{ "", "relative/husk", "/sys/fs/cgroup/../etc", "/sys/fs/cgroup/husk/" }) |path| {
        try expect_ops_invalid(&.{.{ .cgroup_kill = .{ .path = path } }}, 0, "cgroup path: not absolute and clean");
        try expect_ops_invalid(&.{.{ .cgroup_remove = .{ .path = path } }}, 0, "cgroup path: not absolute and clean");
        try expect_ops_invalid(&.{.{ .cgroup_freeze = .{ .path = path, .frozen = 1 } }}, 0, "cgroup path: not absolute and clean");
    }
    try expect_ops_invalid(&.{.{ .cgroup_freeze = .{ .path = memory_dir, .frozen = 2 } }}, 0, "cgroup_freeze.frozen");
    const signal = struct {
        fn op(pid: u64, signo: u64) Op {
            return .{ .signal_process = .{ .pid = pid, .start_time = 1, .signo = signo } };
        }
    }.op;
    try expect_ops_invalid(&.{signal(0, 9)}, 0, "signal_process.pid");
    try expect_ops_invalid(&.{signal(1 << 31, 9)}, 0, "signal_process.pid");
    try expect_ops_invalid(&.{signal(1, 0)}, 0, "signal_process.signo");
    try expect_ops_invalid(&.{signal(1, 65)}, 0, "signal_process.signo");
    const edges = [_]Op{ signal(1, 1), signal((1 << 31) - 1, 64), .{ .cgroup_freeze = .{ .path = "/a", .frozen = 0 } } };
    const bytes = try encode_plan(0, &edges);
    defer bytes.deinit();
    try expect_valid(bytes.items);
}

test "joining: one TARGET before any SETNS; the launcher enters only pid, net, ipc, uts, cgroup" {
    const target = Op{ .target = .{ .pid = 7, .start_time = 1 } };
    const setns = struct {
        fn of(flags: u64) Op {
            return .{ .setns = .{ .flags = flags } };
        }
        fn file(nstype: u64) Op {
            return .{ .setns_file = .{ .path = "/run/husk/ns/a/net", .nstype = nstype } };
        }
    };
    try expect_ops_invalid(sequence(&.{ &.{setns.of(protocol.CLONE_NEWPID)}, &.{clone_op}, &.{exec_op} }), 0, "setns before TARGET");
    try expect_ops_invalid(sequence(&.{ &.{ target, target }, &.{clone_op}, &.{exec_op} }), 1, "a second TARGET");
    try expect_ops_invalid(sequence(&.{ &.{ target, setns.of(protocol.CLONE_NEWNS) }, &.{clone_op}, &.{exec_op} }), 1, "cannot enter");
    try expect_ops_invalid(sequence(&.{ &.{ target, setns.of(protocol.CLONE_NEWUSER) }, &.{clone_op}, &.{exec_op} }), 1, "cannot enter");
    // Rootless exec: the user namespace with the pid namespace it owns.
    const rootless = try encode_plan(0, sequence(&.{ &.{ target, setns.of(protocol.CLONE_NEWUSER | protocol.CLONE_NEWPID) }, &.{clone_op}, &.{exec_op} }));
    defer rootless.deinit();
    try expect_valid(rootless.items);
    try expect_ops_invalid(sequence(&.{ &.{ target, setns.of(0) }, &.{clone_op}, &.{exec_op} }), 1, "no namespace");
    try expect_ops_invalid(sequence(&.{ &.{target}, &.{clone_op}, &.{setns.of(protocol.CLONE_NEWPID)}, &.{exec_op} }), 2, "pid");
    try expect_ops_invalid(sequence(&.{ &.{setns.file(protocol.CLONE_NEWNET | protocol.CLONE_NEWUTS)}, &.{clone_op}, &.{exec_op} }), 0, "not one namespace");
    try expect_ops_invalid(sequence(&.{ &.{setns.file(protocol.CLONE_NEWNS)}, &.{clone_op}, &.{exec_op} }), 0, "cannot enter");
    try expect_ops_invalid(sequence(&.{ &.{.{ .target = .{ .pid = 0, .start_time = 1 } }}, &.{clone_op}, &.{exec_op} }), 0, "target.pid");
    const joined = try encode_plan(0, sequence(&.{ &.{ target, setns.of(protocol.CLONE_NEWPID), setns.file(protocol.CLONE_NEWNET) }, &.{clone_op}, &.{ setns.of(protocol.CLONE_NEWUSER | protocol.CLONE_NEWNS), setns.file(protocol.CLONE_NEWUTS) }, &.{exec_op} }));
    defer joined.deinit();
    try expect_valid(joined.items);
}

// --- fs plans (protocol.md "Fs plans") ----------------------------------------------------

const fs_root_op = Op{ .fs_root = .{ .path = "/tmp/layer" } };

test "an fs plan: FS_ROOT first, fs ops only, round-trips" {
    const bytes = try encode_plan(protocol.hello_flag_trace, &sample_fs_ops);
    defer bytes.deinit();
    try expect_valid(bytes.items);
    try testing.expect(plan.fs and !plan.control);
    try testing.expectEqual(sample_fs_ops.len, plan.ops_count);
    for (sample_fs_ops, plan.slice()) |expected, actual| try testing.expect(encode.ops_equal(expected, actual));
    try check_plan_invariants();
    const container = try encode_plan(0, minimal(&.{}));
    defer container.deinit();
    try expect_valid(container.items);
    try testing.expect(!plan.fs);
}

test "NET_HELPER needs an absolute path and a new network namespace" {
    const helper = Op{ .net_helper = .{ .path = "/usr/bin/pasta", .args = &[_:null]?[*:0]const u8{"--quiet"} } };
    const no_net = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS | protocol.CLONE_NEWUSER } };
    try expect_ops_invalid(&.{ no_net, helper, exec_op }, 1, "net_helper without CLONE_NEWNET");
    const with_net = Op{ .clone = .{ .flags = protocol.CLONE_NEWNS | protocol.CLONE_NEWNET } };
    const relative = Op{ .net_helper = .{ .path = "pasta", .args = &[_:null]?[*:0]const u8{} } };
    try expect_ops_invalid(&.{ with_net, relative, exec_op }, 1, "net_helper.path: not absolute");
}

test "FS_USERNS stands right after FS_ROOT with absolute helpers and triples; REMOVE_TREE takes a clean path" {
    const userns = Op{ .fs_userns = .{ .newuidmap = "/usr/bin/newuidmap", .uid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" }, .newgidmap = "/usr/bin/newgidmap", .gid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" } } };
    const mknod = Op{ .mknod = .{ .path = "a", .mode = 0o020000, .rdev = 0 } };
    try expect_ops_invalid(&.{ fs_root_op, mknod, userns }, 2, "fs_userns is not right after FS_ROOT");
    const relative = Op{ .fs_userns = .{ .newuidmap = "newuidmap", .uid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" }, .newgidmap = "/usr/bin/newgidmap", .gid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" } } };
    try expect_ops_invalid(&.{ fs_root_op, relative }, 1, "a helper path not absolute");
    const pairs = Op{ .fs_userns = .{ .newuidmap = "/usr/bin/newuidmap", .uid_args = &[_:null]?[*:0]const u8{ "0", "1000", "1" }, .newgidmap = "/usr/bin/newgidmap", .gid_args = &[_:null]?[*:0]const u8{ "0", "1000" } } };
    try expect_ops_invalid(&.{ fs_root_op, pairs }, 1, "not triples");
    try expect_ops_invalid(&.{ fs_root_op, .{ .remove_tree = .{ .path = "../x" } } }, 1, "remove_tree.path");
    try expect_ops_invalid(&.{ fs_root_op, .{ .remove_tree = .{ .path = "." } } }, 1, "remove_tree.path");
}

test "fs ops never share a plan with container or control ops, and FS_ROOT comes first" {
    const mknod = Op{ .mknod = .{ .path = "a", .mode = 0o020000, .rdev = 0 } };
    try expect_ops_invalid(&.{mknod}, 0, "does not start with FS_ROOT");
    try expect_ops_invalid(sequence(&.{ &.{fs_root_op}, &.{ clone_op, exec_op } }), 1, "a container op in an fs plan");
    try expect_ops_invalid(sequence(&.{ &.{fs_root_op}, &.{kill_op} }), 1, "a control op in an fs plan");
    try expect_ops_invalid(sequence(&.{ &.{kill_op}, &.{fs_root_op} }), 1, "an fs op in a control plan");
    try expect_ops_invalid(minimal(&.{fs_root_op}), 1, "an fs op in a container plan");
}

test "fs ops: an absolute root, clean relative paths, device modes, 32-bit rdev, hex values" {
    const fs = struct {
        fn plan(op: Op) []const Op {
            return sequence(&.{ &.{fs_root_op}, &.{op} });
        }
    }.plan;
    try expect_ops_invalid(&.{.{ .fs_root = .{ .path = "relative" } }}, 0, "fs_root.path: not absolute");
    for ([_][:0]const u8{ "", "/etc/x", "a/../b", "..", "a//b", "a/", "./a", "." }) |path| {
        try expect_ops_invalid(fs(.{ .mknod = .{ .path = path, .mode = 0o020000, .rdev = 0 } }), 1, "mknod.path");
    }
    for ([_][:0]const u8{ "", "/etc", "../x", "a/./b" }) |path| {
        try expect_ops_invalid(fs(.{ .setxattr = .{ .path = path, .name = "user.a", .value = "" } }), 1, "setxattr.path");
        try expect_ops_invalid(fs(.{ .read_xattrs = .{ .path = path } }), 1, "read_xattrs.path");
    }
    try expect_ops_invalid(fs(.{ .mknod = .{ .path = "a", .mode = 0o100644, .rdev = 0 } }), 1, "not a device or FIFO");
    try expect_ops_invalid(fs(.{ .mknod = .{ .path = "a", .mode = 0o140644, .rdev = 0 } }), 1, "not a device or FIFO");
    try expect_ops_invalid(fs(.{ .mknod = .{ .path = "a", .mode = 0o020000 | 0o1000000, .rdev = 0 } }), 1, "mknod.mode");
    try expect_ops_invalid(fs(.{ .mknod = .{ .path = "a", .mode = 0o020000, .rdev = 1 << 32 } }), 1, "mknod.rdev");
    try expect_ops_invalid(fs(.{ .setxattr = .{ .path = "a", .name = "", .value = "" } }), 1, "setxattr.name");
    try expect_ops_invalid(fs(.{ .setxattr = .{ .path = "a", .name = "user." ++ "x" ** 251, .value = "" } }), 1, "setxattr.name");
    try expect_ops_invalid(fs(.{ .setxattr = .{ .path = "a", .name = "user.a", .value = "abc" } }), 1, "odd number");
    try expect_ops_invalid(fs(.{ .setxattr = .{ .path = "a", .name = "user.a", .value = "AB" } }), 1, "not lowercase hex");
    try expect_ops_invalid(fs(.{ .setxattr = .{ .path = "a", .name = "user.a", .value = "0g" } }), 1, "not lowercase hex");
    // The edges that pass: a block device with every mode bit and the largest rdev, a
    // 255-byte name, the root itself for xattrs.
    const edges = [_]Op{
        fs_root_op,
        .{ .mknod = .{ .path = "b", .mode = 0o067777, .rdev = std.math.maxInt(u32) } },
        .{ .setxattr = .{ .path = ".", .name = "user." ++ "x" ** 250, .value = "00ff" } },
        .{ .read_xattrs = .{ .path = "." } },
    };
    const bytes = try encode_plan(0, &edges);
    defer bytes.deinit();
    try expect_valid(bytes.items);
}

test "WRITE_STREAM is the last op of an fs plan" {
    try expect_ops_invalid(&.{ fs_root_op, .{ .write_stream = .{} }, .{ .read_xattrs = .{ .path = "a" } } }, 2, "after WRITE_STREAM");
    try expect_ops_invalid(minimal(&.{.{ .write_stream = .{} }}), 1, "fs op in a container plan");
}

test "pin ops: only net, ipc, uts and cgroup are made by PIN_NEW; absolute paths" {
    try expect_ops_invalid(&.{.{ .pin_new = .{ .flags = protocol.CLONE_NEWPID, .dir = "/run/husk/ns/a" } }}, 0, "pin_new.flags");
    try expect_ops_invalid(&.{.{ .pin_new = .{ .flags = 0, .dir = "/run/husk/ns/a" } }}, 0, "pin_new.flags");
    try expect_ops_invalid(&.{.{ .pin_new = .{ .flags = protocol.CLONE_NEWNET, .dir = "ns/a" } }}, 0, "pin_new.dir");
    try expect_ops_invalid(&.{.{ .unpin = .{ .path = "a/net" } }}, 0, "unpin.path");
    const pin_net = Op{ .pin = .{ .nstype = protocol.CLONE_NEWNET, .path = "/run/husk/ns/a/net" } };
    try expect_ops_invalid(minimal(&.{pin_net}), 1, "pin.nstype"); // CLONE made no net namespace
    const pin_uts_relative = Op{ .pin = .{ .nstype = protocol.CLONE_NEWUTS, .path = "a/uts" } };
    try expect_ops_invalid(minimal(&.{pin_uts_relative}), 1, "pin.path");
}

// --- OVERLAY (protocol.md "OVERLAY") ---------------------------------------------------------

fn overlay_op(lowers: protocol.Strs, flags: u64) Op {
    return .{ .overlay = .{ .lowers = lowers, .upper = "/s/upper", .work = "/s/work", .target = "/s/root", .links = "/s/l", .flags = flags } };
}

var many_lowers: [protocol.overlay_lowers_max + 2]?[*:0]const u8 = undefined;

/// `count` lowers, all "/l", NULL-terminated in `many_lowers`.
fn lowers_of(count: usize) protocol.Strs {
    for (0..count) |i| many_lowers[i] = "/l";
    many_lowers[count] = null;
    return many_lowers[0..count :null];
}

test "OVERLAY: 1 to 500 absolute lowers, known flags, a mount namespace, once a plan" {
    for ([_]usize{ 1, 2, 500 }) |count| {
        const bytes = try encode_plan(0, minimal(&.{overlay_op(lowers_of(count), protocol.overlay_flag_userxattr)}));
        defer bytes.deinit();
        try expect_valid(bytes.items);
        try testing.expectEqual(count, plan.ops[1].overlay.lowers.len);
    }
    try expect_ops_invalid(minimal(&.{overlay_op(lowers_of(0), 0)}), 1, "overlay.lowers: not 1 to 500");
    try expect_ops_invalid(minimal(&.{overlay_op(lowers_of(501), 0)}), 1, "overlay.lowers: not 1 to 500");
    try expect_ops_invalid(minimal(&.{overlay_op(lowers_of(1), 4)}), 1, "overlay.flags");
    const relative = [_:null]?[*:0]const u8{ "/l", "l" };
    try expect_ops_invalid(minimal(&.{overlay_op(&relative, 0)}), 1, "overlay.lowers: a path not absolute");
    var bad_target = overlay_op(lowers_of(1), 0);
    bad_target.overlay.target = "root";
    try expect_ops_invalid(minimal(&.{bad_target}), 1, "overlay: a path not absolute");
    const once = overlay_op(lowers_of(1), 0);
    try expect_ops_invalid(minimal(&.{ once, once }), 2, "a second OVERLAY");
    const no_mount_ns = [_]Op{ .{ .clone = .{ .flags = protocol.CLONE_NEWUTS } }, once, exec_op };
    try expect_ops_invalid(&no_mount_ns, 1, "without a new mount namespace");
}

test "HOOK and HOOK_SYNC: hooks before pivot_root and between FIFO_WAIT and EXEC, checked fields" {
    const fifo_op = Op{ .exec_fifo = .{ .path = "/run/husk-runc/box/exec.fifo" } };
    const wait_op = Op{ .fifo_wait = .{} };
    const no_args = [_:null]?[*:0]const u8{};
    const hook = protocol.Hook{ .kind = 3, .index = 0, .path = "/bin/hook", .args = &no_args, .env = &no_args, .dir = "/bundle", .timeout_s = 5, .state_prefix = "{\"pid\":", .state_suffix = "}" };
    var start_hook = hook;
    start_hook.kind = 4;
    start_hook.dir = "";
    const sync_op = Op{ .hook_sync = .{} };
    try expect_valid_ops(&.{ fifo_op, clone_op, sync_op, .{ .hook = hook }, wait_op, .{ .hook = start_hook }, .{ .hook = start_hook }, exec_op });
    try expect_ops_invalid(&.{ clone_op, sync_op, sync_op, exec_op }, 2, "HOOK_SYNC twice");
    try expect_ops_invalid(&.{ clone_op, sync_op, .{ .wait_start = .{} }, exec_op }, 2, "WAIT_START");
    inline for (.{ .{ "kind", 5, "hook.kind" }, .{ "timeout_s", 2_000_001, "hook.timeout_s" } }) |bad| {
        var broken = hook;
        @field(broken, bad[0]) = bad[1];
        try expect_ops_invalid(&.{ clone_op, .{ .hook = broken }, exec_op }, 1, bad[2]);
    }
    var relative = hook;
    relative.path = "bin/hook";
    try expect_ops_invalid(&.{ clone_op, .{ .hook = relative }, exec_op }, 1, "hook.path: not absolute");
    relative = hook;
    relative.dir = "bundle";
    try expect_ops_invalid(&.{ clone_op, .{ .hook = relative }, exec_op }, 1, "hook.dir: not absolute");
    const big = [_:0]u8{'x'} ** 16384;
    var huge = hook;
    huge.state_suffix = &big;
    try expect_ops_invalid(&.{ clone_op, .{ .hook = huge }, exec_op }, 1, "hook.state: over 16384 bytes");
}

test "an EXEC_FIFO plan: FIFO_WAIT right before EXEC, and a launcher that leaves" {
    const fifo_op = Op{ .exec_fifo = .{ .path = "/run/husk-runc/box/exec.fifo" } };
    const wait_op = Op{ .fifo_wait = .{} };
    try expect_valid_ops(&.{ fifo_op, clone_op, wait_op, exec_op });
    try expect_ops_invalid(&.{ fifo_op, clone_op, exec_op }, 3, "EXEC_FIFO without FIFO_WAIT");
    try expect_ops_invalid(&.{ clone_op, wait_op, exec_op }, 1, "FIFO_WAIT without EXEC_FIFO");
    try expect_ops_invalid(&.{ fifo_op, clone_op, wait_op, .{ .close_fds = .{} }, exec_op }, 3, "FIFO_WAIT is not right before EXEC");
    try expect_ops_invalid(&.{ fifo_op, clone_op, .{ .wait_start = .{} }, exec_op }, 2, "WAIT_START");
    try expect_ops_invalid(&.{ .{ .exec_fifo = .{ .path = "relative" } }, clone_op, wait_op, exec_op }, 0, "not absolute");
    try expect_ops_invalid(&.{ fifo_op, fifo_op, clone_op, wait_op, exec_op }, 1, "a second EXEC_FIFO");
    const console_op = Op{ .console = .{ .path = "/run/conmon/console.sock" } };
    try expect_valid_ops(&.{ console_op, fifo_op, clone_op, wait_op, exec_op });
    try expect_ops_invalid(&.{ console_op, console_op, clone_op, exec_op }, 1, "a second CONSOLE");
}
