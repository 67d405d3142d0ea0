//! OSV records (schema 1.x) for distro ecosystems.
//!
//! Why it exists: OSV is the common format osv.dev serves for Debian
//! (`DSA-`/`DLA-`/`DEBIAN-CVE-`), Ubuntu (`UBUNTU-CVE-`, `USN-`), Alpine,
//! Rocky Linux, AlmaLinux and Red Hat; one parser reads them all.
//!
//! What the format means, and how it is read (leniently: unknown fields are
//! ignored, a bad `affected[]` entry is a problem, not an error):
//! - a file holds one record (or an array of records); `id`, `aliases`,
//!   `upstream`, `related`, `summary`/`details`, `severity[]`, `affected[]`;
//! - `affected[].package.ecosystem` names distro and release:
//!   `Debian:12` → (`debian`, `12`); `Ubuntu:22.04:LTS`, `Ubuntu:Pro:22.04:LTS`
//!   → (`ubuntu`, `22.04`, the Pro channel is not kept); `Alpine:v3.20` →
//!   (`alpine`, `3.20`); `Rocky Linux:9` → (`rocky`, `9`); `AlmaLinux:9` →
//!   (`almalinux`, `9`); `Red Hat:enterprise_linux:9::appstream` → (`rhel`,
//!   `9`). Other ecosystems (PyPI, npm, …) are skipped silently: they are
//!   not distro advisories;
//! - package kind: Debian and Ubuntu OSV name **source** packages (Ubuntu
//!   lists the binaries in `ecosystem_specific.binaries`, not used here),
//!   Alpine names the **origin** (source) package, the rpm distros name
//!   **binary** rpms;
//! - `ranges[type=ECOSYSTEM].events`: each `fixed` → [`FixStatus::Fixed`]
//!   (one advisory per distinct fixed version); a range with `introduced`
//!   and neither `fixed` nor `last_affected` → [`FixStatus::Unfixed`]
//!   (affected, no fix yet); a range with only `last_affected` cannot be
//!   expressed as a fix status and is reported as a problem; an affected
//!   entry with `versions[]` but no ranges likewise;
//! - the vulnerability id prefers a CVE: the `id` itself (`CVE-…`, or
//!   `UBUNTU-CVE-…` / `DEBIAN-CVE-…` minus the prefix), else the CVEs named
//!   in `upstream`, `aliases` and `related` (for `DSA-`/`DLA-`/`USN-`/`RLSA-`
//!   records: one advisory per CVE, with the record id in `advisory_ids`);
//!   a record naming no CVE is keyed by its own id;
//! - `severity[]`: `CVSS_V3` / `CVSS_V4` vectors become a [`VulnInfo`] (only
//!   for records that are about one CVE, not for DSA/USN bundles), and a
//!   severity of type `Ubuntu` is Ubuntu's priority → `distro_severity`;
//!   Debian's `ecosystem_specific.urgency` likewise (except "not yet
//!   assigned").

use std::io::Read;

use serde_json::Value;

use super::json::{arr_field, loc, read_value, str_field};
use super::{FeedError, FeedOutput, FeedProblem, is_cve_id};
use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};

/// Feed name written in [`Advisory::feed`].
pub const FEED: &str = "osv";

/// (distro id, normalised release, package kind) of an OSV ecosystem string,
/// `None` for non-distro ecosystems.
pub fn ecosystem_distro(ecosystem: &str) -> Option<(&'static str, String, PackageKind)> {
    let mut parts = ecosystem.split(':');
    let name = parts.next()?.trim();
    let rest: Vec<&str> = parts.collect();
    let first_version =
        |pred: &dyn Fn(&str) -> bool| rest.iter().map(|s| s.trim()).find(|s| pred(s)).map(str::to_string);
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let major = |s: String| s.split('.').next().unwrap_or("").to_string();
    match name {
        "Debian" => first_version(&numeric).map(|r| ("debian", major(r), PackageKind::Source)),
        "Ubuntu" => first_version(&|s: &str| numeric(s) && s.contains('.')).map(|r| ("ubuntu", r, PackageKind::Source)),
        "Alpine" => first_version(&|s: &str| {
            let s = s.strip_prefix('v').unwrap_or(s);
            numeric(s) || s == "edge"
        })
        .map(|r| ("alpine", r.trim_start_matches('v').to_string(), PackageKind::Source)),
        "Rocky Linux" => first_version(&numeric).map(|r| ("rocky", major(r), PackageKind::Binary)),
        "AlmaLinux" => first_version(&numeric).map(|r| ("almalinux", major(r), PackageKind::Binary)),
        "Red Hat" => rest
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_ascii_digit() && c != '.'))
            .find(|s| numeric(s))
            .map(|r| ("rhel", major(r.to_string()), PackageKind::Binary)),
        _ => None,
    }
}

/// `CVE-…`, `UBUNTU-CVE-…`, `DEBIAN-CVE-…` → the CVE id.
fn as_cve(id: &str) -> Option<&str> {
    let c = id.strip_prefix("UBUNTU-").or_else(|| id.strip_prefix("DEBIAN-")).unwrap_or(id);
    is_cve_id(c).then_some(c)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    arr_field(v, key).iter().filter_map(Value::as_str).map(str::to_string).collect()
}

/// Parses one OSV file: a record or an array of records.
pub fn parse(reader: impl Read, source: &str) -> Result<FeedOutput, FeedError> {
    let v = read_value(reader, source)?;
    let mut out = FeedOutput::default();
    match &v {
        Value::Object(_) => record(&v, source, "$", &mut out)?,
        Value::Array(items) => {
            for (i, r) in items.iter().enumerate() {
                let path = format!("$[{i}]");
                if let Err(e) = record(r, source, &path, &mut out) {
                    out.problems.push(FeedProblem::new(loc(source, &path), e.to_string()));
                }
            }
        }
        _ => return Err(FeedError::malformed(loc(source, "$"), "expected an OSV record (object) or an array of them")),
    }
    Ok(out)
}

fn record(v: &Value, source: &str, path: &str, out: &mut FeedOutput) -> Result<(), FeedError> {
    let id = str_field(v, "id")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| FeedError::malformed(loc(source, &format!("{path}.id")), "missing or not a string"))?
        .trim()
        .to_string();
    let upstream = strings(v, "upstream");
    let aliases = strings(v, "aliases");
    let related = strings(v, "related");

    let mut vuln_ids: Vec<String> = Vec::new();
    let mut advisory_ids: Vec<String> = Vec::new();
    let is_advisory = |s: &str| {
        ["DSA-", "DLA-", "DTSA-", "USN-", "LSN-", "RLSA-", "RHSA-", "ALSA-", "ALBA-", "ALEA-"]
            .iter()
            .any(|p| s.starts_with(p))
    };
    let single_cve = if let Some(c) = as_cve(&id) {
        vuln_ids.push(c.to_string());
        true
    } else {
        for s in upstream.iter().chain(&aliases).chain(&related) {
            if let Some(c) = as_cve(s)
                && !vuln_ids.iter().any(|x| x == c)
            {
                vuln_ids.push(c.to_string());
            }
        }
        if is_advisory(&id) || vuln_ids.is_empty() {
            advisory_ids.push(id.clone());
        }
        if vuln_ids.is_empty() {
            vuln_ids.push(id.clone());
        }
        vuln_ids.len() == 1 && !is_advisory(&id)
    };
    for s in aliases.iter().chain(&related).chain(&upstream) {
        if is_advisory(s) && !advisory_ids.contains(s) {
            advisory_ids.push(s.clone());
        }
    }

    let mut ubuntu_priority = None;
    let mut info = VulnInfo { id: vuln_ids[0].clone(), ..Default::default() };
    for (i, s) in arr_field(v, "severity").iter().enumerate() {
        let (Some(kind), Some(score)) = (str_field(s, "type"), str_field(s, "score")) else {
            out.problems.push(FeedProblem::new(loc(source, &format!("{path}.severity[{i}]")), "missing type or score"));
            continue;
        };
        match kind {
            "CVSS_V3" => info.cvss3_vector = Some(score.to_string()),
            "CVSS_V4" => info.cvss4_vector = Some(score.to_string()),
            "Ubuntu" => ubuntu_priority = Some(score.to_lowercase()),
            _ => {}
        }
    }
    if single_cve {
        info.summary = str_field(v, "summary")
            .or_else(|| str_field(v, "details"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if info.summary.is_some() || info.cvss3_vector.is_some() || info.cvss4_vector.is_some() {
            out.vulns.push(info);
        }
    }

    for (i, a) in arr_field(v, "affected").iter().enumerate() {
        let apath = format!("{path}.affected[{i}]");
        let Some(pkg) = a.get("package") else {
            out.problems.push(FeedProblem::new(loc(source, &format!("{apath}.package")), "missing"));
            continue;
        };
        let (Some(eco), Some(name)) =
            (str_field(pkg, "ecosystem"), str_field(pkg, "name").filter(|n| !n.trim().is_empty()))
        else {
            out.problems.push(FeedProblem::new(loc(source, &format!("{apath}.package")), "missing ecosystem or name"));
            continue;
        };
        let Some((distro, release, kind)) = ecosystem_distro(eco) else { continue };
        let severity = ubuntu_priority.clone().or_else(|| {
            a.get("ecosystem_specific")
                .and_then(|e| str_field(e, "urgency"))
                .map(|u| u.trim_end_matches('*').trim().to_lowercase())
                .filter(|u| !u.is_empty() && u != "not yet assigned")
        });
        let mut statuses: Vec<FixStatus> = Vec::new();
        let ranges = arr_field(a, "ranges");
        for (j, r) in ranges.iter().enumerate() {
            let rpath = format!("{apath}.ranges[{j}]");
            let rtype = str_field(r, "type").unwrap_or("");
            if rtype != "ECOSYSTEM" {
                out.problems.push(FeedProblem::new(loc(source, &rpath), format!("range type {rtype:?} ignored")));
                continue;
            }
            let (mut introduced, mut fixed, mut last) = (false, false, false);
            for e in arr_field(r, "events") {
                if e.get("introduced").is_some() {
                    introduced = true;
                }
                if let Some(f) = str_field(e, "fixed") {
                    fixed = true;
                    let s = FixStatus::Fixed { version: f.to_string() };
                    if !statuses.contains(&s) {
                        statuses.push(s);
                    }
                }
                if e.get("last_affected").is_some() || e.get("limit").is_some() {
                    last = true;
                }
            }
            if last && !fixed {
                out.problems.push(FeedProblem::new(
                    loc(source, &rpath),
                    "range ends with last_affected/limit and no fix: not expressible as a fix status; skipped",
                ));
            } else if introduced && !fixed && !statuses.contains(&FixStatus::Unfixed) {
                statuses.push(FixStatus::Unfixed);
            }
        }
        if ranges.is_empty() {
            out.problems.push(FeedProblem::new(
                loc(source, &apath),
                "no ranges (versions[] alone give no fix status); skipped",
            ));
        }
        if statuses.len() > 1 && statuses.contains(&FixStatus::Unfixed) {
            out.problems.push(FeedProblem::new(loc(source, &apath), "both fixed and open-ended ranges; all kept"));
        }
        for status in statuses {
            for vid in &vuln_ids {
                out.advisories.push(Advisory {
                    vuln_id: vid.clone(),
                    advisory_ids: advisory_ids.clone(),
                    distro: distro.to_string(),
                    release: release.clone(),
                    package: name.trim().to_string(),
                    package_kind: kind,
                    status: status.clone(),
                    distro_severity: severity.clone(),
                    feed: FEED.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems() {
        assert_eq!(ecosystem_distro("Debian:12"), Some(("debian", "12".into(), PackageKind::Source)));
        assert_eq!(ecosystem_distro("Debian:11.5"), Some(("debian", "11".into(), PackageKind::Source)));
        assert_eq!(ecosystem_distro("Ubuntu:22.04:LTS"), Some(("ubuntu", "22.04".into(), PackageKind::Source)));
        assert_eq!(ecosystem_distro("Ubuntu:Pro:18.04:LTS"), Some(("ubuntu", "18.04".into(), PackageKind::Source)));
        assert_eq!(ecosystem_distro("Alpine:v3.20"), Some(("alpine", "3.20".into(), PackageKind::Source)));
        assert_eq!(ecosystem_distro("Rocky Linux:9"), Some(("rocky", "9".into(), PackageKind::Binary)));
        assert_eq!(ecosystem_distro("AlmaLinux:8"), Some(("almalinux", "8".into(), PackageKind::Binary)));
        assert_eq!(
            ecosystem_distro("Red Hat:enterprise_linux:9::appstream"),
            Some(("rhel", "9".into(), PackageKind::Binary))
        );
        assert_eq!(ecosystem_distro("PyPI"), None);
        assert_eq!(ecosystem_distro("Debian"), None);
    }

    #[test]
    fn cve_prefixes() {
        assert_eq!(as_cve("UBUNTU-CVE-2023-4911"), Some("CVE-2023-4911"));
        assert_eq!(as_cve("DEBIAN-CVE-2023-4911"), Some("CVE-2023-4911"));
        assert_eq!(as_cve("USN-6859-1"), None);
    }
}
