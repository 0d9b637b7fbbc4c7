// Help texts, docker-style.

const RUN_OPTIONS = `Options:
      --rootfs DIR              Use DIR as the root filesystem instead of IMAGE
                                (read-only underneath, a private writable layer on top)
      --rootfs-rw               Write to the --rootfs directory itself (no overlay)
  -e, --env KEY[=VALUE]         Set an environment variable (KEY alone copies husk's)
      --env-file FILE           Read environment variables from FILE (KEY=VALUE lines)
  -h, --hostname NAME           Container hostname (default: the short container id)
  -w, --workdir DIR             Working directory inside the container (created if missing)
  -u, --user UID[:GID]          User to run as: numbers, or names from the image's /etc/passwd
      --net, --network MODE     none (default: a new network namespace with only lo) or host
      --pid MODE                private (default) or host
      --ipc MODE                private (default) or host
      --uts MODE                private (default) or host
      --userns MODE             host (default) or auto[:size=N]: root inside maps to an unused
                                host id range of N ids (default 65536)
      --timens                  New time namespace
      --time-offset LIST        monotonic=SECS,boottime=SECS clock offsets (implies --timens)
      --trace                   Print each op of the plan with the time it took
      --rm, -i                  Accepted for docker compatibility (always true here)`;

export const HELP: Record<string, string> = {
  main: `Usage:  husk [--root DIR] COMMAND [OPTIONS]

A daemonless container runtime: a static Zig launcher, a WebAssembly policy core and a
TypeScript orchestrator.

Commands:
  run       Run a command in a new container
  plan      Show the ops that "run" would perform, without running them
  info      Show this host's cgroup layout and what husk can enforce here
  version   Show the husk version
  help      Show help for a command

Global options:
      --root DIR    State directory (default /run/husk)
  -h, --help        Show this help
  -v, --version     Show the version

Images:
  host      built in: a read-only view of the host's /usr, /etc, /bin, /sbin and /lib*
            with a private writable layer on top

Run 'husk COMMAND --help' for more information on a command.
`,
  run: `Usage:  husk run [OPTIONS] IMAGE [--] COMMAND [ARG...]
        husk run [OPTIONS] --rootfs DIR [--] COMMAND [ARG...]

Run a command in a new container. Its exit status is husk's: N for exit N, 128+S when killed
by signal S; 125 when husk itself fails, 126 when the command cannot be executed, 127 when it
is not found.

${RUN_OPTIONS}
`,
  plan: `Usage:  husk plan [OPTIONS] IMAGE [--] COMMAND [ARG...]

Show the ops that "husk run" with the same options would perform, one op a line, without
running them. The plan comes from the policy core; the launcher runs it as it is.

      --save FILE               Write the encoded plan to FILE (run it with: husk-launcher < FILE)
      --format FORMAT           text (default) or json
${RUN_OPTIONS}
`,
};

HELP.info = `Usage:  husk info [--format text|json]

Show this host's cgroup layout (v1, v2 or hybrid), each hierarchy and its controllers, and,
flag by flag, whether husk can enforce the limit here, rootful and rootless.
`;

export function helpText(topic?: string): string {
  return HELP[topic ?? 'main'] ?? HELP.main;
}
