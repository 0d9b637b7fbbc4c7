# Receives a pty master over a unix socket (SCM_RIGHTS) as an engine does for --console-socket,
# and prints what the container writes to its terminal (runc-cli.test.ts).
import socket, array, os, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(path); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
msg, anc, flags, addr = c.recvmsg(16, socket.CMSG_LEN(4))
fds = array.array('i'); fds.frombytes(anc[0][2][:4]); fd = fds[0]
out = b''
deadline = time.time() + 10
while time.time() < deadline:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b: break
    out += b
sys.stdout.write(out.decode(errors='replace'))
