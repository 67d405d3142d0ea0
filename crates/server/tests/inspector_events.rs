//! The Inspector event publisher end to end: a real SQLite fleet store and
//! events tables in one database file, a run driven through its states with
//! findings, the publisher task (`run_event_publisher`) stopped and started
//! again over a reopened database (a restart), and a real webhook receiver on
//! loopback that the `DeliveryWorker` POSTs to. Every event must arrive
//! exactly once, signed, and the run must keep one notification per event.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::{Received, webhook_receiver};
use tokio::sync::watch;
use warden_inspector::arn::ArnContext;
use warden_inspector::events::{DeliveryWorker, Events, TopicMap, signature_header};
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::{InspectorEvent, SubscribeToEventRequest};
use warden_model::{Evidence, Severity};
use warden_server::inspector_events::{publish_pending, run_event_publisher};
use warden_store::{AssetAttributes, FleetStore, NewFinding, RunState, RunUpdate, SqliteStore};

const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:inspector-events";
const SECRET: &str = "publisher-test-secret-0123";

fn open(dir: &std::path::Path, topics: &std::path::Path) -> (Arc<dyn FleetStore>, Arc<Events>) {
    let db = dir.join("warden.db");
    let store: Arc<dyn FleetStore> = Arc::new(SqliteStore::open(&db).unwrap());
    let events = Arc::new(Events::open(&db, TopicMap::load(topics).unwrap()).unwrap());
    (store, events)
}

fn finding(rule: &str) -> NewFinding {
    NewFinding {
        agent_id: "i-0000000000000000a".into(),
        package: "best-practices".into(),
        rule_id: rule.into(),
        title: format!("{rule} failed"),
        severity: Severity::High,
        numeric_severity: 7.0,
        description: "d".into(),
        recommendation: "r".into(),
        evidence: vec![Evidence { message: "m".into(), path: None, line: None, text: None, is_default: false }],
        attributes: vec![],
        user_attributes: vec![],
        asset: AssetAttributes { agent_id: "i-0000000000000000a".into(), ..Default::default() },
    }
}

/// Moves the run forward until it is in `until`.
fn advance(store: &dyn FleetStore, run_id: &str, until: RunState, now: &mut i64) {
    let mut state = store.get_run(run_id).unwrap().state;
    while state != until {
        let next = state.next().expect("a state on the way to the target");
        *now += 1000;
        store.transition_run(run_id, state, next, &RunUpdate::default(), *now).unwrap();
        state = next;
    }
}

/// Runs the publisher task until the store has nothing left to publish, then stops it.
async fn publish_until_done(store: Arc<dyn FleetStore>, events: Arc<Events>, arns: ArnContext, until_run_done: bool) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run_event_publisher(store.clone(), events.clone(), arns, stop_rx));
    // Bounded wait for the publisher's passes (no timing is asserted).
    for _ in 0..2000 {
        let pending = store.runs_with_unpublished_events(10).unwrap();
        let progress = store.run_event_progress(&store.list_runs(None).unwrap()[0].id).unwrap();
        let done = if until_run_done { pending.is_empty() } else { progress.state_changes_published >= 4 };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_event_is_delivered_once_across_a_restart() {
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let addr = webhook_receiver(received.clone(), |_| StatusCode::NO_CONTENT);
    let dir = tempfile::tempdir().unwrap();
    let topics = common::write_topic_map(dir.path(), TOPIC, &format!("http://{addr}/hook"), SECRET);
    let arns = ArnContext::new("us-west-2", "123456789012");

    let (store, events) = open(dir.path(), &topics);
    let target = store.create_target("web", None, &[], 1).unwrap();
    let template = common::nightly_template(store.as_ref(), &target.id, &["best-practices"]);
    let template_arn =
        format!("arn:aws:inspector:us-west-2:123456789012:target/{}/template/{}", target.id, template.id);
    for event in warden_inspector::events::DELIVERED_EVENTS {
        events
            .subscribe(
                &SubscribeToEventRequest { resource_arn: template_arn.clone(), event, topic_arn: TOPIC.into() },
                Timestamp(1.0),
            )
            .unwrap();
    }
    let mut now = 1_700_000_000_000;
    let run = store.create_run(&template.id, None, now).unwrap();
    let run_arn = format!("{template_arn}/run/{}", run.id);
    // A run nobody subscribed to produces no delivery but is still tracked.
    assert_eq!(publish_pending(store.as_ref(), &events, &arns).unwrap(), 0, "nothing happened yet");

    // First server life: the run starts and collects.
    advance(store.as_ref(), &run.id, RunState::CollectingData, &mut now);
    publish_until_done(store.clone(), events.clone(), arns.clone(), false).await;
    drop((store, events));

    // Second life over the same database: the run completes with findings.
    let (store, events) = open(dir.path(), &topics);
    advance(store.as_ref(), &run.id, RunState::EvaluatingRules, &mut now);
    let finding_ids = store.insert_findings(&run.id, &[finding("r1"), finding("r2"), finding("r3")], now).unwrap();
    advance(store.as_ref(), &run.id, RunState::Completed, &mut now);
    publish_until_done(store.clone(), events.clone(), arns.clone(), true).await;
    assert_eq!(publish_pending(store.as_ref(), &events, &arns).unwrap(), 0, "nothing is published twice");

    let worker = DeliveryWorker::new(events.clone());
    let unix_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let sent = worker.run_once(unix_now + 1).unwrap();
    // STARTED, 8 state changes (CREATED → ... → COMPLETED), 3 findings, COMPLETED.
    assert_eq!(sent, 1 + 8 + 3 + 1);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), sent);
    let mut messages = Vec::new();
    for (headers, body) in &got {
        let signature = headers["x-warden-signature"].to_str().unwrap();
        let t: i64 = signature.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(signature, signature_header(SECRET, t, body));
        let envelope: serde_json::Value = serde_json::from_str(body).unwrap();
        let message: serde_json::Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        assert_eq!(message["run"], run_arn.as_str());
        assert_eq!(message["template"], template_arn.as_str());
        messages.push(message);
    }
    let kinds: Vec<&str> = messages.iter().map(|m| m["event"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "ASSESSMENT_RUN_STARTED");
    assert_eq!(kinds.iter().filter(|k| **k == "ASSESSMENT_RUN_STATE_CHANGED").count(), 8);
    assert_eq!(kinds.last(), Some(&"ASSESSMENT_RUN_COMPLETED"));
    let states: Vec<&str> = messages.iter().filter_map(|m| m["newstate"].as_str()).collect();
    assert_eq!(states.first(), Some(&"START_DATA_COLLECTION_PENDING"));
    assert_eq!(states.last(), Some(&"COMPLETED"));
    let mut reported: Vec<String> = messages
        .iter()
        .filter(|m| m["event"] == "FINDING_REPORTED")
        .map(|m| m["finding"].as_str().unwrap().to_string())
        .collect();
    reported.sort();
    let mut expected: Vec<String> = finding_ids.iter().map(|id| format!("{run_arn}/finding/{id}")).collect();
    expected.sort();
    assert_eq!(reported, expected);

    let notes = store.run_notifications(&run.id, 100).unwrap();
    assert_eq!(notes.len(), sent, "one notification per event and topic");
    assert!(notes.iter().all(|n| !n.error && n.sns_status.as_deref() == Some("SUCCESS")));
    assert_eq!(notes[0].event, InspectorEvent::AssessmentRunStarted.as_str());
}
