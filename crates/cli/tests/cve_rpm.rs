//! End-to-end: the CVE package on Rocky Linux 9 (rpm).
//!
//! - Host: `tests/fixtures/roots/rocky9-rpm` (a Rocky 9.4 os-release) plus,
//!   copied at run time to `/var/lib/rpm/rpmdb.sqlite`, the real rpm 4.18
//!   database of `crates/collect/tests/fixtures/packages/rpm/` (see its
//!   README): kernel-core 5.14.0-362.8.1.el9_3, tzdata 2024a~rc1-1.fc40,
//!   openssl and openssl-libs 1:3.0.7-27.el9 (epoch 1, from
//!   openssl-3.0.7-27.el9.src.rpm), hello 1.0-1, and a gpg-pubkey.
//! - Feed: `tests/fixtures/vuln/osv/rocky/`, **hand-written** OSV records for
//!   `Rocky Linux:9` (see the README there): binary rpm names, fixed EVRs.
//! - Oracle: rpm's own ordering (`rpm.vercmp` in rpm's Lua, run live when
//!   rpm is installed), applied by hand below.
//!
//! Epochs. rpm compares the epoch first and a missing epoch is 0, so
//! `1:3.0.7-27.el9` is NEWER than `3.0.7-28.el9`, and than any fix written
//! without an epoch. A fix record for an epoch-1 package that drops the epoch
//! therefore never matches: a false negative. Real Rocky Linux and AlmaLinux
//! OSV records write the epoch (`1:3.0.7-28.el9_4`, even `0:` for epoch-0
//! packages), and Warden compares as rpm does, which is right for them; the
//! synthetic record `RLSA-2099:0001` pins that behaviour down.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use warden_model::Outcome;

fn rocky_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    copy_tree(&fixture("roots/rocky9-rpm/root"), &root);
    std::fs::create_dir_all(root.join("var/lib/rpm")).unwrap();
    let rpmdb = workspace().join("crates/collect/tests/fixtures/packages/rpm/rpmdb.sqlite");
    std::fs::copy(rpmdb, root.join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    root
}

/// The comparisons this test relies on, as (installed, fixed, rpm's sign).
const ORDERINGS: &[(&str, &str, i32)] = &[
    ("1:3.0.7-27.el9", "1:3.2.2-6.el9_5", -1), // RLSA-2024:9333 applies
    ("1:3.0.7-27.el9", "1:3.0.7-27.el9", 0),   // RLSA-2024:2447 is installed
    ("1:3.0.7-27.el9", "3.0.7-28.el9", 1),     // epoch 1 > missing epoch 0
    ("5.14.0-362.8.1.el9_3", "0:5.14.0-362.18.1.el9_3", -1), // no epoch = 0:, then 8 < 18
];

#[test]
fn rocky_9_exact_set_with_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[fixture("vuln/osv/rocky")]);
    let a = assess_cve(&rocky_root(dir.path()), &db, &[]);
    assert_eq!(a.os.as_deref(), Some("Rocky Linux 9.4 (Blue Onyx)"));
    assert_same_set(
        &cve_matches(&a),
        &triples(&[
            // openssl(-libs) 1:3.0.7-27.el9 < 1:3.2.2-6.el9_5 (same epoch, 3.0.7 < 3.2.2).
            ("CVE-2024-5535", "openssl", "fixed"),
            ("CVE-2024-5535", "openssl-libs", "fixed"),
            // kernel-core 5.14.0-362.8.1.el9_3 < 0:5.14.0-362.18.1.el9_3 (8 < 18 in the release).
            ("CVE-2023-6546", "kernel-core", "fixed"),
        ]),
        "Rocky 9",
    );
    // Not matched: RLSA-2024:2447's fix 1:3.0.7-27.el9 is the installed EVR;
    // RLSA-2099:0001's fix 3.0.7-28.el9 has no epoch, i.e. epoch 0 < 1 (see the module docs).
    for cve in ["CVE-2023-5678", "CVE-2024-0727"] {
        assert!(!a.findings.iter().any(|f| f.rule_id == cve), "{cve} must not match");
    }
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::Fail);
    // gpg-pubkey is not a package: 5 checked.
    assert_eq!(scan.reason, "2 vulnerabilities in 3 of 5 installed packages");

    let f = a.findings.iter().find(|f| f.rule_id == "CVE-2024-5535").unwrap();
    assert_eq!(f.attributes["package_name"], "openssl,openssl-libs");
    assert_eq!(f.attributes["installed_version"], "1:3.0.7-27.el9");
    assert_eq!(f.attributes["fixed_version"], "1:3.2.2-6.el9_5");
    assert_eq!(f.attributes["advisory_ids"], "RLSA-2024:9333");
    // The evidence cites the rpm database and the package's record number (`rpm -qa` DBINSTANCE).
    let libs = f.evidence.iter().find(|e| e.text.as_deref() == Some("openssl-libs 1:3.0.7-27.el9")).unwrap();
    assert_eq!((libs.path.as_deref(), libs.line), (Some("/var/lib/rpm/rpmdb.sqlite"), Some(3)));
    assert_eq!(libs.message, "package openssl-libs 1:3.0.7-27.el9 < fixed 1:3.2.2-6.el9_5 (RLSA-2024:9333, osv)");
    let k = a.findings.iter().find(|f| f.rule_id == "CVE-2023-6546").unwrap();
    assert_eq!((k.evidence[0].path.as_deref(), k.evidence[0].line), (Some("/var/lib/rpm/rpmdb.sqlite"), Some(1)));
}

#[test]
fn rpm_itself_orders_these_versions_so() {
    // rpm is an optional oracle here (crates/vulndb/tests/version_oracles.rs
    // checks the ordering at scale): skipped when it is not installed.
    if !matches!(Command::new("rpm").arg("--version").output(), Ok(o) if o.status.success()) {
        eprintln!("skipping: rpm is not installed");
        return;
    }
    for (a, b, want) in ORDERINGS {
        let out = Command::new("rpm")
            .args(["--eval", &format!("%{{lua: io.write(rpm.vercmp('{a}', '{b}'))}}")])
            .output()
            .unwrap();
        let got: i32 = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
        assert_eq!(got.signum(), *want, "rpm.vercmp({a}, {b})");
    }
}
