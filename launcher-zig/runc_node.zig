//! How husk-runc's front hands a call to Node (create, run, exec, ...): one execve of node
//! itself, not of bin/husk-runc.js. The script's `#!/usr/bin/env -S node FLAGS --` line is
//! the one place Node's flags are written; the front reads them from it and finds node in
//! PATH as env would, so a cold engine call skips env's own exec.
//!
//! NODE_EXTRA_CA_CERTS is passed on under another name, HUSK_RUNC_NODE_EXTRA_CA_CERTS, and
//! bin/husk-runc.js puts it back before it runs anything: Node reads and parses that whole
//! bundle of certificates while it starts (about 30 ms of CPU here with Debian's bundle),
//! and husk-runc never opens a TLS connection. Hooks and the container see the variable
//! under its own name again.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

pub const shebang_prefix = "#!/usr/bin/env -S node ";
pub const args_max = 4096;
pub const env_max = 4096;
const moved_name = "NODE_EXTRA_CA_CERTS=";
const moved_to = "HUSK_RUNC_NODE_EXTRA_CA_CERTS=";

/// Node's flags from a script's first line (`#!/usr/bin/env -S node FLAGS`), as written
/// there (ending in `--`), or null when the line has another form.
pub fn shebang_flags(head: []const u8) ?[]const u8 {
    if (!std.mem.startsWith(u8, head, shebang_prefix)) return null;
    const rest = head[shebang_prefix.len..];
    const end = std.mem.indexOfScalar(u8, rest, '\n') orelse return null;
    const flags = std.mem.trim(u8, rest[0..end], " ");
    // env -S would also take quotes and escapes; a line that needs them is left to env.
    for (flags) |c| if (c == '"' or c == '\'' or c == '\\' or c == '\t') return null;
    return flags;
}

pub const Invocation = struct {
    argv: [args_max:null]?[*:0]const u8 = undefined,
    envp: [env_max:null]?[*:0]const u8 = undefined,
    /// The flags split in place (NUL-terminated copies) and the moved variable.
    strings: [8192]u8 = undefined,
    used: usize = 0,

    fn keep(self: *Invocation, parts: []const []const u8) ?[*:0]const u8 {
        var length: usize = 1;
        for (parts) |p| length += p.len;
        if (self.used + length > self.strings.len) return null;
        const start = self.used;
        for (parts) |p| {
            @memcpy(self.strings[self.used..][0..p.len], p);
            self.used += p.len;
        }
        self.strings[self.used] = 0;
        self.used += 1;
        return @ptrCast(&self.strings[start]);
    }
};

/// argv `node FLAGS... script ARGS...` (argv[0] `node`, the program found later) and the
/// environment with NODE_EXTRA_CA_CERTS renamed; null when something does not fit.
pub fn build(
    out: *Invocation,
    flags: []const u8,
    script: [*:0]const u8,
    args: []const [*:0]const u8,
    environ: []const [*:0]const u8,
) ?void {
    var count: usize = 0;
    out.argv[0] = "node";
    count = 1;
    var words = std.mem.tokenizeScalar(u8, flags, ' ');
    while (words.next()) |word| {
        if (count + 2 + args.len >= args_max) return null;
        out.argv[count] = out.keep(&.{word}) orelse return null;
        count += 1;
    }
    if (count + 1 + args.len >= args_max) return null;
    out.argv[count] = script;
    count += 1;
    for (args) |a| {
        out.argv[count] = a;
        count += 1;
    }
    out.argv[count] = null;
    if (environ.len >= env_max) return null;
    for (environ, 0..) |e, i| {
        const entry = std.mem.span(e);
        out.envp[i] = if (std.mem.startsWith(u8, entry, moved_name))
            out.keep(&.{ moved_to, entry[moved_name.len..] }) orelse return null
        else
            e;
    }
    out.envp[environ.len] = null;
    assert(out.argv[0] != null);
}

/// execve of `name` in each PATH directory in turn, as env and execvp do; returns the last
/// error when none could be run.
pub fn exec_in_path(path_variable: []const u8, name: []const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) sys.Error {
    var last: sys.Error = error.NOENT;
    var dirs = std.mem.splitScalar(u8, path_variable, ':');
    while (dirs.next()) |dir| {
        var buffer: [4096]u8 = undefined;
        const program = std.fmt.bufPrintZ(&buffer, "{s}/{s}", .{ if (dir.len == 0) "." else dir, name }) catch continue;
        const err = sys.execve(program, argv, envp);
        switch (err) {
            error.NOENT, error.ACCES, error.NOTDIR, error.PERM => last = err,
            else => return err,
        }
    }
    return last;
}

test "shebang_flags: the flags of env -S node lines, nothing else" {
    const t = std.testing;
    try t.expectEqualStrings("--liftoff-only --", shebang_flags("#!/usr/bin/env -S node --liftoff-only --\n'use strict';\n").?);
    try t.expectEqualStrings("--", shebang_flags("#!/usr/bin/env -S node --\n").?);
    try t.expect(shebang_flags("#!/usr/bin/env node\n") == null);
    try t.expect(shebang_flags("#!/usr/bin/env -S node --\"x y\" --\n") == null);
    try t.expect(shebang_flags("#!/usr/bin/env -S node --") == null); // no end of line: cut short
    try t.expect(shebang_flags("") == null);
}

test "build: node, the script's flags, the script, the call's arguments; the CA bundle renamed" {
    const t = std.testing;
    var inv = Invocation{};
    const args = [_][*:0]const u8{ "create", "--bundle", "/b", "x" };
    const env = [_][*:0]const u8{ "PATH=/usr/bin", "NODE_EXTRA_CA_CERTS=/etc/ca.pem", "NODE_EXTRA_CA_CERTSX=1" };
    build(&inv, "--liftoff-only --no-opt --", "/h/bin/husk-runc.js", &args, &env).?;
    const want = [_][]const u8{ "node", "--liftoff-only", "--no-opt", "--", "/h/bin/husk-runc.js", "create", "--bundle", "/b", "x" };
    for (want, 0..) |w, i| try t.expectEqualStrings(w, std.mem.span(inv.argv[i].?));
    try t.expect(inv.argv[want.len] == null);
    try t.expectEqualStrings("PATH=/usr/bin", std.mem.span(inv.envp[0].?));
    try t.expectEqualStrings("HUSK_RUNC_NODE_EXTRA_CA_CERTS=/etc/ca.pem", std.mem.span(inv.envp[1].?));
    // Only the exact name moves.
    try t.expectEqualStrings("NODE_EXTRA_CA_CERTSX=1", std.mem.span(inv.envp[2].?));
    try t.expect(inv.envp[3] == null);
}
