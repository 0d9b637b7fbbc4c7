// Help texts of create, start, stop, restart, kill and wait (docker's words and flags).

export const LIFECYCLE_COMMAND_LINES = `  create    Create a container without starting it
  start     Start a created or stopped container (-a: stay attached)
  stop      Stop a container: its stop signal, then SIGKILL after -t seconds
  restart   Stop a container, then start it again (its files kept)
  kill      Send a signal to a container (default KILL)
  wait      Wait for containers to end, then print their exit codes
`;

export const LIFECYCLE_HELP: Record<string, string> = {
  create: `Usage:  husk create [OPTIONS] IMAGE [--] COMMAND [ARG...]
        husk create [OPTIONS] --rootfs DIR [--] COMMAND [ARG...]

Create a container without starting it, and print its id: its name is taken, its plan made
and saved, its writable layer made (kept under --root until husk rm). "husk start" runs it;
"husk ps -a" shows it as Created. Takes the options of "husk run" but -d.
`,
  start: `Usage:  husk start [-a] CONTAINER [CONTAINER...]

Start created or stopped containers in the background, the launcher staying as each one's
monitor. A stopped container starts again on the same writable layer: what it wrote is
there. A running container is left as it is.

  -a, --attach   Stay with the container: print its output from now on, and exit with
                 its exit status (one container)
      --sig-proxy=false   With -a, do not pass the SIGINT, SIGTERM, SIGHUP, SIGQUIT and
                 SIGUSR2 husk receives on to the container (default: passed on, as docker's)
`,
  stop: `Usage:  husk stop [-t SECONDS] CONTAINER [CONTAINER...]

Stop running containers: send the stop signal (the image's StopSignal, else SIGTERM), and
after the timeout SIGKILL to every process of the container. A container killed by the
SIGTERM exits 143, by the SIGKILL 137. A process that is pid 1 of its container (no --init)
only gets the signals it handles. Stopping a stopped container does nothing.

  -t, --time SECONDS   Seconds to wait before SIGKILL (default 10; 0: SIGKILL at once)
`,
  restart: `Usage:  husk restart [-t SECONDS] CONTAINER [CONTAINER...]

Stop containers as "husk stop" does (if running), then start them again on the same
writable layer.

  -t, --time SECONDS   Seconds to wait before SIGKILL (default 10)
`,
  kill: `Usage:  husk kill [-s SIGNAL] CONTAINER [CONTAINER...]

Send a signal to the process of running containers (through a pidfd, checked against the
process's recorded start time, so a recycled pid is never hit).

  -s, --signal SIGNAL  KILL (default), a name with or without SIG (TERM, SIGUSR1), a
                       number (15), or RTMIN+N / RTMAX-N
`,
  wait: `Usage:  husk wait CONTAINER [CONTAINER...]

Block until each container has ended, then print its exit code, one a line. A Created
container is waited for until a "husk start" has run it and it has ended (docker's); one
removed meanwhile is "no such container".
`,
};
