//! SECCOMP (protocol.md "SECCOMP"), run in the container process as its last op before
//! WAIT_START and EXEC: the program is the SECCOMP_PROGRAM parts right before it, then its
//! own, copied into one array and loaded with seccomp(SECCOMP_SET_MODE_FILTER). The launcher
//! holds no policy: the core compiled the filter; the kernel checks the program.

const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const decode = @import("decode.zig");
const sys = @import("sys.zig");
const listener = @import("listener.zig");
const State = @import("state.zig").State;

/// SECCOMP loads; a SECCOMP_PROGRAM does nothing itself (the SECCOMP after it reads it).
pub fn run_op(state: *State, plan: *const decode.Plan, index: usize, op: protocol.Op) sys.Error!void {
    switch (op) {
        .seccomp => |o| try load(state, plan, index, o.flags),
        .seccomp_program => {},
        else => unreachable,
    }
}

fn load(state: *State, plan: *const decode.Plan, index: usize, flags: u64) sys.Error!void {
    const ops = plan.slice();
    assert(ops[index] == .seccomp);
    assert(flags & ~protocol.seccomp_flags_known == 0);
    var first = index;
    while (first > 0 and ops[first - 1] == .seccomp_program) first -= 1;
    var program: [protocol.seccomp_instructions_max]u64 = undefined;
    var count: usize = 0;
    for (ops[first .. index + 1]) |op| {
        const words = switch (op) {
            .seccomp_program => |o| o.program,
            .seccomp => |o| o.program,
            else => unreachable,
        };
        // The decoder bounds the whole program to 4096 instructions.
        assert(count + words.count() <= program.len);
        for (0..words.count()) |i| program[count + i] = words.get(i);
        count += words.count();
    }
    if (flags & protocol.seccomp_flag_new_listener == 0) return sys.seccomp_set_mode_filter(flags, program[0..count]);
    // SCMP_ACT_NOTIFY: the listener goes to the agent before anything else runs.
    const fd = try sys.seccomp_filter_with_listener(flags, program[0..count]);
    try listener.hand_over(&state.listener, &state.container.listener_fd, fd);
}
