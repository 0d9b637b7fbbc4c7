// Help texts of diff, commit, export and cp (registered in help.ts).

export const CONTAINER_FS_HELP: Record<string, string> = {
  diff: `Usage:  husk diff CONTAINER

List the changes in a container's files against its image, one a line: A added, C changed,
D deleted. Reads the writable layer a container of a store image run with -d (without
--rm) keeps on disk (<storage>/containers/<id>/upper); the mount points husk makes
(/proc, /dev, /sys, /tmp) are not changes.
`,
  commit: `Usage:  husk commit [-m MESSAGE] [-a AUTHOR] CONTAINER [REPOSITORY[:TAG]]

Make a new image from a container's changes: its writable layer becomes a new top layer
(whiteouts and opaque directories turned back into OCI's .wh. entries), over its image's
layers, with its image's config and a history entry. A running container is frozen while
its layer is packed. Prints the new image's id.

  -m, --message MESSAGE   The history entry's comment
  -a, --author AUTHOR     The image's author
`,
  export: `Usage:  husk export [-o FILE] CONTAINER

Write a container's files as one tar (the merged view: its image's layers with its changes,
whiteouts applied), to FILE or to stdout (never to a terminal). husk import reads it back.

  -o, --output FILE       Write to FILE instead of stdout
`,
  cp: `Usage:  husk cp [-L] CONTAINER:SRC_PATH DEST_PATH
        husk cp [-L] SRC_PATH CONTAINER:DEST_PATH

Copy files between a container and the host. Paths inside the container resolve as the
container sees them (its symlinks resolve inside it, never on the host). A destination that
is an existing directory receives SRC under its own name. Symlinks are copied as links
unless -L. Copying into a running container freezes it meanwhile.

  -L, --follow-link       Follow a symlink given as SRC_PATH
`,
};
