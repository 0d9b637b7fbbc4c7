// Help texts, docker-style.
import { CONTAINER_FS_HELP } from './help-container-fs.js';
import { LIFECYCLE_COMMAND_LINES, LIFECYCLE_HELP } from './help-lifecycle.js';
import { EXECNS_HELP } from './help-execns.js';
import { REGISTRY_HELP } from './args-registry.js';
import { IMAGE_HELP } from './help-images.js';

const RUN_OPTIONS = `Options:
      --rootfs DIR              Use DIR as the root filesystem instead of IMAGE
                                (read-only underneath, a private writable layer on top)
      --rootfs-rw               Write to the --rootfs directory itself (no overlay)
  -e, --env KEY[=VALUE]         Set an environment variable (KEY alone copies husk's)
      --env-file FILE           Read environment variables from FILE (KEY=VALUE lines)
  -h, --hostname NAME           Container hostname (default: the short container id)
  -w, --workdir DIR             Working directory inside the container (created if missing)
  -u, --user UID[:GID]          User to run as: numbers, or names from the image's /etc/passwd
      --entrypoint CMD          Replace a store image's Entrypoint (and drop its Cmd); '' clears it
      --net, --network MODE     A network's name (default for root: husk, or bridge, the
                                default one, made on first use; see 'husk network --help'),
                                none (a new network namespace with only lo: a user's default),
                                host, ns:NAME or container:OTHER (the other's, no network of its own)
      --ip ADDR                 The container's address on its network (default: the first free)
      --ip6 ADDR6               Its IPv6 address on a dual-stack network (default: the first free)
  -P, --publish-all             Publish the image's ExposedPorts on free host ports (32768-60999)
      --network-alias NAME      One more name the container answers to on a user-defined network
      --dns IP                  A resolver for the container instead of the host's (on a network)
      --add-host NAME:IP        One more line of the container's /etc/hosts (IP may be host-gateway)
      --mac-address MAC         The container's MAC on its network (default 02:42 + its address)
  -p, --publish [IP:]HPORT:PORT[/tcp|udp]
                                Publish a port of a container on a network on the host
      --pid MODE                private (default) or host
      --ipc MODE                private (default) or host
      --uts MODE                private (default) or host
      --userns MODE             host (default); auto[:size=N]: root inside maps to an unused
                                host id range of N ids (default 65536); keep-id: you keep your
                                id inside (root keeps 0; the other ids from a free range)
                                ns:NAME: join a pinned user namespace (husk ns create --user)
      --uidmap C:H:N            Map container uids C.. to host uids H.. (N ids); repeatable,
                                makes a user namespace; also used for gids without --gidmap
      --gidmap C:H:N            The same for gids (also used for uids without --uidmap)
      --subuid-file FILE        Subordinate uids (default /etc/subuid)
      --subgid-file FILE        Subordinate gids (default /etc/subgid)
      --timens                  New time namespace
      --time ns:NAME            Join a pinned time namespace (husk ns create NAME --time)
      --time-offset LIST        monotonic=SECS,boottime=SECS clock offsets (implies --timens)
      --trace                   Print each op of the plan with the time it took
      --security-opt OPT        seccomp=FILE (a docker or OCI profile), seccomp=unconfined (no
                                filter; default: docker's profile, docs/security.md), or
                                no-new-privileges (always on in husk)
      --cap-add CAP, --cap-drop CAP   Add or drop a capability from docker's default set
                                (SYS_ADMIN or CAP_SYS_ADMIN; ALL); repeatable
      --privileged              Every capability husk holds, no seccomp filter, no
                                no_new_privs, /sys writable, no masked /proc paths,
                                the host's device nodes in /dev
      --ulimit NAME=SOFT[:HARD] A resource limit (nofile, nproc, core, ...; -1: unlimited)
      --sysctl KEY=VALUE        A namespaced sysctl (net.*, kernel.shm*, kernel.msg*, fs.mqueue.*)
      --oom-score-adj N         The container's OOM score adjustment (-1000 to 1000)
      --group-add GROUP         An extra group (a gid, or a name in the image's /etc/group)
      --read-only               The root filesystem read-only (/tmp, /dev, --tmpfs stay writable)
      --tmpfs PATH[:OPTS]       A tmpfs at PATH (noexec,nosuid,nodev unless OPTS say exec,
                                suid, dev; size=, mode=, uid=, gid=; ro)
      --device HOST[:PATH][:rwm] The host's device node at PATH (default HOST); without w,
                                read-only
  -i, --interactive             Keep stdin open (-d: for husk attach; in the foreground stdin
                                is always passed on)
  -t, --tty                     Give the container a pty held by its monitor, sized as your
                                terminal and following it; your terminal is raw meanwhile
      --detach-keys KEYS        Keys that leave an attached -it container running (default
                                ctrl-p,ctrl-q)

Resources (enforced with cgroups, or refused: see docs/cgroups.md):
  -m, --memory SIZE             Memory limit (e.g. 512m, 1g); OOM kills exit 137 and are reported
      --memory-swap SIZE        Memory plus swap (-1: unlimited; default twice --memory)
      --memory-reservation SIZE Soft memory limit
      --cpus N                  CPUs (e.g. 0.5: half of one CPU)
      --cpu-quota US            CFS quota per period, microseconds (-1: none)
      --cpu-period US           CFS period, microseconds (1000 to 1000000)
  -c, --cpu-shares N            Relative CPU weight (2 to 262144; 1024 is the default)
      --cpuset-cpus LIST        CPUs to run on (0-2,4)
      --cpuset-mems LIST        Memory nodes to use
      --pids-limit N            Most processes and threads at once (0 or -1: unlimited)
      --blkio-weight N          Relative block I/O weight (10 to 1000)
      --device-read-bps PATH:RATE    Read rate limit of a device (e.g. /dev/sda:1mb)
      --device-write-bps PATH:RATE   Write rate limit of a device
      --device-read-iops PATH:N      Read operations per second of a device
      --device-write-iops PATH:N     Write operations per second of a device
      --cgroup-parent P         Parent of the container's cgroup in every hierarchy
                                (default husk, or $HUSK_CGROUP_PARENT)`;

const LIFECYCLE_OPTIONS = `Lifecycle (run only):
  -d, --detach                  Run in the background and print the container id
      --name NAME               Name the container (for ps, inspect, rm, pause, stats, top)
      --rm                      With -d: remove the container's record once it has ended
                                (a foreground run's is always removed)
      --init                    Run husk's init as pid 1: it reaps orphaned processes and
                                forwards signals to the command (also for create)`;

export const HELP: Record<string, string> = {
  main: `Usage:  husk [--root DIR] COMMAND [OPTIONS]

A daemonless container runtime: a static Zig launcher, a WebAssembly policy core and a
TypeScript orchestrator.

Commands:
  run       Run a command in a new container
  plan      Show the ops that "run" would perform, without running them
  info      Show this host's cgroup layout and what husk can enforce here
  ps        List containers
  inspect   Show a container's state (docker's JSON shape, State.OOMKilled included)
  rm        Remove a container (-f: kill it first)
${LIFECYCLE_COMMAND_LINES}  pause     Freeze every process of a container
  unpause   Thaw a paused container
  stats     Show CPU, memory, block I/O and pids usage of running containers
  top       Show a container's processes (-L: its threads)
  diff      List the changes in a container's files (A, C, D)
  commit    Make a new image from a container's changes
  export    Write a container's files as a tar
  cp        Copy files between a container and the host
  exec      Run a command in a running container
  enter     Run a command in the namespaces of a container, a pinned set or a process
  ns        Create, list, inspect and remove pinned namespaces
  pod       Create, list and remove pods (shared namespaces, no pause process)
  network   Create, list, inspect and remove networks (a bridge, NAT, published ports)
  port      List a container's published ports
  pull      Download an image from a registry
  push      Upload an image to a registry
  login     Log in to a registry (credentials kept in <storage>/auth.json, 0600)
  logout    Forget a registry's credentials
  logs      Show a container's output (-f: follow it)
  attach    Join a running container's input and output (ctrl-p ctrl-q: detach)
  images    List images (load, import, save, rmi, tag, image inspect|prune, system df)
  version   Show the husk version
  help      Show help for a command

Global options:
      --root DIR    State directory (default /run/husk; as a user $XDG_RUNTIME_DIR/husk, else /tmp/husk-UID)
      --storage DIR Image store (default $HUSK_STORAGE, else /var/lib/husk; as a user ~/.local/share/husk)
  -h, --help        Show this help
  -v, --version     Show the version

Images:
  host      built in: a read-only view of the host's /usr, /etc, /bin, /sbin and /lib*
            with a private writable layer on top

Run 'husk COMMAND --help' for more information on a command.
`,
  run: `Usage:  husk run [OPTIONS] IMAGE [--] [COMMAND [ARG...]]
        husk run [OPTIONS] --rootfs DIR [--] COMMAND [ARG...]

Run a command in a new container. Its exit status is husk's: N for exit N, 128+S when killed
by signal S; 125 when husk itself fails, 126 when the command cannot be executed, 127 when it
is not found. With -d it runs in the background: husk prints its id and exits 0.

${RUN_OPTIONS}

${LIFECYCLE_OPTIONS}
`,
  plan: `Usage:  husk plan [OPTIONS] IMAGE [--] COMMAND [ARG...]

Show the ops that "husk run" with the same options would perform, one op a line, without
running them. The plan comes from the policy core; the launcher runs it as it is.

      --save FILE               Write the encoded plan to FILE (run it with: husk-launcher < FILE)
      --format FORMAT           text (default) or json
      --host-cgroups LAYOUT     Show the plan for a typical v1, v2 or hybrid host instead of
                                this one (what the cgroup writes would be there)
${RUN_OPTIONS}
`,
};

HELP.info = `Usage:  husk info [--format text|json]

Show this host's cgroup layout (v1, v2 or hybrid), each hierarchy and its controllers, and,
flag by flag, whether husk can enforce the limit here, rootful and rootless.
`;

HELP.ps = `Usage:  husk ps [-a] [-q] [--format table|json]

List running containers (foreground and -d ones).

  -a, --all       Show exited containers too
  -q, --quiet     Only their ids
      --format F  table (default) or json (one object a line)
`;

HELP.inspect = `Usage:  husk inspect CONTAINER [CONTAINER...]

Show containers as a JSON array in docker's shape: State (Status, Running, Paused, OOMKilled,
Pid, ExitCode, Error, StartedAt, FinishedAt), HostConfig (the limits), and Husk (launcher
pid, cgroup directories). CONTAINER is a name, an id or a unique prefix of one.
`;

HELP.rm = `Usage:  husk rm [-f] [-v] CONTAINER [CONTAINER...]

Remove containers that have ended or were never started, with their writable layer. With
-f, kill a running one first (every process of its cgroup), wait for its launcher, and
remove its cgroups and state. -v (--volumes) is accepted as docker's: a container's only
volume is its writable layer, which rm always removes.
`;

Object.assign(HELP, LIFECYCLE_HELP);

HELP.pause = `Usage:  husk pause CONTAINER [CONTAINER...]

Freeze every process of a container (cgroup v1 freezer, or v2 cgroup.freeze); returns once
the kernel reports them frozen. See also: husk unpause.
`;

HELP.unpause = `Usage:  husk unpause CONTAINER [CONTAINER...]

Thaw a paused container.
`;

HELP.stats = `Usage:  husk stats [--no-stream] [--format table|json] [CONTAINER...]

CPU % (100% = one CPU busy), memory usage and limit, block I/O and pids of running containers
(all of them without CONTAINER), read from their cgroups. Refreshes every second until
interrupted (in place on a terminal).

      --no-stream   One reading (taken over half a second), then exit
      --format F    table (default) or json (one object a line: docker's fields and Raw numbers)
`;

HELP.top = `Usage:  husk top [-L] CONTAINER

Show the processes of a container as "ps -ef" does, from its cgroup.procs; with -L (--threads)
each of their threads as "ps -eLf" does, from the cgroup's thread list.
`;

Object.assign(HELP, CONTAINER_FS_HELP);
Object.assign(HELP, EXECNS_HELP);
Object.assign(HELP, REGISTRY_HELP);
HELP.logs = `Usage:  husk logs [-f] [-t] [--tail N] [--since T] [--until T] CONTAINER

Show the output of a container run with -d: its stdout on stdout and its stderr on stderr, in
the order the monitor read them. The monitor writes them to <root>/containers/ID/log in the
CRI format, one line each: <RFC 3339 time> <stdout|stderr> <F|P> <text>.

  -f, --follow        Keep printing new output until the container ends
  -t, --timestamps    Put each line's time in front of it
  -n, --tail N        Only the last N lines ("all": every line, the default)
      --since T       Only lines from T on: a time (2026-12-03T07:15:00Z, 2026-12-03), Unix
                      seconds, or a duration before now (10m, 1h30m, 5s)
      --until T       Only lines before T (same forms)
`;

HELP.attach = `Usage:  husk attach [--no-stdin] [--detach-keys KEYS] CONTAINER

Join a container run with -d: its output on yours; your input to it when it keeps stdin open
(-i); with a pty (-t) your terminal in raw mode, its window size followed. Typing the detach
keys (ctrl-p ctrl-q) leaves it running; otherwise husk attach returns its exit status once it
ends.

      --no-stdin          Only watch the output
      --detach-keys KEYS  Other keys to detach, e.g. ctrl-x,x
`;

Object.assign(HELP, IMAGE_HELP);

export function helpText(topic?: string): string {
  return HELP[topic ?? 'main'] ?? HELP.main;
}
