#!/bin/sh
# husk load / save / import of one 333 MB, 33,481-file layer (/usr/share/{doc,man,locale})
# beside podman load (vfs) and skopeo copy of the same docker-archive, and GNU tar -x.
# As root; everything under $1 (default /tmp/husk-store-bench), removed at the end.
set -e
B=${1:-/tmp/husk-store-bench}
HUSK="node $(dirname "$0")/../bin/husk.js"
rm -rf "$B"; mkdir -p "$B"
tar -C /usr/share -cf "$B/share.tar" doc man locale 2>/dev/null || true
/usr/bin/time -f "husk import: %e s" $HUSK --storage "$B/st" import -q "$B/share.tar" b/share:1 >/dev/null
/usr/bin/time -f "husk save (docker-archive): %e s" $HUSK --storage "$B/st" save -q -o "$B/d.tar" b/share:1
/usr/bin/time -f "husk load (docker-archive): %e s" $HUSK --storage "$B/st2" load -q -i "$B/d.tar" >/dev/null
/usr/bin/time -f "podman load (vfs): %e s" podman --root "$B/pr" --runroot "$B/prr" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none load -q -i "$B/d.tar" >/dev/null
/usr/bin/time -f "skopeo copy docker-archive: -> oci: %e s" skopeo --insecure-policy copy -q "docker-archive:$B/d.tar" "oci:$B/oci:x"
/usr/bin/time -f "tar -x: %e s" sh -c "mkdir '$B/x' && tar -C '$B/x' -xf '$B/share.tar'"
rm -rf "$B"
