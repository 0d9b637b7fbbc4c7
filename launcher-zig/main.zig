//! husk-launcher: reads a plan (docs/protocol.md), validates all of it, then runs it and
//! stays as the container's monitor. It holds no policy: every decision is in the plan.
//!
//!   husk-launcher [--plan-fd N] [--event-fd N]      (also --version, --help)
//!   husk-launcher --server --plan-fd N --event-fd M  (server mode, server.zig)

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const events = @import("events.zig");
const run = @import("run.zig");
const monitor = @import("monitor.zig");
const server = @import("server.zig");
const control_plan = @import("control_plan.zig");
const fs_plan = @import("fs_plan.zig");
const self_protect = @import("self_protect.zig");
const hold = @import("hold.zig");
const init_mode = @import("init.zig");
const State = @import("state.zig").State;

const usage =
    \\usage: husk-launcher [--plan-fd N] [--event-fd N]
    \\       husk-launcher --server [--plan-fd N] --event-fd M
    \\       husk-launcher --hold
    \\       husk-launcher --init PID
    \\       husk-launcher --version | --help
    \\
    \\Reads a plan (docs/protocol.md) from --plan-fd (default 0), validates it whole, runs
    \\it, and stays as the container's monitor. Events go to --event-fd; without it a
    \\failure is one line on stderr. Exit status: the container's; when it cannot run,
    \\the one the plan gives for that (EXEC's fields); 125 for a bad plan.
    \\With --server it reads requests (RUN a plan, START, SIGNAL) until the plan fd
    \\closes and runs each plan in a child of its own, its events sent TAGGED.
    \\
;

/// Fixed storage, allocated once by the loader (.bss): nothing is allocated after start.
var storage: decode.Storage = undefined;
var plan: decode.Plan = undefined;
/// The launcher's state (state.zig), the one instance: set up by `State.init` at start.
var state: State = undefined;

const Options = struct {
    plan_fd: sys.fd_t = 0,
    event_fd: ?sys.fd_t = null,
    action: enum { run, version, help, hold, init } = .run,
    /// --init: the child the init waits for (init.zig).
    init_child: sys.pid_t = 0,
    server: bool = false,
};

pub fn main() u8 {
    const options = parse_arguments(std.os.argv[1..]) catch |err| {
        events.stderr(switch (err) {
            error.UnknownArgument => "husk-launcher: unknown argument\n",
            error.MissingValue => "husk-launcher: an option is missing its value\n",
            error.BadFd => "husk-launcher: an fd must be a number from 0 to 2147483647\n",
            error.ServerNeedsEvents => "husk-launcher: --server needs --event-fd\n",
        });
        events.stderr(usage);
        return 125;
    };
    switch (options.action) {
        .version => events.stdout(std.fmt.comptimePrint("husk-launcher {d}\n", .{protocol.version})),
        .help => events.stdout(usage),
        .hold => hold.hold(),
        .init => init_mode.serve(options.init_child),
        .run => if (options.server) serve(options) else launch(options),
    }
    return 0;
}

fn launch(options: Options) noreturn {
    state.init(.launcher, options.event_fd);
    protect_self(&state);
    sys.signals_default();
    // The event pipe closes if the orchestrator dies; that must not kill the monitor.
    sys.sigpipe_ignore(true) catch unreachable; // SIGPIPE is a valid signal.
    if (options.event_fd) |fd| {
        // The container process must not inherit the event fd past execve. Fds 0-2 are
        // the container's stdio, so they are left alone.
        if (fd > 2) sys.set_cloexec(fd) catch |err| fail_start("--event-fd", err);
    }
    if (options.plan_fd > 2) sys.set_cloexec(options.plan_fd) catch |err| fail_start("--plan-fd", err);
    state.events.hello();

    // Read in large chunks; what came after END stays in the reader for the monitor.
    state.monitor.control_reader.inner.fd = options.plan_fd;
    if (decode.read_plan(&state.monitor.control_reader, &storage, &plan)) |invalid| {
        state.events.failure(invalid.index, invalid.code, invalid.errno, invalid.reason);
        state.events.exit(.launcher_failed, 125);
        sys.exit(125);
    }
    // With WAIT_START the plan fd stays open after END: START and SIGNAL come on it.
    if (plan.wait_start or plan.hook_sync) state.monitor.control_fd = options.plan_fd;
    run_plan(sys.getppid());
}

/// Runs the plan in `plan` (the launcher's part, then the monitor's); with die_with_parent,
/// a one-shot launcher dies with `parent`, a server's child watches its control pipe
/// instead, so that it still cleans up.
fn run_plan(parent: sys.pid_t) noreturn {
    assert(state.before_clone());
    state.events.trace = plan.flags & protocol.hello_flag_trace != 0;
    if (plan.control) control_plan.run(&state.events, &plan); // No container: nothing to die with.
    if (plan.fs) fs_plan.run(&state.events, &plan, &state.monitor.control_reader);
    if (plan.flags & protocol.hello_flag_die_with_parent != 0) switch (state.role) {
        .launcher => die_with_parent(&state.events, parent, run.statuses(&plan).failed),
        .server_child => state.monitor.control_eof_kills = true,
        .server, .monitor, .container => unreachable,
    };
    run.run(&state, &plan);
}

/// Server mode: the server serves until its plan fd closes and its children end; each
/// RUN comes back here in a forked child, which runs its plan as a one-shot launcher
/// whose plan fd (for START and SIGNAL) is its control pipe.
fn serve(options: Options) noreturn {
    const event_fd = options.event_fd.?; // parse_arguments requires it.
    state.init(.server, event_fd);
    protect_self(&state);
    sys.signals_default();
    sys.sigpipe_ignore(true) catch unreachable; // SIGPIPE is a valid signal.
    if (event_fd > 2) sys.set_cloexec(event_fd) catch |err| fail_start("--event-fd", err);
    if (options.plan_fd > 2) sys.set_cloexec(options.plan_fd) catch |err| fail_start("--plan-fd", err);
    state.events.hello();
    // The server goes with its orchestrator. Its children see their control pipes close
    // then; those with die_with_parent kill their containers and clean up.
    die_with_parent(&state.events, sys.getppid(), 125); // No plan yet: the launcher's own status.
    const forked = server.serve(&state, options.plan_fd, &storage, &plan);
    state.role = .server_child;
    state.monitor.control_fd = forked.control_fd;
    state.monitor.control_reader.inner.fd = forked.control_fd; // The server never used it: empty.
    run_plan(sys.getppid());
}

/// Before anything else (no event sent yet, no fd made close-on-exec): re-executes from a
/// sealed copy of the binary unless already running from one (self_protect.zig). If that
/// fails, the launcher fails closed: it never runs a plan from the file on disk.
fn protect_self(launcher: *State) void {
    assert(launcher.role == .launcher or launcher.role == .server);
    const argv: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.argv.ptr); // NULL-ended by the kernel.
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    self_protect.ensure_sealed(argv, envp) catch |err| {
        const code = @intFromEnum(protocol.FrameType.hello);
        const errno = sys.errno_of(err); // First, before anything else can fail.
        launcher.events.hello();
        launcher.events.failure(protocol.index_hello, code, errno, "run from a sealed copy of the launcher");
        launcher.events.exit(.launcher_failed, 125);
        sys.exit(125);
    };
}

/// PR_SET_PDEATHSIG, then a check that `parent` did not die before it took effect.
fn die_with_parent(channel: *events.Channel, parent: sys.pid_t, failed_status: u8) void {
    assert(parent > 0);
    const code = @intFromEnum(protocol.FrameType.hello);
    _ = sys.prctl(sys.PR_SET_PDEATHSIG, sys.SIGKILL, 0) catch |err| {
        channel.failure(protocol.index_hello, code, sys.errno_of(err), "set the parent-death signal");
        channel.exit(.launcher_failed, failed_status);
        sys.exit(failed_status);
    };
    if (sys.getppid() != parent) {
        channel.failure(protocol.index_hello, code, sys.ESRCH, "the orchestrator died before the plan ran");
        channel.exit(.launcher_failed, failed_status);
        sys.exit(failed_status);
    }
}

fn fail_start(what: []const u8, err: sys.Error) noreturn {
    var message = events.Message{};
    var errno_buffer: [16]u8 = undefined;
    message.print("husk-launcher: {s}: {s}\n", .{ what, sys.errno_name(sys.errno_of(err), &errno_buffer) });
    events.stderr(message.slice());
    sys.exit(125);
}

fn parse_arguments(arguments: []const [*:0]const u8) error{ UnknownArgument, MissingValue, BadFd, ServerNeedsEvents }!Options {
    var options = Options{};
    var i: usize = 0;
    while (i < arguments.len) : (i += 1) {
        const argument = std.mem.span(arguments[i]);
        if (std.mem.eql(u8, argument, "--version")) {
            options.action = .version;
        } else if (std.mem.eql(u8, argument, "--help") or std.mem.eql(u8, argument, "-h")) {
            options.action = .help;
        } else if (std.mem.eql(u8, argument, "--hold")) {
            options.action = .hold;
        } else if (std.mem.eql(u8, argument, "--init")) {
            // husk's init (init.zig): exec'd by the container process itself, never by hand.
            i += 1;
            if (i == arguments.len) return error.MissingValue;
            options.action = .init;
            options.init_child = std.fmt.parseInt(sys.pid_t, std.mem.span(arguments[i]), 10) catch return error.BadFd;
            if (options.init_child <= 0) return error.BadFd;
        } else if (std.mem.eql(u8, argument, "--server")) {
            options.server = true;
        } else if (std.mem.eql(u8, argument, "--plan-fd") or std.mem.eql(u8, argument, "--event-fd")) {
            i += 1;
            if (i == arguments.len) return error.MissingValue;
            const fd = std.fmt.parseInt(sys.fd_t, std.mem.span(arguments[i]), 10) catch return error.BadFd;
            if (fd < 0) return error.BadFd;
            if (argument[2] == 'p') options.plan_fd = fd else options.event_fd = fd;
        } else {
            return error.UnknownArgument;
        }
    }
    if (options.server and options.action == .run and options.event_fd == null) return error.ServerNeedsEvents;
    return options;
}

test "command line" {
    const testing = std.testing;
    const a = try parse_arguments(&.{ "--plan-fd", "5", "--event-fd", "6" });
    try testing.expectEqual(@as(sys.fd_t, 5), a.plan_fd);
    try testing.expectEqual(@as(?sys.fd_t, 6), a.event_fd);
    try testing.expect((try parse_arguments(&.{})).event_fd == null);
    try testing.expectEqual(.version, (try parse_arguments(&.{"--version"})).action);
    try testing.expectEqual(.hold, (try parse_arguments(&.{"--hold"})).action);
    const init_options = try parse_arguments(&.{ "--init", "7" });
    try testing.expectEqual(.init, init_options.action);
    try testing.expectEqual(@as(sys.pid_t, 7), init_options.init_child);
    try testing.expectError(error.BadFd, parse_arguments(&.{ "--init", "0" }));
    try testing.expectError(error.MissingValue, parse_arguments(&.{"--plan-fd"}));
    try testing.expectError(error.BadFd, parse_arguments(&.{ "--event-fd", "-1" }));
    try testing.expectError(error.BadFd, parse_arguments(&.{ "--event-fd", "x" }));
    try testing.expectError(error.UnknownArgument, parse_arguments(&.{"--frobnicate"}));
    const s = try parse_arguments(&.{ "--server", "--plan-fd", "3", "--event-fd", "4" });
    try testing.expect(s.server);
    try testing.expectError(error.ServerNeedsEvents, parse_arguments(&.{"--server"}));
}

test {
    _ = @import("tests.zig");
}
