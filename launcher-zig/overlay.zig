//! OVERLAY (protocol.md "OVERLAY"): an image's layers stacked by overlayfs on `target`.
//! docker and podman pass every lowerdir in mount(2)'s options, which must fit one 4 KiB
//! page: ~120 layers. Here each lower is added alone with the new mount API (fsopen, then
//! fsconfig "lowerdir+" per layer, fsmount, move_mount), up to overlayfs's own 500. Whether
//! the kernel has "lowerdir+" is probed when the op runs, not guessed from its version: if
//! fsopen is missing (ENOSYS) or the first "lowerdir+" is refused (EINVAL: an unknown
//! parameter before Linux 6.7), the op falls back to mount(2) with short relative names —
//! symlinks `0`, `1`, … to the lowers (and `u`, `w` to upper and work) in `links`, made the
//! working directory for the mount call, as docker's overlay2 does with its `l/` names.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const Op = protocol.Op;
const sys = @import("sys.zig");
const root = @import("root.zig");
const events = @import("events.zig");

pub const Overlay = std.meta.TagPayload(Op, .overlay);

/// The lower whose fsconfig failed, for the ERROR's message (`describe`).
var failed_lower: ?usize = null;
/// What the kernel wrote to the filesystem context when a call on it failed (its first
/// message, without the `e ` level), for the ERROR's message.
var kernel_said: [160]u8 = undefined;
var kernel_said_len: usize = 0;

/// mount(2)'s options are copied from one page.
const data_bytes_max = 4095;

pub fn overlay(current: *?sys.fd_t, o: Overlay) sys.Error!void {
    assert(o.lowers.len >= 1 and o.lowers.len <= protocol.overlay_lowers_max); // The decoder checked.
    failed_lower = null;
    kernel_said_len = 0;
    if (o.flags & protocol.overlay_flag_legacy == 0) {
        if (try with_new_api(current, o)) return;
    }
    try with_short_names(current, o);
}

/// False when the kernel lacks fsopen or "lowerdir+": then nothing was mounted.
fn with_new_api(current: *?sys.fd_t, o: Overlay) sys.Error!bool {
    const context = sys.fsopen("overlay") catch |err| switch (err) {
        error.NOSYS => return false,
        else => return err,
    };
    defer sys.close(context);
    errdefer keep_kernel_message(context);
    for (o.lowers, 0..) |lower, index| {
        failed_lower = index;
        sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "lowerdir+", lower.?) catch |err| {
            if (index == 0 and err == error.INVAL) return false;
            return err;
        };
    }
    failed_lower = null;
    try sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "upperdir", o.upper);
    try sys.fsconfig(context, sys.FSCONFIG_SET_STRING, "workdir", o.work);
    if (o.flags & protocol.overlay_flag_userxattr != 0) try sys.fsconfig(context, sys.FSCONFIG_SET_FLAG, "userxattr", null);
    try sys.fsconfig(context, sys.FSCONFIG_CMD_CREATE, null, null);
    const mount_fd = try sys.fsmount(context);
    defer sys.close(mount_fd);
    const target_fd = try root.open(current.*, o.target, sys.O.PATH);
    defer sys.close(target_fd);
    try sys.move_mount(mount_fd, target_fd);
    return true;
}

/// mount(2) with `lowerdir=0:1:…,upperdir=u,workdir=w` relative to `links`, where the
/// launcher made those names as symlinks: at most ~2 KiB of options for 500 layers.
fn with_short_names(current: *?sys.fd_t, o: Overlay) sys.Error!void {
    failed_lower = null;
    kernel_said_len = 0; // The probe's words are not this call's.
    const links = try root.open(current.*, o.links, sys.O.PATH | sys.O.DIRECTORY);
    defer sys.close(links);
    var name: [8]u8 = undefined;
    var data_buffer: [data_bytes_max + 1]u8 = undefined;
    var data = std.io.fixedBufferStream(&data_buffer);
    const writer = data.writer();
    writer.writeAll("lowerdir=") catch unreachable; // The buffer holds it.
    for (o.lowers, 0..) |lower, index| {
        failed_lower = index;
        try sys.symlinkat(lower.?, links, std.fmt.bufPrintZ(&name, "{d}", .{index}) catch unreachable);
        writer.print("{s}{d}", .{ if (index == 0) "" else ":", index }) catch unreachable; // 500 × 4 bytes fit.
    }
    failed_lower = null;
    try sys.symlinkat(o.upper, links, "u");
    try sys.symlinkat(o.work, links, "w");
    writer.writeAll(",upperdir=u,workdir=w") catch unreachable;
    if (o.flags & protocol.overlay_flag_userxattr != 0) writer.writeAll(",userxattr") catch unreachable;
    assert(data.pos <= data_bytes_max);
    data_buffer[data.pos] = 0;
    const target_fd = try root.open(current.*, o.target, sys.O.PATH);
    defer sys.close(target_fd);
    var target_buffer: [32]u8 = undefined;
    const target = root.fd_path(target_fd, &target_buffer);
    // Relative lowerdirs resolve from the working directory: `links`, for this call only.
    const cwd = try sys.openat(sys.AT_FDCWD, ".", sys.O.PATH | sys.O.DIRECTORY, 0);
    defer sys.close(cwd);
    try sys.fchdir(links);
    const mounted = sys.mount("overlay", target, "overlay", 0, data_buffer[0..data.pos :0]);
    sys.fchdir(cwd) catch {}; // Later ops resolve paths from the root fd, never the cwd.
    try mounted;
}

/// Reads the context's first log message (fsopen(2): "e overlay: ..."); nothing if none.
fn keep_kernel_message(context: sys.fd_t) void {
    var buffer: [256]u8 = undefined;
    const n = sys.read(context, &buffer) catch return;
    var text = buffer[0..n];
    if (text.len >= 2 and text[1] == ' ') text = text[2..];
    kernel_said_len = @min(text.len, kernel_said.len);
    @memcpy(kernel_said[0..kernel_said_len], text[0..kernel_said_len]);
}

/// `overlay of 3 layers on /stage/root`, or the lower that could not be added; then what
/// the kernel said, if it said anything.
pub fn describe(o: Overlay, message: *events.Message) void {
    const index = failed_lower orelse o.lowers.len;
    if (index < o.lowers.len) {
        message.print("add lower {d} {s} to overlay on {s}", .{ index, std.mem.span(o.lowers[index].?), o.target });
    } else {
        message.print("overlay of {d} layers on {s}", .{ o.lowers.len, o.target });
    }
    if (kernel_said_len > 0) message.print(" ({s})", .{kernel_said[0..kernel_said_len]});
}

test "describe names the lower that failed, else the whole overlay" {
    const lowers = [_:null]?[*:0]const u8{ "/l/top", "/l/bottom" };
    const o = Overlay{ .lowers = &lowers, .upper = "/s/u", .work = "/s/w", .target = "/s/root", .links = "/s/l", .flags = 0 };
    var message = events.Message{};
    failed_lower = null;
    describe(o, &message);
    try std.testing.expectEqualStrings("overlay of 2 layers on /s/root", message.slice());
    var named = events.Message{};
    failed_lower = 1;
    describe(o, &named);
    try std.testing.expectEqualStrings("add lower 1 /l/bottom to overlay on /s/root", named.slice());
    failed_lower = null;
}

test "a lower that does not exist fails the op with the kernel's own words" {
    const lowers = [_:null]?[*:0]const u8{"/nonexistent/husk-test-lower"};
    const o = Overlay{ .lowers = &lowers, .upper = "/s/u", .work = "/s/w", .target = "/s/root", .links = "/s/l", .flags = 0 };
    var current: ?sys.fd_t = null;
    // As root here: fsconfig resolves the lower and says why not (ENOENT); a kernel without
    // "lowerdir+" would go to the fallback, which fails on the missing links directory.
    try std.testing.expectError(error.NOENT, overlay(&current, o));
    var message = events.Message{};
    describe(o, &message);
    try std.testing.expect(std.mem.startsWith(u8, message.slice(), "add lower 0 /nonexistent/husk-test-lower to overlay on /s/root"));
    failed_lower = null;
    kernel_said_len = 0;
}
