#!/usr/bin/env bash
# The test command README.md documents. On a fresh Debian 12 machine it
# installs the test oracles (lynis, debsecan, mmdebstrap), builds a real Debian 12 root
# filesystem (cached under target/), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
bash scripts/make-debian-rootfs.sh target/rootfs/debian12
export WARDEN_TEST_DEBIAN_ROOTFS="$PWD/target/rootfs/debian12"
cargo test --workspace --locked
