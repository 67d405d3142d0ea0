//! End-to-end: the CVE package on Ubuntu 22.04 (jammy).
//!
//! - Feed: `tests/fixtures/vuln/ubuntu/com.ubuntu.jammy.usn.oval-subset.xml.bz2`,
//!   the 14 real USN definitions of Canonical's jammy OVAL (2023-10-09) that
//!   name the installed binaries (`scripts/fixtures/subset-ubuntu-oval.py`).
//! - Host: `tests/fixtures/roots/ubuntu-22.04-packages`, 9 binary packages at
//!   real jammy versions (`scripts/fixtures/make-ubuntu-22.04-packages.py`).
//! - Oracle: the USN definitions read by hand. USN OVAL tests BINARY
//!   packages (`dpkginfo` on each binary, `evr less than` the fixed version),
//!   one USN per definition with its CVEs in `<advisory><cve>`.

mod common;

use std::path::PathBuf;

use common::*;
use warden_model::{Outcome, Severity};

fn oval() -> PathBuf {
    fixture("vuln/ubuntu/com.ubuntu.jammy.usn.oval-subset.xml.bz2")
}

fn root() -> PathBuf {
    fixture("roots/ubuntu-22.04-packages/root")
}

/// (CVE, USN, binary packages), each with the comparison that makes it.
const EXPECTED: &[(&str, &str, &[&str])] = &[
    // glibc 2.35-0ubuntu3 < 2.35-0ubuntu3.4 (USN-6409-1: CVE-2023-4527, CVE-2023-4911).
    ("CVE-2023-4527", "USN-6409-1", &["libc-bin", "libc6"]),
    ("CVE-2023-4911", "USN-6409-1", &["libc-bin", "libc6"]),
    // openssl 3.0.2-0ubuntu1.9 < 3.0.2-0ubuntu1.10 (dpkg compares 9 < 10 as
    // numbers) (USN-6119-1: CVE-2023-1255, CVE-2023-2650).
    ("CVE-2023-1255", "USN-6119-1", &["libssl3", "openssl"]),
    ("CVE-2023-2650", "USN-6119-1", &["libssl3", "openssl"]),
    // openssh 1:8.9p1-3 < 1:8.9p1-3ubuntu0.3 (USN-6242-1).
    ("CVE-2023-38408", "USN-6242-1", &["openssh-client", "openssh-server"]),
    // sudo 1.9.9-1ubuntu2.3 < 1.9.9-1ubuntu2.4 (USN-6005-1).
    ("CVE-2023-28486", "USN-6005-1", &["sudo"]),
    ("CVE-2023-28487", "USN-6005-1", &["sudo"]),
    // tar 1.34+dfsg-1build3 < 1.34+dfsg-1ubuntu0.1.22.04.1: revisions
    // `1build3` and `1ubuntu0...` agree on 1, then "build" < "ubuntu" (USN-5900-1).
    ("CVE-2022-48303", "USN-5900-1", &["tar"]),
];

/// USNs whose fix the installed version already has: none of their CVEs may match.
const NOT_EXPECTED: &[(&str, &str)] = &[
    ("USN-6039-1", "openssl fixed 3.0.2-0ubuntu1.9 = installed"),
    ("USN-5844-1", "openssl fixed 3.0.2-0ubuntu1.8 < installed 1.9"),
    ("USN-5710-1", "openssl fixed 3.0.2-0ubuntu1.7"),
    ("USN-5502-1", "openssl fixed 3.0.2-0ubuntu1.6"),
    ("USN-5488-1", "openssl fixed 3.0.2-0ubuntu1.5"),
    ("USN-5402-1", "openssl fixed 3.0.2-0ubuntu1.1"),
    ("USN-5570-2", "zlib fixed 1:1.2.11.dfsg-2ubuntu9.2 = installed (epoch 1 on both sides)"),
    ("USN-5908-1", "sudo fixed 1.9.9-1ubuntu2.3 = installed"),
    ("USN-5811-1", "sudo fixed 1.9.9-1ubuntu2.2 < installed"),
];

#[test]
fn ubuntu_22_04_exact_set_from_usn_oval() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_db(dir.path(), &[oval()]);
    let a = assess_cve(&root(), &db, &[]);
    assert_eq!(a.os.as_deref(), Some("Ubuntu 22.04.3 LTS"));

    let want: Vec<(&str, &str, &str)> =
        EXPECTED.iter().flat_map(|(cve, _, packages)| packages.iter().map(move |p| (*cve, *p, "fixed"))).collect();
    assert_same_set(&cve_matches(&a), &triples(&want), "Ubuntu 22.04");

    // One finding per CVE, with its USN in advisory_ids, its binaries in package_name.
    assert_eq!(a.findings.len(), EXPECTED.len());
    for (cve, usn, packages) in EXPECTED {
        let f = a.findings.iter().find(|f| f.rule_id == *cve).unwrap();
        assert_eq!(f.attributes["advisory_ids"], *usn, "{cve}");
        assert_eq!(f.attributes["package_name"], packages.join(","), "{cve}");
        assert_eq!(f.attributes["status"], "fixed");
        assert!(f.recommendation.contains(usn), "{}", f.recommendation);
    }
    for (usn, why) in NOT_EXPECTED {
        assert!(
            !a.findings.iter().any(|f| f.attributes.get("advisory_ids").is_some_and(|ids| ids.contains(usn))),
            "{usn} must not match: {why}"
        );
    }
    let scan = rule(&a, "cve-scan");
    assert_eq!(scan.outcome, Outcome::Fail);
    assert_eq!(scan.reason, "8 vulnerabilities in 8 of 9 installed packages", "all but zlib1g");

    // Binary matching: the finding compares the binary's own version and says so.
    let looney = a.findings.iter().find(|f| f.rule_id == "CVE-2023-4911").unwrap();
    assert_eq!(looney.attributes["installed_version"], "2.35-0ubuntu3");
    assert_eq!(looney.attributes["fixed_version"], "2.35-0ubuntu3.4");
    let status = root().join("var/lib/dpkg/status");
    let libc6 = looney.evidence.iter().find(|e| e.text.as_deref() == Some("libc6 2.35-0ubuntu3")).unwrap();
    assert_eq!(libc6.line, Some(line_of(&status, "Package: libc6")));
    assert_eq!(libc6.message, "package libc6 2.35-0ubuntu3 < fixed 2.35-0ubuntu3.4 (USN-6409-1, ubuntu-oval)");
    // Severity is Ubuntu's per-CVE priority (high), and the CVSS vector of the USN is kept.
    assert_eq!(looney.severity, Severity::High);
    assert_eq!(looney.attributes["CVSS3_SCORE"], "7.8");
    // openssh: Ubuntu rates CVE-2023-38408 medium although its CVSS is 9.8; the distro wins.
    let ssh = a.findings.iter().find(|f| f.rule_id == "CVE-2023-38408").unwrap();
    assert_eq!((ssh.severity, ssh.attributes["CVSS3_SCORE"].as_str()), (Severity::Medium, "9.8"));
    let low = a.findings.iter().find(|f| f.rule_id == "CVE-2023-1255").unwrap();
    assert_eq!(low.severity, Severity::Low);
}
