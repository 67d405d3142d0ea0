#!/usr/bin/env bash
# Debian packages the tests use as oracles or inputs:
# - lynis: the peer whose verdicts tests/lynis_agreement.rs compares with ours;
# - mmdebstrap: builds a real Debian 12 root filesystem for tests/real_rootfs.rs;
# - debsecan: the Debian Security Analyzer, the oracle of tests/cve_debian.rs;
# - rpm: rpm's own version comparison (rpm.vercmp), the live oracle of the
#   rpm ordering tests (crates/vulndb/tests/version_oracles.rs, tests/cve_rpm.rs);
# - openscap-scanner: oscap evaluates the SCAP Security Guide Debian 12 data
#   stream, the peer of the CIS package (crates/cli/tests/cis_openscap.rs).
# Skips apt entirely when everything is already there.
set -euo pipefail
need=()
command -v lynis >/dev/null || need+=(lynis)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v debsecan >/dev/null || need+=(debsecan)
command -v rpm >/dev/null || need+=(rpm)
command -v oscap >/dev/null || need+=(openscap-scanner)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to apt-get install ${need[*]}" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# --- warden net collect (crates/cli/tests/net_collect.rs) -------------------
# moto (an AWS EC2/ELB/STS API emulator, run on 127.0.0.1 only), boto3 (builds
# the test world in moto) and the AWS CLI (writes the reference folder the
# SDK-written one is compared with). Normally in the image; from PyPI if not.
if ! command -v moto_server >/dev/null || ! command -v aws >/dev/null \
  || ! python3 -c "import boto3, awscli" 2>/dev/null; then
  python3 -m pip install --quiet "moto[server]>=5.2,<5.3" boto3 awscli
fi
