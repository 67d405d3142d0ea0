//! End-to-end: the CVE package on Alpine 3.20.
//!
//! - Feed: `tests/fixtures/vuln/alpine/v3.20/main.json`, the real secdb
//!   entries of the installed origins (busybox, curl, musl, openssl, zlib).
//! - Host: `tests/fixtures/roots/alpine-3.20-packages`, 12 real Alpine 3.20
//!   packages (`scripts/fixtures/make-alpine-3.20-packages.sh`).
//! - Oracle: the secdb entries read by hand, one line of reasoning per
//!   expected pair below. Secdb keys origins (source packages): every
//!   subpackage of an origin shares its fixes.

mod common;

use std::path::PathBuf;

use common::*;
use warden_model::Outcome;

fn secdb() -> PathBuf {
    fixture("vuln/alpine/v3.20/main.json")
}

fn root() -> PathBuf {
    fixture("roots/alpine-3.20-packages/root")
}

/// Each expected pair, from the secdb key (the first fixed version) and apk's
/// ordering of the installed version against it.
const EXPECTED: &[(&str, &str, &str)] = &[
    // busybox 1.36.1-r28 < 1.36.1-r29 (same version, pkgrel 28 < 29) fixes
    // CVE-2023-42364 and CVE-2023-42365; for busybox, busybox-binsh, ssl_client.
    ("CVE-2023-42364", "busybox", "fixed"),
    ("CVE-2023-42364", "busybox-binsh", "fixed"),
    ("CVE-2023-42364", "ssl_client", "fixed"),
    ("CVE-2023-42365", "busybox", "fixed"),
    ("CVE-2023-42365", "busybox-binsh", "fixed"),
    ("CVE-2023-42365", "ssl_client", "fixed"),
    // openssl 3.3.1-r0 < 3.3.1-r1 fixes CVE-2024-5535 (pkgrel only);
    // 3.3.1-r0 < 3.3.2-r0 fixes CVE-2024-6119; < 3.3.2-r1 fixes CVE-2024-9143.
    ("CVE-2024-5535", "libcrypto3", "fixed"),
    ("CVE-2024-5535", "libssl3", "fixed"),
    ("CVE-2024-5535", "openssl", "fixed"),
    ("CVE-2024-6119", "libcrypto3", "fixed"),
    ("CVE-2024-6119", "libssl3", "fixed"),
    ("CVE-2024-6119", "openssl", "fixed"),
    ("CVE-2024-9143", "libcrypto3", "fixed"),
    ("CVE-2024-9143", "libssl3", "fixed"),
    ("CVE-2024-9143", "openssl", "fixed"),
    // curl 8.9.0-r0 < 8.9.1-r0 fixes CVE-2024-7264; < 8.10.0-r0 fixes
    // CVE-2024-8096 (9 < 10 as numbers, although "9" > "10" as text);
    // < 8.11.0-r0 fixes CVE-2024-9681; < 8.11.1-r0 fixes CVE-2024-11053.
    ("CVE-2024-7264", "curl", "fixed"),
    ("CVE-2024-7264", "libcurl", "fixed"),
    ("CVE-2024-8096", "curl", "fixed"),
    ("CVE-2024-8096", "libcurl", "fixed"),
    ("CVE-2024-9681", "curl", "fixed"),
    ("CVE-2024-9681", "libcurl", "fixed"),
    ("CVE-2024-11053", "curl", "fixed"),
    ("CVE-2024-11053", "libcurl", "fixed"),
];

/// Entries that must NOT match, and why.
const NOT_EXPECTED: &[(&str, &str)] = &[
    // Key "0": Alpine says the package was never affected in this release.
    ("CVE-2021-42373", "busybox: \"0\" (not affected)"),
    ("CVE-2022-1292", "openssl: \"0\" (not affected)"),
    ("CVE-2023-0466", "openssl: \"0\" (not affected)"),
    ("CVE-2023-4807", "openssl: \"0\" (not affected)"),
    ("CVE-2021-22897", "curl: \"0\" (not affected)"),
    ("CVE-2023-45853", "zlib: \"0\" (not affected)"),
    ("CVE-2023-6992", "zlib: \"0\" (not affected)"),
    // Fixed at or before the installed version.
    ("CVE-2023-42363", "busybox 1.36.1-r27 < installed r28"),
    ("CVE-2023-42366", "busybox 1.36.1-r25 < installed r28"),
    ("CVE-2022-48174", "busybox 1.36.1-r2 < installed r28 (2 < 28 as numbers)"),
    ("CVE-2024-4741", "openssl 3.3.0-r3 < installed 3.3.1-r0 (the version decides before pkgrel)"),
    ("CVE-2024-4603", "openssl 3.3.0-r2 < installed 3.3.1-r0"),
    ("CVE-2024-6197", "curl 8.9.0-r0 = installed"),
    ("CVE-2024-6874", "curl 8.9.0-r0 = installed"),
    // `_pre` is a pre-release: 1.2.2_pre2 < 1.2.2 < 1.2.5.
    ("CVE-2020-28928", "musl 1.2.2_pre2-r0 < installed 1.2.5-r0"),
];

#[test]
fn alpine_3_20_exact_set_from_secdb() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[secdb()]);
    let a = assess_cve(&root(), &db, &[]);
    assert_eq!(a.os.as_deref(), Some("Alpine Linux v3.20"));
    let got = cve_matches(&a);
    assert_same_set(&got, &triples(EXPECTED), "Alpine 3.20");
    for (cve, why) in NOT_EXPECTED {
        assert!(!got.iter().any(|t| t.0 == *cve), "{cve} must not match: {why}");
    }
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::Fail);
    assert_eq!(scan.reason, "9 vulnerabilities in 8 of 12 installed packages");
    assert_eq!(a.findings.len(), 9);

    // The finding cites apk's database, stanza by stanza.
    let f = a.findings.iter().find(|f| f.rule_id == "CVE-2024-6119").unwrap();
    assert_eq!(f.title, "CVE-2024-6119 in openssl");
    assert_eq!(f.attributes["package_name"], "libcrypto3,libssl3,openssl");
    assert_eq!(f.attributes["installed_version"], "3.3.1-r0");
    assert_eq!(f.attributes["fixed_version"], "3.3.2-r0");
    let installed = root().join("lib/apk/db/installed");
    let libssl = f.evidence.iter().find(|e| e.text.as_deref() == Some("libssl3 3.3.1-r0")).unwrap();
    assert_eq!(libssl.path.as_deref(), Some("/lib/apk/db/installed"));
    assert_eq!(libssl.line, Some(line_of(&installed, "P:libssl3")));
    assert_eq!(libssl.message, "source package openssl 3.3.1-r0 < fixed 3.3.2-r0 (alpine-secdb)");

    // Secdb has only fixed entries: --ignore-unfixed changes nothing.
    let quiet = assess_cve(&root(), &db, &["--ignore-unfixed"]);
    assert_eq!(cve_matches(&quiet), got);
}

#[test]
fn alpine_3_19_host_with_a_3_20_database_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[secdb()]);
    let host = dir.path().join("root");
    copy_tree(&root(), &host);
    let os = std::fs::read_to_string(host.join("etc/os-release")).unwrap().replace("3.20.1", "3.19.4");
    std::fs::write(host.join("etc/os-release"), os.replace("v3.20", "v3.19")).unwrap();
    let a = assess_cve(&host, &db, &[]);
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].rule_id, "cve-unsupported-os");
    assert!(a.findings[0].evidence[0].message.contains("no advisories for alpine 3.19"), "{:?}", a.findings[0]);
    assert_eq!(rule(&a, "cve-scan").outcome, Outcome::CouldNotEvaluate);
}
