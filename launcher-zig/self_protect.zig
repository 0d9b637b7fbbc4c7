//! Self-protection (docs/security.md): the launcher runs only from a sealed in-memory copy
//! of its own binary, never from the file on disk.
//!
//! Why: every process the launcher makes starts as the launcher binary, and a container
//! can get the kernel to run it as its own process (a command that is a script starting
//! `#!/proc/self/exe`). Whoever can see such a process can keep a handle on its
//! /proc/PID/exe and, once no launcher runs, open it for writing: a root container could
//! then replace the binary that root runs next (CVE-2019-5736). Run from a memfd sealed
//! against every change, /proc/PID/exe names that copy instead, and writing to it fails
//! (EPERM), whoever asks.
//!
//! How (as runc's cloned_binary and crun): at start, unless /proc/self/exe already is such
//! a copy, copy the binary into a memfd, seal it, and execveat it with the same argv and
//! environment. Fds (the plan and event fds) and signal state survive execve.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

/// Every seal: no write, no resize, and no removing or adding seals later.
pub const seals_wanted = sys.F_SEAL_SEAL | sys.F_SEAL_SHRINK | sys.F_SEAL_GROW | sys.F_SEAL_WRITE;

/// Shown as /proc/PID/exe, "/memfd:husk-launcher (deleted)".
const memfd_name = "husk-launcher";

/// Returns when this process already runs from a sealed copy; otherwise re-executes from
/// one and returns only the error that stopped it (the caller fails closed).
pub fn ensure_sealed(argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) sys.Error!void {
    const self = try sys.openat(sys.AT_FDCWD, "/proc/self/exe", sys.O.RDONLY, 0);
    if (is_sealed(self)) {
        sys.close(self);
        return;
    }
    const copy = copy_sealed(self) catch |err| {
        sys.close(self);
        return err;
    };
    sys.close(self);
    // The new process checks is_sealed on the same inode: it must pass, or we would loop.
    assert(is_sealed(copy));
    const err = sys.execveat_fd(copy, argv, envp);
    sys.close(copy);
    return err;
}

fn is_sealed(fd: sys.fd_t) bool {
    // EINVAL for a file that is not a memfd: the binary on disk.
    const seals = sys.get_seals(fd) catch return false;
    return seals & seals_wanted == seals_wanted;
}

/// A memfd holding all of `binary`, sealed. Close-on-exec: execveat of an ELF file does
/// not need the fd after the kernel has it open.
fn copy_sealed(binary: sys.fd_t) sys.Error!sys.fd_t {
    const flags = sys.MFD_CLOEXEC | sys.MFD_ALLOW_SEALING;
    const copy = sys.memfd_create(memfd_name, flags | sys.MFD_EXEC) catch |err| switch (err) {
        error.INVAL => try sys.memfd_create(memfd_name, flags), // A kernel before MFD_EXEC.
        else => return err,
    };
    errdefer sys.close(copy);
    const size = try sys.file_size(binary);
    var copied: u64 = 0;
    while (copied < size) {
        const count = try sys.sendfile(copy, binary, @intCast(size - copied));
        if (count == 0) return error.IO; // The binary shrank while we copied it.
        copied += count;
    }
    assert(copied == size);
    try sys.add_seals(copy, seals_wanted);
    return copy;
}

test "a sealed copy refuses writes and is recognised; the file it came from is not" {
    const testing = std.testing;
    const binary = try sys.openat(sys.AT_FDCWD, "/proc/self/exe", sys.O.RDONLY, 0);
    defer sys.close(binary);
    try testing.expect(!is_sealed(binary));
    const copy = try copy_sealed(binary);
    defer sys.close(copy);
    try testing.expect(is_sealed(copy));
    try testing.expectEqual(try sys.file_size(binary), try sys.file_size(copy));
    try testing.expectError(error.PERM, sys.write(copy, "x"));
    try testing.expectError(error.PERM, sys.add_seals(copy, 0x10)); // F_SEAL_FUTURE_WRITE
}
