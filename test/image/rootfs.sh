#!/usr/bin/env bash
# Prints the path of a Debian bookworm minbase rootfs (with libatomic1, which Node.js 26 links),
# made once with debootstrap from the mirror this machine's apt uses (never one written here) and
# cached by its package list. test/image/run.sh builds its base image on it; .ci/run starts it
# early, in the background, so the download overlaps npm ci and the test suite.
set -euo pipefail
cache=${MAAS_IMAGE_CACHE:-/var/cache/maas-sidecar-image}
include=libatomic1
rootfs="$cache/rootfs-$include"
if [ -f "$rootfs/.complete" ]; then
  echo "$rootfs"
  exit 0
fi
# The first URIs of a deb822 source for the main archive, or the first `deb` line of sources.list.
mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "no Debian mirror in this machine's apt sources" >&2; exit 1; }
# One writer at a time (the background prefetch and the image test may meet).
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$rootfs/.complete" ]; then
  rm -rf "$rootfs"
  log=$(mktemp)
  debootstrap --variant=minbase --include="$include" bookworm "$rootfs" "$mirror" >"$log" 2>&1 ||
    { tail -20 "$log" >&2; rm -f "$log"; echo "debootstrap failed" >&2; exit 1; }
  rm -f "$log"
  touch "$rootfs/.complete"
fi
echo "$rootfs"
