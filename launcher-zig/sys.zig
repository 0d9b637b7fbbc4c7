//! The only file that makes system calls. Each wrapper turns the raw return into an
//! error value named after the errno (error.PERM for EPERM), retries EINTR where a call can
//! be interrupted, and saves the errno first, before anything else can change it.
//! Caller bugs (a bad pointer, EFAULT) are still returned, never hidden: the plan is
//! untrusted, so "cannot happen" is only asserted for the launcher's own invariants.

const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;

pub const fd_t = i32;
pub const pid_t = i32;

/// One error per errno name, generated from the kernel's list, plus one for an errno the
/// list lacks (its number is kept in `last_errno`).
pub const Error = blk: {
    const fields = std.meta.fields(linux.E);
    var errors: [fields.len]std.builtin.Type.Error = undefined;
    var count = 0;
    for (fields) |field| {
        if (field.value == 0) continue;
        errors[count] = .{ .name = field.name };
        count += 1;
    }
    errors[count] = .{ .name = "UnknownErrno" };
    count += 1;
    const final = errors[0..count].*;
    break :blk @Type(.{ .error_set = &final });
};

/// errno values the launcher names itself (events carry them; the rest come back as errors).
/// Defined here only, from the kernel's list.
pub const ENOENT: u16 = @intFromEnum(linux.E.NOENT);
pub const ESRCH: u16 = @intFromEnum(linux.E.SRCH);
pub const EAGAIN: u16 = @intFromEnum(linux.E.AGAIN);
pub const EEXIST: u16 = @intFromEnum(linux.E.EXIST);
pub const EINVAL: u16 = @intFromEnum(linux.E.INVAL);
pub const EPIPE: u16 = @intFromEnum(linux.E.PIPE);
pub const EIO: u16 = @intFromEnum(linux.E.IO);

/// Signal numbers (x86_64), defined here only.
pub const SIGHUP: u6 = 1;
pub const SIGINT: u6 = 2;
pub const SIGQUIT: u6 = 3;
pub const SIGKILL: u6 = 9;
pub const SIGUSR1: u6 = 10;
pub const SIGUSR2: u6 = 12;
pub const SIGPIPE: u6 = 13;
pub const SIGTERM: u6 = 15;
pub const SIGCHLD: u6 = 17;
pub const SIGSTOP: u6 = 19;
pub const SIGWINCH: u6 = 28;

/// The errno of the last failed call, saved before anything else runs.
var last_errno: u16 = 0;

pub fn errno_of(err: Error) u16 {
    inline for (std.meta.fields(linux.E)) |field| {
        if (field.value != 0 and err == @field(Error, field.name)) return field.value;
    }
    assert(err == error.UnknownErrno);
    return last_errno;
}

/// A failure that is no syscall's (a hook's exit status): its event carries errno 0.
pub fn no_errno() Error {
    last_errno = 0;
    return error.UnknownErrno;
}

/// "EPERM" for 1; "E?" for a number the kernel list lacks.
pub fn errno_name(errno: u16, buffer: *[16]u8) []const u8 {
    if (errno == 0) return "EOF";
    const e: linux.E = @enumFromInt(errno);
    const name = std.enums.tagName(linux.E, e) orelse
        return std.fmt.bufPrint(buffer, "E{d}", .{errno}) catch unreachable;
    return std.fmt.bufPrint(buffer, "E{s}", .{name}) catch unreachable;
}

/// The error named by an errno a kernel answer carried (a netlink ACK's).
pub fn error_of_errno(errno: u16) Error {
    return error_from(errno);
}

fn error_from(errno: u16) Error {
    assert(errno != 0);
    last_errno = errno;
    inline for (std.meta.fields(linux.E)) |field| {
        if (field.value != 0 and errno == field.value) return @field(Error, field.name);
    }
    return error.UnknownErrno;
}

/// Turns a raw syscall return into a value or an error; EINTR is returned as error.INTR
/// for `retry` to see.
fn check(rc: usize) Error!usize {
    const signed: isize = @bitCast(rc);
    if (signed < 0 and signed > -4096) return error_from(@intCast(-signed));
    return rc;
}

fn check_fd(rc: usize) Error!fd_t {
    const value = try check(rc);
    assert(value <= std.math.maxInt(i32));
    return @intCast(value);
}

fn arg(value: anytype) usize {
    return switch (@TypeOf(value)) {
        i32 => @bitCast(@as(isize, value)),
        else => @intCast(value),
    };
}

fn ptr(value: anytype) usize {
    return @intFromPtr(value);
}

pub const O = struct {
    pub const RDONLY: u32 = 0;
    pub const WRONLY: u32 = 0o1;
    pub const RDWR: u32 = 0o2;
    pub const CREAT: u32 = 0o100;
    pub const EXCL: u32 = 0o200;
    pub const NOCTTY: u32 = 0o400;
    pub const TRUNC: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NOFOLLOW: u32 = 0o400000;
    pub const CLOEXEC: u32 = 0o2000000;
    pub const PATH: u32 = 0o10000000;
};
pub const AT_FDCWD: fd_t = -100;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_RECURSIVE: u32 = 0x8000;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const MS_BIND: u32 = 0x1000;
pub const MS_REC: u32 = 0x4000;
pub const MS_SLAVE: u32 = 1 << 19;
pub const MS_RDONLY: u32 = 0x1;
pub const MS_NOSUID: u32 = 0x2;
pub const MS_NODEV: u32 = 0x4;
pub const MS_NOEXEC: u32 = 0x8;
pub const MNT_DETACH: u32 = 2;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
/// The atime mode is a field, not a bit: relatime is 0, so setting one clears MOUNT_ATTR__ATIME.
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;

// --- files -----------------------------------------------------------------------------

pub fn read(fd: fd_t, buffer: []u8) Error!usize {
    while (true) {
        return check(linux.syscall3(.read, arg(fd), ptr(buffer.ptr), buffer.len)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn write(fd: fd_t, bytes: []const u8) Error!usize {
    while (true) {
        return check(linux.syscall3(.write, arg(fd), ptr(bytes.ptr), bytes.len)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

/// Writes all of `bytes` in one call; a short write is reported as EIO because every
/// caller depends on the one-write property (events, id maps, proc files).
pub fn write_once(fd: fd_t, bytes: []const u8) Error!void {
    const written = try write(fd, bytes);
    if (written != bytes.len) return error_from(@intFromEnum(linux.E.IO));
}

/// close() is not retried on EINTR: on Linux the fd is gone either way.
pub fn close(fd: fd_t) void {
    assert(fd >= 0);
    _ = linux.syscall1(.close, arg(fd));
}

pub fn openat(dir: fd_t, path: [*:0]const u8, flags: u32, mode: u32) Error!fd_t {
    while (true) {
        return check_fd(linux.syscall4(.openat, arg(dir), ptr(path), flags | O.CLOEXEC, mode)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

const OpenHow = extern struct { flags: u64, mode: u64, resolve: u64 };

pub fn openat2(dir: fd_t, path: [*:0]const u8, flags: u32, resolve: u64) Error!fd_t {
    const how = OpenHow{ .flags = flags | O.CLOEXEC, .mode = 0, .resolve = resolve };
    while (true) {
        return check_fd(linux.syscall4(.openat2, arg(dir), ptr(path), ptr(&how), @sizeOf(OpenHow))) catch |err| switch (err) {
            error.INTR, error.AGAIN => continue, // EAGAIN: a rename raced the lookup.
            else => return err,
        };
    }
}

pub fn mkdirat(dir: fd_t, path: [*:0]const u8, mode: u32) Error!void {
    _ = try check(linux.syscall3(.mkdirat, arg(dir), ptr(path), mode));
}

pub fn symlinkat(target: [*:0]const u8, dir: fd_t, path: [*:0]const u8) Error!void {
    _ = try check(linux.syscall3(.symlinkat, ptr(target), arg(dir), ptr(path)));
}

pub fn mknodat(dir: fd_t, path: [*:0]const u8, mode: u32, device: u32) Error!void {
    _ = try check(linux.syscall4(.mknodat, arg(dir), ptr(path), mode, device));
}

/// The file mode creation mask: fs plans set 0 so that modes are exactly the plan's.
pub fn umask(mask: u32) void {
    _ = linux.syscall1(.umask, mask);
}

// The l*xattr calls never follow the last component of `path` (a symlink's own xattrs).
pub fn lsetxattr(path: [*:0]const u8, name: [*:0]const u8, value: []const u8) Error!void {
    _ = try check(linux.syscall5(.lsetxattr, ptr(path), ptr(name), ptr(value.ptr), value.len, 0));
}

/// The names of the xattrs of `path`, each NUL-terminated, into `buffer`; their total length.
pub fn llistxattr(path: [*:0]const u8, buffer: []u8) Error!usize {
    return try check(linux.syscall3(.llistxattr, ptr(path), ptr(buffer.ptr), buffer.len));
}

pub fn lgetxattr(path: [*:0]const u8, name: [*:0]const u8, buffer: []u8) Error!usize {
    return try check(linux.syscall4(.lgetxattr, ptr(path), ptr(name), ptr(buffer.ptr), buffer.len));
}

/// The xattrs of an open file (COPY_TREE): as the l* calls, on `fd` itself.
pub fn flistxattr(fd: fd_t, buffer: []u8) Error!usize {
    return try check(linux.syscall3(.flistxattr, arg(fd), ptr(buffer.ptr), buffer.len));
}

pub fn fgetxattr(fd: fd_t, name: [*:0]const u8, buffer: []u8) Error!usize {
    return try check(linux.syscall4(.fgetxattr, arg(fd), ptr(name), ptr(buffer.ptr), buffer.len));
}

pub fn fsetxattr(fd: fd_t, name: [*:0]const u8, value: []const u8) Error!void {
    _ = try check(linux.syscall5(.fsetxattr, arg(fd), ptr(name), ptr(value.ptr), value.len, 0));
}

/// The file type bits (S_IFMT) of what `fd` refers to (O_PATH fds work).
pub fn file_type(fd: fd_t) Error!u32 {
    var stat: linux.Stat = undefined;
    _ = try check(linux.syscall2(.fstat, arg(fd), ptr(&stat)));
    return stat.mode & S_IFMT;
}

pub fn set_cloexec(fd: fd_t) Error!void {
    const F_SETFD = 2;
    const FD_CLOEXEC = 1;
    _ = try check(linux.syscall3(.fcntl, arg(fd), F_SETFD, FD_CLOEXEC));
}

pub fn clear_cloexec(fd: fd_t) Error!void {
    const F_SETFD = 2;
    _ = try check(linux.syscall3(.fcntl, arg(fd), F_SETFD, 0));
}

pub fn pipe(fds: *[2]fd_t) Error!void {
    _ = try check(linux.syscall2(.pipe2, ptr(fds), O.CLOEXEC));
}

pub const MFD_CLOEXEC: u32 = 0x1;
pub const MFD_ALLOW_SEALING: u32 = 0x2;
/// Asks for an executable memfd where vm.memfd_noexec would default to not (Linux 6.3+;
/// older kernels refuse the flag with EINVAL).
pub const MFD_EXEC: u32 = 0x10;
pub const F_SEAL_SEAL: u32 = 0x1;
pub const F_SEAL_SHRINK: u32 = 0x2;
pub const F_SEAL_GROW: u32 = 0x4;
pub const F_SEAL_WRITE: u32 = 0x8;

pub fn memfd_create(name: [*:0]const u8, flags: u32) Error!fd_t {
    return check_fd(linux.syscall2(.memfd_create, ptr(name), flags));
}

/// F_GET_SEALS: EINVAL for a file that is not a memfd (or shmem file).
pub fn get_seals(fd: fd_t) Error!u32 {
    const F_GET_SEALS = 1034;
    return @intCast(try check(linux.syscall2(.fcntl, arg(fd), F_GET_SEALS)));
}

pub fn add_seals(fd: fd_t, seals: u32) Error!void {
    const F_ADD_SEALS = 1033;
    _ = try check(linux.syscall3(.fcntl, arg(fd), F_ADD_SEALS, seals));
}

pub fn file_size(fd: fd_t) Error!u64 {
    var stat: linux.Stat = undefined;
    _ = try check(linux.syscall2(.fstat, arg(fd), ptr(&stat)));
    return @intCast(stat.size);
}

/// What COPY_TREE needs of an entry: stat(2) of `name` in `dir`, the last component not followed.
pub const Stat = linux.Stat;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

/// Whether the O_PATH fd `fd` is the root of a mount (statx's STATX_ATTR_MOUNT_ROOT, Linux
/// 5.8); false where the kernel does not say.
pub fn is_mount_root(fd: fd_t) Error!bool {
    const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
    var buffer: linux.Statx = undefined;
    _ = try check(linux.syscall5(.statx, arg(fd), ptr(""), AT_EMPTY_PATH, 0, ptr(&buffer)));
    return buffer.attributes_mask & buffer.attributes & STATX_ATTR_MOUNT_ROOT != 0;
}

pub fn lstatat(dir: fd_t, name: [*:0]const u8, stat: *Stat) Error!void {
    _ = try check(linux.syscall4(.fstatat64, arg(dir), ptr(name), ptr(stat), AT_SYMLINK_NOFOLLOW));
}

/// The target of the symlink `name` in `dir`, into `buffer`; its length.
pub fn readlinkat(dir: fd_t, name: [*:0]const u8, buffer: []u8) Error!usize {
    return try check(linux.syscall4(.readlinkat, arg(dir), ptr(name), ptr(buffer.ptr), buffer.len));
}

/// Access and modification times of the open file `fd`: as given (seconds and nanoseconds).
pub fn futimens(fd: fd_t, seconds: i64, nanoseconds: i64) Error!void {
    const times = [2]Timespec{ .{ .sec = seconds, .nsec = nanoseconds }, .{ .sec = seconds, .nsec = nanoseconds } };
    _ = try check(linux.syscall4(.utimensat, arg(fd), 0, ptr(&times), 0));
}

/// Copies up to `count` bytes from `in`'s current offset to `out`'s, in the kernel.
pub fn sendfile(out: fd_t, in: fd_t, count: usize) Error!usize {
    while (true) {
        return check(linux.syscall4(.sendfile, arg(out), arg(in), 0, count)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub const CGROUP_SUPER_MAGIC: u64 = 0x27e0eb;
pub const CGROUP2_SUPER_MAGIC: u64 = 0x63677270;

/// struct statfs on x86_64: f_type first, 120 bytes in all.
const Statfs = extern struct { f_type: i64, rest: [112]u8 };
comptime {
    assert(@sizeOf(Statfs) == 120);
}

/// The filesystem type (statfs f_type) of what `fd` refers to (O_PATH fds work).
pub fn filesystem_type(fd: fd_t) Error!u64 {
    var buffer: Statfs = undefined;
    _ = try check(linux.syscall2(.fstatfs, arg(fd), ptr(&buffer)));
    return @bitCast(buffer.f_type);
}

pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

pub fn fchown(fd: fd_t, uid: u32, gid: u32) Error!void {
    _ = try check(linux.syscall3(.fchown, arg(fd), uid, gid));
}

/// chmod of `path` in `dir` (followed: callers pass a /proc/self/fd path of an O_PATH fd).
pub fn fchmodat(dir: fd_t, path: [*:0]const u8, mode: u32) Error!void {
    _ = try check(linux.syscall3(.fchmodat, arg(dir), ptr(path), mode));
}

pub fn fchmod(fd: fd_t, mode: u32) Error!void {
    _ = try check(linux.syscall2(.fchmod, arg(fd), mode));
}

/// lchown of `path` in `dir` (the last component not followed).
pub fn lchownat(dir: fd_t, path: [*:0]const u8, uid: u32, gid: u32) Error!void {
    _ = try check(linux.syscall5(.fchownat, arg(dir), ptr(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

const Timespec = extern struct { sec: i64, nsec: i64 };

/// Access and modification times of the open file `fd`, both `seconds`.
pub fn futimes(fd: fd_t, seconds: i64) Error!void {
    const times = [2]Timespec{ .{ .sec = seconds, .nsec = 0 }, .{ .sec = seconds, .nsec = 0 } };
    _ = try check(linux.syscall4(.utimensat, arg(fd), 0, ptr(&times), 0));
}

/// Both times of `path` in `dir`, the last component not followed (a symlink's own).
pub fn lutimesat(dir: fd_t, path: [*:0]const u8, seconds: i64) Error!void {
    const times = [2]Timespec{ .{ .sec = seconds, .nsec = 0 }, .{ .sec = seconds, .nsec = 0 } };
    _ = try check(linux.syscall4(.utimensat, arg(dir), ptr(path), ptr(&times), AT_SYMLINK_NOFOLLOW));
}

/// Both times of `path` in `dir` as given, the last component not followed (a symlink's own).
pub fn lutimesat_ns(dir: fd_t, path: [*:0]const u8, seconds: i64, nanoseconds: i64) Error!void {
    const times = [2]Timespec{ .{ .sec = seconds, .nsec = nanoseconds }, .{ .sec = seconds, .nsec = nanoseconds } };
    _ = try check(linux.syscall4(.utimensat, arg(dir), ptr(path), ptr(&times), AT_SYMLINK_NOFOLLOW));
}

/// A hard link `new_path` in `new_dir` to `old_path` in `old_dir` (a symlink is not followed).
pub fn linkat(old_dir: fd_t, old_path: [*:0]const u8, new_dir: fd_t, new_path: [*:0]const u8) Error!void {
    _ = try check(linux.syscall5(.linkat, arg(old_dir), ptr(old_path), arg(new_dir), ptr(new_path), 0));
}

/// What a socket holds now, without waiting (MSG_DONTWAIT): AGAIN when nothing; NOTSOCK
/// when `fd` is not a socket (a pipe is read with read() only).
pub fn recv_now(fd: fd_t, buffer: []u8) Error!usize {
    const MSG_DONTWAIT = 0x40;
    while (true) {
        return check(linux.syscall6(.recvfrom, arg(fd), ptr(buffer.ptr), buffer.len, MSG_DONTWAIT, 0, 0)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn rmdirat(dir: fd_t, path: [*:0]const u8) Error!void {
    const AT_REMOVEDIR = 0x200;
    _ = try check(linux.syscall3(.unlinkat, arg(dir), ptr(path), AT_REMOVEDIR));
}

pub fn renameat(old_dir: fd_t, old_path: [*:0]const u8, new_dir: fd_t, new_path: [*:0]const u8) Error!void {
    _ = try check(linux.syscall4(.renameat, arg(old_dir), ptr(old_path), arg(new_dir), ptr(new_path)));
}

pub fn fsync(fd: fd_t) Error!void {
    _ = try check(linux.syscall1(.fsync, arg(fd)));
}

/// Fills `buffer` with struct linux_dirent64 records; 0 at the end of the directory.
pub fn getdents64(fd: fd_t, buffer: []u8) Error!usize {
    return check(linux.syscall3(.getdents64, arg(fd), ptr(buffer.ptr), buffer.len));
}

/// A connected AF_UNIX SOCK_SEQPACKET pair, close-on-exec: how the parent hands fds over.
pub fn socketpair(fds: *[2]fd_t) Error!void {
    const AF_UNIX = 1;
    const SOCK_SEQPACKET = 5;
    const SOCK_CLOEXEC = 0o2000000;
    _ = try check(linux.syscall4(.socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ptr(fds)));
}

const IoVec = extern struct { base: usize, len: usize };
const MsgHeader = extern struct {
    name: usize,
    name_len: u32,
    iov: usize,
    iov_len: usize,
    control: usize,
    control_len: usize,
    flags: i32,
};
/// struct cmsghdr with one int of data, padded as CMSG_SPACE(sizeof(int)).
const FdControl = extern struct { len: usize, level: i32, type: i32, fd: fd_t, padding: u32 };
comptime {
    assert(@sizeOf(MsgHeader) == 56);
    assert(@sizeOf(FdControl) == 24);
}
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const fd_control_len = 16 + @sizeOf(fd_t); // CMSG_LEN(sizeof(int))

/// Sends `fd` (SCM_RIGHTS) with one byte of data.
pub fn send_fd(socket: fd_t, fd: fd_t, byte: u8) Error!void {
    const data = [1]u8{byte};
    return send_fd_with(socket, fd, &data);
}

/// Sends `fd` (SCM_RIGHTS) with `data` (not empty) on a stream socket; the rest of data
/// the first sendmsg did not take follows in plain writes. MSG_NOSIGNAL: EPIPE, not SIGPIPE.
pub fn send_fd_with(socket: fd_t, fd: fd_t, data: []const u8) Error!void {
    assert(data.len > 0);
    var iov = IoVec{ .base = ptr(data.ptr), .len = data.len };
    var control = FdControl{ .len = fd_control_len, .level = SOL_SOCKET, .type = SCM_RIGHTS, .fd = fd, .padding = 0 };
    const message = MsgHeader{ .name = 0, .name_len = 0, .iov = ptr(&iov), .iov_len = 1, .control = ptr(&control), .control_len = @sizeOf(FdControl), .flags = 0 };
    const MSG_NOSIGNAL = 0x4000;
    var sent = while (true) {
        break check(linux.syscall3(.sendmsg, arg(socket), ptr(&message), MSG_NOSIGNAL)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    };
    while (sent < data.len) {
        const rest = data[sent..];
        sent += check(linux.syscall6(.sendto, arg(socket), ptr(rest.ptr), rest.len, MSG_NOSIGNAL, 0, 0)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub const ReceivedFd = struct { fd: fd_t, byte: u8 };

/// Receives one fd and its byte (close-on-exec); EBADMSG if the message holds no fd.
pub fn receive_fd(socket: fd_t) Error!ReceivedFd {
    var data = [1]u8{0};
    var iov = IoVec{ .base = ptr(&data), .len = 1 };
    var control = std.mem.zeroes(FdControl);
    var message = MsgHeader{ .name = 0, .name_len = 0, .iov = ptr(&iov), .iov_len = 1, .control = ptr(&control), .control_len = @sizeOf(FdControl), .flags = 0 };
    const MSG_CMSG_CLOEXEC = 0x40000000;
    const n = while (true) {
        break check(linux.syscall3(.recvmsg, arg(socket), ptr(&message), MSG_CMSG_CLOEXEC)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    };
    const ok = n == 1 and message.control_len >= fd_control_len and control.len == fd_control_len and
        control.level == SOL_SOCKET and control.type == SCM_RIGHTS and control.fd >= 0;
    if (!ok) return error_from(@intFromEnum(linux.E.BADMSG));
    return .{ .fd = control.fd, .byte = data[0] };
}

/// Closes every fd from `first` to `last` (inclusive); nothing when first > last.
pub fn close_range(first: u32, last: u32) void {
    if (first > last) return;
    _ = linux.syscall3(.close_range, first, last, 0); // Only EINVAL for bad flags: none here.
}

pub const PollFd = extern struct { fd: fd_t, events: i16, revents: i16 };
pub const POLLIN: i16 = 0x1;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

/// poll(2) with no timeout; EINTR is retried. Returns how many fds have events.
pub fn poll(fds: []PollFd) Error!usize {
    while (true) {
        return check(linux.syscall3(.poll, ptr(fds.ptr), fds.len, @bitCast(@as(isize, -1)))) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn close_range_cloexec(first: u32) Error!void {
    const CLOSE_RANGE_CLOEXEC = 1 << 2;
    _ = try check(linux.syscall3(.close_range, first, std.math.maxInt(u32), CLOSE_RANGE_CLOEXEC));
}

// --- stdio: the container's log pipes, its pty, the attach socket (logger.zig) ----------

pub const POLLOUT: i16 = 0x4;

/// dup3(2) with no flags: `new` is not close-on-exec. `old` == `new` only clears the flag.
pub fn dup_to(old: fd_t, new: fd_t) Error!void {
    assert(old >= 0 and new >= 0);
    if (old == new) {
        const F_SETFD = 2;
        _ = try check(linux.syscall3(.fcntl, arg(old), F_SETFD, 0));
        return;
    }
    while (true) {
        _ = check(linux.syscall3(.dup3, arg(old), arg(new), 0)) catch |err| switch (err) {
            error.INTR, error.BUSY => continue,
            else => return err,
        };
        return;
    }
}

pub fn set_nonblocking(fd: fd_t) Error!void {
    const F_GETFL = 3;
    const F_SETFL = 4;
    const flags = try check(linux.syscall2(.fcntl, arg(fd), F_GETFL));
    _ = try check(linux.syscall3(.fcntl, arg(fd), F_SETFL, flags | O.NONBLOCK));
}

/// poll(2) waiting at most `timeout_ms`; EINTR is retried (with the whole timeout again).
pub fn poll_timeout(fds: []PollFd, timeout_ms: i32) Error!usize {
    assert(timeout_ms >= 0);
    while (true) {
        return check(linux.syscall3(.poll, ptr(fds.ptr), fds.len, arg(timeout_ms))) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn ioctl(fd: fd_t, request: u32, argument: usize) Error!usize {
    return check(linux.syscall3(.ioctl, arg(fd), request, argument));
}

pub const TIOCSCTTY: u32 = 0x540E;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const TIOCGPTPEER: u32 = 0x5441;
pub const TIOCSPTLCK: u32 = 0x40045431;
pub const WinSize = extern struct { rows: u16, cols: u16, x_pixels: u16 = 0, y_pixels: u16 = 0 };

pub fn setsid() Error!void {
    _ = try check(linux.syscall0(.setsid));
}

/// faccessat(F_OK), following symlinks, as Node's existsSync: false on any error.
pub fn access_exists(path: [*:0]const u8) bool {
    const F_OK = 0;
    const signed: isize = @bitCast(linux.syscall3(.faccessat, arg(AT_FDCWD), ptr(path), F_OK));
    return signed == 0;
}

/// The target of the symlink `path` (e.g. /proc/self/exe) in `buffer`.
pub fn readlink(path: [*:0]const u8, buffer: []u8) Error![]const u8 {
    const n = try check(linux.syscall4(.readlinkat, arg(AT_FDCWD), ptr(path), ptr(buffer.ptr), buffer.len));
    if (n >= buffer.len) return error.NAMETOOLONG;
    return buffer[0..n];
}

pub fn unlinkat(dir: fd_t, path: [*:0]const u8) Error!void {
    _ = try check(linux.syscall3(.unlinkat, arg(dir), ptr(path), 0));
}

/// A listening AF_UNIX stream socket at `path` (non-blocking, close-on-exec).
pub fn listen_unix(path: []const u8, backlog: u32) Error!fd_t {
    const AF_UNIX = 1;
    const SOCK_STREAM = 1;
    const SOCK_NONBLOCK = 0o4000;
    const SOCK_CLOEXEC = 0o2000000;
    var address: extern struct { family: u16, path: [108]u8 } = .{ .family = AF_UNIX, .path = [_]u8{0} ** 108 };
    if (path.len >= address.path.len) return error_from(@intFromEnum(linux.E.NAMETOOLONG));
    @memcpy(address.path[0..path.len], path);
    const fd = try check_fd(linux.syscall3(.socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    errdefer close(fd);
    _ = try check(linux.syscall3(.bind, arg(fd), ptr(&address), @sizeOf(@TypeOf(address))));
    _ = try check(linux.syscall2(.listen, arg(fd), backlog));
    return fd;
}

/// An AF_UNIX stream socket connected to `path` (blocking, close-on-exec).
pub fn connect_unix(path: []const u8) Error!fd_t {
    const AF_UNIX = 1;
    const SOCK_STREAM = 1;
    const SOCK_CLOEXEC = 0o2000000;
    var address: extern struct { family: u16, path: [108]u8 } = .{ .family = AF_UNIX, .path = [_]u8{0} ** 108 };
    if (path.len >= address.path.len) return error_from(@intFromEnum(linux.E.NAMETOOLONG));
    @memcpy(address.path[0..path.len], path);
    const fd = try check_fd(linux.syscall3(.socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    errdefer close(fd);
    _ = try check(linux.syscall3(.connect, arg(fd), ptr(&address), @sizeOf(@TypeOf(address))));
    return fd;
}

/// accept4, non-blocking and close-on-exec; EAGAIN when no one waits.
pub fn accept(fd: fd_t) Error!fd_t {
    const SOCK_NONBLOCK = 0o4000;
    const SOCK_CLOEXEC = 0o2000000;
    while (true) {
        return check_fd(linux.syscall4(.accept4, arg(fd), 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

/// Wall-clock time in nanoseconds since 1970 (the log's timestamps, not for durations).
pub fn realtime_ns() u64 {
    var time: linux.timespec = undefined;
    const rc = linux.clock_gettime(.REALTIME, &time);
    assert(rc == 0); // CLOCK_REALTIME always exists.
    return @as(u64, @intCast(time.sec)) * std.time.ns_per_s + @as(u64, @intCast(time.nsec));
}

// --- mounts ----------------------------------------------------------------------------

/// An empty string means NULL, as protocol.md's MOUNT says.
fn or_null(value: [:0]const u8) usize {
    return if (value.len == 0) 0 else ptr(value.ptr);
}

pub fn mount(source: [:0]const u8, target: [*:0]const u8, fstype: [:0]const u8, flags: u64, data: [:0]const u8) Error!void {
    _ = try check(linux.syscall5(.mount, or_null(source), ptr(target), or_null(fstype), flags, or_null(data)));
}

pub fn umount2(target: [*:0]const u8, flags: u32) Error!void {
    _ = try check(linux.syscall2(.umount2, ptr(target), flags));
}

const MountAttr = extern struct { attr_set: u64, attr_clr: u64, propagation: u64, userns_fd: u64 };

pub fn mount_setattr_rdonly(fd: fd_t, recursive: bool) Error!void {
    return mount_setattr_set(fd, MOUNT_ATTR_RDONLY, recursive);
}

/// Sets the MOUNT_ATTR_* bits `set` (RDONLY, NOSUID, NODEV, NOEXEC) on the mount `fd`.
pub fn mount_setattr_set(fd: fd_t, set: u64, recursive: bool) Error!void {
    return mount_setattr(fd, set, 0, recursive);
}

/// Clears the MOUNT_ATTR_* bits `clear` and sets `set` on the mount `fd` (an atime mode
/// needs both: MOUNT_ATTR__ATIME cleared, the mode set).
pub fn mount_setattr(fd: fd_t, set: u64, clear: u64, recursive: bool) Error!void {
    assert(set & clear & ~MOUNT_ATTR__ATIME == 0);
    const attr = MountAttr{ .attr_set = set, .attr_clr = clear, .propagation = 0, .userns_fd = 0 };
    const flags = AT_EMPTY_PATH | (if (recursive) AT_RECURSIVE else 0);
    _ = try check(linux.syscall5(.mount_setattr, arg(fd), ptr(""), flags, ptr(&attr), @sizeOf(MountAttr)));
}

pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOUNT_ATTR_IDMAP: u64 = 0x00100000;

/// A detached copy of the mount tree at `path` (OPEN_TREE_CLONE), close-on-exec.
pub fn open_tree(path: [*:0]const u8, recursive: bool) Error!fd_t {
    const flags = OPEN_TREE_CLONE | O.CLOEXEC | (if (recursive) AT_RECURSIVE else 0);
    return check_fd(linux.syscall3(.open_tree, arg(AT_FDCWD), ptr(path), flags));
}

/// Idmaps the detached mount `fd` (and, `recursive`, its submounts) through the maps of
/// the user namespace `userns_fd`.
pub fn mount_setattr_idmap(fd: fd_t, userns_fd: fd_t, recursive: bool) Error!void {
    assert(userns_fd >= 0);
    const attr = MountAttr{ .attr_set = MOUNT_ATTR_IDMAP, .attr_clr = 0, .propagation = 0, .userns_fd = @intCast(userns_fd) };
    const flags = AT_EMPTY_PATH | (if (recursive) AT_RECURSIVE else 0);
    _ = try check(linux.syscall5(.mount_setattr, arg(fd), ptr(""), flags, ptr(&attr), @sizeOf(MountAttr)));
}

/// Attaches the detached mount `from_fd` on what `to_fd` (O_PATH) refers to.
pub fn move_mount(from_fd: fd_t, to_fd: fd_t) Error!void {
    const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH = 0x40;
    const flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    _ = try check(linux.syscall5(.move_mount, arg(from_fd), ptr(""), arg(to_fd), ptr(""), flags));
}

// The new mount API (fsopen/fsconfig/fsmount): overlayfs's `lowerdir+` adds one lower at a
// time, with no 4 KiB bound on the options.
pub const FSCONFIG_SET_FLAG: u32 = 0;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;

pub fn fsopen(fstype: [*:0]const u8) Error!fd_t {
    const FSOPEN_CLOEXEC = 1;
    return check_fd(linux.syscall2(.fsopen, ptr(fstype), FSOPEN_CLOEXEC));
}

/// `value` null for a flag or a command.
pub fn fsconfig(fd: fd_t, command: u32, key: ?[*:0]const u8, value: ?[*:0]const u8) Error!void {
    const key_arg: usize = if (key) |k| ptr(k) else 0;
    const value_arg: usize = if (value) |v| ptr(v) else 0;
    _ = try check(linux.syscall5(.fsconfig, arg(fd), command, key_arg, value_arg, 0));
}

pub fn fsmount(fd: fd_t) Error!fd_t {
    const FSMOUNT_CLOEXEC = 1;
    return check_fd(linux.syscall3(.fsmount, arg(fd), FSMOUNT_CLOEXEC, 0));
}

pub fn pivot_root(new_root: [*:0]const u8, put_old: [*:0]const u8) Error!void {
    _ = try check(linux.syscall2(.pivot_root, ptr(new_root), ptr(put_old)));
}

pub fn chdir(path: [*:0]const u8) Error!void {
    _ = try check(linux.syscall1(.chdir, ptr(path)));
}

pub fn fchdir(fd: fd_t) Error!void {
    _ = try check(linux.syscall1(.fchdir, arg(fd)));
}

// --- namespaces and processes ---------------------------------------------------------

/// setns(2): `fd` is a pidfd (then `flags` may name several namespaces, entered as one
/// step, the user namespace first) or an nsfs file (then `flags` is its one type).
pub fn setns(fd: fd_t, flags: u64) Error!void {
    _ = try check(linux.syscall2(.setns, arg(fd), flags));
}

pub const NSFS_MAGIC: u64 = 0x6e736673;

/// ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of the namespace an nsfs fd names.
pub fn namespace_type(fd: fd_t) Error!u64 {
    const NS_GET_NSTYPE: usize = 0xb703; // _IO(0xb7, 0x3)
    return try check(linux.syscall2(.ioctl, arg(fd), NS_GET_NSTYPE));
}

pub fn unshare(flags: u64) Error!void {
    _ = try check(linux.syscall1(.unshare, flags));
}

/// struct clone_args up to CLONE_ARGS_SIZE_VER2 (88 bytes: `cgroup` is the last field).
const CloneArgs = extern struct {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
};
const clone_args_size_ver0 = 64;
comptime {
    assert(@sizeOf(CloneArgs) == 88);
}

pub const Child = struct {
    pid: pid_t,
    pidfd: fd_t,
    /// Whether CLONE_INTO_CGROUP put the child in the cgroup asked for.
    into_cgroup: bool,
};

/// fork-like clone3 (no new stack: the child continues on a copy of ours) that also
/// returns a pidfd, so signals go to this very process even if its pid is reused, and
/// with `cgroup_fd` >= 0 creates it in that cgroup v2 directory (CLONE_INTO_CGROUP).
/// Returns pid 0 in the child. A kernel without CLONE_INTO_CGROUP (E2BIG: it does not
/// know the `cgroup` field) gets clone3 without it; where clone3 is filtered (ENOSYS, as
/// container engines' seccomp profiles do) clone(2) is used and the pidfd is -1. In both
/// cases `into_cgroup` is false and the caller moves the child itself.
pub fn clone_process(namespaces: u64, cgroup_fd: fd_t) Error!Child {
    const CLONE_PIDFD: u64 = 0x1000;
    const CLONE_INTO_CGROUP: u64 = 0x200000000;
    var pidfd: fd_t = -1;
    var args = std.mem.zeroes(CloneArgs);
    args.flags = namespaces | CLONE_PIDFD;
    args.pidfd = ptr(&pidfd);
    args.exit_signal = SIGCHLD;
    var size: usize = clone_args_size_ver0;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = @intCast(cgroup_fd);
        size = @sizeOf(CloneArgs);
    }
    const rc = check(linux.syscall2(.clone3, ptr(&args), size)) catch |err| switch (err) {
        error.NOSYS => {
            const pid = try check(linux.syscall5(.clone, namespaces | SIGCHLD, 0, 0, 0, 0));
            return .{ .pid = @intCast(pid), .pidfd = -1, .into_cgroup = false };
        },
        error.@"2BIG" => if (cgroup_fd >= 0) return clone_process(namespaces, -1) else return err,
        else => return err,
    };
    if (rc == 0) return .{ .pid = 0, .pidfd = -1, .into_cgroup = false };
    return .{ .pid = @intCast(rc), .pidfd = pidfd, .into_cgroup = cgroup_fd >= 0 };
}

pub fn kill(pid: pid_t, pidfd: fd_t, signal: u32) Error!void {
    assert(pid > 0);
    if (pidfd >= 0) {
        _ = try check(linux.syscall4(.pidfd_send_signal, arg(pidfd), signal, 0, 0));
    } else {
        _ = try check(linux.syscall2(.kill, arg(pid), signal));
    }
}

pub const WNOHANG: u32 = 1;

/// Returns 0 when WNOHANG finds nothing to reap.
pub fn wait4(pid: pid_t, status: *u32, flags: u32) Error!pid_t {
    while (true) {
        const rc = check(linux.syscall4(.wait4, arg(pid), ptr(status), flags, 0)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        return @intCast(rc);
    }
}

/// A plain fork (SIGCHLD to the parent at exit). Returns 0 in the child.
pub fn fork() Error!pid_t {
    return @intCast(try check(linux.syscall0(.fork)));
}

pub fn setpgid(pid: pid_t, pgid: pid_t) Error!void {
    _ = try check(linux.syscall2(.setpgid, arg(pid), arg(pgid)));
}

pub fn getpid() pid_t {
    return @intCast(linux.syscall0(.getpid));
}

pub fn getuid() u32 {
    return @intCast(linux.syscall0(.getuid));
}

pub fn getgid() u32 {
    return @intCast(linux.syscall0(.getgid));
}

pub fn gettid() pid_t {
    return @intCast(linux.syscall0(.gettid));
}

pub fn getppid() pid_t {
    return @intCast(linux.syscall0(.getppid));
}

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, &{len, filter}): `program` is struct sock_filter[]
/// (8 bytes each, little-endian: code u16, jt u8, jf u8, k u32), one u64 per instruction.
pub fn seccomp_set_mode_filter(flags: u64, program: []const u64) Error!void {
    const SockFprog = extern struct { len: u16, filter: [*]const u64 };
    assert(program.len > 0 and program.len <= std.math.maxInt(u16));
    const fprog = SockFprog{ .len = @intCast(program.len), .filter = program.ptr };
    _ = try check(linux.syscall3(.seccomp, SECCOMP_SET_MODE_FILTER, flags, ptr(&fprog)));
}

/// The same with SECCOMP_FILTER_FLAG_NEW_LISTENER in `flags`: returns the listener fd
/// (close-on-exec, as the kernel makes it).
pub fn seccomp_filter_with_listener(flags: u64, program: []const u64) Error!fd_t {
    const SockFprog = extern struct { len: u16, filter: [*]const u64 };
    assert(program.len > 0 and program.len <= std.math.maxInt(u16));
    assert(flags & 8 != 0);
    const fprog = SockFprog{ .len = @intCast(program.len), .filter = program.ptr };
    return check_fd(linux.syscall3(.seccomp, SECCOMP_SET_MODE_FILTER, flags, ptr(&fprog)));
}

/// A copy of fd `number` of the process `pidfd` names (pidfd_getfd, close-on-exec).
pub fn pidfd_getfd(pidfd: fd_t, number: u32) Error!fd_t {
    return check_fd(linux.syscall3(.pidfd_getfd, arg(pidfd), number, 0));
}

pub const SECCOMP_SET_MODE_FILTER = 1;

/// union bpf_attr, zeroed: the kernel wants every byte past the fields it knows to be 0.
const BpfAttr = [128]u8;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

fn attr_u32(attr: *BpfAttr, offset: usize, value: u32) void {
    std.mem.writeInt(u32, attr[offset..][0..4], value, .little);
}

fn attr_u64(attr: *BpfAttr, offset: usize, value: u64) void {
    std.mem.writeInt(u64, attr[offset..][0..8], value, .little);
}

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], one u64
/// each); the fd (close-on-exec, as every bpf fd).
pub fn bpf_prog_load_cgroup_device(program: []const u64) Error!fd_t {
    assert(program.len > 0 and program.len <= std.math.maxInt(u32));
    const license = "Apache-2.0";
    const name = "husk_devices";
    var attr = std.mem.zeroes(BpfAttr);
    attr_u32(&attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE); // prog_type
    attr_u32(&attr, 4, @intCast(program.len)); // insn_cnt
    attr_u64(&attr, 8, ptr(program.ptr)); // insns
    attr_u64(&attr, 16, ptr(license.ptr)); // license
    @memcpy(attr[48..][0..name.len], name); // prog_name[16]
    attr_u32(&attr, 68, BPF_CGROUP_DEVICE); // expected_attach_type
    return check_fd(linux.syscall3(.bpf, BPF_PROG_LOAD, ptr(&attr), attr.len));
}

/// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) of `program` to the cgroup `directory`.
pub fn bpf_prog_attach_cgroup_device(directory: fd_t, program: fd_t) Error!void {
    assert(directory >= 0 and program >= 0);
    var attr = std.mem.zeroes(BpfAttr);
    attr_u32(&attr, 0, @intCast(directory)); // target_fd
    attr_u32(&attr, 4, @intCast(program)); // attach_bpf_fd
    attr_u32(&attr, 8, BPF_CGROUP_DEVICE); // attach_type
    attr_u32(&attr, 12, BPF_F_ALLOW_MULTI); // attach_flags
    _ = try check(linux.syscall3(.bpf, BPF_PROG_ATTACH, ptr(&attr), attr.len));
}

pub fn prctl(option: u32, arg2: u64, arg3: u64) Error!usize {
    return check(linux.syscall5(.prctl, option, arg2, arg3, 0, 0));
}

pub const PR_SET_PDEATHSIG = 1;
pub const PR_SET_KEEPCAPS = 8;
pub const PR_CAPBSET_READ = 23;
pub const PR_CAPBSET_DROP = 24;
pub const PR_SET_NO_NEW_PRIVS = 38;
pub const PR_CAP_AMBIENT = 47;
pub const PR_CAP_AMBIENT_RAISE = 2;
pub const PR_CAP_AMBIENT_CLEAR_ALL = 4;

const CapHeader = extern struct { version: u32, pid: i32 };
const CapData = extern struct { effective: u32, permitted: u32, inheritable: u32 };

pub fn capset(effective: u64, permitted: u64, inheritable: u64) Error!void {
    const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    var header = CapHeader{ .version = LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    const data = [2]CapData{
        .{ .effective = @truncate(effective), .permitted = @truncate(permitted), .inheritable = @truncate(inheritable) },
        .{ .effective = @truncate(effective >> 32), .permitted = @truncate(permitted >> 32), .inheritable = @truncate(inheritable >> 32) },
    };
    _ = try check(linux.syscall2(.capset, ptr(&header), ptr(&data)));
}

pub fn setgroups(groups: []const u32) Error!void {
    _ = try check(linux.syscall2(.setgroups, groups.len, ptr(groups.ptr)));
}

pub fn setresgid(gid: u32) Error!void {
    _ = try check(linux.syscall3(.setresgid, gid, gid, gid));
}

pub fn setresuid(uid: u32) Error!void {
    _ = try check(linux.syscall3(.setresuid, uid, uid, uid));
}

pub fn sethostname(name: []const u8) Error!void {
    _ = try check(linux.syscall2(.sethostname, ptr(name.ptr), name.len));
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0: this process, value).
pub fn ioprio_set(value: u64) Error!void {
    const IOPRIO_WHO_PROCESS = 1;
    _ = try check(linux.syscall3(.ioprio_set, IOPRIO_WHO_PROCESS, 0, value));
}

/// sched_setattr(0: this process) with struct sched_attr's first version (48 bytes).
pub fn sched_setattr(policy: u64, nice: i64, priority: u64) Error!void {
    const Attr = extern struct { size: u32, policy: u32, flags: u64, nice: i32, priority: u32, runtime: u64, deadline: u64, period: u64 };
    comptime assert(@sizeOf(Attr) == 48);
    const attr = Attr{ .size = 48, .policy = @intCast(policy), .flags = 0, .nice = @intCast(nice), .priority = @intCast(priority), .runtime = 0, .deadline = 0, .period = 0 };
    _ = try check(linux.syscall3(.sched_setattr, 0, ptr(&attr), 0));
}

/// personality(2): what `uname -m` and the like report (PER_LINUX32: i686).
pub fn personality(persona: u64) Error!void {
    _ = try check(linux.syscall1(.personality, persona));
}

pub fn setrlimit(resource: u32, soft: u64, hard: u64) Error!void {
    const limit = [2]u64{ soft, hard };
    _ = try check(linux.syscall4(.prlimit64, 0, resource, ptr(&limit), 0));
}

/// struct ifreq on x86_64: the name, then a union (flags, index, …) read as the ioctl needs.
const Ifreq = extern struct { name: [16]u8, data: [24]u8 };
comptime {
    assert(@sizeOf(Ifreq) == 40);
}

/// An ifreq for `name`, with its data zero.
fn ifreq(name: []const u8) Ifreq {
    assert(name.len < 16);
    var request = std.mem.zeroes(Ifreq);
    @memcpy(request.name[0..name.len], name);
    return request;
}

/// A socket for the interface ioctls (AF_INET datagram, close-on-exec).
fn ifreq_socket() Error!fd_t {
    const AF_INET = 2;
    const SOCK_DGRAM = 2;
    const SOCK_CLOEXEC = 0o2000000;
    return check_fd(linux.syscall3(.socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

/// Sets IFF_UP on `name` in the current network namespace.
pub fn interface_up(name: []const u8) Error!void {
    const SIOCGIFFLAGS = 0x8913;
    const SIOCSIFFLAGS = 0x8914;
    const IFF_UP: u16 = 1;
    var request = ifreq(name);
    const socket = try ifreq_socket();
    defer close(socket);
    _ = try check(linux.syscall3(.ioctl, arg(socket), SIOCGIFFLAGS, ptr(&request)));
    const flags = std.mem.readInt(u16, request.data[0..2], .little) | IFF_UP;
    std.mem.writeInt(u16, request.data[0..2], flags, .little);
    _ = try check(linux.syscall3(.ioctl, arg(socket), SIOCSIFFLAGS, ptr(&request)));
}

/// The index of interface `name` in the current network namespace (SIOCGIFINDEX).
pub fn interface_index(name: []const u8) Error!u32 {
    const SIOCGIFINDEX = 0x8933;
    var request = ifreq(name);
    const socket = try ifreq_socket();
    defer close(socket);
    _ = try check(linux.syscall3(.ioctl, arg(socket), SIOCGIFINDEX, ptr(&request)));
    const index = std.mem.readInt(i32, request.data[0..4], .little);
    assert(index > 0);
    return @intCast(index);
}

/// A netlink socket of `protocol` (netlink.zig: NETLINK_ROUTE, NETLINK_NETFILTER), close-on-exec.
pub fn netlink_socket(protocol: usize) Error!fd_t {
    const AF_NETLINK = 16;
    const SOCK_RAW = 3;
    const SOCK_CLOEXEC = 0o2000000;
    return check_fd(linux.syscall3(.socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
}

/// One datagram to the kernel (netlink: the kernel is address 0, the default destination).
pub fn send(fd: fd_t, bytes: []const u8) Error!usize {
    while (true) {
        return check(linux.syscall6(.sendto, arg(fd), ptr(bytes.ptr), bytes.len, 0, 0, 0)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

/// One datagram from a socket.
pub fn recv(fd: fd_t, buffer: []u8) Error!usize {
    while (true) {
        return check(linux.syscall6(.recvfrom, arg(fd), ptr(buffer.ptr), buffer.len, 0, 0, 0)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn execve(path: [*:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) Error {
    const rc = linux.syscall3(.execve, ptr(path), ptr(argv), ptr(envp));
    _ = check(rc) catch |err| return err;
    unreachable; // execve returns only on failure.
}

/// execveat(fd, "", ..., AT_EMPTY_PATH): runs the file `fd` refers to (the sealed copy of
/// the launcher, self.zig). Returns only on failure.
pub fn execveat_fd(fd: fd_t, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) Error {
    const rc = linux.syscall5(.execveat, arg(fd), ptr(""), ptr(argv), ptr(envp), AT_EMPTY_PATH);
    _ = check(rc) catch |err| return err;
    unreachable; // execveat returns only on failure.
}

pub fn exit(status: u8) noreturn {
    _ = linux.syscall1(.exit_group, status);
    unreachable;
}

// --- datagram sockets: husk-dns, the network's name responder (dns_main.zig) ------------

/// struct sockaddr_in: the port in network byte order, the address as its four bytes.
pub const SockaddrIn = extern struct {
    family: u16 = 2, // AF_INET
    port_be: u16,
    address: [4]u8,
    zero: [8]u8 = [_]u8{0} ** 8,

    pub fn of(address: [4]u8, port: u16) SockaddrIn {
        return .{ .port_be = std.mem.nativeToBig(u16, port), .address = address };
    }
};

comptime {
    assert(@sizeOf(SockaddrIn) == 16);
}

/// An AF_INET datagram socket, non-blocking and close-on-exec.
pub fn udp_socket() Error!fd_t {
    const AF_INET = 2;
    const SOCK_DGRAM = 2;
    const SOCK_NONBLOCK = 0o4000;
    const SOCK_CLOEXEC = 0o2000000;
    return check_fd(linux.syscall3(.socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

/// An AF_INET stream socket (husk-dns over TCP), non-blocking and close-on-exec.
pub fn tcp_socket() Error!fd_t {
    const AF_INET = 2;
    const SOCK_STREAM = 1;
    const SOCK_NONBLOCK = 0o4000;
    const SOCK_CLOEXEC = 0o2000000;
    return check_fd(linux.syscall3(.socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

pub fn listen(fd: fd_t, backlog: u32) Error!void {
    _ = try check(linux.syscall2(.listen, arg(fd), backlog));
}

/// accept4 of an AF_INET stream socket, non-blocking and close-on-exec, with the peer's
/// address; EAGAIN when no one waits.
pub fn accept_in(fd: fd_t, from: *SockaddrIn) Error!fd_t {
    const SOCK_NONBLOCK = 0o4000;
    const SOCK_CLOEXEC = 0o2000000;
    while (true) {
        var length: u32 = @sizeOf(SockaddrIn);
        return check_fd(linux.syscall4(.accept4, arg(fd), ptr(from), ptr(&length), SOCK_NONBLOCK | SOCK_CLOEXEC)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn bind_in(fd: fd_t, address: *const SockaddrIn) Error!void {
    _ = try check(linux.syscall3(.bind, arg(fd), ptr(address), @sizeOf(SockaddrIn)));
}

/// A datagram socket's one peer: send() goes there, and only its datagrams are received.
pub fn connect_in(fd: fd_t, address: *const SockaddrIn) Error!void {
    _ = try check(linux.syscall3(.connect, arg(fd), ptr(address), @sizeOf(SockaddrIn)));
}

/// One datagram and who sent it; error.AGAIN when none is waiting (the socket is non-blocking).
pub fn recvfrom_in(fd: fd_t, buffer: []u8, from: *SockaddrIn) Error!usize {
    while (true) {
        var length: u32 = @sizeOf(SockaddrIn);
        return check(linux.syscall6(.recvfrom, arg(fd), ptr(buffer.ptr), buffer.len, 0, ptr(from), ptr(&length))) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

pub fn sendto_in(fd: fd_t, bytes: []const u8, to: *const SockaddrIn) Error!usize {
    while (true) {
        return check(linux.syscall6(.sendto, arg(fd), ptr(bytes.ptr), bytes.len, 0, ptr(to), @sizeOf(SockaddrIn))) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
    }
}

/// What tells one version of a file from the next one renamed over it.
pub const FileVersion = struct { inode: u64, size: i64, mtime_ns: i128 };

/// stat(2) of `path` (following symlinks), reduced to what says it changed.
pub fn file_version(path: [*:0]const u8) Error!FileVersion {
    var st: linux.Stat = undefined;
    _ = try check(linux.syscall4(.fstatat64, arg(AT_FDCWD), ptr(path), ptr(&st), 0));
    return .{ .inode = st.ino, .size = st.size, .mtime_ns = @as(i128, st.mtim.sec) * std.time.ns_per_s + st.mtim.nsec };
}

// --- signals and time -----------------------------------------------------------------

/// The kernel's sigset_t on x86_64: 64 bits, signal n is bit n - 1.
pub const SignalSet = u64;

pub fn signal_bit(signal: u6) SignalSet {
    assert(signal >= 1);
    return @as(u64, 1) << (signal - 1);
}

pub fn sigprocmask_set(set: SignalSet) Error!void {
    const SIG_SETMASK = 2;
    _ = try check(linux.syscall4(.rt_sigprocmask, SIG_SETMASK, ptr(&set), 0, @sizeOf(SignalSet)));
}

pub fn signalfd(set: SignalSet) Error!fd_t {
    const SFD_CLOEXEC = 0o2000000;
    return check_fd(linux.syscall4(.signalfd4, @bitCast(@as(isize, -1)), ptr(&set), @sizeOf(SignalSet), SFD_CLOEXEC));
}

const KernelSigaction = extern struct { handler: usize, flags: u64, restorer: usize, mask: SignalSet };

/// Sets `signal`'s disposition to ignored or default (no handlers exist in the launcher,
/// so no restorer is needed).
fn set_disposition(signal: u32, ignore: bool) Error!void {
    const SIG_IGN = 1;
    const action = KernelSigaction{ .handler = if (ignore) SIG_IGN else 0, .flags = 0, .restorer = 0, .mask = 0 };
    _ = try check(linux.syscall4(.rt_sigaction, signal, ptr(&action), 0, @sizeOf(SignalSet)));
}

/// Sets SIGPIPE to ignored (`ignore`) or default. Ignoring survives execve, so the
/// container process puts it back before it execs.
pub fn sigpipe_ignore(ignore: bool) Error!void {
    try set_disposition(SIGPIPE, ignore);
}

/// Every signal back to its default action. A launcher started in the background by a
/// shell has SIGINT and SIGQUIT ignored: an ignored signal is never queued, so the
/// monitor could not forward it, and the container would inherit the ignoring.
pub fn signals_default() void {
    var signal: u32 = 1;
    while (signal <= 64) : (signal += 1) {
        if (signal == SIGKILL or signal == SIGSTOP) continue; // They cannot change.
        set_disposition(signal, false) catch {}; // EINVAL for the few the kernel reserves.
    }
}

pub fn sleep_ns(nanoseconds: u64) void {
    const time = linux.timespec{ .sec = @intCast(nanoseconds / std.time.ns_per_s), .nsec = @intCast(nanoseconds % std.time.ns_per_s) };
    _ = linux.syscall2(.nanosleep, ptr(&time), 0); // Interrupted: a shorter sleep is fine.
}

pub fn monotonic_ns() u64 {
    var time: linux.timespec = undefined;
    // Through the vDSO when the kernel maps one (no syscall), else the syscall.
    const rc = linux.clock_gettime(.MONOTONIC, &time);
    assert(rc == 0); // CLOCK_MONOTONIC always exists.
    return @as(u64, @intCast(time.sec)) * std.time.ns_per_s + @as(u64, @intCast(time.nsec));
}

test "errno names and values" {
    var buffer: [16]u8 = undefined;
    try std.testing.expectEqualStrings("EPERM", errno_name(1, &buffer));
    try std.testing.expectEqualStrings("ENOENT", errno_name(2, &buffer));
    try std.testing.expectEqualStrings("EOF", errno_name(0, &buffer));
    try std.testing.expectEqualStrings("E4000", errno_name(4000, &buffer));
    try std.testing.expectEqual(@as(u16, 22), errno_of(error.INVAL));
    try std.testing.expectEqual(error.NOENT, error_from(2));
    try std.testing.expectEqual(@as(u16, 600), errno_of(error_from(600)));
}

test "a failed syscall comes back as its errno" {
    try std.testing.expectError(error.BADF, write(-1, "x"));
    try std.testing.expectError(error.NOENT, openat(AT_FDCWD, "/nonexistent/husk", O.RDONLY, 0));
}

/// A pidfd for `pid` (close-on-exec by the kernel's default): it names this very process
/// from now on, even if the pid is reused. ESRCH if there is no such process.
pub fn pidfd_open(pid: pid_t) Error!fd_t {
    assert(pid > 0);
    return check_fd(linux.syscall2(.pidfd_open, arg(pid), 0));
}
