//! Tests of the SQLite backend against the [`FleetStore`] contract.

use super::*;
use crate::{
    AgentHealthCode, AgentHostInfo, AssetAttributes, HealthThresholds, NewTemplate, PutOutcome, RunAgentStatus,
    RunUpdate, can_transition, token_hash,
};
use proptest::prelude::*;
use warden_model::Evidence;

pub(super) fn store() -> SqliteStore {
    SqliteStore::open_in_memory().unwrap()
}

/// An enrolled agent `host-{id}` with `tags`, never heard from.
pub(super) fn agent(id: &str, tags: &[(&str, &str)]) -> Agent {
    Agent {
        id: id.into(),
        public_key: vec![7; 32],
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        host: AgentHostInfo { hostname: Some(format!("host-{id}")), ..Default::default() },
        enrolled_at: 1,
        last_heartbeat_at: None,
        activity: None,
        activity_details: None,
        retired_at: None,
    }
}

fn template(s: &SqliteStore) -> Template {
    let t = s.create_target("web", None, &[], 10).unwrap();
    s.create_template(
        &NewTemplate {
            target_id: t.id,
            name: "hourly".into(),
            duration_seconds: 3600,
            sampling_interval_seconds: 30,
            packages: vec!["best-practices".into()],
            user_attributes: vec![Attribute::new("team", "ops")],
        },
        11,
    )
    .unwrap()
}

fn finding(agent: &str, severity: Severity) -> NewFinding {
    NewFinding {
        agent_id: agent.into(),
        package: "best-practices".into(),
        rule_id: "sbp-ssh-root-login".into(),
        title: "t".into(),
        severity,
        numeric_severity: severity.numeric(),
        description: "d".into(),
        recommendation: "r".into(),
        evidence: vec![Evidence {
            message: "PermitRootLogin yes".into(),
            path: Some("/etc/ssh/sshd_config".into()),
            line: Some(3),
            text: None,
            is_default: false,
        }],
        attributes: vec![],
        user_attributes: vec![Attribute::new("team", "ops")],
        asset: AssetAttributes { agent_id: agent.into(), ..Default::default() },
    }
}

#[test]
fn migrations_apply_once_and_reopen_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/warden.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SqliteStore::latest_schema_version());
        s.ready().unwrap();
        s.create_target("t", None, &[], 1).unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.list_targets().unwrap().len(), 1, "data survives a reopen; migrations are not re-run");
    let mode: String = s.with(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0))).unwrap();
    assert_eq!(mode, "wal");
    assert!(s.size_bytes() > 0);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    drop(SqliteStore::open(&path).unwrap());
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn tokens_are_stored_as_hashes_and_enroll_uses_run_out() {
    let s = store();
    s.insert_api_token("admin", &token_hash("secret"), 1).unwrap();
    assert!(s.api_token_valid(&token_hash("secret")).unwrap());
    assert!(!s.api_token_valid(&token_hash("other")).unwrap());
    let stored: Vec<u8> = s.with(|c| c.query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))).unwrap();
    assert_ne!(stored, b"secret".to_vec());

    s.insert_enroll_token(&token_hash("e"), 2, Some(1_000), 1).unwrap();
    s.consume_enroll_token(&token_hash("e"), 5).unwrap();
    s.consume_enroll_token(&token_hash("e"), 6).unwrap();
    assert_eq!(s.consume_enroll_token(&token_hash("e"), 7), Err(StoreError::Conflict("enroll token used up".into())));
    s.insert_enroll_token(&token_hash("late"), 5, Some(1_000), 1).unwrap();
    assert!(s.consume_enroll_token(&token_hash("late"), 1_000).is_err(), "expired");
    assert!(s.consume_enroll_token(&token_hash("nope"), 1).is_err());
    let listed = s.list_enroll_tokens().unwrap();
    assert_eq!((listed[0].uses, listed[0].uses_left), (2, 0));
}

#[test]
fn agents_heartbeat_retire_and_nonces() {
    let s = store();
    s.insert_agent(&agent("i-1", &[("role", "web")])).unwrap();
    let host =
        AgentHostInfo { hostname: Some("h".into()), ipv4_addresses: vec!["10.0.0.1".into()], ..Default::default() };
    s.record_heartbeat("i-1", "running", None, &host, 50).unwrap();
    let a = s.get_agent("i-1").unwrap();
    assert_eq!(a.host, host);
    assert_eq!(a.health(60, HealthThresholds::for_heartbeat(30)).1, AgentHealthCode::Running);
    assert!(s.record_heartbeat("i-2", "idle", None, &host, 1).is_err());
    assert!(s.retire_agent("i-1", 70).unwrap().retired_at.is_some());

    assert!(s.remember_nonce("i-1", "n1", 100).unwrap());
    assert!(!s.remember_nonce("i-1", "n1", 101).unwrap(), "a replayed nonce");
    assert!(s.remember_nonce("i-9", "n1", 101).unwrap(), "nonces are per agent");
    assert_eq!(s.prune_nonces(101).unwrap(), 1);
    assert!(s.remember_nonce("i-1", "n1", 200).unwrap());
}

#[test]
fn targets_templates_and_names() {
    let s = store();
    let g = s.create_resource_group(&[Attribute::new("role", "web")], 1).unwrap();
    let t = s.create_target("web", Some(&g.id), &["i-1".into()], 1).unwrap();
    assert!(crate::is_inspector_id(&t.id));
    assert!(matches!(s.create_target("web", None, &[], 2), Err(StoreError::Conflict(_))));
    assert!(matches!(s.create_target("x", Some("0-missing0"), &[], 2), Err(StoreError::NotFound(..))));
    let u = s.update_target(&t.id, "web2", None, &[], 3).unwrap();
    assert_eq!((u.name.as_str(), u.resource_group_id.as_deref(), u.updated_at), ("web2", None, 3));
    let new = NewTemplate {
        target_id: t.id.clone(),
        name: "a".into(),
        duration_seconds: 60,
        sampling_interval_seconds: 5,
        packages: vec!["cve".into()],
        user_attributes: vec![],
    };
    let tpl = s.create_template(&new, 4).unwrap();
    assert_eq!(s.get_template(&tpl.id).unwrap(), tpl);
    assert!(matches!(s.create_template(&new, 5), Err(StoreError::Conflict(_))));
    assert_eq!(s.list_templates(Some(&t.id)).unwrap().len(), 1);
    assert_eq!(s.list_templates(Some("0-other000")).unwrap().len(), 0);
}

#[test]
fn a_run_walks_the_lifecycle_with_timestamps() {
    let s = store();
    let tpl = template(&s);
    let run = s.create_run(&tpl.id, None, 100).unwrap();
    assert_eq!(run.name, "Run 1 for hourly");
    assert_eq!(run.user_attributes, tpl.user_attributes, "copied from the template");
    assert_eq!(run.state_changes, vec![StateChange { state: RunState::Created, changed_at: 100 }]);
    let mut state = RunState::Created;
    let mut now = 100;
    while let Some(next) = state.next() {
        now += 1;
        let update = if next == RunState::CollectingData {
            RunUpdate { started_at: Some(now), collect_until: Some(now + 3_600_000), ..Default::default() }
        } else {
            RunUpdate::default()
        };
        s.transition_run(&run.id, state, next, &update, now).unwrap();
        state = next;
    }
    let done = s.get_run(&run.id).unwrap();
    assert_eq!(done.state, RunState::Completed);
    assert_eq!(done.completed_at, Some(now));
    assert_eq!(done.started_at, Some(103));
    assert_eq!(done.state_changes.len(), 9);
    assert!(done.state_changes.windows(2).all(|w| w[0].changed_at < w[1].changed_at));
    assert!(s.transition_run(&run.id, RunState::Completed, RunState::Canceled, &RunUpdate::default(), now).is_err());
    assert_eq!(s.run_state_counts().unwrap()[&RunState::Completed], 1);
    assert!(s.active_run_ids().unwrap().is_empty());
    let second = s.create_run(&tpl.id, None, now).unwrap();
    assert_eq!(second.name, "Run 2 for hourly");
}

#[test]
fn transitions_check_the_current_state() {
    let s = store();
    let tpl = template(&s);
    let run = s.create_run(&tpl.id, Some("r"), 1).unwrap();
    let err = s
        .transition_run(
            &run.id,
            RunState::StartDataCollectionPending,
            RunState::StartDataCollectionInProgress,
            &RunUpdate::default(),
            2,
        )
        .unwrap_err();
    assert!(err.to_string().contains("is CREATED"), "{err}");
    assert!(s.transition_run(&run.id, RunState::Created, RunState::CollectingData, &RunUpdate::default(), 2).is_err());
    let stopped = s.request_stop(&run.id, StopAction::SkipEvaluation, 3).unwrap();
    assert_eq!(stopped.stop_action, Some(StopAction::SkipEvaluation));
    s.transition_run(&run.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 4).unwrap();
    assert!(s.request_stop(&run.id, StopAction::StartEvaluation, 5).is_err(), "terminal runs cannot be stopped");
}

#[test]
fn telemetry_is_idempotent_and_counted_per_kind() {
    let s = store();
    let tpl = template(&s);
    s.insert_agent(&agent("i-1", &[])).unwrap();
    let run = s.create_run(&tpl.id, None, 1).unwrap();
    s.assign_run_agents(&run.id, &["i-1".into()], 2).unwrap();
    assert_eq!(s.get_run_agent(&run.id, "i-1").unwrap().status, RunAgentStatus::Pending);
    assert_eq!(s.put_telemetry(&run.id, "i-1", 0, "snapshot", "{\"a\":1}", 3).unwrap(), PutOutcome::Inserted);
    assert_eq!(s.put_telemetry(&run.id, "i-1", 0, "snapshot", "{\"a\":1}", 4).unwrap(), PutOutcome::Duplicate);
    s.put_telemetry(&run.id, "i-1", 1, "runtime", "{}", 5).unwrap();
    assert_eq!(s.telemetry_progress(&run.id, "i-1").unwrap(), (2, Some(1)));
    let ra = s.get_run_agent(&run.id, "i-1").unwrap();
    assert_eq!(ra.status, RunAgentStatus::Collecting);
    assert_eq!((ra.first_telemetry_at, ra.last_telemetry_at), (Some(3), Some(5)));
    assert_eq!(
        ra.telemetry,
        vec![
            TelemetryCount { kind: "runtime".into(), count: 1, bytes: 2 },
            TelemetryCount { kind: "snapshot".into(), count: 1, bytes: 7 }
        ]
    );
    let docs = s.telemetry_documents(&run.id, "i-1").unwrap();
    assert_eq!(docs.iter().map(|d| d.seq).collect::<Vec<_>>(), [0, 1]);
    s.record_run_progress(&run.id, "i-1", "finished", Some(1), None, 6).unwrap();
    s.set_run_agent_status(&run.id, "i-1", RunAgentStatus::Collected, None).unwrap();
    let ra = s.get_run_agent(&run.id, "i-1").unwrap();
    assert_eq!(
        (ra.reported_phase.as_deref(), ra.reported_last_seq, ra.status),
        (Some("finished"), Some(1), RunAgentStatus::Collected)
    );
    assert!(s.record_run_progress(&run.id, "i-2", "finished", None, None, 6).is_err(), "not an agent of the run");
}

#[test]
fn agent_active_runs_follow_the_run_state() {
    let s = store();
    let tpl = template(&s);
    s.insert_agent(&agent("i-1", &[])).unwrap();
    let run = s.create_run(&tpl.id, None, 1).unwrap();
    s.assign_run_agents(&run.id, &["i-1".into()], 2).unwrap();
    assert!(s.agent_active_runs("i-1").unwrap().is_empty(), "CREATED does not accept telemetry");
    s.transition_run(&run.id, RunState::Created, RunState::StartDataCollectionPending, &RunUpdate::default(), 3)
        .unwrap();
    s.transition_run(
        &run.id,
        RunState::StartDataCollectionPending,
        RunState::StartDataCollectionInProgress,
        &RunUpdate::default(),
        4,
    )
    .unwrap();
    let active = s.agent_active_runs("i-1").unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].0.id, run.id);
    assert_eq!(active[0].1.agent_id, "i-1");
    assert!(s.agent_active_runs("i-2").unwrap().is_empty());
}

#[test]
fn findings_filter_count_and_cascade() {
    let s = store();
    let tpl = template(&s);
    let run = s.create_run(&tpl.id, None, 1).unwrap();
    let ids = s
        .insert_findings(
            &run.id,
            &[
                finding("i-1", Severity::Medium),
                finding("i-2", Severity::High),
                finding("i-1", Severity::Informational),
            ],
            9,
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    let counts = s.finding_counts(&run.id).unwrap();
    assert_eq!((counts[&Severity::High], counts[&Severity::Medium], counts[&Severity::Low]), (1, 1, 0));
    let all = s.list_findings(&FindingQuery { run_ids: vec![run.id.clone()], ..Default::default() }).unwrap();
    assert_eq!(
        all.iter().map(|f| f.finding.severity).collect::<Vec<_>>(),
        [Severity::High, Severity::Medium, Severity::Informational]
    );
    assert_eq!(all[0].finding.evidence[0].line, Some(3));
    let mine = s
        .list_findings(&FindingQuery {
            agent_ids: vec!["i-1".into()],
            severities: vec![Severity::Medium],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 1);
    let edited = s.set_finding_user_attributes(&ids[0], &[Attribute::new("ticket", "OPS-1")], 20).unwrap();
    assert_eq!((edited.updated_at, edited.created_at), (20, 9));
    s.add_exclusion(&Exclusion {
        run_id: run.id.clone(),
        agent_id: "i-1".into(),
        package: "cve".into(),
        reason: "no db".into(),
        created_at: 9,
        kind: String::new(),
    })
    .unwrap();
    assert_eq!(s.list_exclusions(&run.id).unwrap().len(), 1);
    let other = s.create_run(&tpl.id, None, 2).unwrap();
    s.insert_findings(&other.id, &[finding("i-3", Severity::Low)], 9).unwrap();
    s.clear_run_results(&other.id).unwrap();
    assert!(
        s.list_findings(&FindingQuery { run_ids: vec![other.id.clone()], ..Default::default() }).unwrap().is_empty()
    );
    assert_eq!(
        s.list_findings(&FindingQuery { run_ids: vec![run.id.clone()], ..Default::default() }).unwrap().len(),
        3
    );
    s.transition_run(&other.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 30).unwrap();

    assert!(matches!(s.delete_template(&tpl.id), Err(StoreError::InProgress(_))), "the run is CREATED");
    s.transition_run(&run.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 30).unwrap();
    s.delete_target(&tpl.target_id).unwrap();
    assert!(s.get_run(&run.id).is_err());
    assert!(s.list_findings(&FindingQuery::default()).unwrap().is_empty(), "findings cascade with the run");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever transitions are attempted, the store accepts exactly the legal
    /// ones, and the recorded history is a legal path from CREATED.
    #[test]
    fn the_store_records_only_legal_paths(tries in proptest::collection::vec((0usize..13, 0usize..13), 1..30)) {
        let s = store();
        let tpl = template(&s);
        let run = s.create_run(&tpl.id, None, 0).unwrap();
        let mut now = 0;
        for (from_i, to_i) in tries {
            now += 1;
            let (from, to) = (RunState::ALL[from_i], RunState::ALL[to_i]);
            let current = s.get_run(&run.id).unwrap().state;
            let result = s.transition_run(&run.id, from, to, &RunUpdate::default(), now);
            prop_assert_eq!(result.is_ok(), from == current && can_transition(from, to));
        }
        let history = s.get_run(&run.id).unwrap().state_changes;
        prop_assert_eq!(history[0].state, RunState::Created);
        for w in history.windows(2) {
            prop_assert!(can_transition(w[0].state, w[1].state), "{} -> {}", w[0].state, w[1].state);
        }
    }
}
