//! Warden's rules: pure functions from a host [`Snapshot`] to rule outcomes
//! and findings.
//!
//! Why it exists: evaluation must give the same answer for the local CLI, an
//! agentless scan of a mounted disk and (later) the fleet server, and it must
//! be testable with plain values. So nothing here reads files or clocks: a
//! rule sees only the snapshot. Each rules package is a list of [`Rule`]s; a
//! rule returns a [`Verdict`] (pass, fail, not applicable, could not
//! evaluate) with its evidence, and a failure becomes a [`Finding`].
//!
//! Packages:
//! - [`best_practices`]: Amazon Inspector's "Security Best Practices" (nine rules).
//! - [`cve`]: Common Vulnerabilities and Exposures, from the matches
//!   `warden-vulndb` computed (given as plain data).
//! - [`cis`]: CIS Operating System Security Configuration Benchmarks, from
//!   data files (`content/cis/*.toml`) of typed probes.
//! - [`runtime`]: Runtime Behavior Analysis, from the runtime observations
//!   of a run (given as plain data, like the CVE matches).
#![deny(missing_docs)]

pub mod best_practices;
pub mod cis;
pub mod cve;
mod evidence;
pub mod runtime;

use warden_model::{
    ASSESSMENT_SCHEMA_VERSION, Assessment, Evidence, Finding, Outcome, RuleOutcome, RuleSummary, Severity,
    SeverityCounts, Snapshot,
};

pub use evidence::{from_sourced, message_only};

/// A rule's fixed description.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    /// Stable id, e.g. `sbp-ssh-root-login`. Never reused for another meaning.
    pub id: &'static str,
    /// Title, as Inspector worded it where it had the rule.
    pub title: &'static str,
    /// Severity of a failure.
    pub severity: Severity,
    /// What the rule checks and why it matters, including the exact semantics.
    pub description: &'static str,
    /// How to fix a failure.
    pub recommendation: &'static str,
}

/// What a rule concluded, with the evidence behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Pass, fail, not applicable or could not evaluate.
    pub outcome: Outcome,
    /// A one-line reason (always set for not-applicable and could-not-evaluate).
    pub reason: String,
    /// Evidence: the settings, files, lines or defaults that decided it.
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// A pass.
    pub fn pass(reason: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Verdict { outcome: Outcome::Pass, reason: reason.into(), evidence }
    }
    /// A failure.
    pub fn fail(reason: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Verdict { outcome: Outcome::Fail, reason: reason.into(), evidence }
    }
    /// Not applicable.
    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Verdict { outcome: Outcome::NotApplicable, reason: reason.into(), evidence: Vec::new() }
    }
    /// Could not evaluate.
    pub fn could_not_evaluate(reason: impl Into<String>) -> Self {
        Verdict { outcome: Outcome::CouldNotEvaluate, reason: reason.into(), evidence: Vec::new() }
    }
}

/// One rule: fixed metadata and a pure check.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Metadata.
    pub meta: RuleMeta,
    /// The check.
    pub check: fn(&Snapshot) -> Verdict,
}

/// A rules package.
#[derive(Clone, Copy)]
pub struct Package {
    /// Name, as Inspector named it.
    pub name: &'static str,
    /// Short id for the command line (`--package best-practices`).
    pub id: &'static str,
    /// Rules in reporting order.
    pub rules: &'static [Rule],
}

/// Every rules package Warden has.
pub fn packages() -> &'static [Package] {
    &[best_practices::PACKAGE]
}

/// The asset name of a snapshot: host name, or the root path when there is none.
pub fn asset_name(snapshot: &Snapshot) -> String {
    match snapshot.host.hostname.as_deref() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => snapshot.root.clone(),
    }
}

/// Evaluates rules packages on a snapshot, and the CVE package when its
/// matches are given.
pub fn assess(snapshot: &Snapshot, packages: &[Package], cve: Option<&warden_vulndb::matcher::CveScan>) -> Assessment {
    assess_with(snapshot, packages, cve, None)
}

/// Like [`assess`], and runs the CIS package when its options are given.
pub fn assess_with(
    snapshot: &Snapshot,
    packages: &[Package],
    cve: Option<&warden_vulndb::matcher::CveScan>,
    cis: Option<&cis::CisOptions>,
) -> Assessment {
    let asset = asset_name(snapshot);
    let mut outcomes = Vec::new();
    let mut findings = Vec::new();
    for package in packages {
        for rule in package.rules {
            let verdict = (rule.check)(snapshot);
            let meta = rule.meta;
            if verdict.outcome == Outcome::Fail {
                findings.push(Finding {
                    rule_id: meta.id.to_string(),
                    package: package.name.to_string(),
                    title: meta.title.to_string(),
                    severity: meta.severity,
                    numeric_severity: meta.severity.numeric(),
                    asset: asset.clone(),
                    description: meta.description.to_string(),
                    recommendation: meta.recommendation.to_string(),
                    evidence: verdict.evidence.clone(),
                    attributes: Default::default(),
                });
            }
            outcomes.push(RuleOutcome {
                rule_id: meta.id.to_string(),
                package: package.name.to_string(),
                title: meta.title.to_string(),
                severity: meta.severity,
                outcome: verdict.outcome,
                reason: verdict.reason,
                evidence: verdict.evidence,
            });
        }
    }
    let mut package_names: Vec<String> = packages.iter().map(|p| p.name.to_string()).collect();
    if let Some(scan) = cve {
        let (cve_outcomes, cve_findings) = cve::evaluate(scan, &asset);
        outcomes.extend(cve_outcomes);
        findings.extend(cve_findings);
        package_names.push(cve::PACKAGE_NAME.to_string());
    }
    if let Some(options) = cis {
        let (cis_outcomes, cis_findings) = cis::evaluate(snapshot, options, &asset);
        outcomes.extend(cis_outcomes);
        findings.extend(cis_findings);
        package_names.push(cis::PACKAGE_NAME.to_string());
    }
    sort_findings(&mut findings);
    let rule_counts = RuleSummary::of(&outcomes);
    let problems = snapshot.all_problems();
    Assessment {
        schema_version: ASSESSMENT_SCHEMA_VERSION,
        warden_version: env!("CARGO_PKG_VERSION").to_string(),
        asset,
        root: snapshot.root.clone(),
        live: snapshot.live,
        os: snapshot.host.os.value().map(|o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone())),
        collected_at: snapshot.collected_at.clone(),
        packages: package_names,
        partial: rule_counts.could_not_evaluate > 0 || !problems.is_empty(),
        severity_counts: SeverityCounts::of(&findings),
        findings,
        rules: outcomes,
        rule_counts,
        problems,
    }
}

/// Adds a package evaluated outside this crate (e.g. Network Reachability,
/// which reads an AWS network description rather than the snapshot) to an
/// assessment: its outcomes and findings, its name, and recomputed counts,
/// order and partial flag (`partial` when its input was incomplete).
pub fn add_package(
    assessment: &mut Assessment,
    name: &str,
    outcomes: Vec<RuleOutcome>,
    findings: Vec<Finding>,
    partial: bool,
) {
    assessment.rules.extend(outcomes);
    assessment.findings.extend(findings);
    assessment.packages.push(name.to_string());
    sort_findings(&mut assessment.findings);
    assessment.rule_counts = RuleSummary::of(&assessment.rules);
    assessment.severity_counts = SeverityCounts::of(&assessment.findings);
    assessment.partial |= partial || assessment.rule_counts.could_not_evaluate > 0;
}

/// A package's rules as Markdown: the source of `docs/rules/<id>.md`, which a
/// test keeps in step with the code.
pub fn package_markdown(package: &Package) -> String {
    let metas: Vec<RuleMeta> = package.rules.iter().map(|r| r.meta).collect();
    rules_markdown(package.name, package.id, &metas, "`warden rules --markdown`")
}

/// Rule metadata as Markdown, for any package (also those evaluated from
/// other inputs than the snapshot, e.g. [`runtime`]); `generator` names
/// what writes the file.
pub fn rules_markdown(name: &str, id: &str, rules: &[RuleMeta], generator: &str) -> String {
    let mut out = format!(
        "# {name} (`{id}`)\n\n<!-- Generated by {generator}; edit the rule metadata in crates/rules, not this file. -->\n\n"
    );
    out.push_str("| rule id | title | severity |\n| --- | --- | --- |\n");
    for r in rules {
        out.push_str(&format!("| `{}` | {} | {} |\n", r.id, r.title, r.severity));
    }
    for r in rules {
        out.push_str(&format!(
            "\n## {}\n\n- id: `{}`\n- severity: {} (numeric {:.1})\n\n{}\n\n**Recommendation.** {}\n",
            r.title,
            r.id,
            r.severity,
            r.severity.numeric(),
            r.description,
            r.recommendation
        ));
    }
    out
}

/// Orders findings: most severe first, then rule id, then asset.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.rule_id.cmp(&b.rule_id)).then_with(|| a.asset.cmp(&b.asset))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, asset: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            package: "p".into(),
            title: "t".into(),
            severity,
            numeric_severity: severity.numeric(),
            asset: asset.into(),
            description: String::new(),
            recommendation: String::new(),
            evidence: vec![],
            attributes: Default::default(),
        }
    }

    #[test]
    fn findings_sort_by_severity_then_rule_then_asset() {
        let mut v = vec![
            finding("b", Severity::Medium, "h2"),
            finding("z", Severity::High, "h1"),
            finding("a", Severity::Medium, "h2"),
            finding("a", Severity::Medium, "h1"),
        ];
        sort_findings(&mut v);
        let order: Vec<_> = v.iter().map(|f| (f.rule_id.as_str(), f.asset.as_str())).collect();
        assert_eq!(order, [("z", "h1"), ("a", "h1"), ("a", "h2"), ("b", "h2")]);
    }

    #[test]
    fn rule_ids_are_unique_and_stable_shaped() {
        let mut seen = std::collections::HashSet::new();
        for p in packages() {
            for r in p.rules {
                assert!(seen.insert(r.meta.id), "duplicate rule id {}", r.meta.id);
                assert!(r.meta.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
                assert!(!r.meta.description.is_empty() && !r.meta.recommendation.is_empty());
            }
        }
    }
}
