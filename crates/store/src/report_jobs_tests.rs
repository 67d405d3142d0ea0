//! The reports section of the SQLite store: rule outcomes, job rows, and the
//! revision that tells a stale report from a current one.

use super::*;
use crate::prelude::*;
use crate::{AssetAttributes, Attribute, NewFinding, NewTemplate, RunState, RunUpdate, SqliteStore, StoreError};
use warden_model::{Outcome, Severity};

fn run_with_finding(s: &SqliteStore) -> (String, String) {
    let t = s.create_target("web", None, &[], 10).unwrap();
    let template = s
        .create_template(
            &NewTemplate {
                target_id: t.id,
                name: "hourly".into(),
                duration_seconds: 3600,
                sampling_interval_seconds: 30,
                packages: vec!["best-practices".into()],
                user_attributes: vec![],
            },
            11,
        )
        .unwrap();
    let run = s.create_run(&template.id, None, 12).unwrap();
    let finding = NewFinding {
        agent_id: "i-0".into(),
        package: "best-practices".into(),
        rule_id: "sbp-ssh-root-login".into(),
        title: "t".into(),
        severity: Severity::Medium,
        numeric_severity: 6.0,
        description: "d".into(),
        recommendation: "r".into(),
        evidence: vec![],
        attributes: vec![],
        user_attributes: vec![],
        asset: AssetAttributes { agent_id: "i-0".into(), ..Default::default() },
    };
    let ids = s.insert_findings(&run.id, &[finding], 13).unwrap();
    (run.id, ids[0].clone())
}

fn cancel_and_delete(s: &SqliteStore, run: &str) {
    s.transition_run(run, RunState::Created, RunState::Canceled, &RunUpdate::default(), 30).unwrap();
    s.delete_run(run).unwrap();
}

fn outcome(agent: &str, rule: &str, outcome: Outcome) -> RunRuleOutcome {
    RunRuleOutcome {
        agent_id: agent.into(),
        package_id: "best-practices".into(),
        outcome: RuleOutcome {
            rule_id: rule.into(),
            package: "Security Best Practices".into(),
            title: format!("title of {rule}"),
            severity: Severity::Medium,
            outcome,
            reason: "r".into(),
            evidence: vec![],
        },
    }
}

#[test]
fn rule_outcomes_are_replaced_per_run_and_kept_in_order() {
    let s = SqliteStore::open_in_memory().unwrap();
    let (run, _) = run_with_finding(&s);
    let first = vec![
        outcome("i-1", "b", Outcome::Pass),
        outcome("i-0", "z", Outcome::Fail),
        outcome("i-0", "a", Outcome::Pass),
    ];
    s.replace_rule_outcomes(&run, &first).unwrap();
    let back = s.list_rule_outcomes(&run).unwrap();
    let order: Vec<(&str, &str)> = back.iter().map(|o| (o.agent_id.as_str(), o.outcome.rule_id.as_str())).collect();
    assert_eq!(order, [("i-0", "z"), ("i-0", "a"), ("i-1", "b")], "agent order, then evaluation order");
    assert_eq!(back[1].outcome, first[2].outcome);
    s.replace_rule_outcomes(&run, &[outcome("i-2", "c", Outcome::NotApplicable)]).unwrap();
    assert_eq!(s.list_rule_outcomes(&run).unwrap().len(), 1);
}

#[test]
fn revision_changes_with_finding_updates_and_outcomes() {
    let s = SqliteStore::open_in_memory().unwrap();
    let (run, finding) = run_with_finding(&s);
    let r0 = s.report_source_revision(&run).unwrap();
    assert_eq!(s.report_source_revision(&run).unwrap(), r0, "stable while nothing changes");
    s.set_finding_user_attributes(&finding, &[Attribute::new("ticket", "SEC-1")], 13).unwrap();
    let r1 = s.report_source_revision(&run).unwrap();
    assert_ne!(r1, r0, "an update in the same millisecond as the insert still counts");
    s.replace_rule_outcomes(&run, &[outcome("i-0", "a", Outcome::Pass)]).unwrap();
    assert_ne!(s.report_source_revision(&run).unwrap(), r1);
    assert!(matches!(s.report_source_revision("0-nothere0"), Err(StoreError::NotFound("run", _))));
    // The run's deletion takes its revision counter and outcomes along (foreign keys cascade).
    cancel_and_delete(&s, &run);
    assert!(s.list_rule_outcomes(&run).unwrap().is_empty());
}

#[test]
fn one_job_per_run_format_and_type_keeps_its_id() {
    let s = SqliteStore::open_in_memory().unwrap();
    let (run, _) = run_with_finding(&s);
    assert!(s.find_report_job(&run, "html", "FULL").unwrap().is_none());
    let job = s.start_report_job(&run, "html", "FULL", "rev1", 20).unwrap();
    assert_eq!(job.status, ReportJobStatus::WorkInProgress);
    let done = s
        .finish_report_job(&job.id, &ReportJobResult::Completed { file_name: "x.html".into(), file_bytes: 12 }, 21)
        .unwrap();
    assert_eq!((done.status, done.file_bytes), (ReportJobStatus::Completed, Some(12)));
    let again = s.start_report_job(&run, "html", "FULL", "rev2", 22).unwrap();
    assert_eq!(again.id, job.id);
    assert_eq!((again.status, again.source_revision.as_str()), (ReportJobStatus::WorkInProgress, "rev2"));
    let other = s.start_report_job(&run, "pdf", "FULL", "rev2", 22).unwrap();
    assert_ne!(other.id, job.id);
    let failed = s.finish_report_job(&other.id, &ReportJobResult::Failed("disk full".into()), 23).unwrap();
    assert_eq!((failed.status, failed.failure.as_deref()), (ReportJobStatus::Failed, Some("disk full")));
    assert_eq!(s.find_report_job(&run, "html", "FULL").unwrap().unwrap().id, job.id);
    assert!(matches!(s.start_report_job("0-nothere0", "html", "FULL", "r", 1), Err(StoreError::NotFound("run", _))));
    assert!(matches!(s.get_report_job("0-nothere0"), Err(StoreError::NotFound("report job", _))));
    cancel_and_delete(&s, &run);
    assert!(s.get_report_job(&job.id).is_err(), "jobs go with their run");
}
