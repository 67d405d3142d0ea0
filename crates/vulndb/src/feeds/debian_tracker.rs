//! The Debian security tracker's JSON (`https://security-tracker.debian.org/tracker/data/json`).
//!
//! Why it exists: it is Debian's own, complete statement per (source
//! package, CVE, release), richer than the OVAL export: it says which issues
//! Debian will not fix and how urgent each one is.
//!
//! What the format means: `{<source package>: {<CVE or TEMP id>:
//! {description, scope, debianbug, releases: {<codename>: {status,
//! repositories: {<suite>: version}, fixed_version, urgency, nodsa,
//! nodsa_reason}}}}}`. Per release:
//! - `status: "resolved"` with `fixed_version` V → Fixed{V}; V = `"0"`
//!   means the release was **never affected** → NotAffected;
//! - `status: "open"` → Unfixed, except `nodsa_reason: "ignored"` (Debian
//!   decided not to fix it in this release) and urgency `end-of-life` (the
//!   package is out of security support) → WillNotFix. `postponed` stays
//!   Unfixed: a fix may come in a point release;
//! - `status: "undetermined"` → Unfixed (Debian has not decided whether the
//!   release is affected; reporting it errs on the side of caution);
//! - `urgency` (`unimportant`, `low`, `medium`, `high`; a trailing `*` or
//!   `**` marks an automatic guess and is stripped; `not yet assigned` is no
//!   rating) becomes the distro severity.
//!
//! Codenames map to major releases (bookworm → 12); `sid` and unknown
//! codenames are skipped. TEMP- ids (no CVE yet) are kept under their id.
//! The file is about 70 MB: it is read package by package through a serde
//! visitor, never as one `Value` tree.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::debian_oval::codename_release;
use super::{FeedError, FeedOutput, FeedProblem};
use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};

const FEED: &str = "debian-tracker";

#[derive(Deserialize)]
struct Issue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: BTreeMap<String, Release>,
}

#[derive(Deserialize)]
struct Release {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// The status of one (package, issue, release), or why it is skipped.
fn status_of(r: &Release) -> Result<FixStatus, String> {
    let urgency = r.urgency.as_deref().map(|u| u.trim_end_matches('*'));
    match r.status.as_deref() {
        Some("resolved") => match r.fixed_version.as_deref().map(str::trim) {
            Some("0") => Ok(FixStatus::NotAffected),
            Some(v) if !v.is_empty() => Ok(FixStatus::Fixed { version: v.to_string() }),
            _ => Err("resolved without a fixed_version".to_string()),
        },
        Some("open") if r.nodsa_reason.as_deref() == Some("ignored") || urgency == Some("end-of-life") => {
            Ok(FixStatus::WillNotFix)
        }
        Some("open") | Some("undetermined") => Ok(FixStatus::Unfixed),
        Some(other) => Err(format!("unknown status {other:?}")),
        None => Err("no status".to_string()),
    }
}

fn severity_of(r: &Release) -> Option<String> {
    let u = r.urgency.as_deref()?.trim_end_matches('*').trim();
    match u {
        "" | "not yet assigned" | "end-of-life" => None,
        other => Some(other.to_string()),
    }
}

struct Collector<'a> {
    out: &'a mut FeedOutput,
    source: &'a str,
}

impl<'de> Visitor<'de> for Collector<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of source packages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut described = std::collections::HashSet::new();
        while let Some(package) = map.next_key::<String>()? {
            let issues: BTreeMap<String, Issue> = map.next_value()?;
            for (id, issue) in issues {
                for (codename, release) in &issue.releases {
                    let Some(number) = codename_release(codename) else { continue };
                    match status_of(release) {
                        Ok(status) => self.out.advisories.push(Advisory {
                            vuln_id: id.clone(),
                            advisory_ids: Vec::new(),
                            distro: "debian".to_string(),
                            release: number.to_string(),
                            package: package.clone(),
                            package_kind: PackageKind::Source,
                            status,
                            distro_severity: severity_of(release),
                            feed: FEED.to_string(),
                        }),
                        Err(why) => self.out.problems.push(FeedProblem::new(
                            format!("{}: $.{package}.{id}.releases.{codename}", self.source),
                            why,
                        )),
                    }
                }
                if let Some(summary) = issue.description.filter(|d| !d.is_empty())
                    && described.insert(id.clone())
                {
                    self.out.vulns.push(VulnInfo { id, summary: Some(summary), ..Default::default() });
                }
            }
        }
        Ok(())
    }
}

/// Parses the tracker JSON, package by package.
pub fn parse(reader: impl Read, source: &str) -> Result<FeedOutput, FeedError> {
    let mut out = FeedOutput::default();
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    de.deserialize_map(Collector { out: &mut out, source }).map_err(|e| match e.classify() {
        serde_json::error::Category::Io => FeedError::io(source, std::io::Error::other(e.to_string())),
        _ => {
            FeedError::malformed(format!("{source}:{}:{}", e.line(), e.column()), format!("invalid tracker JSON: {e}"))
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped exactly like the tracker's output (hand-written; the values
    /// follow the tracker's pages for these CVEs as of 2024).
    const SAMPLE: &str = r#"{
  "glibc": {
    "CVE-2023-4911": {
      "description": "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so ...",
      "scope": "local",
      "releases": {
        "bookworm": {"status": "resolved", "repositories": {"bookworm": "2.36-9+deb12u7"}, "fixed_version": "2.36-9+deb12u3", "urgency": "high"},
        "bullseye": {"status": "resolved", "repositories": {"bullseye": "2.31-13+deb11u10"}, "fixed_version": "0", "urgency": "not yet assigned"},
        "sid": {"status": "resolved", "repositories": {"sid": "2.40-3"}, "fixed_version": "2.37-12", "urgency": "high"}
      }
    },
    "CVE-2010-4756": {
      "description": "The glob implementation in the GNU C Library ...",
      "releases": {
        "bookworm": {"status": "open", "repositories": {"bookworm": "2.36-9+deb12u7"}, "urgency": "unimportant"}
      }
    }
  },
  "openssl": {
    "CVE-2024-2511": {
      "releases": {
        "bookworm": {"status": "open", "repositories": {"bookworm": "3.0.13-1~deb12u1"}, "urgency": "low**", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
        "buster": {"status": "open", "repositories": {"buster": "1.1.1n-0+deb10u6"}, "urgency": "end-of-life"},
        "trixie": {"status": "undetermined", "repositories": {"trixie": "3.2.1-3"}, "urgency": "low"},
        "bullseye": {"status": "weird", "repositories": {}}
      }
    }
  }
}"#;

    #[test]
    fn statuses_severities_and_releases() {
        let out = parse(SAMPLE.as_bytes(), "json").unwrap();
        let got: Vec<(String, String, String, FixStatus, Option<String>)> = out
            .advisories
            .iter()
            .map(|a| {
                (a.package.clone(), a.vuln_id.clone(), a.release.clone(), a.status.clone(), a.distro_severity.clone())
            })
            .collect();
        let fixed = |v: &str| FixStatus::Fixed { version: v.into() };
        let s = |x: &str| Some(x.to_string());
        let want = vec![
            ("glibc".into(), "CVE-2010-4756".into(), "12".into(), FixStatus::Unfixed, s("unimportant")),
            ("glibc".into(), "CVE-2023-4911".into(), "12".into(), fixed("2.36-9+deb12u3"), s("high")),
            ("glibc".into(), "CVE-2023-4911".into(), "11".into(), FixStatus::NotAffected, None),
            ("openssl".into(), "CVE-2024-2511".into(), "12".into(), FixStatus::WillNotFix, s("low")),
            ("openssl".into(), "CVE-2024-2511".into(), "10".into(), FixStatus::WillNotFix, None),
            ("openssl".into(), "CVE-2024-2511".into(), "13".into(), FixStatus::Unfixed, s("low")),
        ];
        assert_eq!(got, want);
        assert_eq!(out.problems.len(), 1);
        assert!(out.problems[0].location.ends_with("$.openssl.CVE-2024-2511.releases.bullseye"));
        assert_eq!(out.vulns.len(), 2, "descriptions become summaries");
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = parse(&b"{\n  \"glibc\": {\n    \"CVE-1\": [}\n"[..], "json").unwrap_err();
        assert!(e.to_string().starts_with("json:3:"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(s.as_bytes(), "json");
        }
    }
}
