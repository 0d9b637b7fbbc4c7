//! husk-runc, the binary engines call (bin/husk-runc → zig-out/bin/husk-runc): the calls
//! that need no decision — start, state, kill, delete, pause, resume, ps --format json — are
//! done here, from the record under --root, without starting Node; every other call, and
//! any case this front does not know to answer exactly as Node would (an error, a hook to
//! run, a record of another shape, a cgroup still busy), is handed over by execve to the
//! Node implementation (bin/husk-runc.js) with the same arguments and environment. So the
//! output, the exit status and the error lines are Node's own whenever they are not the
//! plain success this front prints (docs/runc-cli.md "The fast path").

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const state = @import("runc_state.zig");
const act = @import("runc_act.zig");
const runc_node = @import("runc_node.zig");

pub const Command = enum { start, state, kill, delete, pause, @"resume", ps };

pub const Call = struct {
    root: []const u8 = "/run/husk-runc",
    command: Command = .state,
    id: []const u8 = "",
    force: bool = false,
    all: bool = false,
    signal: []const u8 = "SIGTERM",
};

/// The arguments as given (argv[1..]), or null: hand the call to Node.
pub fn parse(args: []const []const u8) ?Call {
    var call = Call{};
    var i: usize = 0;
    while (i < args.len and args[i].len > 0 and args[i][0] == '-') : (i += 1) {
        const a = args[i];
        const eq = std.mem.indexOfScalar(u8, a, '=');
        const name = a[0 .. eq orelse a.len];
        const is_root = std.mem.eql(u8, name, "--root");
        const is_log = std.mem.eql(u8, name, "--log");
        const is_format = std.mem.eql(u8, name, "--log-format");
        // --debug, --systemd-cgroup, --version, --help and the rest: Node's.
        if (!is_root and !is_log and !is_format) return null;
        var value: []const u8 = undefined;
        if (eq) |at| value = a[at + 1 ..] else {
            i += 1;
            if (i == args.len) return null;
            value = args[i];
        }
        if (is_root) call.root = value;
        if (is_format and !std.mem.eql(u8, value, "text") and !std.mem.eql(u8, value, "json")) return null;
    }
    if (i == args.len) return null;
    call.command = std.meta.stringToEnum(Command, args[i]) orelse return null;
    if (call.root.len == 0) return null;
    return parse_command(call, args[i + 1 ..]);
}

fn truthy(a: []const u8, eq: ?usize) bool {
    const at = eq orelse return true;
    return !std.mem.eql(u8, a[at + 1 ..], "false");
}

/// The command's flags and operands as readFlags reads them (ts/runc/args.ts).
fn parse_command(start: Call, args: []const []const u8) ?Call {
    var call = start;
    var rest: [3][]const u8 = undefined;
    var count: usize = 0;
    var ps_json = false;
    var i: usize = 0;
    while (i < args.len) : (i += 1) {
        const a = args[i];
        const positional = std.mem.eql(u8, a, "--") or a.len == 0 or a[0] != '-' or std.mem.eql(u8, a, "-") or count > 0;
        if (positional) {
            if (std.mem.eql(u8, a, "--") and count == 0) continue;
            if (count == rest.len) return null;
            rest[count] = a;
            count += 1;
            continue;
        }
        const eq = std.mem.indexOfScalar(u8, a, '=');
        const name = std.mem.trimLeft(u8, a[0 .. eq orelse a.len], "-");
        const force_flag = call.command == .delete and (std.mem.eql(u8, name, "force") or std.mem.eql(u8, name, "f"));
        const all_flag = call.command == .kill and (std.mem.eql(u8, name, "all") or std.mem.eql(u8, name, "a"));
        if (force_flag) {
            call.force = truthy(a, eq);
        } else if (all_flag) {
            call.all = truthy(a, eq);
        } else if (call.command == .ps and (std.mem.eql(u8, name, "format") or std.mem.eql(u8, name, "f"))) {
            const value = if (eq) |at| a[at + 1 ..] else blk: {
                i += 1;
                if (i == args.len) return null;
                break :blk args[i];
            };
            ps_json = std.mem.eql(u8, value, "json");
            if (!ps_json) return null;
        } else return null; // An unknown flag: Node's.
    }
    const operands_max: usize = if (call.command == .kill) 2 else 1;
    if (count == 0 or count > operands_max) return null;
    if (call.command == .ps and !ps_json) return null; // ps(1)'s table: Node's.
    if (!valid_id(rest[0])) return null;
    call.id = rest[0];
    if (count == 2) call.signal = rest[1];
    assert(call.id.len > 0);
    return call;
}

/// runc's rule (checkId): letters, digits, `_+-.`, not `.` or `..`, at most 1024 bytes.
fn valid_id(id: []const u8) bool {
    if (id.len == 0 or id.len > 1024 or std.mem.eql(u8, id, ".") or std.mem.eql(u8, id, "..")) return false;
    for (id) |c| {
        const ok = std.ascii.isAlphanumeric(c) or c == '_' or c == '+' or c == '.' or c == '-';
        if (!ok) return false;
    }
    return true;
}

/// Node's husk-runc with our own arguments: bin/husk-runc.js beside this binary's
/// zig-out/bin (or $HUSK_RUNC_JS), run by node from PATH (or $HUSK_RUNC_NODE when set: an
/// engine whose PATH has no node) with the flags of the script's `#!/usr/bin/env -S node`
/// line (launcher-zig/runc_node.zig). A script whose first line has another form is run as
/// before: by its own `#!` line, or as `$HUSK_RUNC_NODE -- script`.
fn hand_to_node(argv: [][*:0]u8) noreturn {
    var js_buffer: [4096]u8 = undefined;
    const js = node_script(&js_buffer) orelse fail("cannot find bin/husk-runc.js (set HUSK_RUNC_JS)");
    const node = std.posix.getenv("HUSK_RUNC_NODE");
    var head: [512]u8 = undefined;
    if (state.read_small(js, &head)) |bytes| if (runc_node.shebang_flags(bytes)) |flags| {
        const environ: []const [*:0]const u8 = @ptrCast(std.os.environ);
        if (runc_node.build(&invocation, flags, js, @ptrCast(argv[1..]), environ)) |_| {
            const err = if (node) |path|
                sys.execve(path.ptr, &invocation.argv, &invocation.envp)
            else
                runc_node.exec_in_path(std.posix.getenv("PATH") orelse "/usr/local/bin:/usr/bin:/bin", "node", &invocation.argv, &invocation.envp);
            var name: [16]u8 = undefined;
            var message: [4200]u8 = undefined;
            fail(std.fmt.bufPrint(&message, "cannot run {s}: {s} (set HUSK_RUNC_NODE to node's path)", .{ node orelse "node", sys.errno_name(sys.errno_of(err), &name) }) catch "cannot run Node");
        }
    };
    var args: [4096:null]?[*:0]const u8 = undefined;
    if (argv.len + 2 >= args.len) fail("too many arguments");
    var count: usize = 0;
    if (node) |path| {
        args[0] = path.ptr;
        args[1] = "--";
        count = 2;
    }
    args[count] = js;
    count += 1;
    for (argv[1..]) |a| {
        args[count] = a;
        count += 1;
    }
    args[count] = null;
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    const program: [*:0]const u8 = if (node) |path| path.ptr else js;
    const err = sys.execve(program, &args, envp);
    var name: [16]u8 = undefined;
    var message: [4200]u8 = undefined;
    fail(std.fmt.bufPrint(&message, "cannot run {s}: {s}", .{ program, sys.errno_name(sys.errno_of(err), &name) }) catch "cannot run Node");
}

/// Node's argv and environment (large: kept off the stack).
var invocation: runc_node.Invocation = .{};

fn node_script(buffer: *[4096]u8) ?[*:0]const u8 {
    if (std.posix.getenv("HUSK_RUNC_JS")) |path| return std.fmt.bufPrintZ(buffer, "{s}", .{path}) catch null;
    var exe_buffer: [4096]u8 = undefined;
    const exe = sys.readlink("/proc/self/exe", &exe_buffer) catch return null;
    // <repo>/zig-out/bin/husk-runc → <repo>/bin/husk-runc.js
    var dir: []const u8 = exe;
    for (0..3) |_| dir = std.fs.path.dirname(dir) orelse return null;
    return std.fmt.bufPrintZ(buffer, "{s}/bin/husk-runc.js", .{dir}) catch null;
}

fn fail(message: []const u8) noreturn {
    var buffer: [4400]u8 = undefined;
    const line = std.fmt.bufPrint(&buffer, "husk-runc: {s}\n", .{message}) catch "husk-runc: internal error\n";
    _ = sys.write(2, line) catch {};
    sys.exit(1);
}

pub fn main() u8 {
    const argv = std.os.argv;
    assert(argv.len >= 1);
    var args: [64][]const u8 = undefined;
    if (argv.len - 1 > args.len) hand_to_node(argv);
    for (argv[1..], 0..) |a, i| args[i] = std.mem.span(a);
    const call = parse(args[0 .. argv.len - 1]) orelse hand_to_node(argv);
    const outcome = act.run(&call);
    switch (outcome) {
        .done => |code| return code,
        .node => hand_to_node(argv),
    }
}

test "parse: what the front takes, and what it leaves to Node" {
    const t = std.testing;
    const s = parse(&.{ "--root", "/r", "--log", "/l", "--log-format=json", "state", "abc" }).?;
    try t.expectEqualStrings("/r", s.root);
    try t.expectEqual(Command.state, s.command);
    try t.expectEqualStrings("abc", s.id);
    try t.expect(parse(&.{ "delete", "--force", "x" }).?.force);
    try t.expect(!parse(&.{ "delete", "--force=false", "x" }).?.force);
    try t.expectEqualStrings("KILL", parse(&.{ "kill", "x", "KILL" }).?.signal);
    try t.expect(parse(&.{ "ps", "--format", "json", "x" }) != null);
    try t.expect(parse(&.{ "ps", "x" }) == null);
    try t.expect(parse(&.{ "kill", "--all", "x", "KILL" }).?.all);
    try t.expect(parse(&.{ "kill", "--bogus", "x" }) == null);
    try t.expect(parse(&.{ "--debug", "state", "x" }) == null);
    try t.expect(parse(&.{ "state", "x", "y" }) == null);
    try t.expect(parse(&.{ "state", "../x" }) == null);
    try t.expect(parse(&.{ "create", "x" }) == null);
    try t.expect(parse(&.{"state"}) == null);
}
