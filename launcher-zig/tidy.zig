//! Tidy: style rules checked on the launcher's own sources, as a test of `zig build test`
//! (so `npm test` runs it). The model is TigerBeetle's tidy.zig. It parses each file of
//! launcher-zig/ with std.zig.Ast and
//!   - fails on a function longer than 70 lines (from its `fn` line to its closing brace),
//!     so that each one fits on a screen and can be read whole;
//!   - reports the assertions (`assert(` calls) of every function, so that a function that
//!     checks nothing stands out.

const std = @import("std");
const assert = std.debug.assert;
const Ast = std.zig.Ast;

pub const function_lines_max = 70;

pub const Function = struct {
    name: []const u8,
    /// 1-based line of the `fn`.
    line: usize,
    lines: usize,
    asserts: usize,
};

/// Appends every function defined in `source` (not tests) to `out`; names point into
/// `source`.
pub fn functions(gpa: std.mem.Allocator, source: [:0]const u8, out: *std.ArrayList(Function)) !void {
    var tree = try Ast.parse(gpa, source, .zig);
    defer tree.deinit(gpa);
    if (tree.errors.len != 0) return error.ParseError;
    const tags = tree.nodes.items(.tag);
    const data = tree.nodes.items(.data);
    for (tags, 0..) |tag, index| {
        if (tag != .fn_decl) continue;
        const node: Ast.Node.Index = @intCast(index);
        var buffer: [1]Ast.Node.Index = undefined;
        const proto = tree.fullFnProto(&buffer, data[index].lhs).?; // A fn_decl has one.
        const first = tree.firstToken(node);
        const last = tree.lastToken(node);
        assert(first < last);
        const first_line = tree.tokenLocation(0, first).line;
        const last_line = tree.tokenLocation(0, last).line;
        try out.append(.{
            .name = if (proto.name_token) |token| tree.tokenSlice(token) else "(anonymous)",
            .line = first_line + 1,
            .lines = last_line - first_line + 1,
            .asserts = count_asserts(&tree, tree.firstToken(data[index].rhs), last),
        });
    }
}

/// `assert(` calls between two tokens (std.debug.assert, under the name every file gives it).
fn count_asserts(tree: *const Ast, first: Ast.TokenIndex, last: Ast.TokenIndex) usize {
    const token_tags = tree.tokens.items(.tag);
    var count: usize = 0;
    var token = first;
    while (token < last) : (token += 1) {
        if (token_tags[token] != .identifier or token_tags[token + 1] != .l_paren) continue;
        if (std.mem.eql(u8, tree.tokenSlice(token), "assert")) count += 1;
    }
    return count;
}

test "tidy: no launcher function over 70 lines; assertions per function" {
    const build_options = @import("build_options");
    const gpa = std.testing.allocator;
    var dir = try std.fs.openDirAbsolute(build_options.launcher_dir, .{ .iterate = true });
    defer dir.close();
    var names = std.ArrayList([]const u8).init(gpa);
    defer {
        for (names.items) |name| gpa.free(name);
        names.deinit();
    }
    var iterator = dir.iterate();
    while (try iterator.next()) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, ".zig")) try names.append(try gpa.dupe(u8, entry.name));
    }
    std.mem.sort([]const u8, names.items, {}, less_than);
    try std.testing.expect(names.items.len >= 20); // The sources are there: an empty check proves nothing.

    const stderr = std.io.getStdErr().writer();
    var too_long: usize = 0;
    var total_functions: usize = 0;
    var total_asserts: usize = 0;
    for (names.items) |name| {
        const source = try dir.readFileAllocOptions(gpa, name, 4 << 20, null, 1, 0);
        defer gpa.free(source);
        var found = std.ArrayList(Function).init(gpa);
        defer found.deinit();
        try functions(gpa, source, &found);
        for (found.items) |function| {
            total_functions += 1;
            total_asserts += function.asserts;
            try stderr.print("tidy: {s}:{d} {s}: {d} lines, {d} asserts\n", .{ name, function.line, function.name, function.lines, function.asserts });
            if (function.lines > function_lines_max) {
                too_long += 1;
                try stderr.print("tidy: error: {s}:{d} {s} has {d} lines, over {d}\n", .{ name, function.line, function.name, function.lines, function_lines_max });
            }
        }
    }
    try stderr.print("tidy: {d} functions in {d} files, {d} asserts\n", .{ total_functions, names.items.len, total_asserts });
    try std.testing.expectEqual(@as(usize, 0), too_long);
}

fn less_than(_: void, a: []const u8, b: []const u8) bool {
    return std.mem.lessThan(u8, a, b);
}

test "tidy measures lines and counts asserts" {
    const gpa = std.testing.allocator;
    var source = std.ArrayList(u8).init(gpa);
    defer source.deinit();
    // `long`: 71 lines from `fn` to `}`; `short`: 3 lines, 2 asserts (one not a call).
    try source.appendSlice("const assert = @import(\"std\").debug.assert;\nfn long() void {\n");
    for (0..69) |_| try source.appendSlice("    assert(true);\n");
    try source.appendSlice("}\npub fn short(x: u8) void {\n    assert(x > 0); assert(x < 9); const a = assert;\n    _ = a;\n}\n");
    try source.append(0);
    var found = std.ArrayList(Function).init(gpa);
    defer found.deinit();
    try functions(gpa, source.items[0 .. source.items.len - 1 :0], &found);
    try std.testing.expectEqual(@as(usize, 2), found.items.len);
    try std.testing.expectEqualStrings("long", found.items[0].name);
    try std.testing.expectEqual(@as(usize, 71), found.items[0].lines);
    try std.testing.expectEqual(@as(usize, 69), found.items[0].asserts);
    try std.testing.expectEqual(@as(usize, 2), found.items[0].line);
    try std.testing.expectEqualStrings("short", found.items[1].name);
    try std.testing.expectEqual(@as(usize, 4), found.items[1].lines);
    try std.testing.expectEqual(@as(usize, 2), found.items[1].asserts);
}
