//! Severities, rule outcomes and findings.
//!
//! Why it exists: every rules package (best practices now; CVE, CIS, runtime
//! and reachability later) reports in the same shape, so that one report
//! writer, one `--fail-on` and one API serve them all. The JSON form is
//! documented in `docs/report-json.md`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Severity of a finding, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Configuration detail only.
    Informational,
    /// Fix in a future update.
    Low,
    /// Fix at the next opportunity.
    Medium,
    /// Treat as an emergency.
    High,
    /// Actively exploitable, fix now.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Informational];

    /// Inspector-style numeric severity (0-10). Medium = 6.0 and Informational
    /// = 0.0 are what Inspector Classic reported; High = 9.0 and Low = 3.0
    /// follow its apparent scale; Critical (absent from Inspector Classic) is 10.0.
    pub fn numeric(self) -> f64 {
        match self {
            Severity::Critical => 10.0,
            Severity::High => 9.0,
            Severity::Medium => 6.0,
            Severity::Low => 3.0,
            Severity::Informational => 0.0,
        }
    }

    /// The name as shown and as accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
            Severity::Informational => "Informational",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    /// Case-insensitive; `info` is accepted for Informational.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "informational" | "info" => Ok(Severity::Informational),
            other => Err(format!("unknown severity {other:?} (expected critical, high, medium, low or informational)")),
        }
    }
}

/// Verdict of one rule on one asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The host complies.
    Pass,
    /// The host does not comply; a [`Finding`] is produced.
    Fail,
    /// The rule does not apply (e.g. no sshd installed).
    NotApplicable,
    /// The facts needed are missing or unreadable; `reason` says which.
    CouldNotEvaluate,
    /// A recommendation that cannot be checked automatically (CIS "manual"):
    /// listed for a person to review, never failed, left out of scores.
    Manual,
}

impl Outcome {
    /// Lower-case words for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not applicable",
            Outcome::CouldNotEvaluate => "could not evaluate",
            Outcome::Manual => "manual",
        }
    }
}

/// One piece of evidence: what was found, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What this evidence shows, in words.
    pub message: String,
    /// File (inside the assessed root), /proc path, or `None` for a built-in default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line in `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The setting as written (or the observed value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// True when the effective value is a program's built-in default, not written anywhere.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_default: bool,
}

/// The result of one rule on one asset, whatever the verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// Stable rule id, e.g. `sbp-ssh-root-login`.
    pub rule_id: String,
    /// The rules package, e.g. `Security Best Practices`.
    pub package: String,
    /// Rule title.
    pub title: String,
    /// Severity a failure has.
    pub severity: Severity,
    /// The verdict.
    pub outcome: Outcome,
    /// Why, for not-applicable and could-not-evaluate; a short summary otherwise.
    pub reason: String,
    /// Evidence behind the verdict (also for passes).
    pub evidence: Vec<Evidence>,
}

/// A failed rule on an asset, with everything needed to act on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id.
    pub rule_id: String,
    /// The rules package.
    pub package: String,
    /// Rule title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// [`Severity::numeric`] of `severity`.
    pub numeric_severity: f64,
    /// The asset: the host name, or the root path when there is none.
    pub asset: String,
    /// What the rule checks and why it matters.
    pub description: String,
    /// How to fix it.
    pub recommendation: String,
    /// Why this host fails.
    pub evidence: Vec<Evidence>,
    /// Machine-readable facts, Inspector style (`CVE_ID`, `package_name`,
    /// `CVSS3_SCORE`, ...); empty for configuration rules.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// Counts over a set of rule outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Rules that passed.
    pub passed: usize,
    /// Rules that failed.
    pub failed: usize,
    /// Rules not applicable.
    pub not_applicable: usize,
    /// Rules that could not be evaluated.
    pub could_not_evaluate: usize,
    /// Manual recommendations (CIS), listed for review.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub manual: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl RuleSummary {
    /// Counts the outcomes.
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a RuleOutcome>) -> Self {
        let mut s = RuleSummary::default();
        for o in outcomes {
            match o.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::NotApplicable => s.not_applicable += 1,
                Outcome::CouldNotEvaluate => s.could_not_evaluate += 1,
                Outcome::Manual => s.manual += 1,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Informational);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert_eq!("info".parse::<Severity>().unwrap(), Severity::Informational);
        assert!("severe".parse::<Severity>().is_err());
        assert_eq!(Severity::Medium.numeric(), 6.0);
    }
}

/// Counts of findings per severity, most severe first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
    /// Informational findings.
    pub informational: usize,
}

impl SeverityCounts {
    /// Counts the findings.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut c = SeverityCounts::default();
        for f in findings {
            *c.slot(f.severity) += 1;
        }
        c
    }
    fn slot(&mut self, s: Severity) -> &mut usize {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Informational => &mut self.informational,
        }
    }
    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Informational => self.informational,
        }
    }
}

/// The result of assessing one asset: what a report renders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Version of this JSON schema (`docs/report-json.md`).
    pub schema_version: u32,
    /// Version of the Warden that evaluated it.
    pub warden_version: String,
    /// The asset: host name, or the root path when there is none.
    pub asset: String,
    /// Root path that was read.
    pub root: String,
    /// Whether live kernel facts were available.
    pub live: bool,
    /// OS pretty name, when known.
    pub os: Option<String>,
    /// When the snapshot was collected (RFC 3339).
    pub collected_at: String,
    /// Rules packages evaluated.
    pub packages: Vec<String>,
    /// True when some rule could not be evaluated or collection met problems:
    /// the findings may be incomplete.
    pub partial: bool,
    /// Findings, ordered by severity (most severe first), then rule id, then asset.
    pub findings: Vec<Finding>,
    /// Every rule's outcome, in package order.
    pub rules: Vec<RuleOutcome>,
    /// Findings per severity.
    pub severity_counts: SeverityCounts,
    /// Rule outcomes counted.
    pub rule_counts: RuleSummary,
    /// Problems met during collection (files that could not be read or parsed).
    pub problems: Vec<crate::Problem>,
}

/// Schema version of [`Assessment`] JSON.
pub const ASSESSMENT_SCHEMA_VERSION: u32 = 1;
