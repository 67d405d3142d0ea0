#!/usr/bin/env bash
# Builds a real, minimal Debian 12 (bookworm) root filesystem with
# openssh-server, using this machine's apt sources, for the end-to-end test
# that assesses a fresh Debian install. Reuses a complete earlier build.
set -euo pipefail
dest=${1:?usage: make-debian-rootfs.sh DIR}
if [ -f "$dest/.warden-rootfs-complete" ]; then
  exit 0
fi
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
tmp="$dest.partial"
rm -rf "$tmp"
mmdebstrap --quiet --variant=minbase --include=openssh-server bookworm "$tmp"
touch "$tmp/.warden-rootfs-complete"
mv "$tmp" "$dest"
