//! Canonical USN OVAL (`com.ubuntu.<codename>.usn.oval.xml[.bz2]`).
//!
//! Why it exists: it is Canonical's per-release feed of Ubuntu Security
//! Notices, the offline source of Ubuntu fix facts on **binary** packages.
//!
//! What the publisher's format means:
//! - one `<definition class="patch">` per USN (or LSN, kernel livepatch
//!   notice); its `<reference source="USN">` is the notice id, its
//!   `<advisory><cve>` elements (and `<reference source="CVE">`) the CVEs it
//!   fixes; `<advisory><severity>` is the USN's priority and each `<cve>`
//!   carries Ubuntu's own per-CVE `priority` and a CVSS vector;
//! - criteria are `dpkginfo_test`s on **binary** package names: the object's
//!   `<name var_ref>` points at a `<constant_variable>` listing the binaries
//!   built from the fixed source (`libssl3`, `openssl`, ...), and the state
//!   is `evr "less than" VERSION`: installed versions ordered before VERSION
//!   are affected, VERSION is the fixed one → [`FixStatus::Fixed`];
//! - a USN only exists once a fix is out, so this feed never says Unfixed,
//!   WillNotFix or NotAffected (Ubuntu's "needs-triage/deferred/ignored"
//!   statuses live in the CVE OVAL and OSV, not here);
//! - kernel USNs/LSNs test the RUNNING kernel (`uname_test` on the flavour +
//!   `variable_test` on the ABI version), not a package: they are not turned
//!   into package advisories and are listed as problems (one per definition);
//!   so are LSNs (livepatch notices: a `file_test` on canonical-livepatch
//!   and a `textfilecontent54_test` on the livepatch state);
//! - criteria commented "Available with Ubuntu Pro" are fixes published in
//!   the ESM archives: they are read like the others (the fact is the same;
//!   whether the host has Pro is the matcher's business);
//! - one [`Advisory`] per (CVE × binary package) with `advisory_ids =
//!   [USN-…]`; a USN without CVEs (launchpad bugs only) yields advisories
//!   keyed by the USN id itself;
//! - `distro_severity` is the CVE's Ubuntu priority (`<cve priority>`), else
//!   the USN's `<severity>`, lower-cased;
//! - the release comes from `<platform>Ubuntu 22.04 LTS</platform>`, else
//!   the codename in the ids (`oval:com.ubuntu.jammy:`) or the file name;
//! - CVSS vectors of `<cve>` elements become [`VulnInfo`]s (one per CVE).

use std::collections::HashSet;
use std::io::BufRead;

use super::oval::{self, OvalDoc, Resolved};
use super::{FeedError, FeedOutput, FeedProblem, is_cve_id};
use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};

/// Feed name written in [`Advisory::feed`].
pub const FEED: &str = "ubuntu-oval";

/// Ubuntu codename → version.
pub fn codename_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "trusty" => "14.04",
        "xenial" => "16.04",
        "bionic" => "18.04",
        "focal" => "20.04",
        "jammy" => "22.04",
        "kinetic" => "22.10",
        "lunar" => "23.04",
        "mantic" => "23.10",
        "noble" => "24.04",
        "oracular" => "24.10",
        "plucky" => "25.04",
        "questing" => "25.10",
        _ => return None,
    })
}

fn codename_in(s: &str) -> Option<&str> {
    let i = s.find("com.ubuntu.")?;
    let rest = &s[i + "com.ubuntu.".len()..];
    let end = rest.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn release(doc: &OvalDoc, source: &str) -> Option<String> {
    for d in &doc.definitions {
        for p in &d.platforms {
            if let Some(r) = p.strip_prefix("Ubuntu ") {
                let v = r.split_whitespace().next().unwrap_or("");
                if v.contains('.') && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    return Some(v.to_string());
                }
            }
        }
    }
    if let Some(r) = doc.definitions.first().and_then(|d| codename_in(&d.id)).and_then(codename_release) {
        return Some(r.to_string());
    }
    let name = source.rsplit('/').next().unwrap_or(source);
    codename_in(name).and_then(codename_release).map(str::to_string)
}

/// Parses a Canonical USN OVAL document.
pub fn parse(reader: impl BufRead, source: &str) -> Result<FeedOutput, FeedError> {
    let doc = oval::read(reader, source, false)?;
    let mut out = FeedOutput::default();
    for (line, msg) in &doc.problems {
        out.problems.push(FeedProblem::new(format!("{source}:{line}"), msg.clone()));
    }
    let Some(release) = release(&doc, source) else {
        if doc.definitions.is_empty() {
            return Ok(out);
        }
        return Err(FeedError::malformed(
            source,
            "cannot tell the Ubuntu release: no <platform>, no codename in the ids or the file name",
        ));
    };
    let mut seen_vulns = HashSet::new();
    for def in &doc.definitions {
        if def.class != "patch" {
            continue;
        }
        let loc = format!("{source}:{} (definition {})", def.line, def.id);
        let notice = def
            .references
            .iter()
            .find(|(s, r)| s == "USN" && !r.is_empty())
            .map(|(_, r)| r.clone())
            .or_else(|| def.title.split_whitespace().next().map(str::to_string))
            .filter(|s| !s.is_empty());
        let Some(notice) = notice else {
            out.problems.push(FeedProblem::new(loc, "patch definition without a USN id; skipped"));
            continue;
        };
        // CVEs: <cve> elements first (they carry the priority), then references.
        let mut cves: Vec<oval::CveMeta> = Vec::new();
        for c in &def.cves {
            if !cves.iter().any(|x| x.id == c.id) {
                cves.push(c.clone());
            }
        }
        for (s, r) in &def.references {
            if s == "CVE" && !r.is_empty() && !cves.iter().any(|x| &x.id == r) {
                cves.push(oval::CveMeta { id: r.clone(), ..Default::default() });
            }
        }
        for c in &cves {
            if !is_cve_id(&c.id) {
                out.problems
                    .push(FeedProblem::new(&loc, format!("CVE reference {:?} is not a CVE id; kept as is", c.id)));
            }
        }
        let mut facts: Vec<(String, FixStatus)> = Vec::new();
        let mut kernel = false;
        for t in &def.test_refs {
            match doc.resolve(t) {
                Ok(Resolved::Dpkg(c)) => c.add_facts(&loc, &mut facts, &mut out.problems),
                Ok(Resolved::Other(kind)) => {
                    if kind == "uname_test" || kind == "variable_test" || kind == "file_test" {
                        kernel = true;
                    }
                }
                Err(e) => out.problems.push(FeedProblem::new(&loc, e)),
            }
        }
        if kernel {
            out.problems.push(FeedProblem::new(
                &loc,
                format!(
                    "{notice}: criteria test the running kernel (uname + ABI version) or the livepatch state, \
                     not a package; not converted"
                ),
            ));
        }
        if facts.is_empty() {
            if !kernel {
                out.problems.push(FeedProblem::new(&loc, format!("{notice}: no dpkginfo criterion; skipped")));
            }
            continue;
        }
        let usn_severity = def.severity.as_ref().map(|s| s.to_lowercase());
        let ids: Vec<(String, Option<String>)> = if cves.is_empty() {
            vec![(notice.clone(), usn_severity.clone())]
        } else {
            cves.iter()
                .map(|c| (c.id.clone(), c.priority.as_ref().map(|p| p.to_lowercase()).or(usn_severity.clone())))
                .collect()
        };
        for (vuln_id, severity) in &ids {
            for (package, status) in &facts {
                out.advisories.push(Advisory {
                    vuln_id: vuln_id.clone(),
                    advisory_ids: vec![notice.clone()],
                    distro: "ubuntu".to_string(),
                    release: release.clone(),
                    package: package.clone(),
                    package_kind: PackageKind::Binary,
                    status: status.clone(),
                    distro_severity: severity.clone(),
                    feed: FEED.to_string(),
                });
            }
        }
        for c in &cves {
            let Some(vector) = c.cvss_vector.as_deref() else { continue };
            if !seen_vulns.insert(c.id.clone()) {
                continue;
            }
            let mut info = VulnInfo { id: c.id.clone(), ..Default::default() };
            if vector.starts_with("CVSS:3.") {
                info.cvss3_vector = Some(vector.to_string());
            } else if vector.starts_with("CVSS:4.") {
                info.cvss4_vector = Some(vector.to_string());
            } else {
                continue;
            }
            out.vulns.push(info);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codenames() {
        assert_eq!(codename_in("oval:com.ubuntu.jammy:def:1"), Some("jammy"));
        assert_eq!(codename_in("com.ubuntu.noble.usn.oval.xml"), Some("noble"));
        assert_eq!(codename_release("oracular"), Some("24.10"));
        assert_eq!(codename_release("focal"), Some("20.04"));
        assert_eq!(codename_release("bionic"), Some("18.04"));
    }
}
