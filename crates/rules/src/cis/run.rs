//! Running a benchmark on a snapshot: outcomes, findings and the score.
//!
//! Why it exists: the CIS package is dynamic (its rules come from content),
//! like the CVE package, so it has its own entry point instead of a static
//! rule list. One finding per failed recommendation per host; every
//! recommendation of the profile gets an outcome; a summary outcome carries
//! the compliance score (passed / (passed + failed)) of every profile;
//! manual recommendations are listed with the outcome `manual` and never scored.

use std::collections::BTreeMap;

use warden_model::{Finding, Outcome, RuleOutcome, Severity, Snapshot};

use super::schema::{Profile, Recommendation};
use super::tailoring::Tailoring;
use super::{Benchmark, eval};
use crate::Verdict;
use crate::evidence::message_only;

/// Package name, as Inspector named it.
pub const PACKAGE_NAME: &str = "CIS Operating System Security Configuration Benchmarks";
/// Short id for the command line.
pub const PACKAGE_ID: &str = "cis";
/// Rule id of the summary outcome with the compliance scores.
pub const SCORE_RULE_ID: &str = "cis-score";
/// Rule id of the finding for an OS without a benchmark.
pub const NO_BENCHMARK_RULE_ID: &str = "cis-no-benchmark";

/// How to run the package.
#[derive(Clone, Debug)]
pub struct CisOptions {
    /// The profile whose recommendations are reported.
    pub profile: Profile,
    /// The site's tailoring: disabled recommendations and parameter values.
    pub tailoring: Option<Tailoring>,
}

impl Default for CisOptions {
    fn default() -> Self {
        CisOptions { profile: Profile::Level1Server, tailoring: None }
    }
}

fn in_profile(r: &Recommendation, p: Profile) -> bool {
    r.profiles.iter().any(|l| p.includes(*l))
}

/// The package's outcomes and findings for one host.
pub fn evaluate(snapshot: &Snapshot, options: &CisOptions, asset: &str) -> (Vec<RuleOutcome>, Vec<Finding>) {
    let summary = |outcome, reason: String| RuleOutcome {
        rule_id: SCORE_RULE_ID.to_string(),
        package: PACKAGE_NAME.to_string(),
        title: "CIS benchmark compliance".to_string(),
        severity: Severity::Informational,
        outcome,
        reason,
        evidence: vec![],
    };
    let benchmarks = match super::embedded() {
        Ok(b) => b,
        Err(e) => return (vec![summary(Outcome::CouldNotEvaluate, e)], vec![]),
    };
    let Some(os) = snapshot.host.os.value() else {
        let why = format!("os-release not read: {}", snapshot.host.os.reason().unwrap_or_default());
        return (vec![summary(Outcome::CouldNotEvaluate, why)], vec![]);
    };
    let Some(bench) = super::for_os(benchmarks, os) else {
        let why = format!(
            "no CIS benchmark for this OS ({} {}); Warden has: {}",
            os.id,
            os.version_id.as_deref().unwrap_or("?"),
            benchmarks.iter().map(|b| b.content.benchmark.title.as_str()).collect::<Vec<_>>().join(", ")
        );
        let finding = Finding {
            rule_id: NO_BENCHMARK_RULE_ID.to_string(),
            package: PACKAGE_NAME.to_string(),
            title: "No CIS benchmark for this operating system".to_string(),
            severity: Severity::Informational,
            numeric_severity: Severity::Informational.numeric(),
            asset: asset.to_string(),
            description: "Warden has no CIS benchmark content for this operating system or release, so its \
                configuration was not checked against one."
                .to_string(),
            recommendation: "Assess a supported release, or add a benchmark file (docs/cis.md).".to_string(),
            evidence: vec![message_only(why.clone())],
            attributes: BTreeMap::new(),
        };
        return (vec![summary(Outcome::NotApplicable, why)], vec![finding]);
    };
    if let Some(t) = &options.tailoring
        && t.benchmark != bench.content.benchmark.id
    {
        let why = format!(
            "tailoring {} is for {:?}, but this host uses {:?}",
            t.file, t.benchmark, bench.content.benchmark.id
        );
        return (vec![summary(Outcome::CouldNotEvaluate, why)], vec![]);
    }
    run_benchmark(snapshot, bench, options, asset, summary)
}

fn run_benchmark(
    snapshot: &Snapshot,
    bench: &Benchmark,
    options: &CisOptions,
    asset: &str,
    summary: impl Fn(Outcome, String) -> RuleOutcome,
) -> (Vec<RuleOutcome>, Vec<Finding>) {
    let meta = &bench.content.benchmark;
    let tailored;
    let params = match &options.tailoring {
        Some(t) => {
            tailored = t.apply_params(&bench.content.params);
            &tailored
        }
        None => &bench.content.params,
    };
    let disabled = |r: &Recommendation| options.tailoring.as_ref().filter(|t| t.disabled.contains(&r.id));
    let verdicts: Vec<(&Recommendation, Verdict)> = bench
        .content
        .rules
        .iter()
        .map(|r| {
            if let Some(t) = disabled(r) {
                return (r, Verdict::not_applicable(format!("disabled by tailoring {}", t.file)));
            }
            let gate = r.applies_if.as_ref().map(|c| eval::evaluate(c, snapshot, params));
            let v = match (&r.check, gate) {
                (_, Some(g)) if g.outcome != Outcome::Pass => {
                    Verdict::not_applicable(format!("does not apply: {}", g.reason))
                }
                (Some(c), _) if r.automated => eval::evaluate(c, snapshot, params),
                _ => Verdict {
                    outcome: Outcome::Manual,
                    reason: "manual recommendation: Warden cannot check it; review it by hand".to_string(),
                    evidence: vec![],
                },
            };
            (r, v)
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut findings = Vec::new();
    for (r, v) in verdicts.iter().filter(|(r, _)| in_profile(r, options.profile)) {
        let severity: Severity = r.severity.parse().unwrap_or(Severity::Medium);
        let title = format!("{} {}", r.number, r.title);
        if v.outcome == Outcome::Fail {
            let mut attributes = BTreeMap::new();
            attributes.insert("BENCHMARK_ID".to_string(), format!("{} {}", meta.title, meta.version));
            attributes.insert("BENCHMARK_RULE_ID".to_string(), r.number.clone());
            attributes.insert("CIS_BENCHMARK_PROFILE".to_string(), options.profile.as_str().to_string());
            findings.push(Finding {
                rule_id: r.id.clone(),
                package: super::PACKAGE_NAME.to_string(),
                title: format!(
                    "{asset} is not compliant with rule {title} of the {} {} ({})",
                    meta.title,
                    meta.version,
                    options.profile.as_str()
                ),
                severity,
                numeric_severity: severity.numeric(),
                asset: asset.to_string(),
                description: format!("{} Found: {}", r.rationale.trim(), v.reason),
                recommendation: r.remediation.trim().to_string(),
                evidence: v.evidence.clone(),
                attributes,
            });
        }
        outcomes.push(RuleOutcome {
            rule_id: r.id.clone(),
            package: PACKAGE_NAME.to_string(),
            title,
            severity,
            outcome: v.outcome,
            reason: v.reason.clone(),
            evidence: v.evidence.clone(),
        });
    }
    let scores: Vec<String> = Profile::ALL
        .iter()
        .map(|p| {
            let count = |o| verdicts.iter().filter(|(r, v)| in_profile(r, *p) && v.outcome == o).count();
            let (pass, fail) = (count(Outcome::Pass), count(Outcome::Fail));
            let pct = if pass + fail == 0 { 100.0 } else { 100.0 * pass as f64 / (pass + fail) as f64 };
            let off = verdicts.iter().filter(|(r, _)| in_profile(r, *p) && disabled(r).is_some()).count();
            let off = if off > 0 { format!(", {off} of them disabled by tailoring") } else { String::new() };
            let manual = count(Outcome::Manual);
            let manual = if manual > 0 { format!(", {manual} manual") } else { String::new() };
            format!(
                "{}: {pct:.1}% ({pass} passed, {fail} failed, {} not applicable{off}, {} could not evaluate{manual})",
                p.as_str(),
                count(Outcome::NotApplicable),
                count(Outcome::CouldNotEvaluate)
            )
        })
        .collect();
    let failed = outcomes.iter().any(|o| o.outcome == Outcome::Fail);
    let reason = format!("{} {} ({}): {}", meta.title, meta.version, options.profile.as_str(), scores.join("; "));
    outcomes.insert(0, summary(if failed { Outcome::Fail } else { Outcome::Pass }, reason));
    (outcomes, findings)
}
