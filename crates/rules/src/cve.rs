//! The Common Vulnerabilities and Exposures package: findings from the
//! matches that `warden-vulndb` computed for the host's installed packages.
//!
//! Why it exists: matching needs the database (I/O); turning matches into
//! findings is pure and lives with the other rules. One finding per
//! vulnerability per host (as Inspector did), citing every affected installed
//! package with the line of its package-database entry.
//!
//! Severity: the distro's own rating when it gives one (Debian/Ubuntu
//! `critical`, `high`, `medium`, `low`; `unimportant`/`negligible` are
//! Informational); otherwise the CVSS base score (v3.x, else v4.0): Critical
//! from 9.0, High from 7.0, Medium from 4.0, Low above 0. With neither, the
//! finding is Medium and says the severity is unknown. Being in CISA's KEV
//! catalog does not change the severity; it is stated in the finding and its
//! attributes.

use std::collections::BTreeMap;

use warden_model::{Evidence, Finding, Outcome, RuleOutcome, Severity, Source};
use warden_vulndb::advisory::{FixStatus, VulnInfo, cvss_score};
use warden_vulndb::matcher::{CveScan, PackageMatch, SupportMatch};

/// Package name, as Inspector returned it.
pub const PACKAGE_NAME: &str = "Common Vulnerabilities and Exposures";
/// Short id for the command line.
pub const PACKAGE_ID: &str = "cve";
/// Rule id of the package's summary outcome.
pub const SCAN_RULE_ID: &str = "cve-scan";
/// Rule id of the finding for a host whose distro or release has no advisories.
pub const UNSUPPORTED_RULE_ID: &str = "cve-unsupported-os";
/// Rule id of the finding for a package whose security support has ended.
pub const SUPPORT_ENDED_RULE_ID: &str = "cve-support-ended";
/// Rule id of the finding for a package with limited security support.
pub const SUPPORT_LIMITED_RULE_ID: &str = "cve-support-limited";

/// Severity from a distro rating, if it is one Warden knows.
pub fn distro_severity(rating: &str) -> Option<Severity> {
    match rating.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "medium" | "moderate" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "unimportant" | "negligible" => Some(Severity::Informational),
        _ => None,
    }
}

/// Severity from a CVSS base score.
pub fn cvss_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s > 0.0 => Severity::Low,
        _ => Severity::Informational,
    }
}

fn evidence_for(m: &PackageMatch) -> Evidence {
    let (path, line) = match &m.location {
        Source::File { path, line } => (Some(path.clone()), Some(*line)),
        _ => (None, None),
    };
    Evidence {
        message: m.reason.clone(),
        path,
        line,
        text: Some(format!("{} {}", m.package, m.installed_version)),
        is_default: false,
    }
}

fn summary_outcome(outcome: Outcome, reason: String, evidence: Vec<Evidence>) -> RuleOutcome {
    RuleOutcome {
        rule_id: SCAN_RULE_ID.to_string(),
        package: PACKAGE_NAME.to_string(),
        title: "Installed packages with known vulnerabilities".to_string(),
        severity: Severity::High,
        outcome,
        reason,
        evidence,
    }
}

fn message(text: impl Into<String>) -> Evidence {
    Evidence { message: text.into(), path: None, line: None, text: None, is_default: false }
}

/// The package's outcomes and findings for one host.
pub fn evaluate(scan: &CveScan, asset: &str) -> (Vec<RuleOutcome>, Vec<Finding>) {
    let mut findings = Vec::new();
    if let Some(problem) = &scan.database_problem {
        return (vec![summary_outcome(Outcome::CouldNotEvaluate, problem.clone(), vec![])], findings);
    }
    if scan.inventories.is_empty() {
        return (
            vec![summary_outcome(Outcome::NotApplicable, "no package database (dpkg, rpm, apk) found".into(), vec![])],
            findings,
        );
    }
    let mut unsupported = Vec::new();
    let mut by_vuln: BTreeMap<&str, Vec<&PackageMatch>> = BTreeMap::new();
    let mut checked = 0;
    for inv in &scan.inventories {
        checked += inv.packages_checked;
        let reason = match (&inv.target, &inv.unsupported) {
            (_, Some(why)) => Some(why.clone()),
            (Some(t), None) if !inv.release_covered => Some(format!(
                "the vulnerability database has no advisories for {} {}: import that release's feed",
                t.distro, t.release
            )),
            _ => None,
        };
        if let Some(reason) = reason {
            unsupported.push(format!("{}: {reason}", inv.database));
            continue;
        }
        for m in &inv.matches {
            by_vuln.entry(m.vuln_id.as_str()).or_default().push(m);
        }
    }
    for reason in &unsupported {
        findings.push(Finding {
            rule_id: UNSUPPORTED_RULE_ID.to_string(),
            package: PACKAGE_NAME.to_string(),
            title: "Unsupported Operating System or Version".to_string(),
            severity: Severity::Informational,
            numeric_severity: Severity::Informational.numeric(),
            asset: asset.to_string(),
            description: "The installed packages could not be checked for known vulnerabilities: no advisory data \
                covers this operating system or release. The host may well be vulnerable."
                .to_string(),
            recommendation: "Import advisories for this distro release (`warden db import`), or move to a \
                supported release."
                .to_string(),
            evidence: vec![message(reason.clone())],
            attributes: BTreeMap::new(),
        });
    }
    for (vuln_id, matches) in &by_vuln {
        findings.push(vuln_finding(vuln_id, matches, scan.vulns.get(*vuln_id), asset));
    }
    for inv in &scan.inventories {
        findings.extend(support_findings(&inv.support, asset));
    }
    let packages: std::collections::BTreeSet<&str> = by_vuln.values().flatten().map(|m| m.package.as_str()).collect();
    let outcome = if !by_vuln.is_empty() {
        Outcome::Fail
    } else if !unsupported.is_empty() {
        Outcome::CouldNotEvaluate
    } else {
        Outcome::Pass
    };
    let mut reason = format!(
        "{} vulnerabilities in {} of {checked} installed packages{}",
        by_vuln.len(),
        packages.len(),
        if scan.ignore_unfixed { " (unfixed ones left out)" } else { "" }
    );
    if !unsupported.is_empty() {
        reason = format!("{reason}; not checked: {}", unsupported.join("; "));
    }
    let mut evidence = Vec::new();
    if let Some(db) = &scan.database {
        let when = scan.database_imported_at.as_deref().unwrap_or("unknown");
        evidence.push(message(format!("vulnerability database {db}, last import {when}")));
    }
    (vec![summary_outcome(outcome, reason, evidence)], findings)
}

/// One finding per source package on a security-support list: ended
/// (Medium; Informational while the end date is still ahead) or limited (Low).
fn support_findings(matches: &[SupportMatch], asset: &str) -> Vec<Finding> {
    let mut by_source: BTreeMap<(&str, bool), Vec<&SupportMatch>> = BTreeMap::new();
    for m in matches {
        by_source.entry((m.source_name.as_str(), m.status.limited)).or_default().push(m);
    }
    by_source
        .into_iter()
        .map(|((source, limited), ms)| {
            let first = ms[0];
            let mut evidence: Vec<Evidence> = ms
                .iter()
                .map(|m| {
                    let (path, line) = match &m.location {
                        Source::File { path, line } => (Some(path.clone()), Some(*line)),
                        _ => (None, None),
                    };
                    Evidence {
                        message: format!("{} is built from {source}", m.package),
                        path,
                        line,
                        text: Some(format!("{} {}", m.package, m.installed_version)),
                        is_default: false,
                    }
                })
                .collect();
            if let Some(details) = &first.status.details {
                evidence.push(message(format!("debian-security-support: {details}")));
            }
            let mut attributes = BTreeMap::new();
            attributes.insert("package_name".to_string(), source.to_string());
            let (rule_id, title, severity, description) = if limited {
                (
                    SUPPORT_LIMITED_RULE_ID,
                    format!("Limited security support for {source}"),
                    Severity::Low,
                    format!("Debian gives {source} limited security support: not every vulnerability will be fixed."),
                )
            } else {
                let (last, date) = first.status.ended.clone().unwrap_or_default();
                attributes.insert("support_end_date".to_string(), date.clone());
                attributes.insert("last_supported_version".to_string(), last.clone());
                let (severity, when) =
                    if first.ended { (Severity::Medium, "ended") } else { (Severity::Informational, "ends") };
                (
                    SUPPORT_ENDED_RULE_ID,
                    format!("Security support {when} for {source}"),
                    severity,
                    format!(
                        "Debian's security support for {source} {when} on {date} (last supported version {last}): \
                         vulnerabilities found in it after that date are not fixed in this release."
                    ),
                )
            };
            Finding {
                rule_id: rule_id.to_string(),
                package: PACKAGE_NAME.to_string(),
                title,
                severity,
                numeric_severity: severity.numeric(),
                asset: asset.to_string(),
                description,
                recommendation: format!(
                    "Replace {source} with a supported alternative, upgrade to a release where it is supported, or \
                     accept and track the risk."
                ),
                evidence,
                attributes,
            }
        })
        .collect()
}

fn vuln_finding(vuln_id: &str, matches: &[&PackageMatch], info: Option<&VulnInfo>, asset: &str) -> Finding {
    let first = matches[0];
    let mut attributes = BTreeMap::new();
    attributes.insert("CVE_ID".to_string(), vuln_id.to_string());
    let names: Vec<&str> = {
        let mut v: Vec<&str> = matches.iter().map(|m| m.package.as_str()).collect();
        v.dedup();
        v
    };
    attributes.insert("package_name".to_string(), names.join(","));
    attributes.insert("installed_version".to_string(), first.installed_version.clone());
    let status = match &first.status {
        FixStatus::Fixed { version } => {
            attributes.insert("fixed_version".to_string(), version.clone());
            "fixed"
        }
        FixStatus::Unfixed => "unfixed",
        FixStatus::WillNotFix => "will_not_fix",
        FixStatus::NotAffected => "not_affected",
    };
    attributes.insert("status".to_string(), status.to_string());
    let advisory_ids: Vec<&str> = {
        let mut v: Vec<&str> = matches.iter().flat_map(|m| m.advisory_ids.iter().map(String::as_str)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if !advisory_ids.is_empty() {
        attributes.insert("advisory_ids".to_string(), advisory_ids.join(","));
    }
    let mut evidence: Vec<Evidence> = matches.iter().map(|m| evidence_for(m)).collect();
    let cvss3 = info.and_then(|i| i.cvss3_vector.as_deref()).and_then(|v| cvss_score(v).map(|s| (v, s)));
    let cvss4 = info.and_then(|i| i.cvss4_vector.as_deref()).and_then(|v| cvss_score(v).map(|s| (v, s)));
    if let Some((v, s)) = cvss3 {
        attributes.insert("CVSS3_VECTOR".to_string(), v.to_string());
        attributes.insert("CVSS3_SCORE".to_string(), format!("{s:.1}"));
    }
    if let Some((v, s)) = cvss4 {
        attributes.insert("CVSS4_VECTOR".to_string(), v.to_string());
        attributes.insert("CVSS4_SCORE".to_string(), format!("{s:.1}"));
    }
    let rated = matches.iter().filter_map(|m| m.distro_severity.as_deref()).find_map(distro_severity);
    let severity = match (rated, cvss3.or(cvss4)) {
        (Some(s), _) => {
            evidence.push(message(format!(
                "severity {s} from the distro's rating ({})",
                first.distro_severity.as_deref().unwrap_or("")
            )));
            s
        }
        (None, Some((v, score))) => {
            let s = cvss_severity(score);
            evidence.push(message(format!("severity {s} from CVSS base score {score:.1} ({v})")));
            s
        }
        (None, None) => {
            evidence.push(message("severity unknown: no distro rating and no CVSS vector; reported as Medium"));
            Severity::Medium
        }
    };
    if let Some(date) = info.and_then(|i| i.kev_date_added.as_deref()) {
        attributes.insert("KEV_DATE_ADDED".to_string(), date.to_string());
        let ransomware =
            if info.and_then(|i| i.kev_ransomware) == Some(true) { ", used in ransomware campaigns" } else { "" };
        evidence.push(message(format!("exploited in the wild: in CISA's KEV catalog since {date}{ransomware}")));
    }
    if let Some(epss) = info.and_then(|i| i.epss) {
        attributes.insert("EPSS".to_string(), format!("{epss:.5}"));
        if let Some(p) = info.and_then(|i| i.epss_percentile) {
            attributes.insert("EPSS_PERCENTILE".to_string(), format!("{p:.5}"));
        }
    }
    let source_names: Vec<&str> = {
        let mut v: Vec<&str> = matches.iter().map(|m| m.matched_name.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let summary = info.and_then(|i| i.summary.clone());
    let description = format!(
        "{vuln_id} affects {} installed on this host ({}).{}",
        names.join(", "),
        first.reason,
        summary.map(|s| format!(" {s}")).unwrap_or_default()
    );
    let recommendation = match &first.status {
        FixStatus::Fixed { version } => format!(
            "Upgrade {} to {version} or later (from {}), e.g. with the distro's package manager, and restart \
             the services that use it.",
            source_names.join(", "),
            if advisory_ids.is_empty() { "the distro's security updates".to_string() } else { advisory_ids.join(", ") }
        ),
        FixStatus::WillNotFix => format!(
            "The distro will not fix {vuln_id} in this release. Judge the exposure, remove {} if it is not needed, \
             or upgrade to a release where it is fixed.",
            names.join(", ")
        ),
        _ => format!(
            "No fixed version is available yet. Limit exposure of the affected software ({}), watch for the \
             distro's update, or remove it if it is not needed.",
            names.join(", ")
        ),
    };
    Finding {
        rule_id: vuln_id.to_string(),
        package: PACKAGE_NAME.to_string(),
        title: format!("{vuln_id} in {}", source_names.join(", ")),
        severity,
        numeric_severity: severity.numeric(),
        asset: asset.to_string(),
        description,
        recommendation,
        evidence,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_model::PackageFormat;
    use warden_vulndb::advisory::PackageKind;
    use warden_vulndb::matcher::{InventoryScan, Target};

    fn m(vuln: &str, package: &str, status: FixStatus, severity: Option<&str>) -> PackageMatch {
        PackageMatch {
            vuln_id: vuln.into(),
            advisory_ids: vec!["DSA-5514-1".into()],
            package: package.into(),
            installed_version: "2.36-9+deb12u1".into(),
            matched_name: "glibc".into(),
            matched_kind: PackageKind::Source,
            compared_version: "2.36-9+deb12u1".into(),
            status,
            distro_severity: severity.map(str::to_string),
            feed: "debian-oval".into(),
            location: Source::file("/var/lib/dpkg/status", 120),
            reason: "source package glibc 2.36-9+deb12u1 < fixed 2.36-9+deb12u3 (DSA-5514-1, debian-oval)".into(),
        }
    }

    fn scan(matches: Vec<PackageMatch>, vulns: Vec<VulnInfo>) -> CveScan {
        CveScan {
            database: Some("/var/lib/warden/vulndb.sqlite".into()),
            inventories: vec![InventoryScan {
                format: PackageFormat::Dpkg,
                database: "/var/lib/dpkg/status".into(),
                target: Some(Target { distro: "debian".into(), release: "12".into() }),
                unsupported: None,
                release_covered: true,
                packages_checked: 100,
                matches,
                support: vec![],
            }],
            vulns: vulns.into_iter().map(|v| (v.id.clone(), v)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn one_finding_per_cve_with_every_package_and_cvss_severity() {
        let fixed = FixStatus::Fixed { version: "2.36-9+deb12u3".into() };
        let info = VulnInfo {
            id: "CVE-2023-4911".into(),
            cvss3_vector: Some("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".into()),
            kev_date_added: Some("2023-11-21".into()),
            ..Default::default()
        };
        let s = scan(
            vec![m("CVE-2023-4911", "libc-bin", fixed.clone(), None), m("CVE-2023-4911", "libc6", fixed, None)],
            vec![info],
        );
        let (outcomes, findings) = evaluate(&s, "web1");
        assert_eq!(outcomes[0].outcome, Outcome::Fail);
        assert_eq!(outcomes[0].reason, "1 vulnerabilities in 2 of 100 installed packages");
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.rule_id, "CVE-2023-4911");
        assert_eq!(f.title, "CVE-2023-4911 in glibc");
        assert_eq!(f.severity, Severity::High, "CVSS 7.8");
        assert_eq!(f.attributes["CVSS3_SCORE"], "7.8");
        assert_eq!(f.attributes["fixed_version"], "2.36-9+deb12u3");
        assert_eq!(f.attributes["package_name"], "libc-bin,libc6");
        assert_eq!(f.attributes["KEV_DATE_ADDED"], "2023-11-21");
        assert_eq!(f.evidence[0].line, Some(120));
        assert!(f.recommendation.contains("Upgrade glibc to 2.36-9+deb12u3"));
        assert!(f.evidence.iter().any(|e| e.message.contains("KEV catalog since 2023-11-21")));
    }

    #[test]
    fn distro_rating_wins_and_unknown_is_medium() {
        let s = scan(vec![m("CVE-1", "a", FixStatus::Unfixed, Some("unimportant"))], vec![]);
        assert_eq!(evaluate(&s, "h").1[0].severity, Severity::Informational);
        let s = scan(vec![m("CVE-1", "a", FixStatus::Unfixed, None)], vec![]);
        let f = &evaluate(&s, "h").1[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.recommendation.starts_with("No fixed version"));
        assert_eq!(cvss_severity(9.0), Severity::Critical);
        assert_eq!(cvss_severity(8.9), Severity::High);
    }

    #[test]
    fn unsupported_release_is_one_informational_finding_and_could_not_evaluate() {
        let mut s = scan(vec![], vec![]);
        s.inventories[0].release_covered = false;
        let (outcomes, findings) = evaluate(&s, "h");
        assert_eq!(outcomes[0].outcome, Outcome::CouldNotEvaluate);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].title, "Unsupported Operating System or Version");
        assert!(findings[0].evidence[0].message.contains("no advisories for debian 12"));
        let mut s = scan(vec![], vec![]);
        s.database_problem = Some("no vulnerability database".into());
        assert_eq!(evaluate(&s, "h").0[0].outcome, Outcome::CouldNotEvaluate);
        assert_eq!(evaluate(&scan(vec![], vec![]), "h").0[0].outcome, Outcome::Pass);
    }
}
