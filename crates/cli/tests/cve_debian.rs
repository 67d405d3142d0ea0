//! End-to-end: the CVE package on Debian 12, with real data on both sides.
//!
//! - Feed: `tests/fixtures/vuln/oval-definitions-bookworm-minbase.xml.bz2`, a
//!   real subset of Debian's bookworm OVAL (2023-07-14) for the source
//!   packages of the mmdebstrap rootfs (see `tests/fixtures/vuln/README.md`).
//! - Host: `tests/fixtures/roots/debian12-old-packages`, the rootfs's
//!   os-release and dpkg status with 25 binary packages set back to older
//!   real versions (`scripts/fixtures/make-debian12-old-packages.py`), and
//!   the real rootfs itself (`WARDEN_TEST_DEBIAN_ROOTFS`).
//! - Oracle: debsecan, the Debian Security Analyzer, run on the same OVAL
//!   turned into its feed format by an independent converter
//!   (`scripts/fixtures/oval-to-debsecan-feed.py`, ElementTree, no Warden
//!   code). Its output for the fixture is recorded in
//!   `debsecan-summary.txt` (so the exact-set test runs without debsecan) and
//!   re-computed live by the differential tests.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use warden_model::{Outcome, Severity};

type Triples = BTreeSet<(String, String, String)>;

const OLD_ROOT: &str = "roots/debian12-old-packages";

fn oval() -> PathBuf {
    fixture("vuln/oval-definitions-bookworm-minbase.xml.bz2")
}

fn old_root() -> PathBuf {
    fixture(OLD_ROOT).join("root")
}

/// debsecan's `--format summary` lines (`CVE PACKAGE [(fixed, ...)]`) as
/// (CVE, binary package, fixed|unfixed).
fn parse_debsecan(summary: &str) -> Triples {
    summary
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let (cve, package) = (words.next().unwrap(), words.next().unwrap());
            // "(fixed" is debsecan's note for a vulnerability with a fix in the suite.
            let status = if l.contains("(fixed") { "fixed" } else { "unfixed" };
            (cve.to_string(), package.to_string(), status.to_string())
        })
        .collect()
}

/// Converts the OVAL subset into a debsecan feed and runs debsecan on a dpkg
/// status file. None when python3 or debsecan is missing (outside CI).
fn debsecan(dir: &Path, status: &Path, only_fixed: bool) -> Option<Triples> {
    if !have_tool("debsecan") || !have_tool("python3") {
        return None;
    }
    let feed = dir.join("debsecan-feed");
    let script = workspace().join("scripts/fixtures/oval-to-debsecan-feed.py");
    let out = Command::new("python3").arg(script).arg(oval()).arg(&feed).arg("bookworm").output().unwrap();
    assert!(out.status.success(), "converter failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut cmd = Command::new("debsecan");
    cmd.arg("--suite").arg("bookworm");
    cmd.arg(format!("--source=file://{}/", feed.display()));
    cmd.arg("--status").arg(status).arg("--format").arg("summary");
    if only_fixed {
        cmd.arg("--only-fixed");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "debsecan failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(parse_debsecan(&String::from_utf8(out.stdout).unwrap()))
}

/// A root holding only the real rootfs's os-release and dpkg status: all the
/// CVE package reads.
fn minimal_copy_of(rootfs: &Path, dir: &Path) -> PathBuf {
    let root = dir.join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    // /etc/os-release is a relative symlink to ../usr/lib/os-release there.
    fs::copy(rootfs.join("usr/lib/os-release"), root.join("etc/os-release")).unwrap();
    fs::copy(rootfs.join("var/lib/dpkg/status"), root.join("var/lib/dpkg/status")).unwrap();
    root
}

/// The pairs with a fix in the OVAL, each traced to its definition (source
/// version installed < `evr less than` of the dpkginfo state):
const FIXED_PAIRS: &[(&str, &str, &str)] = &[
    // e2fsprogs 1.46.5-2 < 1.46.6~rc1-1 (`~` sorts before the end: still newer than 1.46.5).
    ("CVE-2022-1304", "e2fsprogs", "fixed"),
    ("CVE-2022-1304", "libcom-err2", "fixed"),
    ("CVE-2022-1304", "libext2fs2", "fixed"),
    ("CVE-2022-1304", "libss2", "fixed"),
    ("CVE-2022-1304", "logsave", "fixed"),
    // gnutls28 3.7.8-4 < 3.7.8-5.
    ("CVE-2023-0361", "libgnutls30", "fixed"),
    // pcre2 10.39-3 < 10.40-1.
    ("CVE-2022-1586", "libpcre2-8-0", "fixed"),
    ("CVE-2022-1587", "libpcre2-8-0", "fixed"),
    // libtasn1-6 4.18.0-4 < 4.19.0-2.
    ("CVE-2021-46848", "libtasn1-6", "fixed"),
    // libzstd 1.5.2+dfsg2-3 < 1.5.4+dfsg2-1.
    ("CVE-2022-4899", "libzstd1", "fixed"),
    // zlib 1:1.2.11.dfsg-4 < 1:1.2.11.dfsg-4.1 (same epoch, longer revision).
    ("CVE-2022-37434", "zlib1g", "fixed"),
];

/// Fixes the old versions are at or past exactly: none may be reported.
const AT_THE_FIX: &[(&str, &str)] = &[
    ("CVE-2023-2650", "libssl3"),         // openssl fixed 3.0.9-1 = installed 3.0.9-1
    ("CVE-2023-0464", "libssl3"),         // same
    ("CVE-2022-4450", "libssl3"),         // fixed 3.0.8-1 < 3.0.9-1
    ("CVE-2013-4235", "login"),           // shadow fixed 1:4.12.3+dfsg1-1 = installed
    ("CVE-2013-4235", "passwd"),          // same
    ("CVE-2018-25032", "zlib1g"),         // zlib fixed 1:1.2.11.dfsg-4 = installed
    ("CVE-2021-20193", "tar"),            // tar fixed 1.34+dfsg-1 < 1.34+dfsg-1.2
    ("CVE-2022-4415", "libsystemd0"),     // systemd fixed 252.4-1 < 252.6-1
    ("CVE-2023-25136", "openssh-server"), // openssh fixed 1:9.2p1-1 < 1:9.2p1-2
];

#[test]
fn old_debian_12_packages_exact_set_from_debsecan() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[oval()]);
    let a = assess_cve(&old_root(), &db, &[]);
    assert_eq!(a.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    let got = cve_matches(&a);

    // The oracle: debsecan's summary for this very status file and feed (see the README).
    let recorded = fs::read_to_string(fixture(OLD_ROOT).join("debsecan-summary.txt")).unwrap();
    let want = parse_debsecan(&recorded);
    assert_eq!(want.len(), 104, "the recorded debsecan output has 104 (CVE, package) lines");
    assert_same_set(&got, &want, "debian12-old-packages vs recorded debsecan");

    // Its fixed part, by hand from the OVAL definitions.
    let fixed: Triples = got.iter().filter(|t| t.2 == "fixed").cloned().collect();
    assert_same_set(&fixed, &triples(FIXED_PAIRS), "fixed pairs");
    for (cve, package) in AT_THE_FIX {
        assert!(!got.iter().any(|t| t.0 == *cve && t.1 == *package), "{cve} {package} is fixed at this version");
    }
    // The other 93 are "DPKG is earlier than 0" entries (no fix yet): the
    // same 93 the current rootfs has (test below), e.g. glibc's
    // CVE-2019-1010022 on both glibc binaries.
    assert_eq!(got.len() - fixed.len(), 93);
    assert!(got.contains(&("CVE-2019-1010022".into(), "libc6".into(), "unfixed".into())));
    assert!(got.contains(&("CVE-2019-1010022".into(), "libc-bin".into(), "unfixed".into())));

    // One finding per CVE, every package in it; 46 CVEs in 45 packages.
    let cves: BTreeSet<&str> = got.iter().map(|t| t.0.as_str()).collect();
    let findings: Vec<_> = a.findings.iter().filter(|f| f.attributes.contains_key("CVE_ID")).collect();
    assert_eq!(findings.len(), cves.len());
    assert_eq!(findings.len(), a.findings.len(), "no other finding (no support lists imported)");
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::Fail);
    assert_eq!(scan.reason, "46 vulnerabilities in 45 of 119 installed packages");

    // A finding in full: attributes, evidence citing the status file's stanza.
    let f = findings.iter().find(|f| f.rule_id == "CVE-2022-37434").unwrap();
    assert_eq!(f.title, "CVE-2022-37434 in zlib");
    assert_eq!(f.attributes["package_name"], "zlib1g");
    assert_eq!(f.attributes["installed_version"], "1:1.2.11.dfsg-4");
    assert_eq!(f.attributes["fixed_version"], "1:1.2.11.dfsg-4.1");
    assert_eq!(f.attributes["status"], "fixed");
    assert_eq!(f.severity, Severity::Medium, "Debian's OVAL has no rating and no CVSS was imported");
    let status = old_root().join("var/lib/dpkg/status");
    assert_cites_finding(f, line_of(&status, "Package: zlib1g"), "zlib1g 1:1.2.11.dfsg-4");
    assert_eq!(f.evidence[0].message, "source package zlib 1:1.2.11.dfsg-4 < fixed 1:1.2.11.dfsg-4.1 (debian-oval)");
    // The e2fsprogs binaries had a binNMU version; the source version is compared.
    let e2 = findings.iter().find(|f| f.rule_id == "CVE-2022-1304").unwrap();
    assert_eq!(e2.attributes["package_name"], "e2fsprogs,libcom-err2,libext2fs2,libss2,logsave");
    assert_eq!(e2.attributes["fixed_version"], "1.46.6~rc1-1");
    // An unfixed one: status, no fixed_version, the "no fix yet" advice.
    let glibc = findings.iter().find(|f| f.rule_id == "CVE-2019-1010022").unwrap();
    assert_eq!(glibc.attributes["status"], "unfixed");
    assert!(!glibc.attributes.contains_key("fixed_version"));
    assert_eq!(glibc.attributes["package_name"], "libc-bin,libc6");
    assert_cites_finding(glibc, line_of(&status, "Package: libc6"), "libc6 2.36-9");
    assert!(glibc.recommendation.starts_with("No fixed version is available yet"), "{}", glibc.recommendation);
}

fn assert_cites_finding(f: &warden_model::Finding, line: u32, text: &str) {
    assert!(
        f.evidence.iter().any(|e| e.path.as_deref() == Some("/var/lib/dpkg/status")
            && e.line == Some(line)
            && e.text.as_deref() == Some(text)),
        "{} does not cite /var/lib/dpkg/status:{line} {text:?}: {:#?}",
        f.rule_id,
        f.evidence
    );
}

#[test]
fn ignore_unfixed_leaves_exactly_the_fixed_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[oval()]);
    let a = assess_cve(&old_root(), &db, &["--ignore-unfixed"]);
    assert_same_set(&cve_matches(&a), &triples(FIXED_PAIRS), "--ignore-unfixed");
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.reason, "7 vulnerabilities in 10 of 119 installed packages (unfixed ones left out)");
    // debsecan --only-fixed, live, agrees.
    if let Some(ds) = debsecan(dir.path(), &old_root().join("var/lib/dpkg/status"), true) {
        assert_same_set(&cve_matches(&a), &ds, "--ignore-unfixed vs debsecan --only-fixed");
    }
}

#[test]
fn debsecan_differential_on_the_old_packages() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ds) = debsecan(dir.path(), &old_root().join("var/lib/dpkg/status"), false) else { return };
    let db = import_db(dir.path(), &[oval()]);
    let got = cve_matches(&assess_cve(&old_root(), &db, &[]));
    // 104 (CVE, binary package) pairs, statuses included: no disagreement.
    assert_eq!(ds.len(), 104);
    assert_same_set(&got, &ds, "Warden vs debsecan (old packages)");
    // The recorded oracle output is still what debsecan says.
    let recorded = parse_debsecan(&fs::read_to_string(fixture(OLD_ROOT).join("debsecan-summary.txt")).unwrap());
    assert_eq!(recorded, ds, "debsecan-summary.txt is stale: regenerate it (see tests/fixtures/roots/README.md)");
}

#[test]
fn debsecan_differential_on_the_real_rootfs() {
    let Some(rootfs) = debian_rootfs_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = minimal_copy_of(&rootfs, dir.path());
    // Only these two files are needed: collect reads them as on the full root.
    let out = warden().args(["collect", "--root", root.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snap: warden_model::Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snap.host.os.value().unwrap().version_id.as_deref(), Some("12"));
    assert_eq!(snap.packages.value().unwrap()[0].packages.len(), 119);

    let Some(ds) = debsecan(dir.path(), &root.join("var/lib/dpkg/status"), false) else { return };
    let db = import_db(dir.path(), &[oval()]);
    let got = cve_matches(&assess_cve(&root, &db, &[]));
    // The rootfs is newer than every fix in the July 2023 OVAL: only the 93
    // "no fix yet" pairs remain, on both sides.
    assert_eq!(ds.len(), 93);
    assert!(ds.iter().all(|t| t.2 == "unfixed"));
    assert_same_set(&got, &ds, "Warden vs debsecan (real rootfs)");
    // The full root gives the same as the two-file copy.
    assert_eq!(cve_matches(&assess_cve(&rootfs, &db, &[])), got);
}

#[test]
fn no_database_could_not_evaluate_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.sqlite");
    let a = assess_cve(&old_root(), &db, &[]);
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::CouldNotEvaluate);
    assert!(scan.reason.contains("warden db import"), "{}", scan.reason);
    assert!(scan.reason.contains("missing.sqlite"), "names the path looked at: {}", scan.reason);
    assert!(a.findings.is_empty());
    assert!(!db.exists(), "assess never creates a database");
}

const BULLSEYE_OS_RELEASE: &str = r#"PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

/// The old-packages root with another os-release.
fn with_os_release(dir: &Path, os_release: &str) -> PathBuf {
    let root = dir.join("root");
    copy_tree(&old_root(), &root);
    fs::write(root.join("etc/os-release"), os_release).unwrap();
    root
}

#[test]
fn unsupported_release_is_one_informational_finding() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[oval()]);
    // Debian 11 with a bookworm-only database: nothing is matched against
    // bookworm's fixes; the host is reported as not checked.
    let root = with_os_release(dir.path(), BULLSEYE_OS_RELEASE);
    let a = assess_cve(&root, &db, &[]);
    assert_eq!(a.findings.len(), 1, "{:#?}", a.findings);
    let f = &a.findings[0];
    assert_eq!(f.rule_id, "cve-unsupported-os");
    assert_eq!(f.severity, Severity::Informational);
    assert_eq!(
        f.evidence[0].message,
        "/var/lib/dpkg/status: the vulnerability database has no advisories for debian 11: import that release's feed"
    );
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::CouldNotEvaluate);
    assert!(scan.reason.contains("not checked"), "{}", scan.reason);

    // Debian testing has no VERSION_ID: no release to key advisories by.
    let dir = tempfile::tempdir().unwrap();
    let testing =
        "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n";
    let a = assess_cve(&with_os_release(dir.path(), testing), &db, &[]);
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].rule_id, "cve-unsupported-os");
    assert!(a.findings[0].evidence[0].message.contains("testing or unstable"), "{:?}", a.findings[0].evidence);
    assert_eq!(rule(&a, "cve-scan").outcome, Outcome::CouldNotEvaluate);
}

/// Two hand-written dpkg stanzas for packages on Debian's real
/// security-support lists (debian-security-support 1:12+2026.06.30, the
/// files of `crates/vulndb/tests/fixtures/feeds/security-support/`), at
/// their bookworm versions: pdns-server (source pdns, support ended
/// 2025-10-01) and binutils (limited support).
const SUPPORT_STANZAS: &str = "
Package: pdns-server
Status: install ok installed
Priority: optional
Section: net
Maintainer: pdns packagers <pdns-devel@lists.alioth.debian.org>
Architecture: amd64
Source: pdns
Version: 4.7.3-2
Description: extremely powerful and versatile nameserver

Package: binutils
Status: install ok installed
Priority: optional
Section: devel
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Version: 2.40-2
Description: GNU assembler, linker and binary utilities
";

#[test]
fn security_support_lists_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let lists = workspace().join("crates/vulndb/tests/fixtures/feeds/security-support");
    let db = import_db(
        dir.path(),
        &[oval(), lists.join("security-support-ended.deb12"), lists.join("security-support-limited")],
    );
    let root = dir.path().join("root");
    copy_tree(&old_root(), &root);
    let status = root.join("var/lib/dpkg/status");
    let mut text = fs::read_to_string(&status).unwrap();
    text.push_str(SUPPORT_STANZAS);
    fs::write(&status, text).unwrap();
    let a = assess_cve(&root, &db, &[]);
    // The CVE matches are unchanged (neither source has an OVAL entry here).
    let old = assess_cve(&old_root(), &db, &[]);
    assert_eq!(cve_matches(&a), cve_matches(&old));

    let ended = a.findings.iter().find(|f| f.rule_id == "cve-support-ended").expect("pdns support ended");
    assert_eq!(ended.title, "Security support ended for pdns");
    assert_eq!(ended.severity, Severity::Medium, "2025-10-01 is past");
    assert_eq!(ended.attributes["support_end_date"], "2025-10-01");
    assert_eq!(ended.attributes["last_supported_version"], "4.7.3-2");
    assert_eq!(
        ended.description,
        "Debian's security support for pdns ended on 2025-10-01 (last supported version 4.7.3-2): \
         vulnerabilities found in it after that date are not fixed in this release."
    );
    assert_eq!(ended.evidence[0].line, Some(line_of(&status, "Package: pdns-server")));
    let limited = a.findings.iter().find(|f| f.rule_id == "cve-support-limited").expect("binutils limited");
    assert_eq!(limited.title, "Limited security support for binutils");
    assert_eq!(limited.severity, Severity::Low);
    for f in [ended, limited] {
        for text in [&f.description, &f.recommendation] {
            assert!(!text.contains("  "), "{}: a run of spaces in {text:?}", f.rule_id);
        }
    }
    assert_eq!(a.findings.iter().filter(|f| f.rule_id.starts_with("cve-support")).count(), 2);
}
