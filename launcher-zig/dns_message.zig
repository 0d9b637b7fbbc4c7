//! DNS messages for husk-dns, a network's name responder (docs/networks.md "Names"): a query
//! read, and the answer written from the network's records. The records are a text file
//! the core decided and ts/ wrote, one container per line, as /etc/hosts:
//! `A.B.C.D name alias ... [+IPV6] #ID %LINK` (names already lowercase; `+IPV6` on a
//! dual-stack network, answered for AAAA). A name the records hold is answered
//! here; any other is forwarded (dns_main.zig) or, with no upstream, answered NXDOMAIN.
//! No I/O in this file: dns_main.zig does it.

const std = @import("std");
const assert = std.debug.assert;
const net = @import("net.zig");

pub const header_bytes = 12;
/// RFC 1035: 255 bytes on the wire, 253 as dotted text.
pub const name_text_max = 253;
/// A reply never grows past this (a UDP answer without EDNS is 512; ours are small).
pub const reply_bytes_max = 512;
/// Round-robin is not needed: a name held by more addresses than this answers the first ones.
pub const answers_max = 16;
pub const ttl_seconds: u32 = 60;

pub const type_a: u16 = 1;
pub const type_ptr: u16 = 12;
pub const type_aaaa: u16 = 28;
pub const type_any: u16 = 255;
const class_in: u16 = 1;
const class_any: u16 = 255;

pub const Rcode = enum(u4) { ok = 0, format_error = 1, server_failure = 2, name_error = 3, not_implemented = 4 };

pub const Query = struct {
    id: u16,
    flags: u16,
    /// Dotted and lowercase, without the final dot.
    name: [name_text_max]u8 = undefined,
    name_len: usize = 0,
    qtype: u16 = 0,
    qclass: u16 = 0,
    /// Where the question ends: a reply repeats the message up to here.
    question_end: usize = 0,

    pub fn name_text(query: *const Query) []const u8 {
        return query.name[0..query.name_len];
    }
};

/// The header and the one question of a query; null when it is not a query husk-dns reads
/// (too short, a response, not exactly one question, a compressed or oversized name).
pub fn parse_query(message: []const u8) ?Query {
    if (message.len < header_bytes) return null;
    const flags = std.mem.readInt(u16, message[2..4], .big);
    if (flags & 0x8000 != 0) return null; // A response, not a query.
    if (std.mem.readInt(u16, message[4..6], .big) != 1) return null;
    var query = Query{ .id = std.mem.readInt(u16, message[0..2], .big), .flags = flags };
    var at: usize = header_bytes;
    while (true) {
        if (at >= message.len) return null;
        const label: usize = message[at];
        at += 1;
        if (label == 0) break;
        if (label > 63 or at + label > message.len) return null; // 0xc0: no compression in a question.
        const dot: usize = if (query.name_len == 0) 0 else 1;
        if (query.name_len + dot + label > name_text_max) return null;
        if (dot == 1) query.name[query.name_len] = '.';
        for (message[at .. at + label], query.name[query.name_len + dot ..][0..label]) |byte, *out| out.* = std.ascii.toLower(byte);
        query.name_len += dot + label;
        at += label;
    }
    if (at + 4 > message.len) return null;
    query.qtype = std.mem.readInt(u16, message[at..][0..2], .big);
    query.qclass = std.mem.readInt(u16, message[at + 2 ..][0..2], .big);
    query.question_end = at + 4;
    assert(query.question_end <= message.len);
    return query;
}

/// Whether a container's link exists: a line ending in `%LINK` (its host end, a veth) is
/// served only while it does, so a container that ended is not found even before any husk
/// command takes its line away. husk-dns sets the real check (dns_main.zig); tests keep this.
pub var link_alive: *const fn (name: []const u8) bool = &always_alive;

fn always_alive(name: []const u8) bool {
    assert(name.len > 0);
    return true;
}

/// The line's `%LINK` holds (or it has none).
fn line_alive(line: []const u8) bool {
    const at = std.mem.lastIndexOfScalar(u8, line, '%') orelse return true;
    const link = std.mem.trim(u8, line[at + 1 ..], " \t\r");
    return link.len == 0 or link_alive(link);
}

/// The addresses of the records' lines that hold `name` (case already folded), at most `out.len`.
pub fn find_addresses(records: []const u8, name: []const u8, out: [][4]u8) usize {
    var count: usize = 0;
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        var fields = std.mem.tokenizeAny(u8, line, " \t");
        const address = net.parse_ip4(fields.next() orelse continue) orelse continue;
        if (!holds_name(line, name)) continue;
        if (count == out.len) return count;
        out[count] = address;
        count += 1;
    }
    assert(count <= out.len);
    return count;
}

/// A line (of a live container) holds `name` as one of its names: not its address, `+IPV6`, `#ID` or `%LINK`.
fn holds_name(line: []const u8, name: []const u8) bool {
    var fields = std.mem.tokenizeAny(u8, line, " \t");
    _ = fields.next() orelse return false;
    while (fields.next()) |field| {
        if (field[0] == '%' or field[0] == '#' or field[0] == '+' or !std.ascii.eqlIgnoreCase(field, name)) continue;
        return line_alive(line);
    }
    return false;
}

/// A line's `+IPV6` field, its IPv6 address on a dual-stack network.
fn line_address6(line: []const u8) ?[16]u8 {
    var fields = std.mem.tokenizeAny(u8, line, " \t");
    while (fields.next()) |field| if (field[0] == '+') return net.parse_ip6(field[1..]);
    return null;
}

/// The IPv6 addresses of the records' lines (with an IPv4 address first) that hold `name`.
pub fn find_addresses6(records: []const u8, name: []const u8, out: [][16]u8) usize {
    var count: usize = 0;
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        var fields = std.mem.tokenizeAny(u8, line, " \t");
        _ = net.parse_ip4(fields.next() orelse continue) orelse continue;
        if (!holds_name(line, name)) continue;
        const address = line_address6(line) orelse continue;
        if (count == out.len) return count;
        out[count] = address;
        count += 1;
    }
    assert(count <= out.len);
    return count;
}

/// The first name of the (live) line whose `+IPV6` is `address`, for a reverse lookup in ip6.arpa.
pub fn find_name6(records: []const u8, address: [16]u8) ?[]const u8 {
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        var fields = std.mem.tokenizeAny(u8, line, " \t");
        _ = net.parse_ip4(fields.next() orelse continue) orelse continue;
        const held = line_address6(line) orelse continue;
        if (!std.mem.eql(u8, &held, &address) or !line_alive(line)) continue;
        return fields.next();
    }
    return null;
}

/// `b.a.9.8. … .ip6.arpa` (32 nibbles, lowest first) → the address.
pub fn reverse_address6(name: []const u8) ?[16]u8 {
    const suffix = ".ip6.arpa";
    if (name.len != 63 + suffix.len or !std.mem.endsWith(u8, name, suffix)) return null;
    var bytes = [_]u8{0} ** 16;
    for (0..32) |i| {
        if (i > 0 and name[i * 2 - 1] != '.') return null;
        const nibble = std.fmt.charToDigit(name[i * 2], 16) catch return null;
        const at = 31 - i; // The first nibble in the name is the address's last.
        bytes[at / 2] |= if (at % 2 == 0) nibble << 4 else nibble;
    }
    return bytes;
}

/// A container's own resolvers (its --dns): the line `>A.B.C.D IP...` for its address. Its
/// queries that the records do not answer go there instead of the network's upstreams.
pub fn find_forwarders(records: []const u8, client: [4]u8, out: [][4]u8) usize {
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        if (line.len == 0 or line[0] != '>') continue;
        var fields = std.mem.tokenizeAny(u8, line[1..], " \t");
        const address = net.parse_ip4(fields.next() orelse continue) orelse continue;
        if (!std.mem.eql(u8, &address, &client)) continue;
        var count: usize = 0;
        while (fields.next()) |field| {
            if (count == out.len) break;
            out[count] = net.parse_ip4(field) orelse continue;
            count += 1;
        }
        assert(count <= out.len);
        return count;
    }
    return 0;
}

/// The first name of the first line for `address`, for a reverse (PTR) lookup.
pub fn find_name(records: []const u8, address: [4]u8) ?[]const u8 {
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        var fields = std.mem.tokenizeAny(u8, line, " \t");
        const held = net.parse_ip4(fields.next() orelse continue) orelse continue;
        if (!std.mem.eql(u8, &held, &address) or !line_alive(line)) continue;
        return fields.next();
    }
    return null;
}

/// The `#ID` of the (live) line for `address`: which container asks.
pub fn find_id(records: []const u8, address: [4]u8) ?[]const u8 {
    var lines = std.mem.splitScalar(u8, records, '\n');
    while (lines.next()) |line| {
        var fields = std.mem.tokenizeAny(u8, line, " \t");
        const held = net.parse_ip4(fields.next() orelse continue) orelse continue;
        if (!std.mem.eql(u8, &held, &address)) continue;
        while (fields.next()) |field| if (field.len > 1 and field[0] == '#') return field;
    }
    return null;
}

/// Whether `records` hold a line of container `id` (`#ID`, a whole field).
pub fn holds_id(records: []const u8, id: []const u8) bool {
    assert(id.len > 1 and id[0] == '#');
    var at: usize = 0;
    while (std.mem.indexOfPos(u8, records, at, id)) |found| {
        const end = found + id.len;
        if (found > 0 and records[found - 1] == ' ' and (end == records.len or records[end] == ' ' or records[end] == '\n')) return true;
        at = end;
    }
    return false;
}

/// `D.C.B.A.in-addr.arpa` → A.B.C.D.
pub fn reverse_address(name: []const u8) ?[4]u8 {
    const suffix = ".in-addr.arpa";
    if (!std.mem.endsWith(u8, name, suffix)) return null;
    const forward = net.parse_ip4(name[0 .. name.len - suffix.len]) orelse return null;
    return .{ forward[3], forward[2], forward[1], forward[0] };
}

/// What to do with a query: `reply` holds the answer, or it is to be forwarded upstream.
pub const Outcome = union(enum) { reply: usize, forward };

/// Answers `message` from `records` into `out`, or says to forward it (only when
/// `can_forward`: a network with upstreams). A message that is not a query husk-dns reads
/// gets FORMERR when its header can be echoed, else nothing (a reply of length 0).
pub fn respond(message: []const u8, records: []const u8, can_forward: bool, out: *[reply_bytes_max]u8) Outcome {
    const query = parse_query(message) orelse return .{ .reply = error_reply(message, .format_error, out) };
    if (query.question_end > reply_bytes_max / 2) return .{ .reply = error_reply(message, .format_error, out) };
    const opcode = (query.flags >> 11) & 0xf;
    if (opcode != 0) return .{ .reply = reply_header(message, &query, .not_implemented, 0, out) };
    const name = query.name_text();
    if (query.qclass != class_in and query.qclass != class_any) return if (can_forward) .forward else .{ .reply = reply_header(message, &query, .name_error, 0, out) };
    if (reverse_address(name)) |address| {
        if (find_name(records, address)) |held| return .{ .reply = ptr_reply(message, &query, held, out) };
    }
    if (reverse_address6(name)) |address| {
        if (find_name6(records, address)) |held| return .{ .reply = ptr_reply(message, &query, held, out) };
    }
    var addresses: [answers_max][4]u8 = undefined;
    const count = find_addresses(records, name, &addresses);
    if (count == 0) return if (can_forward) .forward else .{ .reply = reply_header(message, &query, .name_error, 0, out) };
    // The name is ours: A gets its IPv4 addresses, AAAA its IPv6 ones (none on an IPv4-only
    // network: NOERROR with no data, so a resolver does not ask elsewhere), ANY both; any
    // other type has no data.
    var addresses6: [answers_max][16]u8 = undefined;
    const count6 = find_addresses6(records, name, &addresses6);
    const any = query.qtype == type_any;
    const v4 = if (any or query.qtype == type_a) addresses[0..count] else &[_][4]u8{};
    const v6 = if (any or query.qtype == type_aaaa) addresses6[0..count6] else &[_][16]u8{};
    return .{ .reply = address_reply(message, &query, v4, v6, out) };
}

/// The header and question of the query with the response bits set; `count` answers follow.
fn reply_header(message: []const u8, query: *const Query, rcode: Rcode, count: u16, out: *[reply_bytes_max]u8) usize {
    assert(query.question_end <= out.len);
    @memcpy(out[0..query.question_end], message[0..query.question_end]);
    // QR, the query's opcode, AA, the query's RD, RA, the rcode.
    const flags: u16 = 0x8000 | (query.flags & 0x7800) | 0x0400 | (query.flags & 0x0100) | 0x0080 | @intFromEnum(rcode);
    std.mem.writeInt(u16, out[2..4], flags, .big);
    std.mem.writeInt(u16, out[6..8], count, .big);
    std.mem.writeInt(u16, out[8..10], 0, .big);
    std.mem.writeInt(u16, out[10..12], 0, .big); // No additional records (an EDNS OPT is not echoed).
    return query.question_end;
}

fn error_reply(message: []const u8, rcode: Rcode, out: *[reply_bytes_max]u8) usize {
    if (message.len < header_bytes) return 0;
    @memcpy(out[0..header_bytes], message[0..header_bytes]);
    const flags = std.mem.readInt(u16, message[2..4], .big);
    std.mem.writeInt(u16, out[2..4], 0x8000 | (flags & 0x7900) | 0x0080 | @as(u16, @intFromEnum(rcode)), .big);
    @memset(out[4..header_bytes], 0);
    return header_bytes;
}

/// One answer's fixed part: the name as a pointer to the question's, type, class, TTL, length.
fn answer_head(out: []u8, rtype: u16, rdata_len: u16) void {
    assert(out.len == 12);
    std.mem.writeInt(u16, out[0..2], 0xc000 | header_bytes, .big);
    std.mem.writeInt(u16, out[2..4], rtype, .big);
    std.mem.writeInt(u16, out[4..6], class_in, .big);
    std.mem.writeInt(u32, out[6..10], ttl_seconds, .big);
    std.mem.writeInt(u16, out[10..12], rdata_len, .big);
}

/// A records then AAAA records, as many as fit the 512 bytes (ANY of a name held 16 times
/// over: the IPv4 ones first); the answer count says how many.
fn address_reply(message: []const u8, query: *const Query, v4: []const [4]u8, v6: []const [16]u8, out: *[reply_bytes_max]u8) usize {
    assert(v4.len <= answers_max and v6.len <= answers_max);
    var at = reply_header(message, query, .ok, 0, out);
    var count: u16 = 0;
    for (v4) |address| {
        assert(at + 16 <= out.len); // question_end <= 256, 16 answers of 16 bytes.
        answer_head(out[at..][0..12], type_a, 4);
        @memcpy(out[at + 12 ..][0..4], &address);
        at += 16;
        count += 1;
    }
    for (v6) |address| {
        if (at + 28 > out.len) break;
        answer_head(out[at..][0..12], type_aaaa, 16);
        @memcpy(out[at + 12 ..][0..16], &address);
        at += 28;
        count += 1;
    }
    std.mem.writeInt(u16, out[6..8], count, .big);
    return at;
}

fn ptr_reply(message: []const u8, query: *const Query, held: []const u8, out: *[reply_bytes_max]u8) usize {
    var at = reply_header(message, query, .ok, 1, out);
    const encoded_len = held.len + 2; // A length byte per label plus the final zero.
    if (held.len == 0 or held.len > name_text_max or at + 12 + encoded_len > out.len) return reply_header(message, query, .server_failure, 0, out);
    answer_head(out[at..][0..12], type_ptr, @intCast(encoded_len));
    at += 12;
    var labels = std.mem.splitScalar(u8, held, '.');
    while (labels.next()) |label| {
        if (label.len == 0 or label.len > 63) return reply_header(message, query, .server_failure, 0, out);
        out[at] = @intCast(label.len);
        @memcpy(out[at + 1 ..][0..label.len], label);
        at += 1 + label.len;
    }
    out[at] = 0;
    return at + 1;
}

// --- tests -------------------------------------------------------------------------------

/// A query as a resolver sends it: id 0x1234, RD, one question.
fn test_query(buffer: []u8, name: []const u8, qtype: u16) []u8 {
    const header = [_]u8{ 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    @memcpy(buffer[0..12], &header);
    var at: usize = 12;
    var labels = std.mem.splitScalar(u8, name, '.');
    while (labels.next()) |label| {
        buffer[at] = @intCast(label.len);
        @memcpy(buffer[at + 1 ..][0..label.len], label);
        at += 1 + label.len;
    }
    buffer[at] = 0;
    std.mem.writeInt(u16, buffer[at + 1 ..][0..2], qtype, .big);
    std.mem.writeInt(u16, buffer[at + 3 ..][0..2], class_in, .big);
    return buffer[0 .. at + 5];
}

const test_records = "10.89.0.2 web 3f2a1b4c5d6e\n10.89.0.3 db cache\n10.89.0.4 cache\n";
const test_records6 = "10.89.0.2 web +fd68:7573:6b00::2 #3f2a1b4c5d6e %husk-3f2a1b4c5d\n10.89.0.3 db #aaaaaaaaaaaa\n";

test "AAAA of a dual-stack container's name is its +IPV6, ANY both; a name with none has no data" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    var length = respond(test_query(&buffer, "web", type_aaaa), test_records6, true, &out).reply;
    try std.testing.expectEqual(@as(u16, 1), std.mem.readInt(u16, out[6..8], .big));
    try std.testing.expectEqualSlices(u8, &net.parse_ip6("fd68:7573:6b00::2").?, out[length - 16 .. length]);
    try std.testing.expectEqual(type_aaaa, std.mem.readInt(u16, out[length - 26 ..][0..2], .big));
    _ = respond(test_query(&buffer, "web", type_any), test_records6, true, &out).reply;
    try std.testing.expectEqual(@as(u16, 2), std.mem.readInt(u16, out[6..8], .big));
    length = respond(test_query(&buffer, "db", type_aaaa), test_records6, true, &out).reply;
    try std.testing.expectEqual(@as(u16, 0), std.mem.readInt(u16, out[6..8], .big));
    try std.testing.expectEqual(@as(u16, 0), std.mem.readInt(u16, out[2..4], .big) & 0xf);
    // `+…` is an address, never a name.
    var addresses: [4][4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 0), find_addresses(test_records6, "+fd68:7573:6b00::2", &addresses));
}

test "a reverse lookup in ip6.arpa names the container" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    const name = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.6.3.7.5.7.8.6.d.f.ip6.arpa";
    try std.testing.expect(reverse_address6(name) == null); // 28 nibbles: not an address
    const full = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.6.3.7.5.7.8.6.d.f.ip6.arpa";
    try std.testing.expectEqualSlices(u8, &net.parse_ip6("fd68:7573:6b00::2").?, &reverse_address6(full).?);
    const length = respond(test_query(&buffer, full, type_ptr), test_records6, false, &out).reply;
    try std.testing.expectEqualSlices(u8, &.{ 3, 'w', 'e', 'b', 0 }, out[length - 5 .. length]);
}

test "a name the records hold is answered with its address, case folded" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    const message = test_query(&buffer, "WEB", type_a);
    const length = respond(message, test_records, true, &out).reply;
    try std.testing.expectEqual(@as(u16, 0x8580), std.mem.readInt(u16, out[2..4], .big));
    try std.testing.expectEqual(@as(u16, 1), std.mem.readInt(u16, out[6..8], .big));
    try std.testing.expectEqualSlices(u8, &.{ 10, 89, 0, 2 }, out[length - 4 .. length]);
}

test "an alias two containers hold answers both; AAAA of a known name has no data" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    _ = respond(test_query(&buffer, "cache", type_a), test_records, false, &out).reply;
    try std.testing.expectEqual(@as(u16, 2), std.mem.readInt(u16, out[6..8], .big));
    _ = respond(test_query(&buffer, "cache", 28), test_records, false, &out).reply;
    try std.testing.expectEqual(@as(u16, 0), std.mem.readInt(u16, out[6..8], .big));
    try std.testing.expectEqual(@as(u16, 0), std.mem.readInt(u16, out[2..4], .big) & 0xf);
}

test "an unknown name is forwarded, or NXDOMAIN without upstreams" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    const message = test_query(&buffer, "example.org", type_a);
    try std.testing.expect(respond(message, test_records, true, &out) == .forward);
    _ = respond(message, test_records, false, &out).reply;
    try std.testing.expectEqual(@as(u16, 3), std.mem.readInt(u16, out[2..4], .big) & 0xf);
}

fn test_gone(name: []const u8) bool {
    return !std.mem.eql(u8, name, "husk-gone");
}

test "a line whose link is gone is served no more, by name or address" {
    const records = "10.89.0.2 web %husk-0123456789\n10.89.0.3 old %husk-gone\n10.89.0.4 old\n";
    link_alive = &test_gone;
    defer link_alive = &always_alive;
    var addresses: [4][4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), find_addresses(records, "web", &addresses));
    try std.testing.expectEqual(@as(usize, 1), find_addresses(records, "old", &addresses));
    try std.testing.expectEqualSlices(u8, &.{ 10, 89, 0, 4 }, &addresses[0]);
    try std.testing.expectEqual(@as(usize, 0), find_addresses(records, "%husk-0123456789", &addresses));
    try std.testing.expect(find_name(records, .{ 10, 89, 0, 3 }) == null);
    try std.testing.expectEqualStrings("web", find_name(records, .{ 10, 89, 0, 2 }).?);
}

test "which container asks, and whether other records hold it" {
    const records = "10.89.0.2 web 0123456789ab #0123456789ab %husk-0123456789\n10.89.0.3 db #aaaaaaaaaaaa\n";
    try std.testing.expectEqualStrings("#0123456789ab", find_id(records, .{ 10, 89, 0, 2 }).?);
    try std.testing.expect(find_id(records, .{ 10, 89, 0, 9 }) == null);
    try std.testing.expect(holds_id("10.90.0.5 web #0123456789ab %husk-01234567.1\n", "#0123456789ab"));
    try std.testing.expect(!holds_id("10.90.0.5 web #0123456789abc\n", "#0123456789ab"));
    var addresses: [2][4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 0), find_addresses(records, "#aaaaaaaaaaaa", &addresses));
}

test "a reverse lookup of a container's address names it" {
    var buffer: [128]u8 = undefined;
    var out: [reply_bytes_max]u8 = undefined;
    const length = respond(test_query(&buffer, "3.0.89.10.in-addr.arpa", type_ptr), test_records, true, &out).reply;
    try std.testing.expectEqualSlices(u8, &.{ 2, 'd', 'b', 0 }, out[length - 4 .. length]);
}

test "a container's own resolvers are found by its address, and are no names" {
    const records = "10.89.0.2 web\n>10.89.0.2 192.0.2.9 192.0.2.10\n10.89.0.3 db\n";
    var out: [4][4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 2), find_forwarders(records, .{ 10, 89, 0, 2 }, &out));
    try std.testing.expectEqualSlices(u8, &.{ 192, 0, 2, 10 }, &out[1]);
    try std.testing.expectEqual(@as(usize, 0), find_forwarders(records, .{ 10, 89, 0, 3 }, &out));
    var addresses: [answers_max][4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 0), find_addresses(records, "192.0.2.9", &addresses));
}

test "what is not a query gets FORMERR or nothing" {
    var out: [reply_bytes_max]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 0), respond("short", test_records, true, &out).reply);
    var buffer: [128]u8 = undefined;
    const message = test_query(&buffer, "web", type_a);
    message[12] = 0xc0; // A compressed name in a question.
    try std.testing.expectEqual(@as(usize, header_bytes), respond(message, test_records, true, &out).reply);
    try std.testing.expectEqual(@as(u16, 1), std.mem.readInt(u16, out[2..4], .big) & 0xf);
    try std.testing.expect(parse_query(message[0..13]) == null);
}
