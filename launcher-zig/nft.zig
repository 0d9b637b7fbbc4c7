//! nf_tables set elements over netlink (protocol.md "NFT_ELEMENTS"): a published port is an
//! element of a map in husk's one table, added when the container starts and deleted when
//! it ends, in one NFNL batch each, with no `nft` process. The core decides every byte of
//! the elements (the words of each key and value, padding included); this file only wraps
//! them in the batch the kernel reads: BATCH_BEGIN, NEWSETELEM or DELSETELEM, BATCH_END.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const netlink = @import("netlink.zig");
const protocol = @import("protocol.zig");

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLA_F_NESTED: u16 = 0x8000;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;

/// NFT_ELEMENTS flags: bit 0 fail when an element's key is there already (`create`).
pub const flag_exclusive: u64 = 1 << 0;
pub const flags_known: u64 = flag_exclusive;
/// The families husk's table may be of: NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6.
pub const families = [_]u64{ 1, 2, 10 };
/// nf_tables' registers: a key or a value is at most 16 words of 4 bytes (NFT_REG32_COUNT).
pub const element_words_max = 16;
/// NFT_NAME_MAXLEN minus the NUL.
pub const name_bytes_max = 255;
/// Each element's attribute headers: LIST_ELEM, KEY, its VALUE, DATA, its VALUE.
const element_overhead_bytes = 5 * 4;
const header_bytes = 16 + 4;
/// One batch: the begin and end messages, the element message's header and names, and at
/// most every word of a U64s list as elements of one word each.
const batch_bytes_max = 3 * header_bytes + 2 * (4 + 256) + 4 + protocol.u64s_count_max * (element_overhead_bytes + 4);

pub const Elements = struct { family: u64, table: []const u8, set: []const u8, key_words: u64, data_words: u64, words: protocol.U64s };

/// The name of a table or set the kernel takes: 1 to 255 bytes of [A-Za-z0-9_-].
pub fn valid_name(name: []const u8) bool {
    if (name.len == 0 or name.len > name_bytes_max) return false;
    for (name) |c| if (!std.ascii.isAlphanumeric(c) and c != '_' and c != '-') return false;
    return true;
}

/// Adds the elements (`exclusive`: EEXIST when a key is there already).
pub fn add(elements: Elements, exclusive: bool) sys.Error!void {
    try call(elements, NFT_MSG_NEWSETELEM, NLM_F_CREATE | (if (exclusive) NLM_F_EXCL else 0));
}

/// Deletes the elements; gone already (ENOENT) is success.
pub fn delete(elements: Elements) sys.Error!void {
    call(elements, NFT_MSG_DELSETELEM, 0) catch |err| switch (err) {
        error.NOENT => {},
        else => return err,
    };
}

var batch_buffer: [batch_bytes_max]u8 align(4) = undefined;

fn call(elements: Elements, kind: u16, flags: u16) sys.Error!void {
    const per_element = elements.key_words + elements.data_words;
    assert(per_element > 0 and elements.words.count() % per_element == 0); // The decoder checked it.
    var batch = Batch{ .buffer = &batch_buffer };
    batch.message(NFNL_MSG_BATCH_BEGIN, 0, 0, 1);
    batch.message((NFNL_SUBSYS_NFTABLES << 8) | kind, NLM_F_ACK | flags, @intCast(elements.family), 2);
    batch.attr_name(NFTA_SET_ELEM_LIST_TABLE, elements.table);
    batch.attr_name(NFTA_SET_ELEM_LIST_SET, elements.set);
    const list = batch.nest_begin(NFTA_SET_ELEM_LIST_ELEMENTS);
    var index: usize = 0;
    while (index < elements.words.count()) : (index += @intCast(per_element)) {
        const element = batch.nest_begin(NFTA_LIST_ELEM);
        batch.value(NFTA_SET_ELEM_KEY, elements.words, index, @intCast(elements.key_words));
        if (elements.data_words > 0 and kind == NFT_MSG_NEWSETELEM) {
            batch.value(NFTA_SET_ELEM_DATA, elements.words, index + @as(usize, @intCast(elements.key_words)), @intCast(elements.data_words));
        }
        batch.nest_end(element);
    }
    batch.nest_end(list);
    batch.message_end();
    batch.message(NFNL_MSG_BATCH_END, 0, 0, 3);
    batch.message_end();
    // The element message asked for an ACK: NLMSG_ERROR with error 0, or the errno.
    try netlink.request(netlink.NETLINK_NETFILTER, batch.buffer[0..batch.len]);
}

/// NFNL messages, one after the other in one buffer; each with the nfgenmsg after its header.
const Batch = struct {
    buffer: *[batch_bytes_max]u8,
    len: usize = 0,
    /// Where the open message begins.
    start: usize = 0,

    fn message(b: *Batch, kind: u16, flags: u16, family: u8, sequence: u32) void {
        assert(b.len % 4 == 0 and b.len + header_bytes <= b.buffer.len);
        b.start = b.len;
        const h = b.buffer[b.len..][0..header_bytes];
        std.mem.writeInt(u32, h[0..4], header_bytes, .little);
        std.mem.writeInt(u16, h[4..6], kind, .little);
        std.mem.writeInt(u16, h[6..8], flags | NLM_F_REQUEST, .little);
        std.mem.writeInt(u32, h[8..12], sequence, .little);
        std.mem.writeInt(u32, h[12..16], 0, .little);
        h[16] = family;
        h[17] = 0; // NFNETLINK_V0
        // res_id: the subsystem for the batch messages, 0 for the one inside.
        const res_id: u16 = if (kind == NFNL_MSG_BATCH_BEGIN or kind == NFNL_MSG_BATCH_END) NFNL_SUBSYS_NFTABLES else 0;
        std.mem.writeInt(u16, h[18..20], res_id, .big);
        b.len += header_bytes;
    }

    fn message_end(b: *Batch) void {
        std.mem.writeInt(u32, b.buffer[b.start..][0..4], @intCast(b.len - b.start), .little);
    }

    fn attr_head(b: *Batch, kind: u16, data_len: usize) void {
        assert(b.len % 4 == 0 and b.len + 4 + data_len + 3 <= b.buffer.len);
        std.mem.writeInt(u16, b.buffer[b.len..][0..2], @intCast(4 + data_len), .little);
        std.mem.writeInt(u16, b.buffer[b.len..][2..4], kind, .little);
        b.len += 4;
    }

    fn attr_name(b: *Batch, kind: u16, name: []const u8) void {
        assert(name.len <= name_bytes_max);
        b.attr_head(kind, name.len + 1);
        @memcpy(b.buffer[b.len..][0..name.len], name);
        b.buffer[b.len + name.len] = 0;
        b.len += name.len + 1;
        b.pad();
    }

    fn pad(b: *Batch) void {
        while (b.len % 4 != 0) : (b.len += 1) b.buffer[b.len] = 0;
    }

    fn nest_begin(b: *Batch, kind: u16) usize {
        const at = b.len;
        b.attr_head(kind | NLA_F_NESTED, 0);
        return at;
    }

    fn nest_end(b: *Batch, at: usize) void {
        std.mem.writeInt(u16, b.buffer[at..][0..2], @intCast(b.len - at), .little);
    }

    /// A KEY or DATA nest holding one VALUE: `count` words from `first`, each big-endian.
    fn value(b: *Batch, kind: u16, words: protocol.U64s, first: usize, count: usize) void {
        assert(count > 0 and count <= element_words_max);
        const nest = b.nest_begin(kind);
        b.attr_head(NFTA_DATA_VALUE, count * 4);
        for (0..count) |i| {
            const word = words.get(first + i);
            assert(word <= std.math.maxInt(u32)); // The decoder checked it.
            std.mem.writeInt(u32, b.buffer[b.len..][0..4], @intCast(word), .big);
            b.len += 4;
        }
        b.nest_end(nest);
    }
};

test "names the kernel takes" {
    try std.testing.expect(valid_name("husk"));
    try std.testing.expect(valid_name("ports_ip"));
    try std.testing.expect(!valid_name(""));
    try std.testing.expect(!valid_name("a b"));
    try std.testing.expect(!valid_name("a\x00"));
}

test "a batch of one element: begin, NEWSETELEM with table, set, key and data, end" {
    var raw = [_]u8{0} ** 32;
    for ([_]u64{ 0x06000000, 0x1f900000, 0x0a580005, 0x00500000 }, 0..) |word, i| std.mem.writeInt(u64, raw[i * 8 ..][0..8], word, .little);
    var batch = Batch{ .buffer = &batch_buffer };
    batch.message(NFNL_MSG_BATCH_BEGIN, 0, 0, 1);
    batch.message_end();
    try std.testing.expectEqual(@as(usize, 20), batch.len);
    try std.testing.expectEqualSlices(u8, &.{ 0, 10 }, batch.buffer[18..20]);
    batch.message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, NLM_F_ACK, 1, 2);
    const words = protocol.U64s{ .bytes = &raw };
    batch.value(NFTA_SET_ELEM_KEY, words, 0, 2);
    // KEY nest (4) + VALUE head (4) + 8 bytes: tcp . 8080 as nft writes it.
    try std.testing.expectEqualSlices(u8, &.{ 16, 0, 1, 0x80, 12, 0, 1, 0, 6, 0, 0, 0, 0x1f, 0x90, 0, 0 }, batch.buffer[40..56]);
}
