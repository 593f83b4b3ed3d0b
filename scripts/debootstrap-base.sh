#!/usr/bin/env bash
# A minimal Debian bookworm root filesystem as a tarball, for `docker import`:
#
#   scripts/debootstrap-base.sh DEST.tar     copy the base tarball to DEST.tar
#   scripts/debootstrap-base.sh --mirror     print the Debian mirror it uses
#
# debootstrap --variant=minbase runs from the machine's Debian mirror (the first
# `URIs:` of /etc/apt/sources.list.d/debian.sources that is not a security
# mirror, else http://deb.debian.org/debian; BERTH_TEST_MIRROR overrides). The
# result is cached, keyed by date, so a test run does not download it each time:
#
#   /var/cache/berth-test/
#     debian-bookworm-minbase-20261206.tar   reused while younger than 7 days
#     .lock                                   one builder at a time (flock)
#
# Idempotent; needs root and debootstrap. Leaves no mounts and no temp dirs.
set -euo pipefail

CACHE=/var/cache/berth-test
SUITE=bookworm

mirror() {
  if [[ -n ${BERTH_TEST_MIRROR:-} ]]; then
    echo "${BERTH_TEST_MIRROR%/}"
    return
  fi
  local sources=/etc/apt/sources.list.d/debian.sources uri
  if [[ -r $sources ]]; then
    for uri in $(sed -n 's/^URIs:[[:space:]]*//p' "$sources"); do
      [[ $uri == *security* ]] && continue
      echo "${uri%/}"
      return
    done
  fi
  echo http://deb.debian.org/debian
}

if [[ ${1:-} == --mirror ]]; then
  mirror
  exit 0
fi
if [[ $# -ne 1 || $1 == -* ]]; then
  echo "usage: $0 DEST.tar | --mirror" >&2
  exit 2
fi
dest=$1
command -v debootstrap >/dev/null || { echo "debootstrap-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

cached=$(find "$CACHE" -maxdepth 1 -name "debian-$SUITE-minbase-*.tar" -mtime -7 -print | sort | tail -n 1)
if [[ -z $cached ]]; then
  root=$(mktemp -d /var/tmp/berth-debootstrap.XXXXXX)
  cleanup() {
    # debootstrap mounts /proc (and /sys, devpts on some variants) in the
    # target and can leave them on failure: unmount the deepest first.
    local m
    for m in $(awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r); do
      umount -l "$m" || true
    done
    rm -rf --one-file-system "$root"
  }
  trap cleanup EXIT
  m=$(mirror)
  echo "debootstrap-base: debootstrap --variant=minbase $SUITE from $m" >&2
  debootstrap --variant=minbase "$SUITE" "$root/rootfs" "$m" >"$root/debootstrap.log" 2>&1 || {
    tail -n 20 "$root/debootstrap.log" >&2
    exit 1
  }
  # what an image does not need: downloaded lists and packages
  rm -rf "$root/rootfs/var/lib/apt/lists/"* "$root/rootfs/var/cache/apt/archives/"*.deb
  cached=$CACHE/debian-$SUITE-minbase-$(date -u +%Y%m%d).tar
  tar --numeric-owner -C "$root/rootfs" -cf "$cached.part" .
  mv "$cached.part" "$cached"
  # older tarballs are replaced by this one
  find "$CACHE" -maxdepth 1 -name "debian-$SUITE-minbase-*.tar" ! -path "$cached" -delete
fi
cp "$cached" "$dest"
