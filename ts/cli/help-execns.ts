// Help texts of exec, enter, ns and pod (registered in help.ts).

export const EXECNS_HELP: Record<string, string> = {
  network: `Usage:  husk network create [--subnet CIDR] [--gateway IP] [--ipv6 [--subnet ULA] [--gateway IP6]] [--internal] NAME
        husk network ls [--format json] [-q] | network inspect NAME... | network rm NAME... | network prune
        husk network connect [--ip ADDR] [--alias NAME]... NETWORK CONTAINER
        husk network disconnect [-f] NETWORK CONTAINER
        husk port CONTAINER

A network is a bridge (husk0 for the default network husk, husk1, husk2... for others), an
IPv4 subnet that no route of the host and no other network holds (the default network
10.88.0.0/16, others 10.89.N.0/24 unless --subnet), NAT to the outside (nftables table
inet husk) and isolation from the other networks. --internal: no route out, no NAT.
--ipv6: dual-stack, with an IPv6 unique local subnet too (--subnet given once per family,
default the first free fd68:7573:6b00:N::/64); containers get an IPv6 address (--ip6) at once.
A container joins one with run --network NAME [--ip ADDR] [-p [IP:]HPORT:PORT[/PROTO]]
(root's run and create without --network join husk, unless they join another's namespace):
a veth on the bridge, its address leased until its record goes, its own /etc/hosts,
/etc/hostname and /etc/resolv.conf. rm refuses a network a live container is on.
On a network of your own, containers find each other by --name, short id and
--network-alias (a responder, husk-dns, on the gateway). connect joins a running container
to one more network (eth1, eth2...; its default route stays), disconnect takes it away.
See docs/networks.md.`,
  exec: `Usage:  husk exec [OPTIONS] CONTAINER COMMAND [ARG...]

Run a command in a running container: in every namespace of its process (the user namespace
first), in its cgroups, as its user, with its environment and working directory, with docker's
default capabilities and no_new_privs. The exit status is the command's (126: cannot be run,
127: not found, 125: husk's own error).

Options:
  -d, --detach              Run in the background (no stdio; husk returns once it runs)
  -i, --interactive         Pass stdin (without it the command reads /dev/null)
  -t, --tty                 A pty held by the exec's launcher: raw mode, the window follows
                            yours, ctrl-p ctrl-q detaches (not with -d)
  -e, --env KEY[=VALUE]     Set an environment variable (over the container's)
      --env-file FILE       Read environment variables from FILE
  -u, --user UID[:GID]      User to run as (names from the container's /etc/passwd)
  -w, --workdir DIR         Working directory (absolute)
      --privileged          Every capability husk holds, no no_new_privs (the container's
                            seccomp filter still applies, as with runc)
      --trace               Print each op of the plan with the time it took
`,
  enter: `Usage:  husk enter [--net] [--uts] [--ipc] [--pid] [--mnt] [--user] [--cgroup] [--time] CONTAINER|ns:NAME|PID [COMMAND [ARG...]]

nsenter for husk's objects: run COMMAND (default sh) in the namespaces of a container's
process, of a pinned set (ns:NAME, from husk ns create or a pod's pod.NAME), or of any
process (PID): all of them, or only those named. husk's own user, capabilities and
environment are kept and no cgroup is joined.
`,
  ns: `Usage:  husk ns create NAME [--net] [--uts] [--ipc] [--cgroup] [--mnt] [--pid] [--time]
                            [--time-offset monotonic=SECS,boottime=SECS]
                            [--user [--uidmap C:H:N] [--gidmap C:H:N]]
        husk ns ls [--format table|json]
        husk ns inspect NAME [NAME...]
        husk ns rm [-f] NAME [NAME...]

Namespaces as objects. create makes new namespaces and pins each by a bind mount of its
/proc/PID/ns file under <root>/ns/NAME/TYPE, with no process left in them. ls shows, like
lsns, each one's type, inode (as ls -l /proc/PID/ns shows it), processes in it, containers
using it and whether it is still pinned ("stale": its bind mount is gone). rm unpins them;
it refuses while a process is in one, unless -f. A pid namespace needs a living init:
--pid keeps husk's own (husk-launcher --hold) as its pid 1 until rm. --time-offset (implies
--time) sets the new time namespace's clock offsets before anything enters it. --user pins a
user namespace with its maps (--uidmap/--gidmap, else a free range of 65536 host ids, as
--userns auto); the other namespaces made with it are its own. Join one with run --net
ns:NAME (also --ipc, --uts, --time, --userns) or enter it with husk enter ns:NAME.
`,
  pod: `Usage:  husk pod create NAME [--share net,ipc,uts]
        husk pod ls [--format table|json]
        husk pod rm [-f] NAME [NAME...]

Pods without a pause process: pinned namespaces (net, ipc and uts unless --share says
otherwise; husk ns ls shows them as pod.NAME) and a cgroup parent (<parent>/pod-NAME).
run --pod NAME joins them, so the pod's containers reach each other on 127.0.0.1. rm
unpins the namespaces and removes the cgroup parent; it refuses while the pod has
containers, unless -f (which removes them too).
`,
};
