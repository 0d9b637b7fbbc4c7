#!/usr/bin/env python3
"""A seccomp agent for runc-seccomp-notify.test.ts: listens on the unix socket SOCKET, takes
one connection (the runtime's), writes the container process state it got to STATE_FILE, and
answers the listener's notifications until the container is gone: mkdir/mkdirat fail with
ERRNO (0: they "succeed" without making anything), everything else continues.

    seccomp-agent.py SOCKET STATE_FILE ERRNO
"""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_SIZE = 80  # id u64, pid u32, flags u32, data: nr i32, arch u32, ip u64, args[6] u64
RESP_SIZE = 24  # id u64, val i64, error i32, flags u32
IOCTL_RECV = 0xC0000000 | (NOTIF_SIZE << 16) | (ord('!') << 8) | 0
IOCTL_SEND = 0xC0000000 | (RESP_SIZE << 16) | (ord('!') << 8) | 1
FLAG_CONTINUE = 1
MKDIR = {83, 258}  # x86_64 mkdir, mkdirat


def main() -> None:
    path, state_file, answer = sys.argv[1], sys.argv[2], int(sys.argv[3])
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    print('listening', flush=True)
    conn, _ = server.accept()
    data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
    while True:  # The rest of the state, if it came in more than one piece.
        more = conn.recv(65536)
        if not more:
            break
        data += more
    conn.close()
    server.close()
    state = json.loads(data)
    state['received_fds'] = len(fds)
    with open(state_file + '.tmp', 'w') as f:
        json.dump(state, f)
    os.rename(state_file + '.tmp', state_file)
    listener = fds[0]
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    while True:
        events = poller.poll()
        if not any(ev & select.POLLIN for _, ev in events):
            return  # POLLHUP: no process is left under the filter.
        notif = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(listener, IOCTL_RECV, notif)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            return  # ENOENT: no process is left under the filter.
        ident, _pid, _flags, nr = struct.unpack_from('<QIIi', notif)
        if nr in MKDIR:
            resp = struct.pack('<QqiI', ident, 0, -answer, 0)
        else:
            resp = struct.pack('<QqiI', ident, 0, 0, FLAG_CONTINUE)
        try:
            fcntl.ioctl(listener, IOCTL_SEND, bytearray(resp))
        except OSError:
            pass  # The caller was killed meanwhile.


main()
