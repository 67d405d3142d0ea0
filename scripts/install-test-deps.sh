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
# --- Reports and SBOMs (crates/cli/tests/report.rs) ---
# - chromium: renders the HTML report headless (its DOM and its network log);
# - poppler-utils: pdftotext and pdftoppm read and render the PDF report;
# - python3-venv: for the validators' venv (below).
command -v chromium >/dev/null || need+=(chromium)
{ command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; } || need+=(poppler-utils)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# --- end of the reports block ---
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to apt-get install ${need[*]}" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# --- Reports and SBOMs, continued: a Python venv in target/report-venv with
# the validators: jsonschema (the vendored SARIF 2.1.0 schema),
# cyclonedx-python-lib (CycloneDX 1.5, with packageurl-python for purls) and
# spdx-tools (pyspdxtools, SPDX 2.3), pinned to the versions the tests were
# written against. Skipped when the venv already has them.
report_venv="$(cd "$(dirname "$0")/.." && pwd)/target/report-venv"
if ! "$report_venv/bin/python3" -c 'import jsonschema, cyclonedx.validation.json, spdx_tools, packageurl' 2>/dev/null; then
  python3 -m venv "$report_venv"
  "$report_venv/bin/pip" install -q 'jsonschema==4.26.0' 'cyclonedx-python-lib[json-validation]==11.12.0' \
    'packageurl-python==0.17.6' 'spdx-tools==0.8.5'
fi

# --- warden net collect (crates/cli/tests/net_collect.rs) -------------------
# moto (an AWS EC2/ELB/STS API emulator, run on 127.0.0.1 only), boto3 (builds
# the test world in moto) and the AWS CLI (writes the reference folder the
# SDK-written one is compared with). Normally in the image; from PyPI if not.
if ! command -v moto_server >/dev/null || ! command -v aws >/dev/null \
  || ! python3 -c "import boto3, awscli" 2>/dev/null; then
  python3 -m pip install --quiet "moto[server]>=5.2,<5.3" boto3 awscli
fi
