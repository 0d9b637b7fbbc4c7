//! husk-dns: the name responder of one user-defined network (docs/networks.md "Names"), as
//! podman's aardvark-dns. ts/ starts it when a container joins a network with names and
//! none serves it yet:
//!
//!   husk-dns --listen GATEWAY --records FILE --pidfile FILE [--upstream A.B.C.D]...
//!
//! It binds UDP GATEWAY:53 (the address is its lock: a second responder gets EADDRINUSE and
//! exits 3) and TCP GATEWAY:53 (dns_tcp.zig: one query a connection), forks, writes the serving child's pid to the pidfile and exits 0, so the
//! caller returns once names are served. The child answers from the records file (re-read
//! whenever it is replaced) and forwards other names to the upstreams, one at a time in
//! order. It stops by itself once the records file is gone (ts/ removes it when the
//! network's last container ends; after 2 s without them): it removes its pidfile, unbinds,
//! and looks once more,
//! so a container that joined in between is served, by it again or by a new responder.
//! Single-threaded, no allocation: every buffer and table has a fixed size.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const net = @import("net.zig");
const message = @import("dns_message.zig");
const tcp = @import("dns_tcp.zig");

const upstreams_max = 4;
const pending_max = 64;
const query_bytes_max = 1232;
const records_bytes_max = 1 << 20;
const forward_timeout_ns = 2 * std.time.ns_per_s;
/// How often the records file is looked at when no query comes.
const poll_interval_ms = 200;
const dns_port = 53;

const exit_serving = 0;
const exit_failed = 1;
const exit_usage = 2;
const exit_already_served = 3;

const Options = struct {
    listen: [4]u8 = undefined,
    records: [*:0]const u8 = undefined,
    pidfile: [*:0]const u8 = undefined,
    upstreams: [upstreams_max][4]u8 = undefined,
    upstream_count: usize = 0,
};

/// A query sent upstream and not yet answered: the reply goes back to `client`.
const Pending = struct {
    fd: sys.fd_t = -1,
    client: sys.SockaddrIn = undefined,
    deadline_ns: u64 = 0,
    /// Where this query goes: the network's upstreams, or the client's own (--dns).
    upstreams: [upstreams_max][4]u8 = undefined,
    upstream_count: usize = 0,
    upstream: usize = 0,
    query: [query_bytes_max]u8 = undefined,
    query_len: usize = 0,
    /// A query that came over TCP: the answer goes back on this connection (then closed).
    tcp_fd: sys.fd_t = -1,
};

/// Where a query came from, and so where its answer goes.
const Asker = struct { client: sys.SockaddrIn, tcp_fd: sys.fd_t = -1 };

const Server = struct {
    options: Options,
    socket: sys.fd_t,
    /// TCP GATEWAY:53 (-1 when it could not be bound: UDP is still served) and its connections.
    tcp_listener: sys.fd_t = -1,
    connections: [tcp.connections_max]tcp.Connection = [_]tcp.Connection{.{}} ** tcp.connections_max,
    records: []const u8 = &.{},
    version: ?sys.FileVersion = null,
    pending: [pending_max]Pending = [_]Pending{.{}} ** pending_max,
};

var records_buffer: [records_bytes_max]u8 = undefined;
/// The records one client is answered from: the network's own, then the other networks'
/// (the files beside it) that hold its `#ID`: a container connected to more networks finds
/// their names through its first network's responder, as aardvark-dns answers per client.
var view_buffer: [records_bytes_max]u8 = undefined;
var server: Server = undefined;

pub fn main() u8 {
    const options = parse_arguments(std.os.argv[1..]) orelse {
        say("usage: husk-dns --listen A.B.C.D --records FILE --pidfile FILE [--upstream A.B.C.D]...", .{});
        return exit_usage;
    };
    const socket = bind_listen(options.listen) catch |err| {
        if (err == error.ADDRINUSE) return exit_already_served;
        say("husk-dns: cannot listen on {d}.{d}.{d}.{d}:53: {s}", .{ options.listen[0], options.listen[1], options.listen[2], options.listen[3], @errorName(err) });
        return exit_failed;
    };
    drop_privileges() catch |err| {
        say("husk-dns: cannot drop privileges: {s}", .{@errorName(err)});
        return exit_failed;
    };
    const child = sys.fork() catch |err| {
        say("husk-dns: fork: {s}", .{@errorName(err)});
        return exit_failed;
    };
    if (child != 0) {
        write_pidfile(options.pidfile, child) catch |err| {
            say("husk-dns: pidfile: {s}", .{@errorName(err)});
            return exit_failed;
        };
        return exit_serving;
    }
    detach();
    message.link_alive = &link_exists;
    server = .{ .options = options, .socket = socket, .tcp_listener = tcp.listen(options.listen, dns_port) catch -1 };
    serve(&server);
    return exit_serving;
}

/// The user that serves once the address is bound: nobody, keeping only
/// CAP_NET_BIND_SERVICE (to bind port 53 again when the records come back, stop_or_continue).
/// It reads the records (0644, in a directory all may read) and writes its pidfile in a
/// directory ts/ gives to nobody; it never needs root again. Run by a user, it stays that user.
const nobody: u32 = 65534;
const cap_net_bind_service: u6 = 10;

fn drop_privileges() sys.Error!void {
    if (sys.getuid() != 0) return;
    try sys.setgroups(&.{});
    _ = try sys.prctl(sys.PR_SET_KEEPCAPS, 1, 0);
    try sys.setresgid(nobody);
    try sys.setresuid(nobody);
    _ = try sys.prctl(sys.PR_SET_KEEPCAPS, 0, 0);
    const keep = @as(u64, 1) << cap_net_bind_service;
    try sys.capset(keep, keep, 0);
    assert(sys.getuid() == nobody);
}

/// A link of the host's network namespace (where husk-dns runs): /sys/class/net/NAME.
fn link_exists(name: []const u8) bool {
    if (!net.valid_ifname(name)) return false;
    var buffer: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buffer, "/sys/class/net/{s}", .{name}) catch return false;
    _ = sys.file_version(path) catch |err| return err != error.NOENT;
    return true;
}

fn say(comptime format: []const u8, args: anytype) void {
    var buffer: [256]u8 = undefined;
    const line = std.fmt.bufPrint(&buffer, format ++ "\n", args) catch return;
    _ = sys.write(2, line) catch {};
}

fn parse_arguments(arguments: []const [*:0]const u8) ?Options {
    var options = Options{};
    var seen: u8 = 0;
    var index: usize = 0;
    while (index + 1 < arguments.len) : (index += 2) {
        const flag = std.mem.span(arguments[index]);
        const value = arguments[index + 1];
        if (std.mem.eql(u8, flag, "--listen")) {
            options.listen = net.parse_ip4(std.mem.span(value)) orelse return null;
            seen |= 1;
        } else if (std.mem.eql(u8, flag, "--records")) {
            options.records = value;
            seen |= 2;
        } else if (std.mem.eql(u8, flag, "--pidfile")) {
            options.pidfile = value;
            seen |= 4;
        } else if (std.mem.eql(u8, flag, "--upstream")) {
            if (options.upstream_count == upstreams_max) return null;
            options.upstreams[options.upstream_count] = net.parse_ip4(std.mem.span(value)) orelse return null;
            options.upstream_count += 1;
        } else return null;
    }
    if (index != arguments.len or seen != 7) return null;
    assert(options.upstream_count <= upstreams_max);
    return options;
}

fn bind_listen(address: [4]u8) sys.Error!sys.fd_t {
    const fd = try sys.udp_socket();
    errdefer sys.close(fd);
    try sys.bind_in(fd, &sys.SockaddrIn.of(address, dns_port));
    return fd;
}

/// `PID\n`, written aside and renamed over the pidfile: a reader sees a whole one or none.
fn write_pidfile(path: [*:0]const u8, pid: sys.pid_t) sys.Error!void {
    var aside_buffer: [4096]u8 = undefined;
    const aside = std.fmt.bufPrintZ(&aside_buffer, "{s}.{d}.tmp", .{ path, pid }) catch return error.NAMETOOLONG;
    const fd = try sys.openat(sys.AT_FDCWD, aside.ptr, sys.O.WRONLY | sys.O.CREAT | sys.O.TRUNC | sys.O.CLOEXEC, 0o644);
    var text_buffer: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&text_buffer, "{d}\n", .{pid}) catch unreachable;
    sys.write_once(fd, text) catch |err| {
        sys.close(fd);
        return err;
    };
    sys.close(fd);
    try sys.renameat(sys.AT_FDCWD, aside.ptr, sys.AT_FDCWD, path);
}

/// The serving child: a session of its own, stdio on /dev/null (the caller waits for its
/// pipes to close), cwd `/`.
fn detach() void {
    sys.setsid() catch {};
    sys.chdir("/") catch {};
    const null_fd = sys.openat(sys.AT_FDCWD, "/dev/null", sys.O.RDWR, 0) catch return;
    for ([_]sys.fd_t{ 0, 1, 2 }) |fd| sys.dup_to(null_fd, fd) catch {};
    if (null_fd > 2) sys.close(null_fd);
}

fn serve(s: *Server) void {
    var fds: [2 + pending_max + tcp.connections_max]sys.PollFd = undefined;
    while (true) {
        var count: usize = 2;
        fds[0] = .{ .fd = s.socket, .events = sys.POLLIN, .revents = 0 };
        // A negative fd is skipped by poll(2): no TCP listener, no events.
        fds[1] = .{ .fd = s.tcp_listener, .events = sys.POLLIN, .revents = 0 };
        for (&s.pending) |*p| {
            if (p.fd < 0) continue;
            fds[count] = .{ .fd = p.fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        for (&s.connections) |*c| {
            if (c.fd < 0) continue;
            fds[count] = .{ .fd = c.fd, .events = sys.POLLIN, .revents = 0 };
            count += 1;
        }
        assert(count <= fds.len);
        _ = sys.poll_timeout(fds[0..count], poll_interval_ms) catch continue;
        // After the wait, before any answer: a query right after a change sees the new records.
        if (!reload(s)) {
            if (lingered(s)) continue;
            if (stop_or_continue(s)) return;
            continue;
        }
        if (fds[0].revents != 0) receive_queries(s);
        if (fds[1].revents != 0) tcp.accept_all(s.tcp_listener, &s.connections, sys.monotonic_ns());
        for (fds[2..count]) |fd| if (fd.revents != 0) {
            relay_answer(s, fd.fd);
            receive_tcp(s, fd.fd);
        };
        expire(s, sys.monotonic_ns());
    }
}

/// Reads the records again when the file was replaced; false when it is gone.
fn reload(s: *Server) bool {
    const version = sys.file_version(s.options.records) catch return false;
    if (s.version) |held| {
        if (held.inode == version.inode and held.size == version.size and held.mtime_ns == version.mtime_ns) return true;
    }
    const fd = sys.openat(sys.AT_FDCWD, s.options.records, sys.O.RDONLY | sys.O.CLOEXEC, 0) catch return false;
    defer sys.close(fd);
    var length: usize = 0;
    while (length < records_buffer.len) {
        const got = sys.read(fd, records_buffer[length..]) catch return true; // Keep the last good ones.
        if (got == 0) break;
        length += got;
    }
    assert(length <= records_buffer.len);
    s.records = records_buffer[0..length];
    s.version = version;
    return true;
}

/// The records are gone: the network's last container ended. Waits up to 2 s for them to
/// come back before stopping, so containers run one after another on a network (each the
/// only one while it runs) share one responder instead of starting one each. True when they
/// came back (and were read).
const linger_ns = 2 * std.time.ns_per_s;
const linger_step_ns = 50 * std.time.ns_per_ms;

fn lingered(s: *Server) bool {
    const deadline = sys.monotonic_ns() + linger_ns;
    // Each round is one stat; the deadline bounds the rounds.
    while (sys.monotonic_ns() < deadline) {
        sys.sleep_ns(linger_step_ns);
        if (reload(s)) return true;
    }
    return false;
}

/// The records are gone: stop, unless they came back once the address was let go (then
/// serve again, or leave it to the responder that took the address meanwhile).
fn stop_or_continue(s: *Server) bool {
    sys.unlinkat(sys.AT_FDCWD, s.options.pidfile) catch {};
    sys.close(s.socket);
    if (s.tcp_listener >= 0) sys.close(s.tcp_listener);
    s.tcp_listener = -1;
    for (&s.pending) |*p| finish(p);
    for (&s.connections) |*c| tcp.close(c);
    if (sys.file_version(s.options.records)) |_| {
        s.socket = bind_listen(s.options.listen) catch return true;
        s.tcp_listener = tcp.listen(s.options.listen, dns_port) catch -1;
        write_pidfile(s.options.pidfile, sys.getpid()) catch {};
        s.version = null;
        _ = reload(s);
        return false;
    } else |_| return true;
}

fn receive_queries(s: *Server) void {
    var buffer: [query_bytes_max]u8 = undefined;
    var reply: [message.reply_bytes_max]u8 = undefined;
    // At most a bounded batch per wake-up, so pending answers are relayed too.
    for (0..64) |_| {
        var client: sys.SockaddrIn = undefined;
        const length = sys.recvfrom_in(s.socket, &buffer, &client) catch return;
        answer(s, buffer[0..length], .{ .client = client }, &reply);
    }
}

/// Answers one query from the records, or forwards it; the answer goes back the way it came.
fn answer(s: *Server, query: []const u8, asker: Asker, reply: *[message.reply_bytes_max]u8) void {
    const records = client_view(s, asker.client.address);
    var route: Route = .{};
    route.count = message.find_forwarders(records, asker.client.address, &route.upstreams);
    if (route.count == 0) {
        route.upstreams = s.options.upstreams;
        route.count = s.options.upstream_count;
    }
    switch (message.respond(query, records, route.count > 0, reply)) {
        .reply => |reply_len| send_back(s, asker, reply[0..reply_len]),
        .forward => forward(s, query, asker, &route),
    }
}

/// An answer to its asker: a datagram, or on its TCP connection (which then closes).
fn send_back(s: *Server, asker: Asker, reply: []const u8) void {
    if (asker.tcp_fd >= 0) {
        if (reply.len > 0) tcp.reply_and_close(asker.tcp_fd, reply) else sys.close(asker.tcp_fd);
        return;
    }
    if (reply.len > 0) _ = sys.sendto_in(s.socket, reply, &asker.client) catch {};
}

/// A TCP connection became readable: once its query is whole it leaves the table (its fd now
/// the answer's, or a pending upstream's) and is answered.
fn receive_tcp(s: *Server, fd: sys.fd_t) void {
    for (&s.connections) |*c| {
        if (c.fd != fd) continue;
        if (!tcp.receive(c)) return tcp.close(c);
        const query = c.query() orelse return;
        var held: [tcp.query_bytes_max]u8 = undefined;
        @memcpy(held[0..query.len], query);
        const asker = Asker{ .client = c.client, .tcp_fd = c.fd };
        c.* = .{}; // The fd goes with the asker.
        var reply: [message.reply_bytes_max]u8 = undefined;
        answer(s, held[0..query.len], asker, &reply);
        return;
    }
}

/// The records `client` is answered from (view_buffer above); only the network's own when
/// the client has no `#ID` line or no other network holds it.
fn client_view(s: *Server, client: [4]u8) []const u8 {
    const id = message.find_id(s.records, client) orelse return s.records;
    const path = std.mem.span(s.options.records);
    const slash = std.mem.lastIndexOfScalar(u8, path, '/') orelse return s.records;
    var dir_buffer: [4096]u8 = undefined;
    const dir_path = std.fmt.bufPrintZ(&dir_buffer, "{s}", .{path[0..@max(slash, 1)]}) catch return s.records;
    const dir = sys.openat(sys.AT_FDCWD, dir_path, sys.O.RDONLY | sys.O.DIRECTORY | sys.O.CLOEXEC, 0) catch return s.records;
    defer sys.close(dir);
    @memcpy(view_buffer[0..s.records.len], s.records);
    var length = s.records.len;
    var entries: [4096]u8 align(8) = undefined;
    // Bounded: at most 64 reads of the directory, each a batch of entries.
    for (0..64) |_| {
        const n = sys.getdents64(dir, &entries) catch break;
        if (n == 0) break;
        var offset: usize = 0;
        while (offset + 19 < n) {
            const record_len = std.mem.readInt(u16, entries[offset + 16 ..][0..2], .little);
            if (record_len < 20 or offset + record_len > n) break; // Never from a kernel.
            const name = std.mem.sliceTo(entries[offset + 19 .. offset + record_len], 0);
            offset += record_len;
            if (name.len < 5 or name[0] == '.' or !std.mem.endsWith(u8, name, ".dns")) continue;
            if (std.mem.eql(u8, name, path[slash + 1 ..])) continue; // its own
            length = append_if_held(dir, name, id, length);
        }
    }
    assert(length <= view_buffer.len);
    return view_buffer[0..length];
}

/// Appends the records file `name` (in `dir`) to the view when it holds `id`; the new length.
fn append_if_held(dir: sys.fd_t, name: []const u8, id: []const u8, length: usize) usize {
    var name_buffer: [256]u8 = undefined;
    const name_z = std.fmt.bufPrintZ(&name_buffer, "{s}", .{name}) catch return length;
    const fd = sys.openat(dir, name_z, sys.O.RDONLY | sys.O.NOFOLLOW | sys.O.CLOEXEC, 0) catch return length;
    defer sys.close(fd);
    var end = length;
    if (end > 0 and view_buffer[end - 1] != '\n' and end < view_buffer.len) {
        view_buffer[end] = '\n';
        end += 1;
    }
    const start = end;
    while (end < view_buffer.len) {
        const got = sys.read(fd, view_buffer[end..]) catch return length;
        if (got == 0) break;
        end += got;
    }
    return if (message.holds_id(view_buffer[start..end], id)) end else length;
}

/// The resolvers one client's queries are forwarded to.
const Route = struct { upstreams: [upstreams_max][4]u8 = undefined, count: usize = 0 };

/// Sends the query to the first upstream that takes it; with none, or no free slot, the
/// client hears SERVFAIL (its resolver tries again or the next server).
fn forward(s: *Server, query: []const u8, asker: Asker, route: *const Route) void {
    assert(query.len <= query_bytes_max);
    assert(route.count <= upstreams_max);
    for (&s.pending) |*p| {
        if (p.fd >= 0) continue;
        p.client = asker.client;
        p.tcp_fd = asker.tcp_fd;
        p.upstreams = route.upstreams;
        p.upstream_count = route.count;
        @memcpy(p.query[0..query.len], query);
        p.query_len = query.len;
        if (send_upstream(p, 0)) return;
        p.tcp_fd = -1; // Not pending after all: fail_client below answers and closes it.
        break;
    }
    fail_client(s, query, asker);
}

/// Tries upstreams from `first` on; false when none could be sent to.
fn send_upstream(p: *Pending, first: usize) bool {
    assert(p.fd < 0);
    var index = first;
    while (index < p.upstream_count) : (index += 1) {
        const fd = sys.udp_socket() catch return false;
        const to = sys.SockaddrIn.of(p.upstreams[index], dns_port);
        sys.connect_in(fd, &to) catch {
            sys.close(fd);
            continue;
        };
        _ = sys.send(fd, p.query[0..p.query_len]) catch {
            sys.close(fd);
            continue;
        };
        p.fd = fd;
        p.upstream = index;
        p.deadline_ns = sys.monotonic_ns() + forward_timeout_ns;
        return true;
    }
    return false;
}

fn fail_client(s: *Server, query: []const u8, asker: Asker) void {
    var reply: [message.reply_bytes_max]u8 = undefined;
    if (query.len < message.header_bytes) return send_back(s, asker, &.{});
    @memcpy(reply[0..message.header_bytes], query[0..message.header_bytes]);
    const flags = std.mem.readInt(u16, query[2..4], .big);
    std.mem.writeInt(u16, reply[2..4], 0x8000 | (flags & 0x7900) | 0x0080 | 2, .big);
    @memset(reply[4..message.header_bytes], 0);
    send_back(s, asker, reply[0..message.header_bytes]);
}

fn relay_answer(s: *Server, fd: sys.fd_t) void {
    for (&s.pending) |*p| {
        if (p.fd != fd) continue;
        var buffer: [4096]u8 = undefined;
        const length = sys.recv(fd, &buffer) catch |err| {
            // ECONNREFUSED: nothing listens there; try the next upstream.
            if (err == error.AGAIN) return;
            next_upstream(s, p);
            return;
        };
        send_back(s, .{ .client = p.client, .tcp_fd = p.tcp_fd }, buffer[0..length]);
        p.tcp_fd = -1; // Closed by send_back.
        finish(p);
        return;
    }
}

fn next_upstream(s: *Server, p: *Pending) void {
    const next = p.upstream + 1;
    sys.close(p.fd);
    p.fd = -1;
    if (!send_upstream(p, next)) {
        fail_client(s, p.query[0..p.query_len], .{ .client = p.client, .tcp_fd = p.tcp_fd });
        p.tcp_fd = -1; // Closed by fail_client.
        finish(p);
    }
}

fn expire(s: *Server, now_ns: u64) void {
    for (&s.pending) |*p| {
        if (p.fd >= 0 and now_ns >= p.deadline_ns) next_upstream(s, p);
    }
    // A TCP client that sent no whole query in time.
    for (&s.connections) |*c| {
        if (c.fd >= 0 and now_ns >= c.deadline_ns) tcp.close(c);
    }
}

fn finish(p: *Pending) void {
    if (p.fd >= 0) sys.close(p.fd);
    if (p.tcp_fd >= 0) sys.close(p.tcp_fd);
    p.* = .{};
}

test {
    _ = @import("dns_message.zig");
}
