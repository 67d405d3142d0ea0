//! Tests on the full real files of the shared data directory; ignored unless
//! `WARDEN_SHARED_DATA` points at it (`cargo test --release -p warden-vulndb
//! -- --ignored --nocapture real_`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use super::*;
use crate::advisory::FixStatus;

fn shared() -> Option<PathBuf> {
    std::env::var_os("WARDEN_SHARED_DATA").map(PathBuf::from).filter(|p| p.is_dir())
}

#[test]
#[ignore = "needs WARDEN_SHARED_DATA"]
fn real_full_files() {
    let Some(root) = shared() else {
        eprintln!("WARDEN_SHARED_DATA not set; skipped");
        return;
    };
    // Debian OVAL bookworm.
    let t = Instant::now();
    let out = read_path(&root.join("vuln/debian/oval/oval-definitions-bookworm.xml.bz2")).unwrap();
    let took = t.elapsed();
    let from_vuln_defs = out.advisories.iter().filter(|a| a.vuln_id.starts_with("CVE-")).count();
    let unfixed = out.advisories.iter().filter(|a| a.status == FixStatus::Unfixed).count();
    let fixed = out.advisories.iter().filter(|a| matches!(a.status, FixStatus::Fixed { .. })).count();
    let with_dsa = out.advisories.iter().filter(|a| !a.advisory_ids.is_empty()).count();
    let pairs: HashSet<(&str, &str)> =
        out.advisories.iter().map(|a| (a.vuln_id.as_str(), a.package.as_str())).collect();
    eprintln!(
        "debian oval: {} advisories ({} distinct (cve, pkg)), {fixed} fixed, {unfixed} unfixed, {with_dsa} with DSA ids, {} vulns, {} problems, parsed in {took:?}",
        out.advisories.len(),
        pairs.len(),
        out.vulns.len(),
        out.problems.len()
    );
    for p in out.problems.iter().take(5) {
        eprintln!("  problem: {p}");
    }
    assert!(out.advisories.iter().all(|a| a.release == "12" && a.distro == "debian"));
    assert_eq!(unfixed, 1533, "README: 1,533 'earlier than 0' criteria");
    assert_eq!(from_vuln_defs, out.advisories.len());
    assert!(pairs.len() >= 25_906, "README: 25,906 vulnerability definitions");
    assert!(out.problems.is_empty(), "{:?}", &out.problems[..out.problems.len().min(5)]);

    // Ubuntu OVAL.
    for (codename, release, defs) in [("jammy", "22.04", 624), ("noble", "24.04", 260), ("oracular", "24.10", 54)] {
        let t = Instant::now();
        let out = read_path(&root.join(format!("vuln/ubuntu/oval/com.ubuntu.{codename}.usn.oval.xml.bz2"))).unwrap();
        let usns: HashSet<&str> = out.advisories.iter().map(|a| a.advisory_ids[0].as_str()).collect();
        let kernel = out.problems.iter().filter(|p| p.message.contains("running kernel")).count();
        let other: Vec<_> = out.problems.iter().filter(|p| !p.message.contains("running kernel")).collect();
        eprintln!(
            "ubuntu {codename}: {} advisories from {} notices ({} patch defs; {kernel} kernel-only), {} vulns, {} other problems, {:?}",
            out.advisories.len(),
            usns.len(),
            defs,
            out.vulns.len(),
            other.len(),
            t.elapsed()
        );
        for p in other.iter().take(5) {
            eprintln!("  problem: {p}");
        }
        assert!(out.advisories.iter().all(|a| a.release == release));
        assert_eq!(usns.len() + kernel, defs, "every USN definition is converted or reported");
        assert!(other.is_empty());
    }

    // Alpine secdb: every file.
    let t = Instant::now();
    let out = read_path(&root.join("vuln/alpine/secdb")).unwrap();
    let mut per_release: HashMap<&str, usize> = HashMap::new();
    for a in &out.advisories {
        *per_release.entry(a.release.as_str()).or_default() += 1;
    }
    let na = out.advisories.iter().filter(|a| a.status == FixStatus::NotAffected).count();
    eprintln!(
        "alpine: {} advisories ({na} not affected) over {} releases, {} problems, {:?}; 3.20: {}",
        out.advisories.len(),
        per_release.len(),
        out.problems.len(),
        t.elapsed(),
        per_release.get("3.20").copied().unwrap_or(0)
    );
    assert_eq!(per_release.len(), 21, "v3.2 to v3.21 and edge");

    // KEV.
    let out = read_path(&root.join("kev/known_exploited_vulnerabilities.json")).unwrap();
    let ransomware = out.vulns.iter().filter(|v| v.kev_ransomware == Some(true)).count();
    eprintln!("kev: {} entries, {ransomware} ransomware, {} problems", out.vulns.len(), out.problems.len());
    assert_eq!(out.vulns.len(), 1662);
    assert_eq!(ransomware, 338);
    assert!(out.problems.is_empty());

    // The KEV directory: the schema file is skipped, the catalog read.
    assert_eq!(read_path(&root.join("kev")).unwrap().vulns.len(), 1662);

    // Vulnrichment tree.
    let out = read_path(&root.join("cvss/vulnrichment")).unwrap();
    let v3 = out.vulns.iter().filter(|v| v.cvss3_vector.is_some()).count();
    let v4 = out.vulns.iter().filter(|v| v.cvss4_vector.is_some()).count();
    eprintln!(
        "vulnrichment: {} records, {v3} with CVSS 3, {v4} with CVSS 4, {} problems",
        out.vulns.len(),
        out.problems.len()
    );
    assert_eq!(out.vulns.len(), 355);
    // The README says 313: that is the number of CVSS 3 metric objects (195 CNA 3.1 + 20 CNA 3.0
    // + 98 ADP 3.1); 5 records carry both a CNA and an ADP vector, so 308 records.
    assert_eq!(v3, 308);
    assert_eq!(v4, 9);

    // Ubuntu OSV sample.
    let out = read_path(&root.join("vuln/ubuntu/osv-sample")).unwrap();
    eprintln!(
        "ubuntu osv: {} advisories, {} vulns, {} problems",
        out.advisories.len(),
        out.vulns.len(),
        out.problems.len()
    );
    assert_eq!(out.advisories.len(), 6);

    // debian-security-support.
    let out = read_path(&root.join("vuln/debian/security-support")).unwrap();
    let ended12 = out.support.iter().filter(|s| s.release.as_deref() == Some("12")).count();
    let limited = out.support.iter().filter(|s| s.limited).count();
    eprintln!(
        "security-support: {} entries, {ended12} ended in 12, {limited} limited, {} problems",
        out.support.len(),
        out.problems.len()
    );
    assert!(out.problems.is_empty(), "{:?}", out.problems);
}
