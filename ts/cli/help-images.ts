// Help texts of the image commands (load, import, save, images, rmi, tag, image, system).

export const IMAGE_HELP: Record<string, string> = {
  load: `Usage:  husk load [-i FILE|-] [-q] [--format text|json]

Load images from a docker-archive (what docker save and podman save write) or an OCI image
layout (a directory, or a tar of one: oci-archive); gzip, zstd or plain layers. Each blob is
checked against its digest, each layer unpacked once and shared with the images that have it.
A broken or hostile archive is refused with one line and leaves the store as it was.

  -i, --input FILE      Read from FILE or an OCI layout directory (default: stdin)
  -q, --quiet           No progress
      --format json     Progress and the result as JSON lines on stdout
`,
  import: `Usage:  husk import [OPTIONS] TAR|- [REPOSITORY[:TAG]]

Import a flat rootfs tarball (what docker export writes; gzip or zstd too) as a one-layer image.

  -c, --change INSTR    Apply a CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME
                        or WORKDIR instruction to the image's config (repeatable)
  -m, --message TEXT    A comment for the image's history
  -q, --quiet           No progress
      --format json     Progress and the result as JSON lines on stdout
`,
  save: `Usage:  husk save [OPTIONS] IMAGE [IMAGE...]

Write images to an archive that docker, podman and skopeo load again. An image named by its
name is saved with that name; by its id, without one.

  -o, --output FILE     Write to FILE (a directory for oci-dir; default: stdout)
      --format FORMAT   docker-archive (default), oci-archive or oci-dir
  -q, --quiet           No progress
      --progress json   Progress as JSON lines on stderr
`,
  images: `Usage:  husk images [OPTIONS] [REPOSITORY[:TAG]]

List images: one row per name, <none> for an image without one.

  -q, --quiet           Only image ids
  -a, --all             Accepted for docker compatibility (husk has no intermediate images)
      --no-trunc        Full ids
      --format FORMAT   table (default) or json (one object a line)
`,
  rmi: `Usage:  husk rmi [-f] IMAGE [IMAGE...]

Remove images. A name untags it; the image goes with its last name. An id removes the image;
refused when several names point at it or a container uses it, unless -f. Layers and blobs
that no other image or container uses are freed at once.
`,
  tag: `Usage:  husk tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Give an image another name.
`,
  image: `Usage:  husk image COMMAND

Commands:
  ls        List images (husk images)
  rm        Remove images (husk rmi)
  tag       Name an image (husk tag)
  inspect   Show images as docker's JSON
  prune     Remove dangling images (-a: every image no container uses; -f: do not ask)
  load, save, import
`,
  system: `Usage:  husk system df [--format table|json]

Show the image store's disk use: images, blobs (as fetched), unpacked layers, containers'
writable layers, and the layers more than one image shares; what a prune would reclaim.
`,
};
