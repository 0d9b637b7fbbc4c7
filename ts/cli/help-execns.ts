// Help texts of exec, enter, ns and pod (registered in help.ts).

export const EXECNS_HELP: Record<string, string> = {
  exec: `Usage:  husk exec [OPTIONS] CONTAINER COMMAND [ARG...]

Run a command in a running container: in every namespace of its process (the user namespace
first), in its cgroups, as its user, with its environment and working directory, with docker's
default capabilities and no_new_privs. The exit status is the command's (126: cannot be run,
127: not found, 125: husk's own error).

Options:
  -d, --detach              Run in the background (no stdio; husk returns once it runs)
  -i, --interactive         Pass stdin (without it the command reads /dev/null)
  -e, --env KEY[=VALUE]     Set an environment variable (over the container's)
      --env-file FILE       Read environment variables from FILE
  -u, --user UID[:GID]      User to run as (names from the container's /etc/passwd)
  -w, --workdir DIR         Working directory (absolute)
      --privileged          Every capability husk holds, no no_new_privs
      --trace               Print each op of the plan with the time it took
`,
};
