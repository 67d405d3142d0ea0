//! The input of every report format: one assessment run over one or more hosts.
//!
//! Why it exists: a report is asked for in two places, `warden report` over
//! the JSON that `warden assess` wrote, and the fleet server's
//! `GetAssessmentReport` over a stored run. Both fill this one type, and every
//! renderer (HTML, PDF, JSON, CSV, SARIF, Markdown) reads only it. Inspector
//! Classic's two report types are kept: a FINDING report lists findings; a
//! FULL report also lists every rule checked, passed ones included, per
//! package and host.

use serde::{Deserialize, Serialize};
use warden_model::{Assessment, Finding, Outcome, Problem, RuleOutcome, Severity, SeverityCounts};

use crate::time::{duration_words, parse_rfc3339};

/// Version of the run report JSON (`docs/reports.md`).
pub const RUN_REPORT_SCHEMA_VERSION: u32 = 1;

/// Inspector Classic's `reportType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportType {
    /// Summary, hosts, rules packages and every finding.
    #[default]
    Finding,
    /// Everything in FINDING plus every rule checked, passed ones included.
    Full,
}

impl ReportType {
    /// `Findings report` or `Full report`.
    pub fn title(self) -> &'static str {
        match self {
            ReportType::Finding => "Findings report",
            ReportType::Full => "Full report",
        }
    }
}

/// What is known about the run as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMetadata {
    /// Run name (server: the assessment run's name).
    pub run_name: String,
    /// Assessment template name.
    pub template: String,
    /// Assessment target name (or the assets assessed, locally).
    pub target: String,
    /// Start of the run, RFC 3339.
    pub started_at: String,
    /// End of the run, RFC 3339.
    pub completed_at: String,
    /// Rules packages evaluated, in the order first seen.
    pub rules_packages: Vec<String>,
    /// Agent ids that took part (empty for local assessments).
    pub agents: Vec<String>,
    /// The run's state (server runs: `COMPLETED`, `COMPLETED_WITH_ERRORS`,
    /// ... and why it did not complete cleanly); none for local assessments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The Warden that made the report.
    pub warden_version: String,
    /// When the report was made, RFC 3339.
    pub generated_at: String,
}

impl RunMetadata {
    /// Seconds from start to completion, when both times parse and are in order.
    pub fn duration_seconds(&self) -> Option<u64> {
        let start = parse_rfc3339(&self.started_at)?;
        let end = parse_rfc3339(&self.completed_at)?;
        u64::try_from(end - start).ok()
    }

    /// The duration in words, or `unknown`.
    pub fn duration_text(&self) -> String {
        self.duration_seconds().map(duration_words).unwrap_or_else(|| "unknown".to_string())
    }
}

/// One assessed host in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    /// The asset: host name, instance id, or root path.
    pub asset: String,
    /// OS pretty name, when known.
    pub os: Option<String>,
    /// The agent that assessed it (none for a local assessment).
    pub agent_id: Option<String>,
    /// When its facts were collected, RFC 3339.
    pub collected_at: String,
    /// True when some rule could not be evaluated or collection met problems.
    pub partial: bool,
    /// Findings, most severe first, then rule id.
    pub findings: Vec<Finding>,
    /// Rule outcomes: every rule in a FULL report; only the ones that could
    /// not be evaluated (they explain `partial`) in a FINDING report.
    pub rules: Vec<RuleOutcome>,
    /// Problems met while collecting.
    pub problems: Vec<Problem>,
}

/// A whole run, ready to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`RUN_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// FINDING or FULL.
    pub report_type: ReportType,
    /// The run.
    pub run: RunMetadata,
    /// Hosts, in the order given.
    pub hosts: Vec<HostReport>,
}

/// Findings per severity of one rules package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageCounts {
    /// Package name.
    pub package: String,
    /// Its findings per severity.
    pub counts: SeverityCounts,
}

impl RunReport {
    /// A report of `hosts`: findings are put in severity order, and a FINDING
    /// report keeps only the rule outcomes that could not be evaluated.
    pub fn new(report_type: ReportType, run: RunMetadata, mut hosts: Vec<HostReport>) -> Self {
        for host in &mut hosts {
            host.findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule_id.cmp(&b.rule_id)));
            if report_type == ReportType::Finding {
                host.rules.retain(|r| r.outcome == Outcome::CouldNotEvaluate);
            }
        }
        RunReport { schema_version: RUN_REPORT_SCHEMA_VERSION, report_type, run, hosts }
    }

    /// A report of local assessments (`warden assess --format json`), one
    /// host each. The run starts at the earliest collection and completes at
    /// the latest; the template names the packages, the target the assets.
    pub fn from_assessments(
        report_type: ReportType,
        assessments: Vec<Assessment>,
        warden_version: &str,
        generated_at: &str,
    ) -> Self {
        let mut packages: Vec<String> = Vec::new();
        for p in assessments.iter().flat_map(|a| &a.packages) {
            if !packages.contains(p) {
                packages.push(p.clone());
            }
        }
        let times: Vec<&str> = assessments.iter().map(|a| a.collected_at.as_str()).collect();
        let started = times.iter().copied().min_by_key(|t| parse_rfc3339(t).unwrap_or(i64::MAX)).unwrap_or_default();
        let completed = times.iter().copied().max_by_key(|t| parse_rfc3339(t).unwrap_or(i64::MIN)).unwrap_or_default();
        let target = match assessments.len() {
            0 => "no hosts".to_string(),
            1..=5 => assessments.iter().map(|a| a.asset.as_str()).collect::<Vec<_>>().join(", "),
            n => format!("{n} hosts"),
        };
        let run = RunMetadata {
            run_name: "Local assessment".to_string(),
            template: if packages.is_empty() { "no rules packages".to_string() } else { packages.join(", ") },
            target,
            started_at: started.to_string(),
            completed_at: completed.to_string(),
            rules_packages: packages,
            agents: Vec::new(),
            state: None,
            warden_version: warden_version.to_string(),
            generated_at: generated_at.to_string(),
        };
        let hosts = assessments
            .into_iter()
            .map(|a| HostReport {
                asset: a.asset,
                os: a.os,
                agent_id: None,
                collected_at: a.collected_at,
                partial: a.partial,
                findings: a.findings,
                rules: a.rules,
                problems: a.problems,
            })
            .collect();
        RunReport::new(report_type, run, hosts)
    }

    /// Every finding, host by host.
    pub fn findings(&self) -> impl Iterator<Item = (&HostReport, &Finding)> {
        self.hosts.iter().flat_map(|h| h.findings.iter().map(move |f| (h, f)))
    }

    /// Number of findings over all hosts.
    pub fn finding_count(&self) -> usize {
        self.hosts.iter().map(|h| h.findings.len()).sum()
    }

    /// Findings per severity over all hosts.
    pub fn severity_counts(&self) -> SeverityCounts {
        SeverityCounts::of(self.findings().map(|(_, f)| f))
    }

    /// Findings per severity of each package: the run's packages in order,
    /// then any package seen only in findings.
    pub fn package_counts(&self) -> Vec<PackageCounts> {
        let mut out: Vec<PackageCounts> = self
            .run
            .rules_packages
            .iter()
            .map(|p| PackageCounts { package: p.clone(), counts: SeverityCounts::default() })
            .collect();
        let mut tallies: Vec<[usize; 5]> = vec![[0; 5]; out.len()];
        for (_, f) in self.findings() {
            let i = match out.iter().position(|p| p.package == f.package) {
                Some(i) => i,
                None => {
                    out.push(PackageCounts { package: f.package.clone(), counts: SeverityCounts::default() });
                    tallies.push([0; 5]);
                    out.len() - 1
                }
            };
            tallies[i][severity_index(f.severity)] += 1;
        }
        for (p, t) in out.iter_mut().zip(tallies) {
            p.counts = SeverityCounts { critical: t[0], high: t[1], medium: t[2], low: t[3], informational: t[4] };
        }
        out
    }

    /// True when any host's results are partial.
    pub fn partial(&self) -> bool {
        self.hosts.iter().any(|h| h.partial)
    }

    /// The executive summary as label/value rows (every format shows the same).
    pub fn summary_rows(&self) -> Vec<(&'static str, String)> {
        let run = &self.run;
        let mut rows = vec![
            ("Run", run.run_name.clone()),
            ("Template", run.template.clone()),
            ("Target", run.target.clone()),
            ("Started", run.started_at.clone()),
            ("Completed", run.completed_at.clone()),
            ("Duration", run.duration_text()),
            ("Rules packages", run.rules_packages.join(", ")),
            ("Agents", self.agents_text()),
            ("Hosts assessed", self.hosts.len().to_string()),
            ("Findings", self.finding_count().to_string()),
        ];
        if let Some(state) = &run.state {
            rows.insert(1, ("State", state.clone()));
        }
        rows
    }

    /// Agents as one line (`none (local assessment)` when there are none).
    pub fn agents_text(&self) -> String {
        if self.run.agents.is_empty() { "none (local assessment)".to_string() } else { self.run.agents.join(", ") }
    }
}

/// Position of a severity in [`Severity::ALL`] (most severe first).
pub fn severity_index(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(Severity::ALL.len() - 1)
}

/// The rules of a host grouped by package, in first-seen package order.
pub fn rules_by_package(rules: &[RuleOutcome]) -> Vec<(&str, Vec<&RuleOutcome>)> {
    let mut groups: Vec<(&str, Vec<&RuleOutcome>)> = Vec::new();
    for r in rules {
        match groups.iter_mut().find(|(p, _)| *p == r.package) {
            Some((_, list)) => list.push(r),
            None => groups.push((&r.package, vec![r])),
        }
    }
    groups
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use warden_model::*;

    /// A finding with evidence; `text` lets tests put hostile strings in it.
    pub fn finding(rule: &str, package: &str, severity: Severity, asset: &str, text: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            package: package.into(),
            title: format!("Title of {rule}"),
            severity,
            numeric_severity: severity.numeric(),
            asset: asset.into(),
            description: format!("Description of {rule}"),
            recommendation: format!("Recommendation for {rule}"),
            evidence: vec![Evidence {
                message: "what was found".into(),
                path: Some("/etc/ssh/sshd_config".into()),
                line: Some(33),
                text: Some(text.into()),
                is_default: false,
            }],
            attributes: Default::default(),
        }
    }

    pub fn outcome(rule: &str, package: &str, outcome: Outcome) -> RuleOutcome {
        RuleOutcome {
            rule_id: rule.into(),
            package: package.into(),
            title: format!("Title of {rule}"),
            severity: Severity::Medium,
            outcome,
            reason: format!("reason for {rule}"),
            evidence: vec![],
        }
    }

    pub fn assessment(asset: &str, collected_at: &str, findings: Vec<Finding>, rules: Vec<RuleOutcome>) -> Assessment {
        Assessment {
            schema_version: ASSESSMENT_SCHEMA_VERSION,
            warden_version: "t".into(),
            asset: asset.into(),
            root: "/".into(),
            live: true,
            os: Some("Debian GNU/Linux 12 (bookworm)".into()),
            collected_at: collected_at.into(),
            packages: vec!["Security Best Practices".into(), "Common Vulnerabilities and Exposures".into()],
            partial: false,
            severity_counts: SeverityCounts::of(&findings),
            rule_counts: RuleSummary::of(&rules),
            findings,
            rules,
            problems: vec![],
        }
    }

    /// Two hosts, mixed severities and packages, a hostile evidence string.
    pub fn sample(report_type: ReportType) -> RunReport {
        let sbp = "Security Best Practices";
        let cve = "Common Vulnerabilities and Exposures";
        let web = assessment(
            "web1",
            "2026-11-28T10:00:00Z",
            vec![
                finding("sbp-ssh-root-login", sbp, Severity::Medium, "web1", "PermitRootLogin yes"),
                finding("CVE-2024-0001", cve, Severity::Critical, "web1", "<script>alert(1)</script>"),
            ],
            vec![
                outcome("sbp-ssh-root-login", sbp, Outcome::Fail),
                outcome("sbp-aslr", sbp, Outcome::Pass),
                outcome("sbp-pam", sbp, Outcome::CouldNotEvaluate),
            ],
        );
        let db = assessment(
            "db1",
            "2026-11-28T10:02:05Z",
            vec![finding("sbp-dirs", sbp, Severity::High, "db1", "drwxrwxrwx root root /usr/bin")],
            vec![outcome("sbp-dirs", sbp, Outcome::Fail), outcome("sbp-aslr", sbp, Outcome::Pass)],
        );
        RunReport::from_assessments(report_type, vec![web, db], "0.1.0", "2026-11-28T11:00:00Z")
    }

    #[test]
    fn run_spans_the_assessments_and_orders_findings() {
        let r = sample(ReportType::Full);
        assert_eq!(r.run.started_at, "2026-11-28T10:00:00Z");
        assert_eq!(r.run.completed_at, "2026-11-28T10:02:05Z");
        assert_eq!(r.run.duration_text(), "2 min 05 s");
        assert_eq!(r.run.target, "web1, db1");
        assert_eq!(r.hosts[0].findings[0].severity, Severity::Critical, "most severe first");
        assert_eq!(r.finding_count(), 3);
        assert_eq!(r.severity_counts().critical, 1);
        let pc = r.package_counts();
        assert_eq!(pc[0].package, "Security Best Practices");
        assert_eq!((pc[0].counts.high, pc[0].counts.medium), (1, 1));
        assert_eq!(pc[1].counts.critical, 1);
        assert_eq!(r.hosts[0].rules.len(), 3);
    }

    #[test]
    fn finding_report_keeps_only_rules_that_could_not_be_evaluated() {
        let r = sample(ReportType::Finding);
        assert_eq!(r.hosts[0].rules.len(), 1);
        assert_eq!(r.hosts[0].rules[0].outcome, Outcome::CouldNotEvaluate);
        assert!(r.hosts[1].rules.is_empty());
    }

    #[test]
    fn grouping_keeps_package_order() {
        let r = sample(ReportType::Full);
        let groups = rules_by_package(&r.hosts[0].rules);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].1.len(), 3);
    }
}
