//! One netlink request and its ACK, shared by rtnetlink (net.zig) and nf_tables (nft.zig):
//! a socket of the protocol in the current network namespace, the bytes sent as one
//! datagram, and the kernel's first answer read as NLMSG_ERROR: error 0 is the ACK, a
//! negative error the errno it names. Every request husk sends asks for an ACK and nothing
//! else, so the first answer is the one that matters.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

pub const NETLINK_ROUTE = 0;
pub const NETLINK_NETFILTER = 12;
const NLMSG_ERROR: u16 = 2;
/// nlmsghdr (16) and nlmsgerr's error (4): the least an ACK holds.
const ack_bytes_min = 20;

/// Sends `bytes` (whole netlink messages, lengths filled in) on a new socket of `protocol`
/// and returns once the kernel acknowledged them, or the errno it answered with.
pub fn request(protocol: usize, bytes: []const u8) sys.Error!void {
    assert(bytes.len >= 16 and bytes.len % 4 == 0);
    assert(protocol == NETLINK_ROUTE or protocol == NETLINK_NETFILTER);
    const socket = try sys.netlink_socket(protocol);
    defer sys.close(socket);
    _ = try sys.send(socket, bytes);
    var answer: [1024]u8 align(4) = undefined;
    const n = try sys.recv(socket, &answer);
    return ack(answer[0..n]);
}

/// The kernel's answer to a request that asked for an ACK: success, or the errno it names.
fn ack(answer: []const u8) sys.Error!void {
    if (answer.len < ack_bytes_min or std.mem.readInt(u16, answer[4..6], .little) != NLMSG_ERROR) return error.PROTO;
    const code = std.mem.readInt(i32, answer[16..20], .little);
    if (code == 0) return;
    if (code > 0 or code < -4095) return error.PROTO;
    return sys.error_of_errno(@intCast(-code));
}

test "an ACK is success, an error names its errno, anything else is EPROTO" {
    var answer = [_]u8{0} ** 20;
    std.mem.writeInt(u16, answer[4..6], NLMSG_ERROR, .little);
    try ack(&answer);
    std.mem.writeInt(i32, answer[16..20], -17, .little);
    try std.testing.expectError(error.EXIST, ack(&answer));
    std.mem.writeInt(i32, answer[16..20], 5, .little);
    try std.testing.expectError(error.PROTO, ack(&answer));
    try std.testing.expectError(error.PROTO, ack(answer[0..19]));
    std.mem.writeInt(u16, answer[4..6], 3, .little); // NLMSG_DONE
    try std.testing.expectError(error.PROTO, ack(&answer));
}
