//! Network ops (protocol.md "Networks"): rtnetlink spoken by the launcher itself, so a
//! container on a bridge costs a few netlink round trips instead of `ip` processes.
//! NET_BRIDGE, NET_LINK_DEL and NET_SYSCTL are control ops (network create and rm);
//! NET_VETH is a parent op (the monitor makes the pair with its peer straight in the
//! container's network namespace); NET_LINK_UP, NET_ADDR and NET_ROUTE run in the
//! container process, in its own network namespace.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const netlink = @import("netlink.zig");
const Op = @import("protocol.zig").Op;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_PID: u16 = 19;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_NODAD: u32 = 0x02;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IFF_UP: u32 = 1;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RTN_UNICAST: u8 = 1;

/// NET_ADDR flags: bit 0 no duplicate address detection (IPv6: no multi-second wait).
pub const addr_flag_nodad: u64 = 1 << 0;
pub const addr_flags_known: u64 = addr_flag_nodad;
/// IFNAMSIZ minus the NUL.
pub const ifname_bytes_max = 15;

pub const Ip4 = struct { bytes: [4]u8, prefix: u8 };

/// An address of either family (a dual-stack network: docs/networks.md "IPv6"): the first
/// 4 or 16 bytes of `bytes`, and a prefix when it came with one.
pub const Ip = struct {
    family: u8,
    bytes: [16]u8 = [_]u8{0} ** 16,
    prefix: u8 = 0,

    pub fn address(ip: *const Ip) []const u8 {
        assert(ip.family == AF_INET or ip.family == AF_INET6);
        return ip.bytes[0..if (ip.family == AF_INET) 4 else 16];
    }
};

/// `A.B.C.D` or an IPv6 address (eight groups, one `::`; no zone, no embedded IPv4).
pub fn parse_ip(text: []const u8) ?Ip {
    if (std.mem.indexOfScalar(u8, text, ':') == null) {
        var ip = Ip{ .family = AF_INET };
        ip.bytes[0..4].* = parse_ip4(text) orelse return null;
        return ip;
    }
    return .{ .family = AF_INET6, .bytes = parse_ip6(text) orelse return null };
}

/// `ADDRESS/N` of either family (N up to 32 or 128).
pub fn parse_cidr_any(text: []const u8) ?Ip {
    const slash = std.mem.indexOfScalar(u8, text, '/') orelse return null;
    var ip = parse_ip(text[0..slash]) orelse return null;
    const digits = text[slash + 1 ..];
    if (digits.len == 0 or digits.len > 3 or (digits.len > 1 and digits[0] == '0')) return null;
    ip.prefix = std.fmt.parseInt(u8, digits, 10) catch return null;
    if (ip.prefix > @as(u8, if (ip.family == AF_INET) 32 else 128)) return null;
    return ip;
}

pub fn parse_ip6(text: []const u8) ?[16]u8 {
    if (text.len < 2 or text.len > 39) return null;
    var head: [8]u16 = undefined;
    var tail: [8]u16 = undefined;
    var head_len: usize = 0;
    var tail_len: usize = 0;
    if (std.mem.indexOf(u8, text, "::")) |gap| {
        if (std.mem.indexOfPos(u8, text, gap + 1, "::") != null) return null;
        head_len = parse_groups(text[0..gap], &head) orelse return null;
        tail_len = parse_groups(text[gap + 2 ..], &tail) orelse return null;
        if (head_len + tail_len > 7) return null; // `::` stands for one zero group at least.
    } else {
        head_len = parse_groups(text, &head) orelse return null;
        if (head_len != 8) return null;
    }
    var groups = [_]u16{0} ** 8;
    @memcpy(groups[0..head_len], head[0..head_len]);
    @memcpy(groups[8 - tail_len ..], tail[0..tail_len]);
    var bytes: [16]u8 = undefined;
    for (groups, 0..) |group, i| std.mem.writeInt(u16, bytes[i * 2 ..][0..2], group, .big);
    return bytes;
}

/// Colon-separated groups of 1 to 4 hex digits (none for empty text); their count.
fn parse_groups(text: []const u8, out: *[8]u16) ?usize {
    if (text.len == 0) return 0;
    var count: usize = 0;
    var parts = std.mem.splitScalar(u8, text, ':');
    while (parts.next()) |part| : (count += 1) {
        if (count == 8 or part.len == 0 or part.len > 4) return null;
        out[count] = std.fmt.parseInt(u16, part, 16) catch return null;
    }
    assert(count <= 8);
    return count;
}

/// `A.B.C.D/N` (N 0 to 32), as the core writes an address with its prefix.
pub fn parse_cidr(text: []const u8) ?Ip4 {
    const slash = std.mem.indexOfScalar(u8, text, '/') orelse return null;
    const bytes = parse_ip4(text[0..slash]) orelse return null;
    const prefix = std.fmt.parseInt(u8, text[slash + 1 ..], 10) catch return null;
    if (prefix > 32 or text.len - slash > 3) return null;
    return .{ .bytes = bytes, .prefix = prefix };
}

/// `A.B.C.D`, each part 0 to 255 in decimal without leading zeros.
pub fn parse_ip4(text: []const u8) ?[4]u8 {
    var bytes: [4]u8 = undefined;
    var parts = std.mem.splitScalar(u8, text, '.');
    var count: usize = 0;
    while (parts.next()) |part| : (count += 1) {
        if (count == 4 or part.len == 0 or part.len > 3) return null;
        if (part.len > 1 and part[0] == '0') return null;
        bytes[count] = std.fmt.parseInt(u8, part, 10) catch return null;
    }
    return if (count == 4) bytes else null;
}

/// `xx:xx:xx:xx:xx:xx`, lowercase or uppercase hex.
pub fn parse_mac(text: []const u8) ?[6]u8 {
    if (text.len != 17) return null;
    var mac: [6]u8 = undefined;
    for (&mac, 0..) |*byte, i| {
        if (i > 0 and text[i * 3 - 1] != ':') return null;
        byte.* = std.fmt.parseInt(u8, text[i * 3 ..][0..2], 16) catch return null;
    }
    return mac;
}

/// A name the kernel takes for a link: 1 to 15 bytes, no `/`, `:` or whitespace, not `.`/`..`.
pub fn valid_ifname(name: []const u8) bool {
    if (name.len == 0 or name.len > ifname_bytes_max) return false;
    if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) return false;
    for (name) |c| if (c == '/' or c == ':' or c <= ' ' or c == 0x7f) return false;
    return true;
}

/// One rtnetlink request, built in place: the header, a fixed struct, attributes (nests
/// are begun and ended around their attributes). 1 KiB bounds every message husk sends.
const Message = struct {
    buffer: [1024]u8 align(4) = undefined,
    len: usize = 0,

    fn init(kind: u16, flags: u16) Message {
        var m = Message{};
        m.len = 16;
        std.mem.writeInt(u16, m.buffer[4..6], kind, .little);
        std.mem.writeInt(u16, m.buffer[6..8], flags | NLM_F_REQUEST | NLM_F_ACK, .little);
        std.mem.writeInt(u32, m.buffer[8..12], 1, .little); // sequence
        std.mem.writeInt(u32, m.buffer[12..16], 0, .little); // the kernel fills our port
        return m;
    }

    fn bytes(m: *Message, data: []const u8) void {
        assert(m.len + data.len <= m.buffer.len);
        @memcpy(m.buffer[m.len..][0..data.len], data);
        m.len += data.len;
        while (m.len % 4 != 0) : (m.len += 1) m.buffer[m.len] = 0;
    }

    /// struct ifinfomsg: family, type 0, index, flags, change.
    fn ifinfo(m: *Message, index: u32, flags: u32) void {
        var raw = [_]u8{0} ** 16;
        raw[0] = AF_UNSPEC;
        std.mem.writeInt(u32, raw[4..8], index, .little);
        std.mem.writeInt(u32, raw[8..12], flags, .little);
        std.mem.writeInt(u32, raw[12..16], flags, .little); // change: the bits we set
        m.bytes(&raw);
    }

    fn attr(m: *Message, kind: u16, data: []const u8) void {
        var head: [4]u8 = undefined;
        std.mem.writeInt(u16, head[0..2], @intCast(4 + data.len), .little);
        std.mem.writeInt(u16, head[2..4], kind, .little);
        assert(m.len % 4 == 0);
        @memcpy(m.buffer[m.len..][0..4], &head);
        m.len += 4;
        m.bytes(data);
    }

    fn attr_str(m: *Message, kind: u16, text: []const u8) void {
        var with_nul: [64]u8 = undefined;
        assert(text.len < with_nul.len);
        @memcpy(with_nul[0..text.len], text);
        with_nul[text.len] = 0;
        m.attr(kind, with_nul[0 .. text.len + 1]);
    }

    fn attr_u32(m: *Message, kind: u16, value: u32) void {
        var raw: [4]u8 = undefined;
        std.mem.writeInt(u32, &raw, value, .little);
        m.attr(kind, &raw);
    }

    fn nest_begin(m: *Message, kind: u16) usize {
        const at = m.len;
        m.attr(kind, &.{});
        return at;
    }

    fn nest_end(m: *Message, at: usize) void {
        std.mem.writeInt(u16, m.buffer[at..][0..2], @intCast(m.len - at), .little);
    }

    /// Sends the message and reads the kernel's answer: 0 (ACK) or the errno it names.
    fn call(m: *Message) sys.Error!void {
        std.mem.writeInt(u32, m.buffer[0..4], @intCast(m.len), .little);
        try netlink.request(netlink.NETLINK_ROUTE, m.buffer[0..m.len]);
    }
};

/// The network ops of a container plan: NET_VETH (the monitor, with CLONE's pid), the
/// others in the container process.
pub fn run_op(op: Op, pid: sys.pid_t) sys.Error!void {
    switch (op) {
        .net_veth => |o| try veth(o.host, o.peer, o.bridge, o.mac, pid),
        .net_link_up => |o| try sys.interface_up(o.name),
        .net_addr => |o| try add(o.name, o.address, o.flags),
        .net_route => |o| try default_route(o.gateway, o.name),
        else => unreachable, // run.zig sends only these.
    }
}

/// NET_BRIDGE: the bridge `name` exists, is up and has `address` (each made if missing).
pub fn bridge(name: []const u8, address: []const u8) sys.Error!void {
    assert(valid_ifname(name));
    const cidr = parse_cidr_any(address) orelse unreachable; // The decoder checked it.
    var m = Message.init(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.ifinfo(0, IFF_UP);
    m.attr_str(IFLA_IFNAME, name);
    const info = m.nest_begin(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "bridge");
    m.nest_end(info);
    m.call() catch |err| switch (err) {
        error.EXIST => try sys.interface_up(name),
        else => return err,
    };
    // A gateway's IPv6 address is the bridge's own (the core gives it to no container): no
    // duplicate address detection, so it answers the containers at once, not seconds later.
    const flags: u64 = if (cidr.family == AF_INET6) addr_flag_nodad else 0;
    add_address(try sys.interface_index(name), cidr, flags) catch |err| switch (err) {
        error.EXIST => {},
        else => return err,
    };
}

/// NET_LINK_DEL: removes the link `name` (a veth takes its peer with it); gone is success.
pub fn link_delete(name: []const u8) sys.Error!void {
    assert(valid_ifname(name));
    var m = Message.init(RTM_DELLINK, 0);
    m.ifinfo(0, 0);
    m.attr_str(IFLA_IFNAME, name);
    m.call() catch |err| switch (err) {
        error.NODEV => {},
        else => return err,
    };
}

/// NET_VETH: a veth pair, `host` on the bridge and up, `peer` (with `mac`) made straight
/// in the network namespace of process `pid`, so it never appears in the host's.
/// A host end of that name left by this container's last run (`husk start` again, its old
/// namespace still being torn down by the kernel) is deleted first: the name is this
/// container's own (`husk-` and its id).
pub fn veth(host: []const u8, peer: []const u8, bridge_name: []const u8, mac_text: []const u8, pid: sys.pid_t) sys.Error!void {
    assert(pid > 0);
    veth_into(host, peer, bridge_name, mac_text, .{ .pid = pid }) catch |err| switch (err) {
        error.EXIST => {
            try link_delete(host);
            try veth_into(host, peer, bridge_name, mac_text, .{ .pid = pid });
        },
        else => return err,
    };
}

/// Where a veth's peer is made: the namespace of a process, or one an fd names.
const PeerNamespace = union(enum) { pid: sys.pid_t, fd: sys.fd_t };

fn veth_into(host: []const u8, peer: []const u8, bridge_name: []const u8, mac_text: []const u8, namespace: PeerNamespace) sys.Error!void {
    assert(valid_ifname(host) and valid_ifname(peer));
    const mac = parse_mac(mac_text) orelse unreachable; // The decoder checked it.
    const master = try sys.interface_index(bridge_name);
    var m = Message.init(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.ifinfo(0, IFF_UP);
    m.attr_str(IFLA_IFNAME, host);
    m.attr_u32(IFLA_MASTER, master);
    const info = m.nest_begin(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "veth");
    const data = m.nest_begin(IFLA_INFO_DATA);
    const peer_info = m.nest_begin(VETH_INFO_PEER);
    m.ifinfo(0, 0);
    m.attr_str(IFLA_IFNAME, peer);
    switch (namespace) {
        .pid => |pid| m.attr_u32(IFLA_NET_NS_PID, @intCast(pid)),
        .fd => |fd| m.attr_u32(IFLA_NET_NS_FD, @intCast(fd)),
    }
    m.attr(IFLA_ADDRESS, &mac);
    m.nest_end(peer_info);
    m.nest_end(data);
    m.nest_end(info);
    try m.call();
}

/// NET_CONNECT's links: the pair, and the peer's address.
pub const Connect = struct { host: []const u8, peer: []const u8, bridge: []const u8, mac: []const u8, address: []const u8 };

/// NET_CONNECT (`network connect` of a running container): the pair with its peer made in
/// `namespace` (an nsfs fd); then, inside it, the peer up with its address; then back. No
/// route changes: the container keeps its default route. A failure takes the pair away.
pub fn connect(namespace: sys.fd_t, link: Connect) sys.Error!void {
    assert(namespace >= 0);
    const own = try sys.openat(sys.AT_FDCWD, "/proc/self/ns/net", sys.O.RDONLY | sys.O.CLOEXEC, 0);
    defer sys.close(own);
    try veth_into(link.host, link.peer, link.bridge, link.mac, .{ .fd = namespace });
    errdefer link_delete(link.host) catch {};
    try sys.setns(namespace, protocol_newnet);
    const inside = peer_up(link.peer, link.address);
    // Back in the launcher's own namespace before anything else runs (the ERROR, the deletion).
    sys.setns(own, protocol_newnet) catch unreachable; // Its own namespace, held open: always joinable.
    try inside;
}

const protocol_newnet: u64 = 0x40000000; // CLONE_NEWNET

fn peer_up(peer: []const u8, address: []const u8) sys.Error!void {
    try sys.interface_up(peer);
    try add(peer, address, 0);
}

/// NET_ADDR: `address` (A.B.C.D/N or IPv6/N) on interface `name` in the current namespace.
pub fn add(name: []const u8, text: []const u8, flags: u64) sys.Error!void {
    const cidr = parse_cidr_any(text) orelse unreachable; // The decoder checked it.
    try add_address(try sys.interface_index(name), cidr, flags);
}

fn add_address(index: u32, cidr: Ip, flags: u64) sys.Error!void {
    assert(index > 0);
    var m = Message.init(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    var head = [_]u8{ cidr.family, cidr.prefix, 0, RT_SCOPE_UNIVERSE, 0, 0, 0, 0 };
    std.mem.writeInt(u32, head[4..8], index, .little);
    m.bytes(&head);
    m.attr(IFA_LOCAL, cidr.address());
    m.attr(IFA_ADDRESS, cidr.address());
    if (cidr.family == AF_INET and cidr.prefix < 31) {
        m.attr(IFA_BROADCAST, &broadcast(.{ .bytes = cidr.bytes[0..4].*, .prefix = cidr.prefix }));
    }
    if (flags & addr_flag_nodad != 0) m.attr_u32(IFA_FLAGS, IFA_F_NODAD);
    try m.call();
}

fn broadcast(cidr: Ip4) [4]u8 {
    assert(cidr.prefix <= 32);
    const shift: u6 = @intCast(32 - @as(u32, cidr.prefix));
    const mask: u32 = @truncate(~@as(u64, 0) << shift);
    const value = std.mem.readInt(u32, &cidr.bytes, .big) | ~mask;
    var out: [4]u8 = undefined;
    std.mem.writeInt(u32, &out, value, .big);
    return out;
}

/// NET_ROUTE: the default route (of the gateway's family) via `gateway` on interface `name`.
pub fn default_route(gateway_text: []const u8, name: []const u8) sys.Error!void {
    const gateway = parse_ip(gateway_text) orelse unreachable; // The decoder checked it.
    const index = try sys.interface_index(name);
    var m = Message.init(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    var head = [_]u8{ gateway.family, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0, 0, 0, 0 };
    m.bytes(&head);
    m.attr(RTA_GATEWAY, gateway.address());
    m.attr_u32(RTA_OIF, index);
    try m.call();
}

/// NET_SYSCTL: writes `value` to /proc/sys/`key` (key: under `net/`, checked by the decoder).
pub fn sysctl(key: []const u8, value: []const u8) sys.Error!void {
    var path_buffer: [256]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "/proc/sys/{s}", .{key}) catch return error.NAMETOOLONG;
    const fd = try sys.openat(sys.AT_FDCWD, path, sys.O.WRONLY | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0);
    defer sys.close(fd);
    try sys.write_once(fd, value);
}

/// A sysctl key NET_SYSCTL may write: `net/` then clean components of [A-Za-z0-9_.-].
pub fn valid_sysctl_key(key: []const u8) bool {
    if (!std.mem.startsWith(u8, key, "net/") or key.len > 200) return false;
    var parts = std.mem.splitScalar(u8, key, '/');
    while (parts.next()) |part| {
        if (part.len == 0 or std.mem.eql(u8, part, ".") or std.mem.eql(u8, part, "..")) return false;
        for (part) |c| if (!std.ascii.isAlphanumeric(c) and c != '_' and c != '-' and c != '.') return false;
    }
    return true;
}

test "addresses, prefixes and MACs as the core writes them" {
    const a = parse_cidr("10.88.0.2/16").?;
    try std.testing.expectEqualSlices(u8, &.{ 10, 88, 0, 2 }, &a.bytes);
    try std.testing.expectEqual(@as(u8, 16), a.prefix);
    try std.testing.expectEqualSlices(u8, &.{ 10, 88, 255, 255 }, &broadcast(a));
    for ([_][]const u8{ "10.88.0.2", "10.88.0.2/33", "10.88.0/16", "10.088.0.1/8", "1.2.3.4.5/8", "a.b.c.d/1", "1.2.3.4/016" }) |bad| {
        try std.testing.expect(parse_cidr(bad) == null);
    }
    try std.testing.expectEqualSlices(u8, &.{ 2, 0x42, 10, 88, 0, 2 }, &parse_mac("02:42:0a:58:00:02").?);
    try std.testing.expect(parse_mac("02:42:0a:58:00") == null);
    try std.testing.expect(parse_mac("02-42-0a-58-00-02") == null);
    try std.testing.expect(valid_ifname("husk-0123456789"));
    try std.testing.expect(!valid_ifname("husk-01234567890"));
    try std.testing.expect(!valid_ifname("a/b"));
    try std.testing.expect(valid_sysctl_key("net/ipv4/ip_forward"));
    try std.testing.expect(valid_sysctl_key("net/ipv4/conf/husk0/route_localnet"));
    try std.testing.expect(!valid_sysctl_key("kernel/core_pattern"));
    try std.testing.expect(!valid_sysctl_key("net/../kernel/x"));
}

test "IPv6 addresses and prefixes as the core writes them; IPv4 through the same door" {
    const a = parse_cidr_any("fd68:7573:6b00:1::2/64").?;
    try std.testing.expectEqual(AF_INET6, a.family);
    try std.testing.expectEqual(@as(u8, 64), a.prefix);
    try std.testing.expectEqualSlices(u8, &.{ 0xfd, 0x68, 0x75, 0x73, 0x6b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 }, a.address());
    try std.testing.expectEqualSlices(u8, &([_]u8{0} ** 15 ++ [_]u8{1}), &parse_ip6("::1").?);
    try std.testing.expectEqualSlices(u8, &([_]u8{ 0xfe, 0x80 } ++ [_]u8{0} ** 14), &parse_ip6("fe80::").?);
    try std.testing.expectEqualSlices(u8, &.{ 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 }, &parse_ip6("1:2:3:4:5:6:7:8").?);
    const b = parse_cidr_any("10.88.0.2/16").?;
    try std.testing.expectEqual(AF_INET, b.family);
    try std.testing.expectEqualSlices(u8, &.{ 10, 88, 0, 2 }, b.address());
    for ([_][]const u8{ "fd00::1", "fd00::1/129", "fd00::1/064", "fd00:::1/64", "1::2::3/64", "1:2:3:4:5:6:7:8:9/64", "1:2:3:4:5:6:7::8/64", "fd00::g/64", "fd00::12345/64", "fd00::1%eth0/64", "::ffff:1.2.3.4/96" }) |bad| {
        try std.testing.expect(parse_cidr_any(bad) == null);
    }
}
