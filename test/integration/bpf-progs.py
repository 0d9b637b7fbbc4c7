#!/usr/bin/env python3
"""The kernel's own view of cgroup device programs, for the tests (no bpftool here).

  bpf-progs.py query DIR   the ids of the BPF_CGROUP_DEVICE programs attached to cgroup DIR
  bpf-progs.py exists ID   "yes" while program ID is loaded, "no" once the kernel freed it
"""
import ctypes
import errno
import os
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_GET_FD_BY_ID = 13
BPF_PROG_QUERY = 16
BPF_CGROUP_DEVICE = 6

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    rc = libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if rc < 0:
        return rc, ctypes.get_errno(), buf.raw
    return rc, 0, buf.raw


def query(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    ids = (ctypes.c_uint32 * 64)()
    attr = bytearray(64)
    struct.pack_into("<IIII", attr, 0, fd, BPF_CGROUP_DEVICE, 0, 0)
    struct.pack_into("<QI", attr, 16, ctypes.addressof(ids), 64)
    rc, err, raw = bpf(BPF_PROG_QUERY, attr)
    os.close(fd)
    if rc < 0:
        sys.exit("query %s: %s" % (path, errno.errorcode.get(err, err)))
    count = struct.unpack_from("<I", raw, 24)[0]
    print(" ".join(str(ids[i]) for i in range(count)))


def exists(prog_id):
    attr = bytearray(16)
    struct.pack_into("<I", attr, 0, prog_id)
    rc, err, _ = bpf(BPF_PROG_GET_FD_BY_ID, attr)
    if rc >= 0:
        os.close(rc)
        print("yes")
    elif err == errno.ENOENT:
        print("no")
    else:
        sys.exit("get fd of %d: %s" % (prog_id, errno.errorcode.get(err, err)))


if sys.argv[1] == "query":
    query(sys.argv[2])
else:
    exists(int(sys.argv[2]))
