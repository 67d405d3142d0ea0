//! Benchmark of the server's report path: a stored run of 50,000 findings
//! (10 agents × 5,000, 60 rule outcomes each) in an on-disk SQLite store,
//! built into a FULL `RunReport` and rendered as a report job renders it.
//!
//! Run it alone, so the peak memory is this case's:
//! `cargo test -p warden-server --lib -- --ignored --nocapture report_of_50k_findings`
//! (add `--release` for optimised figures). Prints time and memory; asserts
//! only that every finding reached the file.

use std::io::{BufWriter, Write};
use std::time::Instant;

use warden_model::{Evidence, Outcome, RuleOutcome, Severity};
use warden_report::{ReportFormat, ReportType};
use warden_store::prelude::*;
use warden_store::{
    AssetAttributes, Attribute, NewFinding, NewTemplate, RunRuleOutcome, RunState, RunUpdate, SqliteStore,
};

use super::build::build_run_report;
use crate::inspector_backend::test_support::{nightly, stub_agent};

const AGENTS: usize = 10;
const FINDINGS_PER_AGENT: usize = 5_000;
const RULES_PER_AGENT: usize = 60;

/// A memory figure of this process from `/proc/self/status` (kB):
/// `VmRSS` (resident now) or `VmHWM` (peak resident).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak (`/proc/self/clear_refs` 5), so each case measures its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn stored_run(store: &SqliteStore) -> String {
    let target = store.create_target("bench fleet", None, &[], 1).unwrap();
    let template = store
        .create_template(&NewTemplate { name: "bench".into(), ..nightly(&target.id, &["best-practices", "cve"]) }, 2)
        .unwrap();
    let run = store.create_run(&template.id, None, 3).unwrap();
    let mut agent_ids = Vec::new();
    for a in 0..AGENTS {
        let id = format!("i-{a:017x}");
        store.insert_agent(&stub_agent(&id, &format!("host-{a}"))).unwrap();
        agent_ids.push(id);
    }
    store.assign_run_agents(&run.id, &agent_ids, 4).unwrap();
    let mut from = RunState::Created;
    while from != RunState::EvaluatingRules {
        let to = from.next().unwrap();
        store.transition_run(&run.id, from, to, &RunUpdate::default(), 5).unwrap();
        from = to;
    }
    let severities = Severity::ALL;
    let mut outcomes = Vec::new();
    for (a, agent) in agent_ids.iter().enumerate() {
        let findings: Vec<NewFinding> = (0..FINDINGS_PER_AGENT)
            .map(|i| NewFinding {
                agent_id: agent.clone(),
                package: "cve".into(),
                rule_id: format!("CVE-2024-{:05}", i),
                title: format!("CVE-2024-{i:05} in libexample{} before 1.{i}", i % 40),
                severity: severities[i % severities.len()],
                numeric_severity: severities[i % severities.len()].numeric(),
                description: "A flaw in the example library's parser lets a remote attacker who sends a crafted \
                    document read memory beyond a heap buffer, which may disclose secrets or crash the service."
                    .into(),
                recommendation: "Upgrade the package to the fixed version with the distribution's package manager."
                    .into(),
                evidence: vec![Evidence {
                    message: "installed version is affected".into(),
                    path: Some("/var/lib/dpkg/status".into()),
                    line: Some(i as u32 + 1),
                    text: Some(format!("libexample{} 1.{i}-1", i % 40)),
                    is_default: false,
                }],
                attributes: vec![
                    Attribute::new("CVE_ID", format!("CVE-2024-{i:05}")),
                    Attribute::new("package_name", format!("libexample{}", i % 40)),
                    Attribute::new("CVSS3_SCORE", "7.5"),
                ],
                user_attributes: vec![],
                asset: AssetAttributes {
                    agent_id: agent.clone(),
                    hostname: Some(format!("host-{a}")),
                    ..Default::default()
                },
            })
            .collect();
        store.insert_findings(&run.id, &findings, 6).unwrap();
        outcomes.extend((0..RULES_PER_AGENT).map(|r| RunRuleOutcome {
            agent_id: agent.clone(),
            package_id: "best-practices".into(),
            outcome: RuleOutcome {
                rule_id: format!("sbp-rule-{r}"),
                package: "Security Best Practices".into(),
                title: format!("Rule {r}"),
                severity: Severity::Medium,
                outcome: Outcome::Pass,
                reason: "complies".into(),
                evidence: vec![],
            },
        }));
    }
    store.replace_rule_outcomes(&run.id, &outcomes).unwrap();
    store.transition_run(&run.id, RunState::EvaluatingRules, RunState::Completed, &RunUpdate::default(), 7).unwrap();
    run.id
}

#[test]
#[ignore = "benchmark: run alone with --ignored --nocapture"]
fn report_of_50k_findings() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
    let started = Instant::now();
    let run = stored_run(&store);
    println!(
        "stored run: {} findings in {:.1} s, database {:.1} MB",
        AGENTS * FINDINGS_PER_AGENT,
        started.elapsed().as_secs_f64(),
        store.size_bytes() as f64 / 1e6
    );
    println!("format | build RunReport from the store | render to file | file size | RSS before | peak RSS during");
    for format in [ReportFormat::Html, ReportFormat::Pdf, ReportFormat::Csv, ReportFormat::Json] {
        reset_peak();
        let before = status_kb("VmRSS");
        let t0 = Instant::now();
        let report = build_run_report(&store, &run, ReportType::Full, 8).unwrap();
        let built = t0.elapsed();
        assert_eq!(report.finding_count(), AGENTS * FINDINGS_PER_AGENT);
        let path = dir.path().join(format!("report.{}", format.name()));
        let t1 = Instant::now();
        let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&path).unwrap());
        warden_report::write_report(&report, format, &mut out).unwrap();
        out.flush().unwrap();
        drop(out);
        let rendered = t1.elapsed();
        let size = std::fs::metadata(&path).unwrap().len();
        drop(report);
        println!(
            "{:8} | {:7.2} s | {:7.2} s | {:7.1} MB | {:6.0} MB | {:6.0} MB",
            format.name(),
            built.as_secs_f64(),
            rendered.as_secs_f64(),
            size as f64 / 1e6,
            before as f64 / 1024.0,
            status_kb("VmHWM") as f64 / 1024.0
        );
        std::fs::remove_file(&path).unwrap();
    }
}
