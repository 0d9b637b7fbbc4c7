//! DNS over TCP for husk-dns (RFC 7766): a resolver that got a truncated answer, or asks over
//! TCP from the start, reaches the same records. Each message on a connection is preceded by
//! its length (two bytes, big-endian). husk-dns reads one query a connection, answers it (or
//! relays the upstream's answer) and closes: what a resolver's retry over TCP needs. A fixed
//! table of connections, each with a deadline; no allocation. dns_main.zig does the polling.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

pub const connections_max = 16;
pub const query_bytes_max = 1232;
pub const idle_ns = 2 * std.time.ns_per_s;

pub const Connection = struct {
    fd: sys.fd_t = -1,
    client: sys.SockaddrIn = undefined,
    deadline_ns: u64 = 0,
    /// The length prefix and the query as they arrive.
    buffer: [2 + query_bytes_max]u8 = undefined,
    len: usize = 0,

    /// The whole query once it has arrived; null while more is to come.
    pub fn query(c: *const Connection) ?[]const u8 {
        if (c.len < 2) return null;
        const length = std.mem.readInt(u16, c.buffer[0..2], .big);
        if (c.len < 2 + @as(usize, length)) return null;
        return c.buffer[2 .. 2 + @as(usize, length)];
    }

    /// Whether the announced length fits: a longer query is refused by closing.
    pub fn too_long(c: *const Connection) bool {
        return c.len >= 2 and std.mem.readInt(u16, c.buffer[0..2], .big) > query_bytes_max;
    }
};

/// A stream socket listening on `address`:53.
pub fn listen(address: [4]u8, port: u16) sys.Error!sys.fd_t {
    const fd = try sys.tcp_socket();
    errdefer sys.close(fd);
    try sys.bind_in(fd, &sys.SockaddrIn.of(address, port));
    try sys.listen(fd, connections_max);
    return fd;
}

/// Takes the clients waiting on `listener` into free slots (one beyond a full table is closed).
pub fn accept_all(listener: sys.fd_t, table: *[connections_max]Connection, now_ns: u64) void {
    assert(listener >= 0);
    // Bounded: a full table's worth per wake-up.
    for (0..connections_max) |_| {
        var client: sys.SockaddrIn = undefined;
        const fd = sys.accept_in(listener, &client) catch return;
        const slot = free_slot(table) orelse {
            sys.close(fd);
            continue;
        };
        slot.* = .{ .fd = fd, .client = client, .deadline_ns = now_ns + idle_ns };
    }
}

fn free_slot(table: *[connections_max]Connection) ?*Connection {
    for (table) |*c| if (c.fd < 0) return c;
    return null;
}

/// Reads what arrived; false when the connection is done with (closed by the client, an
/// error, a query too long): the caller closes it.
pub fn receive(c: *Connection) bool {
    assert(c.fd >= 0);
    if (c.len == c.buffer.len) return false;
    const got = sys.read(c.fd, c.buffer[c.len..]) catch |err| return err == error.AGAIN;
    if (got == 0) return false;
    c.len += got;
    assert(c.len <= c.buffer.len);
    return !c.too_long();
}

/// Writes `reply` with its length prefix (a small answer fits the socket's buffer at once)
/// and closes the connection.
pub fn reply_and_close(fd: sys.fd_t, reply: []const u8) void {
    assert(fd >= 0 and reply.len <= std.math.maxInt(u16));
    var prefix: [2]u8 = undefined;
    std.mem.writeInt(u16, &prefix, @intCast(reply.len), .big);
    _ = sys.write(fd, &prefix) catch {};
    _ = sys.write(fd, reply) catch {};
    sys.close(fd);
}

pub fn close(c: *Connection) void {
    if (c.fd >= 0) sys.close(c.fd);
    c.* = .{};
}

test "a query is whole once its length prefix and that many bytes arrived; an oversized one is refused" {
    var c = Connection{};
    try std.testing.expect(c.query() == null);
    @memcpy(c.buffer[0..5], &[_]u8{ 0, 3, 'a', 'b', 'c' });
    c.len = 4;
    try std.testing.expect(c.query() == null);
    c.len = 5;
    try std.testing.expectEqualStrings("abc", c.query().?);
    try std.testing.expect(!c.too_long());
    std.mem.writeInt(u16, c.buffer[0..2], query_bytes_max + 1, .big);
    try std.testing.expect(c.too_long());
}
