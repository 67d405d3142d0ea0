//! Tests of the Inspector templates/tags/runs queries over a real in-memory SQLite store.

use super::*;
use crate::prelude::*;
use crate::sqlite::tests::{agent, store};
use crate::{RunState, RunUpdate};

fn new_template(target_id: &str, name: &str, duration: u64, packages: &[&str]) -> NewTemplate {
    NewTemplate {
        target_id: target_id.into(),
        name: name.into(),
        duration_seconds: duration,
        sampling_interval_seconds: 10,
        packages: packages.iter().map(|p| p.to_string()).collect(),
        user_attributes: vec![Attribute::new("team", "blue")],
    }
}

fn started(start: RunStart) -> crate::Run {
    match start {
        RunStart::Started(run) => run,
        RunStart::AgentsBusy(busy) => panic!("agents busy: {busy:?}"),
    }
}

#[test]
fn templates_keep_their_arns_tags_and_run_summary() {
    let s = store();
    let target = s.create_target("web", None, &[], 1).unwrap();
    let arns = vec!["arn:aws:inspector:us-east-1:316112463485:rulespackage/0-gEjTy7T7".to_string()];
    let t = s.create_inspector_template(&new_template(&target.id, "t", 3600, &["cve"]), &arns, 2).unwrap();
    assert_eq!(s.template_rules_package_arns(&t.id).unwrap(), Some(arns));
    let fleet = s.create_template(&new_template(&target.id, "fleet", 3600, &["cis"]), 3).unwrap();
    assert_eq!(s.template_rules_package_arns(&fleet.id).unwrap(), None, "fleet templates have no ARNs stored");
    assert!(matches!(
        s.create_inspector_template(&new_template(&target.id, "t", 3600, &["cve"]), &[], 4),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(s.template_rules_package_arns("0-missing0"), Err(StoreError::NotFound(..))));

    assert_eq!(s.template_tags(&t.id).unwrap(), vec![]);
    let tags = vec![Attribute::new("b", "2"), Attribute { key: "a".into(), value: None }];
    s.set_template_tags(&t.id, &tags).unwrap();
    assert_eq!(s.template_tags(&t.id).unwrap(), tags, "order as set, valueless tags kept");
    s.set_template_tags(&t.id, &[Attribute::new("c", "3")]).unwrap();
    assert_eq!(s.template_tags(&t.id).unwrap(), vec![Attribute::new("c", "3")], "the set is replaced whole");
    assert!(matches!(s.set_template_tags("0-missing0", &tags), Err(StoreError::NotFound(..))));

    assert_eq!(s.template_run_summary(&t.id).unwrap(), TemplateRunSummary { run_count: 0, last_run_id: None });
    let first = started(s.start_exclusive_run(&t.id, None, &[], 10).unwrap());
    let second = started(s.start_exclusive_run(&t.id, Some("mine"), &[], 20).unwrap());
    assert_eq!(first.name, "Run 1 for t");
    assert_eq!(second.name, "mine");
    let summary = s.template_run_summary(&t.id).unwrap();
    assert_eq!(summary, TemplateRunSummary { run_count: 2, last_run_id: Some(second.id.clone()) });
    assert!(matches!(s.start_exclusive_run(&t.id, Some("mine"), &[], 30), Err(StoreError::Conflict(_))));

    // Deleting the template takes its tags with it (the rows, not just the view).
    s.transition_run(&first.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 40).unwrap();
    s.transition_run(&second.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 40).unwrap();
    s.delete_template(&t.id).unwrap();
    let left: i64 = s.with(|c| c.query_row("SELECT COUNT(*) FROM template_tags", [], |r| r.get(0))).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn an_exclusive_start_refuses_agents_of_a_run_not_yet_ended() {
    let s = store();
    for a in ["i-a", "i-b", "i-c"] {
        s.insert_agent(&agent(a, &[])).unwrap();
    }
    let target = s.create_target("web", None, &[], 1).unwrap();
    let t = s.create_inspector_template(&new_template(&target.id, "t", 3600, &["cve"]), &[], 2).unwrap();
    let first = started(s.start_exclusive_run(&t.id, None, &["i-a".into(), "i-b".into()], 10).unwrap());
    assert_eq!(s.list_run_agents(&first.id).unwrap().len(), 2, "agents are assigned at creation");

    let RunStart::AgentsBusy(busy) = s.start_exclusive_run(&t.id, None, &["i-b".into(), "i-c".into()], 20).unwrap()
    else {
        panic!("i-b is in a run that has not ended")
    };
    assert_eq!(
        busy,
        vec![BusyAgent {
            agent_id: "i-b".into(),
            run_id: first.id.clone(),
            template_id: t.id.clone(),
            target_id: target.id.clone()
        }]
    );
    assert_eq!(s.template_run_summary(&t.id).unwrap().run_count, 1, "nothing was created");

    s.transition_run(&first.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 30).unwrap();
    let again = started(s.start_exclusive_run(&t.id, None, &["i-b".into(), "i-c".into()], 40).unwrap());
    assert_eq!(again.state, RunState::Created);
    assert_eq!(again.state_changes.len(), 1);
}

#[test]
fn page_runs_filters_in_sql_and_pages_newest_first() {
    let s = store();
    let target = s.create_target("web", None, &[], 1).unwrap();
    let short = s.create_inspector_template(&new_template(&target.id, "short", 600, &["cve"]), &[], 2).unwrap();
    let long = s.create_inspector_template(&new_template(&target.id, "long", 7200, &["cis", "cve"]), &[], 3).unwrap();
    let mut all = Vec::new();
    for i in 0..25 {
        let template = if i % 2 == 0 { &short } else { &long };
        // Several runs share a creation time: the id breaks the tie.
        let run =
            started(s.start_exclusive_run(&template.id, Some(&format!("run-{i:02}?[x]")), &[], 100 + i / 3).unwrap());
        all.push(run);
    }
    s.transition_run(&all[3].id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 500).unwrap();

    let mut expected: Vec<(i64, String)> = all.iter().map(|r| (r.created_at, r.id.clone())).collect();
    expected.sort();
    expected.reverse();
    let mut listed = Vec::new();
    let mut after: Option<RunPageKey> = None;
    loop {
        let page = s.page_runs(&RunQuery::default(), after.as_ref(), 7).unwrap();
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        after = page.last().map(RunRef::page_key);
        listed.extend(page.into_iter().map(|r| (r.created_at, r.id)));
    }
    assert_eq!(listed, expected, "every run once, newest first, across pages");

    let count = |q: RunQuery| s.page_runs(&q, None, 100).unwrap().len();
    assert_eq!(count(RunQuery { template_ids: vec![short.id.clone()], ..Default::default() }), 13);
    assert_eq!(count(RunQuery { name_pattern: Some("run-1*".into()), ..Default::default() }), 10);
    assert_eq!(
        count(RunQuery { name_pattern: Some("run-07?[x]".into()), ..Default::default() }),
        1,
        "? and [ are literal"
    );
    assert_eq!(count(RunQuery { name_pattern: Some("RUN-*".into()), ..Default::default() }), 0, "case-sensitive");
    assert_eq!(count(RunQuery { states: vec![RunState::Canceled], ..Default::default() }), 1);
    assert_eq!(count(RunQuery { min_duration_seconds: Some(601), ..Default::default() }), 12);
    assert_eq!(count(RunQuery { max_duration_seconds: Some(600), ..Default::default() }), 13);
    assert_eq!(count(RunQuery { packages: Some(vec!["cis".into()]), ..Default::default() }), 12);
    assert_eq!(count(RunQuery { packages: Some(vec!["cve".into()]), ..Default::default() }), 25);
    assert_eq!(count(RunQuery { packages: Some(vec![]), ..Default::default() }), 0);
    let window = |from, to| TimeRange { from, to };
    assert_eq!(count(RunQuery { completed: window(Some(500), Some(500)), ..Default::default() }), 1, "inclusive");
    assert_eq!(count(RunQuery { started: window(Some(0), None), ..Default::default() }), 0, "never started");
    assert_eq!(
        count(RunQuery { state_changed: window(None, Some(101)), ..Default::default() }),
        5,
        "run 3 changed at 500"
    );
}

/// The next page seeks the index to the keyset instead of scanning the pages before it.
#[test]
fn the_run_keyset_is_an_index_seek() {
    let s = store();
    let key = RunPageKey { created_at: 5, id: "0-AAAAAAAA".into() };
    let plan = |q: &RunQuery| {
        let (sql, args) = page_runs_sql(q, Some(&key), 10);
        s.with(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(3))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap()
        .join("\n")
    };
    let all = plan(&RunQuery::default());
    assert!(all.contains("USING INDEX runs_created ((created_at,id)<(?,?))"), "{all}");
    assert!(!all.contains("TEMP B-TREE"), "{all}");
    let one = plan(&RunQuery { template_ids: vec!["0-BBBBBBBB".into()], ..Default::default() });
    assert!(one.contains("runs_template_created (template_id=? AND (created_at,id)<(?,?))"), "{one}");
    assert!(!one.contains("TEMP B-TREE"), "{one}");
}

/// Measurement, not a check: `cargo test -p warden-store --release -- --ignored
/// --nocapture measure_run_pages` prints how long pages of 100 take over
/// 50,000 runs (Inspector's run limit), first and last.
#[test]
#[ignore]
fn measure_run_pages() {
    let s = store();
    let target = s.create_target("web", None, &[], 1).unwrap();
    let t = s.create_inspector_template(&new_template(&target.id, "t", 3600, &["cve"]), &[], 2).unwrap();
    let other = s.create_inspector_template(&new_template(&target.id, "o", 3600, &["cve"]), &[], 2).unwrap();
    for i in 0..50_000i64 {
        let template = if i % 10 == 0 { &other.id } else { &t.id };
        started(s.start_exclusive_run(template, Some(&format!("r{i}")), &[], 1_000 + i).unwrap());
    }
    for (label, q) in [
        ("all runs", RunQuery::default()),
        ("one template", RunQuery { template_ids: vec![t.id.clone()], ..Default::default() }),
        ("name pattern", RunQuery { name_pattern: Some("r1*".into()), ..Default::default() }),
    ] {
        let mut after: Option<RunPageKey> = None;
        let mut times = Vec::new();
        loop {
            let at = std::time::Instant::now();
            let page = s.page_runs(&q, after.as_ref(), 100).unwrap();
            times.push(at.elapsed());
            if page.is_empty() {
                break;
            }
            after = page.last().map(RunRef::page_key);
        }
        let (first, last) = (times[0], times[times.len() - 2]);
        times.sort();
        let median = times[times.len() / 2];
        eprintln!("{label}: {} pages of 100: first {first:?}, last {last:?}, median {median:?}", times.len() - 1);
    }
}
