//! A directory's entries, read with getdents64 in batches into the caller's buffer: the one
//! walk over the kernel's records (each record's length checked, `.` and `..` skipped) that
//! copy_tree.zig and fs_userns.zig share.

const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");

/// struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, then the name.
const reclen_offset = 16;
const name_offset = 19;

pub const Iterator = struct {
    dir: sys.fd_t,
    buffer: []align(8) u8,
    /// Bytes of records the last getdents64 left in `buffer`, and where the next one starts.
    length: usize = 0,
    offset: usize = 0,

    pub fn init(dir: sys.fd_t, buffer: []align(8) u8) Iterator {
        assert(dir >= 0);
        assert(buffer.len > name_offset + 256); // Room for one record with the longest name.
        return .{ .dir = dir, .buffer = buffer };
    }

    /// The next entry's name, NUL-terminated where the kernel put it in the buffer (valid
    /// until the next call), or null once the directory is read. A record that overruns
    /// the batch is error.IO: never from a kernel.
    pub fn next(self: *Iterator) sys.Error!?[:0]const u8 {
        while (true) {
            if (self.offset + name_offset >= self.length) {
                self.length = try sys.getdents64(self.dir, self.buffer);
                self.offset = 0;
                if (self.length == 0) return null;
                continue;
            }
            const at = self.offset;
            const record_len = std.mem.readInt(u16, self.buffer[at + reclen_offset ..][0..2], .little);
            if (record_len <= name_offset or at + record_len > self.length) return error.IO;
            self.offset += record_len;
            const field = self.buffer[at + name_offset .. at + record_len];
            const name_len = std.mem.indexOfScalar(u8, field, 0) orelse return error.IO;
            const name = field[0..name_len :0];
            if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) continue;
            return name;
        }
    }
};

test "Iterator lists every entry once, without . and .., across several batches" {
    var tmp = std.testing.tmpDir(.{ .iterate = true });
    defer tmp.cleanup();
    var name_buffer: [16]u8 = undefined;
    for (0..40) |i| {
        const name = try std.fmt.bufPrint(&name_buffer, "entry-{d}", .{i});
        try tmp.dir.writeFile(.{ .sub_path = name, .data = "" });
    }
    const dir = try sys.openat(tmp.dir.fd, ".", sys.O.RDONLY | sys.O.DIRECTORY, 0);
    defer sys.close(dir);
    // The smallest buffer init takes: 40 entries need several getdents64 calls.
    var buffer: [name_offset + 257]u8 align(8) = undefined;
    var entries = Iterator.init(dir, &buffer);
    var seen = std.StaticBitSet(40).initEmpty();
    var count: usize = 0;
    while (try entries.next()) |name| {
        try std.testing.expect(std.mem.startsWith(u8, name, "entry-"));
        const index = try std.fmt.parseInt(usize, name["entry-".len..], 10);
        try std.testing.expect(!seen.isSet(index));
        seen.set(index);
        count += 1;
    }
    try std.testing.expectEqual(@as(usize, 40), count);
    try std.testing.expectEqual(@as(?[:0]const u8, null), try entries.next());
}
