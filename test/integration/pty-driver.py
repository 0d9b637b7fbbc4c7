# Runs a command under a real pty (python's pty module: a terminal as a person's shell has)
# and plays steps on it, for the -t tests (test/integration/tty.test.ts). argv[1]: JSON
# {"rows": R, "cols": C, "steps": [...], "argv": [...]}; steps: ["write", text],
# ["until", text, ms] (wait until the output so far holds text), ["resize", rows, cols],
# ["sleep", ms], ["signal", signo]. Prints JSON {"output": all the output, "status": exit status, "timedOut": step or null}.
import fcntl, json, os, pty, select, struct, sys, termios, time

spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])

def size(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

size(spec["rows"], spec["cols"])
out = b""
alive = True

def pump(seconds, until=None):
    global out, alive
    end = time.time() + seconds
    while alive and time.time() < end:
        if until is not None and until in out:
            return True
        r, _, _ = select.select([fd], [], [], 0.02)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            alive = False
        out += data
    return until is not None and until in out

timed_out = None
for step in spec["steps"]:
    kind = step[0]
    if kind == "write":
        os.write(fd, step[1].encode())
    elif kind == "until":
        if not pump(step[2] / 1000, step[1].encode()):
            timed_out = step
            break
    elif kind == "resize":
        size(step[1], step[2])  # the kernel sends SIGWINCH to the terminal's foreground group
    elif kind == "signal":
        os.kill(pid, step[1])  # to the command itself (husk), as `kill` from elsewhere
    elif kind == "sleep":
        pump(step[1] / 1000)
if timed_out is not None:
    os.kill(pid, 9)
pump(20)
_, status = os.waitpid(pid, 0)
print(json.dumps({"output": out.decode("utf-8", "replace"), "status": os.waitstatus_to_exitcode(status), "timedOut": timed_out}))
